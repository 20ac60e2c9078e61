"""Redaction by value: registered secrets in every spelling, SAS signatures, bearer credentials.

Continuation tokens must stay readable: a reproduction needs them.
"""

from __future__ import annotations

import html
import json
import re
from urllib.parse import quote

import pytest

from recon_contracts.findings import Exchange, finding
from recon_contracts.redact import MASK, REDACTOR, Redactor, redact

SECRET = "eyJ0eXAiOiJKV1Q+abc/def=ghi&x<y>"
SIG = "Zm9vYmFyYmF6+/quux="


@pytest.fixture
def redactor() -> Redactor:
    r = Redactor()
    r.add(SECRET)
    return r


@pytest.mark.parametrize(
    "spelling",
    [
        SECRET,
        quote(SECRET, safe=""),
        quote(SECRET),
        re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(SECRET, safe="")),
        json.dumps(SECRET)[1:-1],
        SECRET.replace("/", "\\/"),
        html.escape(SECRET),
    ],
    ids=["raw", "url-encoded", "url-path", "lower-hex", "json", "json-slash", "html"],
)
def test_registered_secret_redacted_in_every_spelling(redactor, spelling):
    out = redactor(f"before {spelling} after")
    assert out == f"before {MASK} after"


def test_secret_inside_urls_headers_and_json(redactor):
    text = (
        f"GET https://x.test/a?token={quote(SECRET, safe='')}&b=1\n"
        f"Authorization: Bearer {SECRET}\n"
        + json.dumps({"message": f"token {SECRET} was rejected"})
    )
    out = redactor(text)
    assert SECRET not in out and quote(SECRET, safe="") not in out
    assert "abc/def" not in out
    assert json.loads(out.splitlines()[-1])["message"] == f"token {MASK} was rejected"


def test_short_and_empty_values_are_not_registered():
    r = Redactor()
    r.add(None)
    r.add("")
    r.add("abc")  # too short to be a credential; masking it would garble every report
    assert r("abc abc") == "abc abc"


def test_unregistered_sas_signature_is_masked():
    url = "https://blob.test/c/part-1.json.gz?sv=2020-10-02&se=2030-01-01&sr=b&sp=r&sig=AbC%2Bd%2Fe%3D&x=1"
    out = Redactor()(url)
    assert out == "https://blob.test/c/part-1.json.gz?sv=2020-10-02&se=2030-01-01&sr=b&sp=r&sig=[REDACTED]&x=1"


def test_url_encoded_sas_inside_another_url_is_masked():
    inner = "https://blob.test/c/b?sv=1&sig=AbC%2Bd%3D&sp=r"
    out = Redactor()("curl https://proxy.test/fetch?u=" + quote(inner, safe=""))
    assert "AbC" not in out
    assert "sig%3D[REDACTED]%26sp%3Dr" in out


def test_add_sas_registers_only_the_signature():
    r = Redactor()
    r.add_sas(f"?sv=2020-10-02&se=2030-01-01T00%3A00%3A00Z&sr=b&sp=r&sig={quote(SIG, safe='')}")
    # the decoded signature is secret too, wherever it shows up
    assert r(f"signature {SIG} leaked") == f"signature {MASK} leaked"
    assert r(f"sig is {quote(SIG, safe='')}") == f"sig is {MASK}"
    # the rest of the SAS stays readable
    assert r("sv=2020-10-02&sr=b&sp=r") == "sv=2020-10-02&sr=b&sp=r"


def test_add_sas_accepts_a_full_url_and_nothing():
    r = Redactor()
    r.add_sas(None)
    r.add_sas("")
    r.add_sas(f"https://blob.test/c/b?sv=1&sig={SIG}")
    assert SIG not in r(f"x {SIG} y")


def test_bearer_credentials_masked_but_placeholder_kept():
    r = Redactor()
    assert r("Authorization: Bearer abcdefgh.ijklmnop-qrs") == f"Authorization: Bearer {MASK}"
    assert r("authorization: bearer abcdefghijkl") == f"authorization: bearer {MASK}"
    assert r('-H "Authorization: Bearer ${TOKEN}"') == '-H "Authorization: Bearer ${TOKEN}"'


@pytest.mark.parametrize(
    "text",
    [
        "client_secret=s3cr3t-value&grant_type=client_credentials",
        '{"access_token": "eyJabc.def.ghi", "token_type": "Bearer"}',
        "refresh_token=0.AAAA-bbbb",
    ],
)
def test_credential_fields_masked(text):
    out = Redactor()(text)
    assert "s3cr3t-value" not in out and "eyJabc.def.ghi" not in out and "0.AAAA-bbbb" not in out
    assert MASK in out


def test_continuation_tokens_stay_readable():
    r = Redactor()
    token = "eyJQYWdlIjoyLCJTaXplIjoyMDB9"
    text = (
        f'{{"links": {{"next": {{"uri": "/invoices/unbilled/lineitems?seekOperation=Next", '
        f'"headers": [{{"key": "MS-ContinuationToken", "value": "{token}"}}]}}}}, "continuationToken": "{token}"}}\n'
        f"curl -H 'MS-ContinuationToken: {token}' 'https://x.test/v1/invoices/unbilled/lineitems?seekOperation=Next'"
    )
    assert r(text) == text


def test_redaction_keeps_serialized_json_valid():
    """The last pass over a whole summary.json must not eat the backslash of an escaped quote."""
    r = Redactor()
    r.add(SECRET)
    body = json.dumps({"sasToken": "?sv=1&sig=AbCd%2B", "note": f'said "{SECRET}"'})
    document = json.dumps({"actual": body, "access": "access_token=abc12345\\"})
    once = r(document)
    twice = r(once)
    assert twice == once  # idempotent
    parsed = json.loads(once)
    assert "AbCd" not in once and SECRET not in once and json.dumps(SECRET)[1:-1] not in once
    assert json.loads(parsed["actual"])["sasToken"] == "?sv=1&sig=[REDACTED]"


def test_longest_registered_value_wins():
    r = Redactor()
    r.add("abcdefgh")
    r.add("abcdefgh-ijkl")
    assert r("x abcdefgh-ijkl y abcdefgh z") == f"x {MASK} y {MASK} z"


def test_clear_forgets_values():
    r = Redactor()
    r.add("forget-me-123")
    r.clear()
    assert r("forget-me-123") == "forget-me-123"


def test_module_level_redactor_and_reproductions():
    token = "module-level-token-7f3c9a1e2b"
    REDACTOR.add(token)
    assert redact(f"token={token}") == f"token={MASK}"
    exchange = Exchange(
        api="partner-center",
        operation="GET /v1/invoices/{invoice-id}/lineitems",
        method="GET",
        url=f"https://x.test/v1/invoices/unbilled/lineitems?provider=onetime&echo={token}",
        request_headers={"Authorization": f"Bearer {token}", "MS-ContinuationToken": "keep-me-readable"},
        request_body=None,
        status=500,
        response_headers={"content-type": "application/json"},
        response_body=json.dumps({"description": f"bad token {token}"}).encode(),
    )
    f = finding("PC-PAGING-BAD-TOKEN-4XX", f"500 for token {token}", exchange, expected="4xx")
    text = redact(str(f))
    assert token not in text
    assert "keep-me-readable" in text
    assert "Bearer ${TOKEN}" in text


# ------------------------------------------------------------------ secrets in every encoding of a body

TOKEN = "eyJhbGciOiJub25lIn0.c2VjcmV0LXRva2Vu.x9Yq"


def encodings_of(secret: str) -> dict[str, bytes]:
    """The byte spellings a secret can take in a body or a report file (the searches of the leak tests)."""
    from recon_contracts.redact import base64_cores

    raw = secret.encode()
    forms = {
        "plain": raw, "url-encoded": quote(secret, safe="").encode(), "utf-16-le": secret.encode("utf-16-le"),
        "utf-16-be": secret.encode("utf-16-be"), "utf-32-le": secret.encode("utf-32-le"),
        "json-escaped utf-16": secret.encode("utf-16-le").decode("latin-1").replace("\x00", "\\u0000").encode(),
    }
    for i, core in enumerate(sorted(base64_cores(raw))):
        forms[f"base64 core {i}"] = core.encode()
    return forms


@pytest.fixture
def token_redactor() -> Redactor:
    r = Redactor()
    r.add(TOKEN)
    return r


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "latin-1"])
def test_body_in_any_text_encoding_is_redacted(token_redactor, encoding):
    body = f'<html><p>Authorization: Bearer {TOKEN}</p><p>x={TOKEN}é</p></html>'.encode(encoding)
    out = token_redactor.redact_bytes(body)
    for name, form in encodings_of(TOKEN).items():
        assert form not in out, f"{name} form left in a {encoding} body"


@pytest.mark.parametrize("offset", [0, 1, 2])
def test_base64_of_a_body_holding_the_secret_is_redacted_at_any_alignment(token_redactor, offset):
    import base64

    text = base64.b64encode(b"x" * offset + f"token={TOKEN};".encode()).decode()
    assert token_redactor(f"Basic {text}").count(MASK) >= 1
    out = token_redactor(text)
    assert not any(core in out for core in __import__("recon_contracts.redact", fromlist=["x"]).base64_cores(TOKEN.encode()))


@pytest.mark.parametrize("members", [1, 3])
def test_gzip_body_is_inflated_redacted_and_stays_gzip(token_redactor, members):
    import gzip

    rows = [f'{{"n": {i}, "echo": "{TOKEN}"}}\n'.encode() for i in range(members)]
    body = b"".join(gzip.compress(r) for r in rows)
    out = token_redactor.redact_bytes(body)
    inflated = gzip.decompress(out)
    assert TOKEN.encode() not in inflated and inflated.count(MASK.encode()) == members
    clean = gzip.compress(b'{"n": 1}\n')
    assert token_redactor.redact_bytes(clean) == clean  # a clean blob is kept byte for byte (evidence)


def test_broken_gzip_is_scanned_as_it_is(token_redactor):
    import gzip

    body = gzip.compress(b'{"a": 1}\n') + b"trailing " + TOKEN.encode()
    out = token_redactor.redact_bytes(body)
    assert TOKEN.encode() not in out and out.startswith(gzip.compress(b'{"a": 1}\n')[:10])


def test_url_encoded_sas_signature_in_bytes(token_redactor):
    r = Redactor()
    r.add_sas("sv=2021&sig=Ab%2Bcd%2Fef%3D123456")
    body = "GET /x?sv=2021&sig=Ab%2Bcd%2Fef%3D123456 and Ab+cd/ef=123456 and QWIrY2QvZWY9MTIzNDU2".encode("utf-16-le")
    out = r.redact_bytes(body).decode("utf-16-le")
    assert "Ab%2Bcd" not in out and "Ab+cd/ef" not in out


# ---------------------------------------------------------------- the patterns, tried only where a hint starts

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from recon_contracts.redact import _PATTERNS, mask_patterns  # noqa: E402

# pieces that make the patterns match, nearly match, or match across what a scan must see (look-behinds, quotes,
# a word boundary, new lines inside the whitespace a pattern allows, case, the mask already there)
_PIECES = ["sig=", "SIG=", "Sig%3D", "sig%3d", "%26", "%3F", "&", "?", "Bearer ", "bearer\n  ", "BEARER\t", "${TOKEN}",
           '"access_token"', "client_secret", "Refresh_Token", ": ", "=", '"', " \n ", "x", "abcDEF123", "xsig=",
           "[REDACTED]", "tok/en+==", "<", "\\", "İ", "ß", "é", ",", "}"]


def _plain(text: str) -> str:
    for regex, repl in _PATTERNS:
        text = regex.sub(repl, text)
    return text


@settings(max_examples=400, deadline=None, derandomize=True)
@given(st.lists(st.one_of(st.sampled_from(_PIECES), st.text(max_size=6)), max_size=24).map("".join))
def test_patterns_tried_at_their_hints_mask_what_a_full_scan_masks(text):
    assert mask_patterns(text) == _plain(text)


def test_a_text_whose_length_changes_when_lower_cased_is_scanned_in_full():
    text = "İ Bearer abcdefgh12345 sig=secretvalue&x"
    assert len(text.lower()) != len(text)
    assert mask_patterns(text) == _plain(text) == "İ Bearer [REDACTED] sig=[REDACTED]&x"


_SECRET_CHARS = st.sampled_from("abcAB01-_/+=%")


@settings(max_examples=200, deadline=None)
@given(secrets=st.lists(st.text(_SECRET_CHARS, min_size=6, max_size=12), min_size=1, max_size=4),
       layout=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 11), st.integers(1, 12),
                                 st.text(_SECRET_CHARS, max_size=3)), max_size=8))
def test_no_registered_secret_survives_however_secrets_overlap(secrets, layout):
    """Secrets that overlap, or hold one another, laid out whole and in pieces side by side: whatever the order the
    forms are masked in, no registered secret is left in the text or in its bytes, in any encoding."""
    r = Redactor()
    for secret in secrets:
        r.add(secret)
    pieces = []
    for which, start, length, glue in layout:
        secret = secrets[which % len(secrets)]
        pieces += [secret, secret[start:start + length], glue]
    text = "".join(pieces)
    masked = r(text)
    assert not [s for s in secrets if s in masked], masked
    for encoding in ("utf-8", "utf-16-le", "utf-32-be"):
        data = r.redact_bytes(text.encode(encoding))
        assert not [s for s in secrets if s.encode(encoding) in data], (encoding, data)


def test_a_text_seen_before_a_secret_was_registered_is_masked_after():
    """Short texts are remembered with what they became; registering a value forgets them."""
    r = Redactor()
    text = "x-request-id: late-secret-123"
    assert r(text) == text
    assert r(text) == text  # remembered
    r.add("late-secret-123")
    assert r(text) == f"x-request-id: {MASK}"
    r.clear()
    assert r(text) == text
