"""traffic.har: written as HAR 1.2 (redacted, large bodies cut), merged across processes, read back as exchanges.

Also the reader on traffic recorded elsewhere (devtools' "Z" dates, base64 bodies, other hosts) and
``recon-contracts check`` on bad input.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import jsonschema
import pytest

from recon_contracts.findings import Exchange
from recon_contracts.redact import REDACTOR
from recon_contracts.reporting.har import HarRecorder, merge
from recon_contracts.traffic.har import read_har
from recon_contracts.protocol.shapes import BLOB, GRAPH_EXPORT_QUALIFIED, GRAPH_OPERATION, PC_LINEITEMS, classify
from support.suiteproc import Finished, run

SCHEMA = json.loads((Path(__file__).parents[1] / "fixtures" / "har-1.2.schema.json").read_text(encoding="utf-8"))
TOKEN = "har-test-token-Qw3eR5tY7uI9oP1aS2dF"
PC_URL = "https://pc.example/v1/invoices/unbilled/lineitems?provider=onetime&invoicelineitemtype=billinglineitems&currencycode=USD&period=current"
OP_URL = "https://graph.example/v1.0/reports/partners/billing/operations/abc"


def exchange(url: str, body: bytes, *, status: int = 200, method: str = "GET", headers: dict[str, str] | None = None,
             request_body: bytes | None = None) -> Exchange:
    return Exchange(api="partner-center", operation="op", method=method, url=url,
                    request_headers={"Authorization": f"Bearer {TOKEN}", **(headers or {})}, request_body=request_body,
                    status=status, response_headers={"content-type": "application/json"}, response_body=body,
                    elapsed_ms=12.5)


def validate(path: Path) -> dict:
    document = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(document)
    return document


def test_a_recorded_exchange_is_valid_har_and_reads_back_the_same(tmp_path):
    recorder = HarRecorder(tmp_path / "part.har")
    original = exchange(PC_URL, b'{"totalCount": 0, "items": []}', request_body=b'{"a": 1}', method="GET")
    recorder.record(original)
    recorder.close()
    document = validate(tmp_path / "part.har")
    assert document["log"]["version"] == "1.2"
    read = read_har([tmp_path / "part.har"]).exchanges
    assert len(read) == 1
    back = read[0]
    assert (back.api, back.operation, back.method, back.url, back.status) == ("partner-center", PC_LINEITEMS, "GET", PC_URL, 200)
    assert back.response_body == original.response_body and back.request_body == b'{"a": 1}'
    assert back.header("content-type") == "application/json"


def test_tokens_and_sas_signatures_are_redacted(tmp_path):
    REDACTOR.add(TOKEN)
    body = json.dumps({"sasToken": "?sv=2020&sig=SeCrEtSiGnAtUrE123", "token": TOKEN}).encode()
    recorder = HarRecorder(tmp_path / "part.har")
    recorder.record(exchange("https://blobs.example/root/a.gz?sv=1&sig=AnOtHeRsIg456", body))
    recorder.close()
    text = (tmp_path / "part.har").read_text(encoding="utf-8")
    for secret in (TOKEN, "SeCrEtSiGnAtUrE123", "AnOtHeRsIg456"):
        assert secret not in text
    assert "Bearer [REDACTED]" in text
    validate(tmp_path / "part.har")


def test_large_bodies_are_cut_with_their_size_noted_and_skipped_when_read(tmp_path):
    big = json.dumps({"items": ["x" * 100] * 50}).encode()
    blob = gzip.compress(b'{"a": 1}\n' * 2000)
    recorder = HarRecorder(tmp_path / "part.har", limit=256)
    recorder.record(exchange(PC_URL, big))
    recorder.record(exchange("https://blobs.example/root/a.gz?sig=x", blob))
    recorder.close()
    document = validate(tmp_path / "part.har")
    contents = [e["response"]["content"] for e in document["log"]["entries"]]
    assert contents[0]["size"] == len(big) and len(contents[0]["text"]) == 256 and "256 of" in contents[0]["comment"]
    assert contents[1]["encoding"] == "base64" and contents[1]["size"] == len(blob)
    traffic = read_har([tmp_path / "part.har"])
    assert traffic.exchanges == [] and traffic.truncated == {PC_LINEITEMS: 1} and traffic.ignored == {"blobs.example": 1}


def test_parts_of_parallel_workers_merge_into_one_har_in_time_order(tmp_path):
    parts = []
    for name, delay in (("gw1", 0), ("gw0", 1)):
        recorder = HarRecorder(tmp_path / f"{name}.har")
        parts.append(recorder.path)
        recorder.record(exchange(f"{PC_URL}&size={delay + 1}", b"{}"))
        recorder.close()
    (tmp_path / "gw2.har").write_text('{"log": {"entr', encoding="utf-8")  # a worker that died mid-write
    assert merge([*parts, tmp_path / "gw2.har"], tmp_path / "traffic.har") == 2
    document = validate(tmp_path / "traffic.har")
    started = [e["startedDateTime"] for e in document["log"]["entries"]]
    assert started == sorted(started) and document["log"]["creator"]["name"] == "recon-contracts"


def test_empty_run_is_still_a_valid_har(tmp_path):
    assert merge([], tmp_path / "traffic.har") == 0
    assert validate(tmp_path / "traffic.har")["log"]["entries"] == []


def _devtools_entry(url: str, status: int, text: str, *, method: str = "GET", encoding: str | None = None,
                    size: int | None = None) -> dict:
    content = {"size": len(text) if size is None else size, "mimeType": "application/json", "text": text}
    if encoding:
        content["encoding"] = encoding
    return {
        "startedDateTime": "2026-01-05T10:00:00.123Z", "time": 40,
        "request": {"method": method, "url": url, "httpVersion": "h2", "cookies": [], "queryString": [],
                    "headers": [{"name": ":authority", "value": "x"}, {"name": "authorization", "value": "Bearer abc"}],
                    "headersSize": -1, "bodySize": 0},
        "response": {"status": status, "statusText": "", "httpVersion": "h2", "cookies": [], "headers": [],
                     "content": content, "redirectURL": "", "headersSize": -1, "bodySize": -1},
        "cache": {}, "timings": {"send": 0, "wait": 40, "receive": 0},
    }


def test_traffic_recorded_elsewhere_is_read_by_path_shape_and_other_hosts_are_counted(tmp_path):
    import base64

    manifest = {"status": "succeeded", "resourceLocation": {"rootDirectory": "https://store.example/r/x", "blobs": []}}
    entries = [
        _devtools_entry("https://portal.example/app.js", 200, "var a"),
        _devtools_entry("https://proxy.example/pc/v1/invoices/G1/lineitems?provider=onetime", 400, "{}"),
        _devtools_entry(OP_URL, 200, json.dumps(manifest)),
        _devtools_entry("https://store.example/r/x/part1.json.gz?sig=z", 200,
                        base64.b64encode(b"\x1f\x8b...").decode(), encoding="base64", size=5),
        _devtools_entry("https://graph.example/beta/reports/partners/billing/reconciliation/billed/"
                        "microsoft.graph.partners.billing.export", 202, "", method="POST"),
        {"startedDateTime": "nonsense"},
    ]
    path = tmp_path / "devtools.har"
    path.write_text(json.dumps({"log": {"version": "1.2", "creator": {"name": "WebInspector", "version": "537.36"},
                                        "entries": entries}}), encoding="utf-8")
    traffic = read_har([path])
    assert [e.operation for e in traffic.exchanges] == [PC_LINEITEMS, GRAPH_OPERATION, BLOB, GRAPH_EXPORT_QUALIFIED]
    assert traffic.exchanges[2].response_body == b"\x1f\x8b..."
    assert traffic.exchanges[0].request_header("authorization") == "Bearer abc"
    assert traffic.ignored == {"portal.example": 1, "(unreadable entry)": 1}


@pytest.mark.parametrize("method, url, expected", [
    ("GET", "https://api.partnercenter.microsoft.com/v1/invoices/unbilled/lineitems", PC_LINEITEMS),
    ("GET", "https://api.partnercenter.microsoft.com/v1//invoices/unbilled/lineitems?size=5", PC_LINEITEMS),
    ("GET", "https://graph.microsoft.com/v1.0/reports/partners/billing/operations/1", GRAPH_OPERATION),
    ("POST", "https://graph.microsoft.com/beta/reports/partners/billing/reconciliation/billed/"
             "microsoft.graph.partners.billing.export", GRAPH_EXPORT_QUALIFIED),
    ("POST", "https://api.partnercenter.microsoft.com/v1/invoices/unbilled/lineitems", None),
    ("GET", "https://graph.microsoft.com/v1.0/me", None),
])
def test_operations_are_told_by_path_shape(method, url, expected):
    shape = classify(method, url)
    assert (shape.operation if shape else None) == expected


def check(*args: str, cwd: Path) -> Finished:
    return run([sys.executable, "-m", "recon_contracts.cli", "check", *args], cwd=cwd, timeout=120, merge_stderr=False)


def test_check_on_bad_input_is_one_line_and_exit_4(tmp_path):
    (tmp_path / "not.har").write_text("[]", encoding="utf-8")
    for args, words in (((), "at least one HAR file"), (("missing.har",), "cannot be read"),
                        (("not.har",), "not a HAR file"), (("not.har", "--update-baseline"), "needs --baseline"),
                        (("not.har", "--baseline", "none.json"), "does not exist")):
        proc = check(*args, cwd=tmp_path)
        assert proc.returncode == 4, (args, proc.stdout, proc.stderr)
        assert words in proc.stderr and "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_check_of_traffic_without_either_api_exits_2_with_reports(tmp_path):
    path = tmp_path / "other.har"
    path.write_text(json.dumps({"log": {"version": "1.2", "creator": {"name": "x", "version": "1"},
                                        "entries": [_devtools_entry("https://portal.example/", 200, "<html>")]}}),
                    encoding="utf-8")
    proc = check(str(path), "--report-dir", str(tmp_path / "r"), cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "portal.example" in proc.stderr
    summary = json.loads((tmp_path / "r" / "summary.json").read_text(encoding="utf-8"))
    assert summary["recorded"]["ignored_by_host"] == {"portal.example": 1}
    assert {p.name for p in (tmp_path / "r").iterdir()} >= {"junit.xml", "summary.json", "report.html", "observed.json"}


def test_har_started_times_are_utc_iso(tmp_path):
    recorder = HarRecorder(tmp_path / "p.har")
    before = datetime.now(timezone.utc)
    recorder.record(exchange(PC_URL, b"{}"))
    recorder.close()
    started = json.loads((tmp_path / "p.har").read_text())["log"]["entries"][0]["startedDateTime"]
    assert abs((datetime.fromisoformat(started) - before).total_seconds()) < 60


@pytest.mark.parametrize("profile, exit_code, rules", [("conforming", 0, set()), ("pc-error-html", 1, {"PC-ERROR-SHAPE"})])
def test_schemathesis_har_report_is_checked(profile, exit_code, rules, tmp_path):
    """Traffic recorded elsewhere: Schemathesis' own --report har of a run against the mock."""
    from recon_contracts.mock import MockConfig, serve
    from recon_contracts.truth.resources import project_root

    spec = project_root() / "specs" / "partner-center-unbilled-lineitems.yaml"
    with serve(MockConfig(profile=profile, items=12)) as mock:
        st = subprocess.run([sys.executable, "-m", "schemathesis.cli", "run", str(spec), "--url", mock.pc_base_url,
                             "-H", "Authorization: Bearer recon-contracts-mock-token", "--max-examples", "3", "--seed", "1",
                             "--checks", "not_a_server_error", "--report", "har", "--report-dir", str(tmp_path / "st")],
                            cwd=tmp_path, capture_output=True, text=True, timeout=180, check=False)
    hars = sorted((tmp_path / "st").glob("*"))
    assert hars, st.stdout[-2000:] + st.stderr[-2000:]
    proc = check(*map(str, hars), "--report-dir", str(tmp_path / "r"), cwd=tmp_path)
    summary = json.loads((tmp_path / "r" / "summary.json").read_text(encoding="utf-8"))
    assert summary["recorded"]["checked"]["partner-center exchanges"] > 0
    assert proc.returncode == exit_code, proc.stdout[-3000:]
    assert {f["rule"] for f in summary["findings"] if f["severity"] == "breaking"} == rules
