"""The mock's behaviour as data: knobs read from the register, drift as a typed record, the wire freedoms served.

Fast: one mock serves every configuration in turn (``RunningMock.configure``).
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import httpx
import pytest

from recon_contracts.mock import MockConfig, serve
from recon_contracts.mock.cli import build_parser, main
from recon_contracts.mock.drift import Drift, drift_of
from recon_contracts.mock.knobs import CHOICES, DEFAULT, Knobs, knobs_of
from recon_contracts.mock.profiles import PROFILES, Profile
from recon_contracts.mock.transients import Transient
from recon_contracts.truth.silent_points import silent_points

MOCK = Path(__file__).resolve().parents[2] / "src" / "recon_contracts" / "mock"
AUTH = {"Authorization": "Bearer t"}
QUERY = "provider=onetime&invoicelineitemtype=billinglineitems&currencycode=USD&period=current"
LINES = f"/v1/invoices/unbilled/lineitems?{QUERY}"


# ------------------------------------------------------------------ knobs come from the register


def test_choices_are_the_registers_answers_with_its_default_first() -> None:
    by_knob: dict[str, set[str]] = {}
    for point in silent_points().values():
        by_knob.setdefault(point.knob, set()).update(point.answers)
        assert CHOICES[point.knob][0] == point.default == getattr(DEFAULT, point.knob)
    assert {k: set(v) for k, v in CHOICES.items()} == by_knob


def test_an_unknown_knob_or_value_fails_at_construction_with_the_alternatives() -> None:
    with pytest.raises(ValueError, match=r"unknown knob conection: not in contracts/silent-points.yaml"):
        Knobs(conection="close")
    with pytest.raises(ValueError, match=r"knob connection: 'clos' is not one of keep-alive, close"):
        Knobs(connection="clos")
    with pytest.raises(ValueError, match="unknown knob"):
        DEFAULT.with_(page_fil="short")
    with pytest.raises(ValueError, match="unknown knob"):
        MockConfig(knobs={"nope": "x"})
    assert knobs_of(["connection=close", "page_fill = varying"]) == {"connection": "close", "page_fill": "varying"}


def test_every_knob_the_mock_reads_is_a_register_knob() -> None:
    """mypy cannot see the register's fields: this reads every ``knobs.NAME`` in the mock instead."""
    used = {name for path in MOCK.glob("*.py")
            for name in re.findall(r"\bknobs\.([a-z_]+)\b", path.read_text(encoding="utf-8"))}
    methods = {"changed", "with_", "py"}  # knobs.py named in docstrings
    assert used - methods <= set(CHOICES), sorted(used - methods - set(CHOICES))


# ------------------------------------------------------------------ drift as a typed record


def test_no_handler_tests_a_profile_name() -> None:
    for path in MOCK.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert ".has(" not in text, path.name
        assert not re.search(r"\.profile\s*==|\bp\s*==\s*\"", text), path.name


def test_a_misspelt_drift_fails_where_it_is_built() -> None:
    with pytest.raises(ValueError, match=r"unknown drift 'pc-no-auht'; a drift is one of pc-no-auth"):
        drift_of(["pc-no-auht"])
    with pytest.raises(ValueError, match="unknown drift"):
        Profile(name="x", description="x", expect="fail", drift=frozenset({"pc-no-auht"}))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown drift"):
        MockConfig(drift=("gr-no-auht",))
    with pytest.raises(ValueError, match="only a drift profile"):
        Profile(name="x", description="x", drift=frozenset({Drift.PC_NO_AUTH}))


def test_every_drift_profile_serves_its_own_drift_and_conforming_ones_none() -> None:
    assert {d.value for d in Drift} == {n for n, p in PROFILES.items() if p.expect == "fail"}
    for name, profile in PROFILES.items():
        assert profile.drift == (frozenset({Drift(name)}) if profile.expect == "fail" else frozenset()), name


def test_drift_layers_on_any_configuration() -> None:
    config = MockConfig(profile="pc-varying-pages", drift=("pc-no-auth",), knobs={"connection": "close"})
    assert config.effective_drift == {Drift.PC_NO_AUTH}
    assert config.effective_knobs.changed() == {"page_fill": "varying", "header_case": "upper", "connection": "close"}


# ------------------------------------------------------------------ the wire freedoms, served


@pytest.fixture(scope="module")
def mock():
    with serve(MockConfig(items=12, retry_after=0, blob_rows=4)) as running:
        yield running


def _get(mock, url: str = LINES + "&size=5", **kw) -> httpx.Response:
    return httpx.get(mock.base_url + url, headers={**AUTH, **kw.pop("headers", {})}, **kw)


def test_header_case_extra_headers_chunked_and_gzip(mock) -> None:
    mock.configure(MockConfig(items=12, knobs={"header_case": "title", "extra_headers": "present",
                                               "transfer_coding": "chunked", "content_encoding": "gzip"}))
    with httpx.Client() as client:
        raw = client.get(mock.base_url + LINES, headers={**AUTH, "Accept-Encoding": "gzip"})
    names = [k for k, _ in raw.headers.raw]
    assert b"Content-Type" in names and b"X-Content-Type-Options" in names and b"content-type" not in names
    assert raw.headers["transfer-encoding"] == "chunked" and "content-length" not in raw.headers
    assert raw.headers["content-encoding"] == "gzip" and len(raw.json()["items"]) == 12
    plain = httpx.get(mock.base_url + LINES, headers={**AUTH, "Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers  # only a coding the client accepts
    mock.configure(MockConfig(items=12, knobs={"header_case": "upper"}))
    assert b"CONTENT-TYPE" in [k for k, _ in _get(mock).headers.raw]


def test_varying_pages_stay_at_or_below_size_and_lose_nothing(mock) -> None:
    mock.configure(MockConfig(items=40, seed=3, knobs={"page_fill": "varying"}, token_filler="=/,+~x"))
    sizes, seen = [], []
    r = _get(mock, LINES + "&size=7")
    while True:
        body = r.json()
        sizes.append(len(body["items"]))
        seen += [i["id"] if "id" in i else i["subscriptionId"] + i["chargeType"] for i in body["items"]]
        nxt = body["links"].get("next")
        if not nxt:
            break
        token = nxt["headers"][0]["value"]
        assert token.startswith("=/,+~x")
        r = _get(mock, "/v1" + nxt["uri"], headers={"MS-ContinuationToken": token})
    assert sum(sizes) == 40 and max(sizes) <= 7 and len(set(sizes)) > 1


def test_short_pages_take_the_page_cap(mock) -> None:
    mock.configure(MockConfig(items=12, knobs={"page_fill": "short"}, page_cap=3))
    assert len(_get(mock).json()["items"]) == 3


@pytest.mark.parametrize("step, status, retry_after", [("pc-first", 429, True), ("pc-first", 503, False),
                                                       ("pc-next", 503, True)])
def test_a_partner_center_transient_answers_once_then_serves(mock, step, status, retry_after) -> None:
    mock.configure(MockConfig(items=12, retry_after=0, transients=(Transient(step, status, retry_after),)))
    first = _get(mock)
    if step == "pc-next":
        assert first.status_code == 200
        token = first.json()["continuationToken"]
        nxt = "/v1" + first.json()["links"]["next"]["uri"]
        assert _get(mock, nxt, headers={"MS-ContinuationToken": token}).status_code == status
        assert _get(mock, nxt, headers={"MS-ContinuationToken": token}).status_code == 200
        return
    assert first.status_code == status and ("retry-after" in first.headers) == retry_after
    assert _get(mock).status_code == 200


def test_transients_are_validated() -> None:
    with pytest.raises(ValueError, match="status 500 is not one of 429, 503"):
        Transient("gr-poll", 500)
    with pytest.raises(ValueError, match="step 'nowhere'"):
        Transient("nowhere", 503)
    assert Transient.parse("blob:500:no-retry-after:x2") == Transient("blob", 500, False, 2)
    assert Transient.parse(Transient("blob", 500, False, 2).spec()) == Transient("blob", 500, False, 2)


def test_the_command_line_takes_knobs_drift_and_transients(capsys) -> None:
    args = build_parser().parse_args(["--knob", "page_fill=short", "--page-cap", "2", "--drift", "pc-no-auth",
                                      "--transient", "blob:500", "--token-filler", "ab"])
    assert args.knob == ["page_fill=short"] and args.drift == ["pc-no-auth"] and args.page_cap == 2
    for bad in (["--knob", "nope=1"], ["--drift", "nope"], ["--transient", "gr-poll:500"], ["--knob", "x"]):
        with pytest.raises(SystemExit) as exc:
            main(bad + ["--port", "0"])
        assert exc.value.code == 2
        assert capsys.readouterr().err.count("\n") == 1


def test_gzip_encoding_needs_a_body(mock) -> None:
    """A 202 without a body is sent as it is (nothing to encode); a JSON answer is encoded."""
    mock.configure(MockConfig(knobs={"content_encoding": "gzip"}))
    r = httpx.post(mock.base_url + "/v1.0/reports/partners/billing/reconciliation/billed/export",
                   json={"invoiceId": "G016907411"}, headers={**AUTH, "Accept-Encoding": "gzip"})
    assert r.status_code == 202 and "content-encoding" not in r.headers
    with httpx.stream("GET", r.headers["location"], headers={**AUTH, "Accept-Encoding": "gzip"}) as poll:
        raw = b"".join(poll.iter_raw())
    assert poll.headers["content-encoding"] == "gzip" and gzip.decompress(raw).startswith(b"{")


def test_content_encoding_leaves_blobs_as_they_are(mock) -> None:
    """A blob (even the plain-text one of a drift) is never gzip-encoded on the way: its bytes are the file's."""
    mock.configure(MockConfig(items=3, retry_after=0, poll_count=0, knobs={"content_encoding": "gzip"},
                              drift=("gr-blob-not-gzip",)))
    post = httpx.post(mock.base_url + "/v1.0/reports/partners/billing/reconciliation/billed/export",
                      json={"invoiceId": "G016907411"}, headers=AUTH)
    op = httpx.get(post.headers["location"], headers=AUTH).json()
    manifest = op["resourceLocation"]
    url = f"{manifest['rootDirectory']}/{manifest['blobs'][0]['name']}?{manifest['sasToken']}"
    blob = httpx.get(url, headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in blob.headers and blob.content.startswith(b"{")


def test_a_truncated_blob_breaks_off_even_with_one_row(mock) -> None:
    mock.configure(MockConfig(items=1, retry_after=0, poll_count=0, blob_rows=1, drift=("gr-blob-truncated",)))
    post = httpx.post(mock.base_url + "/v1.0/reports/partners/billing/reconciliation/billed/export",
                      json={"invoiceId": "G016907411"}, headers=AUTH)
    manifest = httpx.get(post.headers["location"], headers=AUTH).json()["resourceLocation"]
    blob = httpx.get(f"{manifest['rootDirectory']}/{manifest['blobs'][0]['name']}?{manifest['sasToken']}")
    with pytest.raises(EOFError):
        gzip.decompress(blob.content)
