"""The export-row engine: the streaming reader (traffic/blob_stream.py), the row judge (checks/rows.py) and
``recon-contracts validate-export``.

Each row rule: a drifted input yields one aggregated finding per blob naming the column, the first lines and the
count; the tolerated alternatives (either casing, numbers as strings, recon-file dates and names) yield none.
"""

from __future__ import annotations

import gzip
import json
import zlib
from pathlib import Path

import httpx
import pytest

from recon_contracts.truth.rules import catalog

from recon_contracts.checks.rows import ExportJudge, RowRules, lines_of, row_datetime
from recon_contracts.cli import main as cli_main
from recon_contracts.mock import MockConfig, serve
from recon_contracts.mock.data import export_row, line_item
from recon_contracts.traffic.blob_stream import (
    BlobFormatError,
    BlobUnreadable,
    FileBlob,
    HttpBlob,
    StreamLimits,
    gunzip_lines,
    read_blob,
)
from recon_contracts.traffic.client import ApiClient, RequestBudget

INVOICE = "G016907411"


def rows(n: int = 30, attribute_set: str = "full") -> list[dict]:
    return [export_row(line_item(0, INVOICE, i, "USD"), attribute_set) for i in range(n)]


def judge(data: list[dict], *, invoice: str | None = INVOICE, attribute_set: str = "full", blobs: int = 1) -> ExportJudge:
    j = ExportJudge(RowRules.load(), invoice_id=invoice, attribute_set=attribute_set)
    size = -(-len(data) // blobs) if data else 0
    for k in range(blobs):
        j.blob(f"part-{k:05d}-test.c000.json.gz").consume(lines_of(json.dumps(r) for r in data[k * size:(k + 1) * size]))
    return j


def by_rule(j: ExportJudge) -> dict[str, list]:
    out: dict[str, list] = {}
    for f in j.findings():
        out.setdefault(f.rule, []).append(f)
    return out


# ---------------------------------------------------------------- conforming alternatives


def camel(row: dict) -> dict:
    return {("pcToBC" + k[6:]) if k.startswith("PCToBC") else k[0].lower() + k[1:]: v for k, v in row.items()}


@pytest.mark.parametrize("variant", ["pascal", "camel", "strings", "recon-file", "nulls-dropped", "basic"])
def test_tolerated_alternatives_pass(variant):
    data = rows()
    attribute_set = "full"
    if variant == "camel":
        data = [camel(r) for r in data]
    elif variant == "strings":
        data = [{k: (str(v) if isinstance(v, (int, float)) else v) for k, v in r.items()} for r in data]
    elif variant == "recon-file":
        renames = {"TotalForCustomer": "Total", "ResellerMpnId": "Tier2MpnId", "ReferenceId": "ReferenceID"}
        data = [{renames.get(k, k): (f"{int(v[5:7])}/{int(v[8:10])}/{v[:4]}" if k.endswith("Date") and v else v)
                 for k, v in r.items()} for r in data]
    elif variant == "nulls-dropped":  # Spark's JSON writer drops null fields: optional columns absent from some rows
        data = [{k: v for k, v in r.items() if not (i % 2 and k in {"MeterDescription", "ReservationOrderId"})}
                for i, r in enumerate(data)]
    elif variant == "basic":
        data, attribute_set = rows(attribute_set="basic"), "basic"
    j = judge(data, attribute_set=attribute_set, blobs=3)
    assert by_rule(j) == {}, [str(f) for f in j.findings()]
    assert j.rows == 30


def test_dates_in_every_documented_style_parse():
    for text in ["2023-03-09T08:12:53", "2023-03-09T08:37:48.5046691Z", "2019-02-04T09:22:40.1767993-08:00",
                 "2021-05-01", "10/3/2020", "9/30/2020 11:59 PM"]:
        assert row_datetime(text) is not None, text
    assert row_datetime("9/30/2020") < row_datetime("10/3/2020")


# ---------------------------------------------------------------- drift, one rule each


def _mutate(fn) -> list[dict]:
    data = rows()
    for i, r in enumerate(data):
        fn(i, r)
    return data


DRIFT = {
    "GR-ROW-REQUIRED-COLUMNS": lambda i, r: r.pop("ChargeEndDate") if i % 3 == 0 else None,
    "GR-ROW-COLUMN-TYPES": lambda i, r: r.update(UnitPrice={"amount": 1}) if i % 5 == 0 else None,
    "GR-ROW-DATES": lambda i, r: r.update(ChargeStartDate="31.01.2024") if i % 4 == 0 else None,
    "GR-ROW-CHARGE-PERIOD": lambda i, r: r.update(ChargeStartDate=r["ChargeEndDate"], ChargeEndDate=r["ChargeStartDate"])
    if i % 6 == 0 else None,
    "GR-ROW-INVOICE": lambda i, r: r.update(InvoiceNumber="G999999999") if i % 10 == 0 else None,
}


@pytest.mark.parametrize("rule_id", sorted(DRIFT))
def test_each_row_rule_catches_its_drift(rule_id):
    data = _mutate(DRIFT[rule_id])
    found = by_rule(judge(data))
    assert list(found) == [rule_id], [str(f) for fs in found.values() for f in fs]
    (f,) = found[rule_id]
    assert f.severity == catalog()[rule_id].severity  # GR-ROW-CHARGE-PERIOD is advisory: found, never failing
    assert " of 30 rows" in f.message and "part-00000-test.c000.json.gz" in f.message
    assert f.extra["lines"] and f.extra["lines"][0] == 1 and len(f.extra["lines"]) <= 5
    assert f.extra["count"] == sum(1 for i in range(30) if data[i] != rows(30)[i])


def test_findings_are_aggregated_per_rule_per_blob():
    data = _mutate(lambda i, r: r.update(UnitPrice=[1]))
    found = by_rule(judge(data, blobs=3))["GR-ROW-COLUMN-TYPES"]
    assert len(found) == 3 and all("10 of 10 rows" in f.message for f in found)
    assert "array" in found[0].actual  # worded by jsonschema against the spec's ExportRow


def test_a_column_missing_from_every_row_of_a_full_export():
    data = [{("SubscriptionGuid" if k == "SubscriptionId" else k): v for k, v in r.items()} for r in rows()]
    found = by_rule(judge(data))
    assert set(found) == {"GR-ROW-REQUIRED-COLUMNS", "GR-ROW-UNKNOWN-COLUMN"}
    assert "SubscriptionId" in found["GR-ROW-REQUIRED-COLUMNS"][0].message
    assert found["GR-ROW-UNKNOWN-COLUMN"][0].severity == "additive"


def test_mixed_casing_within_one_export_is_drift_even_across_blobs():
    data = rows()
    data = data[:15] + [camel(r) for r in data[15:]]  # the first blob PascalCase, the second camelCase
    found = by_rule(judge(data, blobs=2))
    assert list(found) == ["GR-ROW-CASING-CONSISTENT"]
    (f,) = found["GR-ROW-CASING-CONSISTENT"]
    assert "15 of 15 rows" in f.message and "part-00001" in f.message and "'PartnerId'" in f.expected


def test_unknown_charge_type_is_additive():
    found = by_rule(judge(_mutate(lambda i, r: r.update(ChargeType="superCredit") if i == 4 else None)))
    assert list(found) == ["GR-ROW-CHARGE-TYPE-UNKNOWN"] and found["GR-ROW-CHARGE-TYPE-UNKNOWN"][0].severity == "additive"
    assert "1 of 30 rows" in found["GR-ROW-CHARGE-TYPE-UNKNOWN"][0].message


def test_basic_export_against_the_usage_table_is_advisory():
    data = [dict(r, MpnId="123") for r in rows(attribute_set="basic")]
    found = by_rule(judge(data, attribute_set="basic"))
    assert list(found) == ["GR-ROW-BASIC-DOCUMENTED"] and found["GR-ROW-BASIC-DOCUMENTED"][0].severity == "advisory"


# ---------------------------------------------------------------- the reader


def test_reader_is_incremental_over_members_and_tiny_chunks():
    data = gzip.compress(b'{"a":1}\n\n{"b":2}\n') + gzip.compress(b'{"c":3}')
    chunks = [data[i:i + 3] for i in range(0, len(data), 3)]
    assert list(gunzip_lines(chunks)) == [(1, b'{"a":1}'), (3, b'{"b":2}'), (4, b'{"c":3}')]


def test_gzip_bomb_stops_bounded_and_inconclusive(tmp_path):
    bomb = tmp_path / "part-bomb.json.gz"
    deflater = zlib.compressobj(9, zlib.DEFLATED, 31)
    with bomb.open("wb") as fh:  # 256 MiB of newlines, about 256 KiB compressed
        for _ in range(256):
            fh.write(deflater.compress(b"\n" * (1024 * 1024)))
        fh.write(deflater.flush())
    j = ExportJudge(RowRules.load())
    outcome = read_blob(FileBlob(bomb), j.blob(bomb.name).consume, StreamLimits())
    assert outcome.problem is None and outcome.inconclusive and "gzip bomb" in outcome.inconclusive
    assert outcome.stats.inflated < 64 * 1024 * 1024  # stopped early, never inflated whole
    capped = read_blob(FileBlob(bomb), j.blob(bomb.name).consume, StreamLimits(max_inflated=1024 * 1024, max_ratio=1e9))
    assert capped.inconclusive and "inflates past 1,048,576 bytes" in capped.inconclusive


def test_a_gz_name_on_something_else_is_a_format_finding():
    with pytest.raises(BlobFormatError, match="not gzip"):
        list(gunzip_lines([b"<html>not a blob</html>"]))
    with pytest.raises(BlobUnreadable):
        list(gunzip_lines([gzip.compress(b"x" * 100_000)], StreamLimits(max_inflated=1000)))


def test_blob_download_carries_the_sas_never_the_bearer_token():
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=gzip.compress(json.dumps(rows(1)[0]).encode()))

    class Token:
        def token(self) -> str:
            return "bearer-secret"

    client = ApiClient(api="graph", base_url="https://graph.example", token=Token(), budget=RequestBudget())
    client._http = httpx.Client(transport=httpx.MockTransport(answer))
    j = ExportJudge(RowRules.load(), invoice_id=INVOICE, attribute_set="basic")
    url = "https://store.example/dir/part-00000-x.c000.json.gz?sv=2021&sig=abc"
    outcome = read_blob(HttpBlob(stream=client.stream, url=url, name="part-00000-x.c000.json.gz"), j.blob("x").consume)
    assert outcome.problem is None and j.rows == 1
    assert "authorization" not in {k.lower() for k in seen[0].headers} and "sig=abc" in str(seen[0].url)


def test_transport_break_is_inconclusive_not_drift():
    def chunks():
        yield gzip.compress(b'{"a":1}\n')[:10]
        raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")

    from recon_contracts.traffic.blob_stream import _guarded

    with pytest.raises(BlobUnreadable, match="broke off"):
        list(gunzip_lines(_guarded(chunks(), "https://store.example/x.json.gz?sig=abc", None)))


# ---------------------------------------------------------------- validate-export and the mock at scale


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> tuple[Path, dict]:
    """A 3-blob export downloaded from the mock (--export-rows 2500 --blob-rows 1000), and its operation body."""
    out = tmp_path_factory.mktemp("export")
    with serve(MockConfig(export_rows=2500, blob_rows=1000, poll_count=0, retry_after=0)) as mock:
        auth = {"Authorization": "Bearer t"}
        r = httpx.post(f"{mock.graph_base_url}/reports/partners/billing/reconciliation/billed/export",
                       json={"invoiceId": INVOICE, "attributeSet": "full"}, headers=auth)
        op = httpx.get(r.headers["location"], headers=auth).json()
        manifest = op["resourceLocation"]
        assert manifest["blobCount"] == 3
        for blob in manifest["blobs"]:
            data = httpx.get(f"{manifest['rootDirectory']}/{blob['name']}?{manifest['sasToken']}").content
            (out / blob["name"]).write_bytes(data)
    (out / "manifest.json").write_text(json.dumps(manifest))
    return out, op


def test_validate_export_on_downloaded_blobs(exported, tmp_path, capsys):
    folder, _ = exported
    code = cli_main(["validate-export", str(folder), "--invoice-id", INVOICE, "--report-dir", str(tmp_path / "r")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "2,500 rows in 3 blob(s)" in out and "verdict: pass" in out
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["verdict"] == "pass" and (tmp_path / "r" / "report.html").is_file()


def test_validate_export_manifest_file_reads_blobs_beside_it(exported, tmp_path, capsys):
    folder, _ = exported
    code = cli_main(["validate-export", str(folder / "manifest.json"), "--report-dir", str(tmp_path / "r")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"invoice {INVOICE}" in out  # read from the rootDirectory's InvoiceId= segment


def test_validate_export_fails_on_another_invoice_and_a_truncated_blob(exported, tmp_path, capsys):
    folder, _ = exported
    blob = sorted(folder.glob("*.gz"))[0]
    cut = tmp_path / "part-cut.c000.json.gz"
    cut.write_bytes(blob.read_bytes()[: blob.stat().st_size // 2])
    code = cli_main(["validate-export", str(blob), str(cut), "--invoice-id", "G000000009",
                     "--report-dir", str(tmp_path / "r")])
    out = capsys.readouterr().out
    assert code == 1, out
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert {f["rule"] for f in summary["findings"]} == {"GR-ROW-INVOICE", "GR-BLOB-GZIP-JSONL"}
    assert any("1,000 of 1,000 rows" in f["message"] for f in summary["findings"])


def test_validate_export_bad_input_exits_4_with_one_line(tmp_path, capsys):
    assert cli_main(["validate-export", str(tmp_path / "missing.json.gz")]) == 4
    assert cli_main(["validate-export"]) == 4
    (tmp_path / "x.json").write_text("{not json")
    assert cli_main(["validate-export", str(tmp_path / "x.json")]) == 4
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("error:") == 3


def test_validate_export_gzip_bomb_is_inconclusive(tmp_path, capsys):
    bomb = tmp_path / "part-bomb.c000.json.gz"
    bomb.write_bytes(gzip.compress(b"\n" * (64 * 1024 * 1024), 9))
    code = cli_main(["validate-export", str(bomb), "--report-dir", str(tmp_path / "r")])
    out = capsys.readouterr().out
    assert code == 2 and "gzip bomb" in out


def test_rows_checked_together_still_catch_one_bad_value():
    """Dates (and numeric texts) of a row are matched in one regex call; a bad one, or one hiding the joiner, is
    still found and named."""
    data = [{k: (str(v) if isinstance(v, (int, float)) else v) for k, v in r.items()} for r in rows()]
    data[3]["OrderDate"] = "2024-01-01\x1f2024-01-02"
    data[5]["Subtotal"] = "12\x1f5"
    data[7]["UnitPrice"] = "12,50"
    found = by_rule(judge(data))
    assert set(found) == {"GR-ROW-DATES", "GR-ROW-COLUMN-TYPES"}
    assert found["GR-ROW-DATES"][0].extra["lines"] == [4]
    assert found["GR-ROW-COLUMN-TYPES"][0].extra["lines"] == [6, 8]


def test_empty_key_column_and_non_text_qualifiers_are_type_findings():
    data = rows()
    data[2]["ChargeType"] = " "
    data[4]["ProductQualifiers"] = ["AddOn", 7]
    found = by_rule(judge(data))
    assert list(found) == ["GR-ROW-COLUMN-TYPES"] and found["GR-ROW-COLUMN-TYPES"][0].extra["lines"] == [3, 5]


def test_a_blob_that_starts_with_an_empty_object_is_judged_not_crashed():
    """A first row of ``{}`` has the same (no keys, no types) signature as "no row yet": it must still be judged."""
    j = ExportJudge(RowRules.load(), invoice_id=INVOICE, attribute_set="full")
    j.blob("part-00000-test.c000.json.gz").consume(lines_of([b"{}\n", json.dumps(rows(1)[0]).encode() + b"\n"]))
    (finding, *_) = by_rule(j)["GR-ROW-REQUIRED-COLUMNS"]
    assert "1 of 2 rows" in finding.message
