"""One JSON policy for every body: RFC 8259 JSON passes in every spelling the grammar allows; NaN and Infinity
(RFC 8259 §6) and other non-JSON are findings on every path: line items, Graph answers, manifests, export rows,
and bodies read back from a HAR."""

from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from recon_contracts import jsonpolicy
from recon_contracts.checks import partner_center as pc
from recon_contracts.checks.blobs import check_manifest_response
from recon_contracts.checks.operations import check_operation
from recon_contracts.checks.recorded import check_recorded
from recon_contracts.checks.rows import ExportJudge, RowRules, lines_of
from recon_contracts.findings import Exchange
from recon_contracts.traffic.har import HarError, read_har

DOCS = Path(__file__).parents[1] / "fixtures" / "doc-examples"
PC_URL = "https://api.partnercenter.microsoft.com/v1/invoices/unbilled/lineitems?provider=onetime&size=2"
OPS = "https://graph.microsoft.com/v1.0/reports/partners/billing/operations/9ab9cb54-d07f-4f52-9ea6-a09d7de52c14"
NOT_JSON = ["NaN", "Infinity", "-Infinity"]


def doc(name: str) -> dict[str, Any]:
    return json.loads((DOCS / name).read_text(encoding="utf-8"))


def ex(raw: bytes, *, url: str, api: str, operation: str) -> Exchange:
    return Exchange(api=api, operation=operation, method="GET", url=url, request_headers={}, request_body=None,
                    status=200, response_headers={"content-type": "application/json"}, response_body=raw)


def with_constant(body: Any, path: tuple[Any, ...], token: str) -> bytes:
    """``body`` as JSON text with the value at ``path`` written as the bare ``token`` (which json.dumps would write)."""
    body = copy.deepcopy(body)
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = "__CONSTANT__"
    return json.dumps(body).replace('"__CONSTANT__"', token).encode()


@pytest.mark.parametrize("token", NOT_JSON)
@pytest.mark.parametrize("text", ["{}", "[1, {}]", '{"a": {"b": [0]}}'])
def test_policy_refuses_the_non_json_constants_anywhere(text, token):
    raw = text.replace("{}", f'{{"x": {token}}}').replace("[0]", f"[{token}]")
    with pytest.raises(jsonpolicy.NotJson, match=token.lstrip("-") if token != "-Infinity" else "Infinity"):
        jsonpolicy.loads(raw.encode())


@pytest.mark.parametrize("raw, value", [
    (b'\xef\xbb\xbf{"a": 1}', {"a": 1}),  # a BOM (RFC 8259 §8.1: a parser MAY ignore it)
    (b'{"a":1E+2,"b":-0,"c":1.0e-5,"d":0.10}', {"a": 100.0, "b": 0, "c": 1e-05, "d": 0.1}),
    (b'{"\\u0061":"\\u00e9\\ud83d\\ude00\\/"}', {"a": "\u00e9\U0001F600/"}),
    (b' \t\r\n[ 1 , 2 ]\n ', [1, 2]),
    ('{"k": "日本語 ✓ עברית"}'.encode(), {"k": "日本語 ✓ עברית"}),
    (b'"\\ud800"', "\ud800"),  # a lone surrogate escape: the grammar allows it (§8.2)
    (b"123456789012345678901234567890", 123456789012345678901234567890),
], ids=["bom", "number-spellings", "escapes", "whitespace", "raw-utf8", "lone-surrogate", "big-integer"])
def test_policy_accepts_what_the_grammar_allows(raw, value):
    got = jsonpolicy.loads(raw)
    assert got == value or (isinstance(value, int) and got == float(value))


@pytest.mark.parametrize("token", NOT_JSON)
def test_line_items_page_with_a_bare_constant_is_a_finding(token):
    item = doc("pc-response-example-1.json")["items"][0]
    page = {"totalCount": 1, "items": [item], "links": {"self": {"uri": "/x", "method": "GET", "headers": []}},
            "attributes": {"objectType": "Collection"}}
    numeric = next(k for k, v in item.items() if isinstance(v, (int, float)) and not isinstance(v, bool))
    raw = with_constant(page, ("items", 0, numeric), token)
    found = pc.check_every_page([ex(raw, url=PC_URL, api="partner-center", operation="GET /v1/invoices/{invoice-id}/lineitems")],
                                currency="USD")
    assert any(f.rule == "PC-RESPONSE-SCHEMA" and "not JSON" in f.message for f in found), [f.message for f in found]


@pytest.mark.parametrize("token", NOT_JSON)
def test_graph_operation_with_a_bare_constant_is_a_finding(token):
    body = {"@odata.type": "#microsoft.graph.partners.billing.runningOperation", "id": "9ab9cb54-d07f-4f52-9ea6-a09d7de52c14",
            "status": "running", "createdDateTime": "2023-03-09T08:12:53Z", "lastActionDateTime": "2023-03-09T08:12:53Z",
            "percent": 1}
    found = check_operation(ex(with_constant(body, ("percent",), token), url=OPS, api="graph", operation="GET operation"))
    assert any(f.rule == "GR-RESPONSE-SCHEMA" and "not a JSON object" in f.message for f in found), [f.message for f in found]


@pytest.mark.parametrize("token", NOT_JSON)
def test_manifest_with_a_bare_constant_is_a_finding(token):
    manifest = {"id": "m", "schemaVersion": "2", "dataFormat": "compressedJSON", "blobCount": 1, "blobs": [],
                "rootDirectory": "https://x.blob.core.windows.net/r", "sasToken": "sv=1&sig=abcdefgh"}
    found = check_manifest_response(ex(with_constant(manifest, ("blobCount",), token),
                                       url=OPS.replace("operations", "manifests"), api="graph", operation="GET manifest"))
    assert found and any("not JSON" in f.message for f in found), [f.message for f in found]


@pytest.mark.parametrize("token", NOT_JSON)
def test_export_row_with_a_bare_constant_is_a_finding(token):
    judge = ExportJudge(RowRules.load())
    judge.blob("part-00000.c000.json.gz").consume(lines_of([f'{{"PartnerId": "p", "Quantity": {token}}}']))
    found = [f for f in judge.findings() if f.rule == "GR-BLOB-GZIP-JSONL"]
    assert found and "no JSON object" in found[0].message


def _har(path: Path, body_text: str) -> Path:
    entry = {"startedDateTime": "2026-01-01T00:00:00Z", "time": 1,
             "request": {"method": "GET", "url": PC_URL, "httpVersion": "HTTP/1.1", "headers": [], "queryString": [],
                         "cookies": [], "headersSize": -1, "bodySize": 0},
             "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1",
                          "headers": [{"name": "Content-Type", "value": "application/json"}], "cookies": [],
                          "content": {"size": len(body_text.encode()), "mimeType": "application/json", "text": body_text},
                          "redirectURL": "", "headersSize": -1, "bodySize": -1},
             "cache": {}, "timings": {"send": 0, "wait": 1, "receive": 0}}
    path.write_text(json.dumps({"log": {"version": "1.2", "creator": {"name": "t", "version": "1"}, "entries": [entry]}}))
    return path


@pytest.mark.parametrize("token", NOT_JSON)
def test_recorded_body_with_a_bare_constant_is_a_finding(tmp_path, token):
    item = doc("pc-response-example-1.json")["items"][0]
    page = {"totalCount": 1, "items": [item], "links": {"self": {"uri": "/x", "method": "GET", "headers": []}},
            "attributes": {"objectType": "Collection"}}
    numeric = next(k for k, v in item.items() if isinstance(v, (int, float)) and not isinstance(v, bool))
    traffic = read_har([_har(tmp_path / "t.har", with_constant(page, ("items", 0, numeric), token).decode())])
    assert traffic.exchanges, traffic.summary()
    found = check_recorded(traffic.exchanges).findings
    assert any("not JSON" in f.message for f in found), [f.message for f in found]


def test_a_har_file_that_is_not_json_is_refused(tmp_path):
    path = _har(tmp_path / "t.har", "{}")
    path.write_text(path.read_text().replace('"time": 1', '"time": NaN'))
    with pytest.raises(HarError, match="not JSON"):
        read_har([path])


def test_export_rows_read_through_the_policy_accept_a_bom_and_number_spellings():
    judge = ExportJudge(RowRules.load())
    blob = gzip.compress('\ufeff{"PartnerId": "p"}\n'.encode())
    judge.blob("part-00000.c000.json.gz").consume(lines_of(gzip.decompress(blob).decode("utf-8").splitlines()))
    assert not [f for f in judge.findings() if f.rule == "GR-BLOB-GZIP-JSONL" and "not JSON" in f.message]


@pytest.mark.parametrize("value", [
    {"log": {"entries": [{"a": 1.5, "b": None, "c": "é ✓", "d": [True, False]}]}},
    {1: "a key that is no string"},
    {"big": 2 ** 70},
    {"lone": "\ud800"},
])
def test_indented_reports_read_back_as_the_same_value(value):
    from recon_contracts.jsonpolicy import dumps_indented

    text = dumps_indented(value)
    assert "\n  " in text  # indented: every value here nests
    assert json.loads(text) == json.loads(json.dumps(value))  # what the standard library would have written
