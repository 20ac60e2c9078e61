"""Unit tests of the Graph checks (pure functions over hand-made exchanges) and of the export driver.

A conforming input yields no finding (the docs' own examples among them); each drifted input yields
the finding of its rule.
"""

from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from recon_contracts.checks.blobs import (
    blob_url,
    check_basic_subset,
    check_blob_content,
    check_blob_download,
    check_blobs,
    check_manifest,
    check_manifest_response,
)
from recon_contracts.checks.rows import ExportJudge, RowRules, export_columns
from recon_contracts.traffic.blob_stream import BlobOutcome, FileBlob, read_blob
from recon_contracts.checks.graph_export import (
    api_version,
    check_export_accepted,
    check_export_of_unknown_invoice,
    check_export_rejected,
    check_unknown_operation,
)
from recon_contracts.checks.operations import (
    check_odata_type,
    check_operation,
    check_polls,
    check_resource_iff_succeeded,
    check_status_monotonic,
    check_terminal_absorbing,
    check_terminates,
    check_timestamps,
)
from recon_contracts.traffic.client import ApiClient, OffOriginLink, RequestBudget
from recon_contracts.drivers.graph_export import run_export
from recon_contracts.findings import Exchange, Finding
from recon_contracts.redact import MASK

DOCS = Path(__file__).resolve().parents[1] / "fixtures" / "doc-examples"
BASE = "https://graph.microsoft.com/v1.0"
OPS = f"{BASE}/reports/partners/billing/operations/9ab9cb54-d07f-4f52-9ea6-a09d7de52c14"
EXPORT = f"{BASE}/reports/partners/billing/reconciliation/billed/export"
SIG = "RpVY0WBGUHJ2APB3N76jtMak8loAWY4oiA0%2FaoJX1bM%3D"


def doc(name: str) -> dict[str, Any]:
    return json.loads((DOCS / name).read_text(encoding="utf-8"))


def ex(status: int = 200, body: Any = None, *, headers: dict[str, str] | None = None, url: str = OPS,
       method: str = "GET", raw: bytes | None = None, api: str = "graph") -> Exchange:
    content = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    hdrs = {"content-type": "application/json"} if body is not None else {}
    hdrs.update({k.lower(): v for k, v in (headers or {}).items()})
    return Exchange(api=api, operation=f"{method} test", method=method, url=url,
                    request_headers={"Authorization": "Bearer secret-token-value"}, request_body=None,
                    status=status, response_headers=hdrs, response_body=content)


def rules(findings: list[Finding]) -> list[str]:
    return sorted({f.rule for f in findings})


RUNNING = doc("graph-operation-get-running.json")
SUCCEEDED_LINK = doc("graph-operation-get-succeeded.json")
FAILED = doc("graph-operation-get-failed.json")
SUCCEEDED_INLINE = doc("graph-operation-succeeded-inline-manifest.CONSTRUCTED.json")
MANIFEST = doc("graph-manifest-get.json")


def poll(body: dict[str, Any], **changes: Any) -> Exchange:
    body = {**copy.deepcopy(body), **changes}
    body = {k: v for k, v in body.items() if v is not ...}
    headers = {"Retry-After": "1"} if body.get("status") in ("running", "notStarted") else {}
    return ex(200, body, headers=headers)


def gz_lines(*rows: Any) -> bytes:
    return gzip.compress(b"\n".join(json.dumps(r).encode() for r in rows) + b"\n")


# ---------------------------------------------------------------- export 202 / Location


def test_api_version():
    assert api_version("https://graph.microsoft.com/v1.0/reports/x") == "v1.0"
    assert api_version("http://127.0.0.1:8080/beta") == "beta"
    assert api_version("http://127.0.0.1:8080/reports") is None


@pytest.mark.parametrize(
    "headers, body",
    [
        ({"Location": OPS}, None),  # the docs' example: no body
        ({"Location": OPS, "Content-Type": "application/json"}, None),  # unbilled-usage example: Content-Type, no body
        ({"Location": OPS}, RUNNING),  # a body is ignored
    ],
)
def test_export_accepted_conforming(headers, body):
    exchange = ex(202, body, headers=headers, url=EXPORT, method="POST")
    assert check_export_accepted(exchange, graph_base_url=BASE) == []


@pytest.mark.parametrize(
    "status, headers, words",
    [
        (200, {"Location": OPS}, "answered 200, not 202"),
        (404, {}, "answered 404"),
        (202, {}, "no Location"),
    ],
)
def test_export_accepted_drift(status, headers, words):
    found = check_export_accepted(ex(status, None, headers=headers, url=EXPORT, method="POST"), graph_base_url=BASE)
    assert rules(found) == ["GR-EXPORT-202-LOCATION"]
    assert found[0].severity == "breaking"
    assert words in found[0].message
    assert "secret-token-value" not in found[0].curl and "${TOKEN}" in found[0].curl


@pytest.mark.parametrize(
    "location, words",
    [
        ("/v1.0/reports/partners/billing/operations/1", "not an absolute URL"),
        (OPS.replace("/v1.0/", "/beta/"), "API version beta"),  # what Microsoft's own v1.0 unbilled page shows
        (OPS.replace("graph.microsoft.com", "elsewhere.example"), "another host"),
    ],
)
def test_location_form_is_advisory(location, words):
    """Where the docs disagree or are silent (relative, other version, other host) the finding never fails the gate."""
    found = check_export_accepted(ex(202, None, headers={"Location": location}, url=EXPORT, method="POST"),
                                  graph_base_url=BASE)
    assert rules(found) == ["GR-EXPORT-LOCATION-FORM"]
    assert found[0].severity == "advisory" and words in found[0].message


def test_export_qualified_spelling_reports_its_own_rule():
    found = check_export_accepted(ex(404, {"error": {"code": "x", "message": "y"}}), graph_base_url=BASE,
                                  rule_id="GR-EXPORT-QUALIFIED-NAME")
    assert rules(found) == ["GR-EXPORT-QUALIFIED-NAME"]


# ---------------------------------------------------------------- error envelope


ENVELOPE = {"error": {"code": "BadRequest", "message": "invoiceId is required",
                      "innerError": {"request-id": "1", "date": "2024-06-21T10:00:00"}}}


@pytest.mark.parametrize("status", [400, 404, 415, 422])
def test_export_rejected_conforming(status):
    assert check_export_rejected(ex(status, ENVELOPE), case="a missing invoiceId") == []


@pytest.mark.parametrize(
    "status, body, raw, words",
    [
        (202, None, None, "answered 202, not 4xx"),
        (200, RUNNING, None, "answered 200"),
        (400, None, b"<html>Bad Request</html>", "not JSON"),
        (400, {"error": "bad"}, None, "no 'error' object"),
        (400, {"error": {"code": "BadRequest"}}, None, "error.message"),
        (400, {"code": "BadRequest", "message": "x"}, None, "no 'error' object"),
        (400, {"error": {"code": "x", "message": "y", "details": "not-a-list"}}, None, "does not match ODataError"),
    ],
)
def test_export_rejected_drift(status, body, raw, words):
    """Accepting a bad body, or refusing it outside the envelope, is worth knowing, never drift (advisory)."""
    found = check_export_rejected(ex(status, body, raw=raw), case="a missing invoiceId")
    assert rules(found) == ["GR-EXPORT-BAD-REQUEST-4XX"]
    assert found[0].severity == "advisory"
    assert words in found[0].message
    assert "a missing invoiceId" in found[0].message or "a missing invoiceId" in str(found[0].extra)


def test_export_of_unknown_invoice():
    assert check_export_of_unknown_invoice(ex(404, ENVELOPE), graph_base_url=BASE) == []
    assert check_export_of_unknown_invoice(ex(202, None, headers={"Location": OPS}), graph_base_url=BASE) == []
    assert rules(check_export_of_unknown_invoice(ex(500, ENVELOPE), graph_base_url=BASE)) == ["GR-EXPORT-BAD-REQUEST-NO-5XX"]
    assert rules(check_export_of_unknown_invoice(ex(200, RUNNING), graph_base_url=BASE)) == ["GR-EXPORT-202-LOCATION"]
    assert rules(check_export_of_unknown_invoice(ex(400, None, raw=b"oops"), graph_base_url=BASE)) == [
        "GR-EXPORT-BAD-REQUEST-4XX"]


@pytest.mark.parametrize("status", [500, 502, 503])
def test_export_bad_request_answered_5xx_is_breaking(status):
    (found,) = check_export_rejected(ex(status, ENVELOPE), case="a missing invoiceId")
    assert found.rule == "GR-EXPORT-BAD-REQUEST-NO-5XX" and found.severity == "breaking"
    assert f"answered {status}" in found.message


def test_unknown_operation():
    not_found = {"error": {"code": "itemNotFound", "message": "The operation was not found."}}
    assert check_unknown_operation(ex(404, not_found)) == []
    assert rules(check_unknown_operation(ex(200, RUNNING))) == ["GR-OP-UNKNOWN-404"]
    assert rules(check_unknown_operation(ex(404, None, raw=b"Not Found"))) == ["GR-OP-UNKNOWN-404"]


# ---------------------------------------------------------------- one operation poll


@pytest.mark.parametrize(
    "body, rule",
    [
        ({**RUNNING, "error": {"code": "5000", "message": "No data available"}}, "GR-OP-ERROR-ONLY-IF-FAILED"),
        ({**RUNNING, "resourceLocation@odata.navigationLink": SUCCEEDED_LINK["resourceLocation@odata.navigationLink"]},
         "GR-OP-RESOURCE-ONLY-IF-SUCCEEDED"),
        ({**FAILED, "resourceLocation": MANIFEST}, "GR-OP-RESOURCE-ONLY-IF-SUCCEEDED"),
        ({**RUNNING, "lastActionDateTime": "2023-03-09T07:12:53Z"}, "GR-OP-TIMESTAMPS"),
        ({**RUNNING, "createdDateTime": "2023-03-09T08:40:00+00:00"}, "GR-OP-TIMESTAMPS"),
    ],
    ids=["running-with-error", "running-with-link", "failed-with-manifest", "last-before-created", "created-after-last"],
)
def test_operation_oddities_the_docs_do_not_forbid_are_advisory(body, rule):
    """No document forbids these; they are reported (advisory) and never fail the gate."""
    found = check_operation(poll(body))
    assert rule in rules(found)
    assert [f for f in found if f.rule == rule][0].severity == "advisory"
    assert not [f for f in found if f.severity == "breaking" and f.rule != "GR-RESPONSE-SCHEMA"]


@pytest.mark.parametrize(
    "body",
    [RUNNING, SUCCEEDED_LINK, FAILED, SUCCEEDED_INLINE,
     {**SUCCEEDED_LINK, "status": "completed"},  # the resource prose's word (tolerance A.4.1)
     {**RUNNING, "status": "notStarted"},
     {**RUNNING, "@odata.type": "microsoft.graph.partners.billing.RunningOperation"},  # no '#', other case
     {**FAILED, "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#x"}],
    ids=["doc-running", "doc-succeeded-link", "doc-failed", "constructed-inline", "completed", "notStarted",
         "odata-type-casefold", "odata-context"],
)
def test_operation_conforming(body):
    assert check_operation(poll(body)) == []


def test_operation_running_without_retry_after_is_advisory():
    found = check_operation(ex(200, RUNNING))
    assert rules(found) == ["GR-OP-RETRY-AFTER"]
    assert found[0].severity == "advisory"


@pytest.mark.parametrize(
    "body, rule",
    [
        ({**SUCCEEDED_LINK, "@odata.type": "#microsoft.graph.partners.billing.runningOperation"}, "GR-OP-ODATA-TYPE"),
        ({**RUNNING, "@odata.type": "#microsoft.graph.partners.billing.failedOperation"}, "GR-OP-ODATA-TYPE"),
        ({**RUNNING, "@odata.type": "#microsoft.graph.partners.billing.operation"}, "GR-OP-ODATA-TYPE"),
        ({**FAILED, "error": ...}, "GR-OP-ERROR-IFF-FAILED"),
        ({**FAILED, "error": {"details": []}}, "GR-OP-ERROR-IFF-FAILED"),
        ({**SUCCEEDED_LINK, "resourceLocation@odata.navigationLink": ...}, "GR-OP-RESOURCE-IFF-SUCCEEDED"),
    ],
    ids=["succeeded-labelled-running", "running-labelled-failed", "abstract-base-type", "failed-without-error",
         "failed-error-without-code-or-message", "succeeded-without-resource"],
)
def test_operation_state_drift(body, rule):
    found = check_operation(poll(body))
    assert rule in rules(found)
    breaking_ = [f for f in found if f.severity == "breaking" and f.rule != "GR-RESPONSE-SCHEMA"]
    assert {f.rule for f in breaking_} == {rule}
    (drift,) = breaking_
    assert drift.expected and drift.actual, "a finding says what was expected and what came back"


@pytest.mark.parametrize(
    "body",
    [{**RUNNING, "createdDateTime": ...}, {**RUNNING, "status": "Running"}, {**RUNNING, "id": 7},
     {**RUNNING, "@odata.type": ...}, {**SUCCEEDED_INLINE, "resourceLocation": {**MANIFEST, "blobCount": "1"}}],
    ids=["no-createdDateTime", "status-case", "id-not-string", "no-odata-type", "inline-manifest-bad-count"],
)
def test_operation_schema_drift(body):
    assert "GR-RESPONSE-SCHEMA" in rules(check_operation(poll(body)))


@pytest.mark.parametrize("status, raw", [(500, b'{"error": {"code": "x", "message": "y"}}'), (200, b"<html/>")])
def test_operation_poll_not_an_operation(status, raw):
    assert rules(check_operation(ex(status, None, raw=raw))) == ["GR-RESPONSE-SCHEMA"]


def test_operation_undeclared_property_is_additive():
    found = check_operation(poll(FAILED, sizeInBytes=12))
    assert rules(found) == ["GR-RESPONSE-UNDECLARED-PROPERTY"]
    assert found[0].severity == "additive"


def test_offsetless_created_is_read_as_utc():
    # the docs' examples: createdDateTime 08:12:53 (no offset), lastActionDateTime 08:37:48Z
    assert check_timestamps(poll(RUNNING), RUNNING) == []
    same = {**RUNNING, "createdDateTime": "2023-03-09T08:37:48", "lastActionDateTime": "2023-03-09T08:37:48.0000000Z"}
    assert check_timestamps(poll(same), same) == []
    ahead = {**RUNNING, "createdDateTime": "2023-03-09T09:00:00", "lastActionDateTime": "2023-03-09T10:00:00+02:00"}
    assert rules(check_timestamps(poll(ahead), ahead)) == ["GR-OP-TIMESTAMPS"]


def test_odata_type_ignores_unknown_status():
    body = {**RUNNING, "status": "unknownFutureValue"}
    assert check_odata_type(poll(body), body) == []


def test_resource_on_completed_status():
    body = {**SUCCEEDED_INLINE, "status": "completed"}
    assert check_resource_iff_succeeded(poll(body), body) == []


# ---------------------------------------------------------------- the sequence of polls


def seq(*statuses: str) -> list[Exchange]:
    by = {"notStarted": {**RUNNING, "status": "notStarted"}, "running": RUNNING, "succeeded": SUCCEEDED_LINK,
          "completed": {**SUCCEEDED_LINK, "status": "completed"}, "failed": FAILED}
    return [poll(by[s]) for s in statuses]


@pytest.mark.parametrize(
    "statuses",
    [("running", "running", "succeeded", "succeeded"), ("notStarted", "running", "failed", "failed"),
     ("notStarted", "succeeded", "succeeded"), ("succeeded", "succeeded"), ("succeeded", "completed"),
     ("running", "running")],
)
def test_sequence_conforming(statuses):
    polls = seq(*statuses)
    assert check_status_monotonic(polls) == [] and check_terminal_absorbing(polls) == []


def test_status_backwards():
    polls = seq("running", "notStarted", "running", "succeeded", "succeeded")
    found = check_polls(polls, poll_timeout=5)
    assert rules(found) == ["GR-OP-STATUS-MONOTONIC"]
    assert "running -> notStarted" in found[0].message


def test_terminal_not_absorbing():
    polls = seq("running", "succeeded", "running")
    found = check_polls(polls, poll_timeout=5)
    assert rules(found) == ["GR-OP-TERMINAL-ABSORBING"]
    assert "left its terminal state succeeded" in found[0].message
    assert rules(check_terminal_absorbing(seq("failed", "succeeded"))) == ["GR-OP-TERMINAL-ABSORBING"]
    broken = seq("failed") + [ex(500, None, raw=b"{}")]
    assert rules(check_terminal_absorbing(broken)) == ["GR-OP-TERMINAL-ABSORBING"]


def test_terminates():
    assert check_terminates(seq("running", "succeeded", "succeeded"), poll_timeout=5) == []
    found = check_terminates(seq("running", "running", "running"), poll_timeout=5)
    assert rules(found) == ["GR-OP-TERMINATES"]
    assert "still running after 3 polls" in found[0].message
    # a poll that broke is another rule's finding, not "never terminated"
    assert check_terminates(seq("running") + [ex(500, None, raw=b"x")], poll_timeout=5) == []
    assert check_terminates([], poll_timeout=5) == []


def test_doc_lifecycle_is_conforming():
    assert check_polls(seq("notStarted", "running", "succeeded", "succeeded"), poll_timeout=5) == []
    inline = [poll(RUNNING), poll(SUCCEEDED_INLINE), poll(SUCCEEDED_INLINE)]
    assert check_polls(inline, poll_timeout=5) == []


def test_poll_findings_never_show_the_sas_signature():
    drifted = {**SUCCEEDED_INLINE, "@odata.type": "#microsoft.graph.partners.billing.runningOperation"}
    found = check_polls([poll(drifted)], poll_timeout=5)
    assert found and all(SIG not in str(f) and SIG not in f.url for f in found)


# ---------------------------------------------------------------- manifest and blobs


def test_manifest_doc_example_is_conforming():
    assert check_manifest(ex(200, MANIFEST), MANIFEST) == []
    assert check_manifest_response(ex(200, MANIFEST)) == []
    assert check_manifest(ex(200, MANIFEST), {**MANIFEST, "partitionType": "default", "schemaVersion": "2",
                                             "dataFormat": "compressedJSONLines"}) == []


def test_manifest_drift():
    assert rules(check_manifest(ex(200, MANIFEST), {**MANIFEST, "blobCount": 2})) == ["GR-MANIFEST-BLOBCOUNT"]
    missing = {k: v for k, v in MANIFEST.items() if k != "sasToken"}
    assert rules(check_manifest(ex(200, missing), missing)) == ["GR-RESPONSE-SCHEMA"]
    undeclared = {**MANIFEST, "blobs": [{**MANIFEST["blobs"][0], "sizeInBytes": 10, "itemCount": 2}]}
    found = check_manifest(ex(200, undeclared), undeclared)
    assert rules(found) == ["GR-RESPONSE-UNDECLARED-PROPERTY"] and found[0].severity == "additive"
    assert rules(check_manifest_response(ex(404, ENVELOPE))) == ["GR-RESPONSE-SCHEMA"]
    assert rules(check_manifest_response(ex(200, None, raw=b"<xml/>"))) == ["GR-RESPONSE-SCHEMA"]
    for f in check_manifest(ex(200, {**MANIFEST, "blobCount": 3}), {**MANIFEST, "blobCount": 3}):
        assert SIG not in str(f)


def test_blob_url_is_root_name_sas():
    url = blob_url(MANIFEST, MANIFEST["blobs"][0])
    assert url == f"{MANIFEST['rootDirectory']}/{MANIFEST['blobs'][0]['name']}?{MANIFEST['sasToken']}"
    assert blob_url({**MANIFEST, "sasToken": "?" + MANIFEST["sasToken"]}, MANIFEST["blobs"][0]) == url


def blob(status: int = 200, raw: bytes = b"") -> Exchange:
    return ex(status, None, raw=raw, url=blob_url(MANIFEST, MANIFEST["blobs"][0]), api="blob",
              headers={"Content-Type": "application/octet-stream"})


def read(raw: bytes, tmp_path: Path, name: str = "part-00000-x.c000.json.gz") -> tuple[BlobOutcome, ExportJudge]:
    """Stream a blob's bytes from a file through the reader into a row judge."""
    path = tmp_path / name
    path.write_bytes(raw)
    judge = ExportJudge(RowRules.load(), invoice_id="G1", attribute_set="basic")
    outcome = read_blob(FileBlob(path), judge.blob(name).consume)
    return outcome, judge


def test_blob_conforming(tmp_path):
    outcome, judge = read(gz_lines({"InvoiceNumber": "G1", "ChargeType": "new"}, {"InvoiceNumber": "G1", "Quantity": 2}), tmp_path)
    assert check_blobs(ex(200, MANIFEST), MANIFEST, [outcome]) == []
    assert export_columns(judge) == {"InvoiceNumber", "ChargeType", "Quantity"} and judge.rows == 2
    outcome, judge = read(gzip.compress(b""), tmp_path)  # an empty blob is still valid JSON lines
    assert outcome.problem is None and judge.findings() == []


@pytest.mark.parametrize(
    "raw, words",
    [
        (b'{"InvoiceNumber": "G1"}\n', "not gzip"),
        (gzip.compress(b'{"a": 1}\n')[:-6], "truncated"),
        (b"\x1f\x8b" + b"garbage" * 4, "not valid gzip"),
        (b"", "empty"),
        (gzip.compress(b'{"a": 1}\n') + b"trailing junk", "not gzip follow"),
    ],
    ids=["plain-jsonl", "truncated-gzip", "bad-gzip", "zero-bytes", "trailing-junk"],
)
def test_blob_not_gzip_jsonl(raw, words, tmp_path):
    outcome, _ = read(raw, tmp_path)
    found = check_blob_content(outcome)
    assert rules(found) == ["GR-BLOB-GZIP-JSONL"]
    assert words in found[0].message and "part-00000-x.c000.json.gz" in found[0].message


@pytest.mark.parametrize(
    "raw, words",
    [(gzip.compress(b'{"a": 1}\n[1, 2]\n'), "no JSON object"), (gzip.compress(b'{"a": 1}\n{not json\n'), "not JSON")],
    ids=["json-list-line", "invalid-json-line"],
)
def test_blob_lines_that_are_no_object(raw, words, tmp_path):
    outcome, judge = read(raw, tmp_path)
    found = [f for f in judge.findings() if f.rule == "GR-BLOB-GZIP-JSONL"]
    assert outcome.problem is None and len(found) == 1
    assert "1 line" in found[0].message and found[0].extra["lines"] == [2]


def test_blob_refused():
    found = check_blob_download(blob(403, b"<Error><Code>AuthenticationFailed</Code></Error>"))
    assert rules(found) == ["GR-BLOB-URL"]
    assert SIG not in found[0].curl and SIG not in found[0].url and MASK in found[0].url
    assert rules(check_blobs(ex(200, MANIFEST), MANIFEST, [])) == ["GR-BLOB-URL"]  # listed but never fetched


def test_basic_subset():
    full = {"InvoiceNumber", "ChargeType", "Quantity", "MeterId"}
    assert check_basic_subset({"InvoiceNumber", "Quantity"}, full) == []
    found = check_basic_subset({"InvoiceNumber", "RowVersion"}, full)
    assert rules(found) == ["GR-EXPORT-BASIC-SUBSET"] and "RowVersion" in found[0].message
    assert check_basic_subset(set(full), full) == []  # "a subset": equal sets are not drift (no document lists them)


# ---------------------------------------------------------------- the driver, against a scripted server


class Script:
    """A tiny scripted Graph: answers of the export, of each poll, of the manifest link and of blobs."""

    def __init__(self, polls: list[dict[str, Any] | int], *, location: str | None = OPS, inline: bool = False):
        self.polls, self.location, self.inline = polls, location, inline
        self.seen: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        path = request.url.path
        if request.method == "POST":
            return httpx.Response(202, headers={"Location": self.location} if self.location else {})
        if path.endswith(".json.gz"):
            return httpx.Response(200, content=gz_lines({"InvoiceNumber": "G1"}))
        if "/manifests/" in path:
            return httpx.Response(200, json=MANIFEST)
        answer = self.polls.pop(0) if len(self.polls) > 1 else self.polls[0]
        if isinstance(answer, int):
            return httpx.Response(answer, text="boom")
        headers = {"Retry-After": "3"} if answer["status"] in ("running", "notStarted") else {}
        return httpx.Response(200, json=answer, headers=headers)


class Clock:
    def __init__(self):
        self.now, self.sleeps = 0.0, []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def client_for(script: Script) -> ApiClient:
    class Token:
        def token(self) -> str:
            return "secret-token-value"

    client = ApiClient(api="graph", base_url=BASE, token=Token(), budget=RequestBudget(100))
    client._http = httpx.Client(transport=httpx.MockTransport(script))
    return client


def test_driver_follows_an_export_to_its_blobs():
    script = Script([RUNNING, RUNNING, SUCCEEDED_LINK])
    clock = Clock()
    client = client_for(script)
    # the manifest link of the doc example is on graph.microsoft.com: the mocked transport serves it
    judge = ExportJudge(RowRules.load(), invoice_id="G016907411", attribute_set="full")
    run = run_export(client, "G016907411", "full", poll_timeout=60, sleep=clock.sleep, clock=clock, sink=judge)
    assert run.stopped == "done", run.stopped
    assert [p.json()["status"] for p in run.polls] == ["running", "running", "succeeded", "succeeded"]
    assert clock.sleeps == [3, 3]  # Retry-After honoured
    assert run.manifest == MANIFEST and len(run.blobs) == 1 and run.blobs[0].exchange.api == "blob"
    assert run.rows is judge and judge.rows == 1 and run.blobs[0].problem is None
    blob_request = script.seen[-1]
    assert "authorization" not in {k.lower() for k in blob_request.headers}  # the SAS is the credential
    assert blob_request.url.query.decode().endswith("sig=" + SIG)
    assert json.loads(script.seen[0].content) == {"invoiceId": "G016907411", "attributeSet": "full"}


def test_driver_inline_manifest_and_failures_do_not_raise():
    clock = Clock()
    run = run_export(client_for(Script([SUCCEEDED_INLINE])), "G1", poll_timeout=60, sleep=clock.sleep, clock=clock)
    assert run.stopped == "done" and run.manifest_exchange is run.polls[0] and len(run.blobs) == 1
    run = run_export(client_for(Script([RUNNING, FAILED])), "G1", poll_timeout=60, sleep=clock.sleep, clock=clock)
    assert run.stopped == "operation failed" and run.status == "failed" and run.blobs == []
    run = run_export(client_for(Script([RUNNING], location=None)), "G1", poll_timeout=60, sleep=clock.sleep, clock=clock)
    assert run.polls == [] and "without Location" in run.stopped
    run = run_export(client_for(Script([RUNNING, 500])), "G1", poll_timeout=60, sleep=clock.sleep, clock=clock)
    assert len(run.polls) == 2 and "500" in run.stopped


def test_driver_never_follows_a_location_on_another_origin():
    """The driver stops there (the client would refuse it: OffOriginLink): only the POST was sent, no token went
    elsewhere, and the rest of the export is unproven, with the refused link kept for its finding."""
    clock = Clock()
    other = OPS.replace("graph.microsoft.com", "elsewhere.example")
    script = Script([RUNNING], location=other)
    run = run_export(client_for(script), "G1", poll_timeout=60, sleep=clock.sleep, clock=clock)
    assert "another host" in run.stopped and "not followed" in run.unproven
    assert run.refused_link is not None and "elsewhere.example" in run.refused_link[1]
    assert len(script.seen) == 1 and script.seen[0].method == "POST"
    client = client_for(Script([RUNNING], location=other))
    with pytest.raises(OffOriginLink):  # and the client itself refuses, whoever asks
        client.request("GET", other, operation="poll")


def test_driver_wait_is_bounded():
    clock = Clock()
    run = run_export(client_for(Script([RUNNING])), "G1", poll_timeout=10, sleep=clock.sleep, clock=clock)
    assert run.stopped.startswith("not terminal") and clock.now <= 10
    assert sum(clock.sleeps) <= 10 and len(run.polls) == 5  # t = 0, 3, 6, 9, 10
    assert rules(check_terminates(run.polls, poll_timeout=10)) == ["GR-OP-TERMINATES"]


def test_same_problem_on_every_poll_is_reported_once():
    body = {**RUNNING, "createdDateTime": ...}
    found = check_polls([poll(body), poll(body), poll({**FAILED, "createdDateTime": ...})], poll_timeout=5)
    schema = [f for f in found if f.rule == "GR-RESPONSE-SCHEMA"]
    assert len(schema) == 1 and schema[0].extra["polls"] == [1, 2, 3]


def test_inline_manifest_shape_is_left_to_the_operation_schema():
    bad = {**MANIFEST, "sasToken": ..., "blobCount": 4}
    bad = {k: v for k, v in bad.items() if v is not ...}
    assert rules(check_manifest(ex(200, bad), bad, schema=False)) == ["GR-MANIFEST-BLOBCOUNT"]
    assert "GR-RESPONSE-SCHEMA" in rules(check_operation(poll(SUCCEEDED_INLINE, resourceLocation=bad)))


def test_slow_is_not_broken_the_timeout_leaves_the_run_unproven():
    """An export still running at --poll-timeout is not a breaking violation: the run says why it stopped."""
    clock = Clock()
    run = run_export(client_for(Script([RUNNING])), "G1", poll_timeout=10, sleep=clock.sleep, clock=clock)
    assert "raise --poll-timeout" in run.unproven and "still running" in run.unproven
    found = check_polls(run.polls, poll_timeout=10)
    assert [f.severity for f in found if f.rule == "GR-OP-TERMINATES"] == ["advisory"]
    assert not [f for f in found if f.severity == "breaking"]


def test_refused_links_are_unproven_not_silent():
    clock = Clock()
    other = OPS.replace("graph.microsoft.com", "elsewhere.example")
    run = run_export(client_for(Script([RUNNING], location=other)), "G1", poll_timeout=60, sleep=clock.sleep, clock=clock)
    assert "not followed" in run.unproven and "elsewhere.example" in run.unproven
    link = {**SUCCEEDED_LINK, "resourceLocation@odata.navigationLink":
            SUCCEEDED_LINK["resourceLocation@odata.navigationLink"].replace("graph.microsoft.com", "elsewhere.example")}
    script = Script([link])
    run = run_export(client_for(script), "G1", poll_timeout=60, sleep=clock.sleep, clock=clock)
    assert run.succeeded and run.manifest is None and "manifest navigation link is on another host" in run.unproven
    assert not any("elsewhere.example" in str(r.url) for r in script.seen), "the bearer token stays with the target"
    # a conforming run leaves nothing unproven
    run = run_export(client_for(Script([RUNNING, SUCCEEDED_LINK])), "G1", poll_timeout=60, sleep=clock.sleep, clock=clock)
    assert run.stopped == "done" and run.unproven == ""


@pytest.mark.parametrize("location, form", [
    (OPS, "absolute-same-version"),
    (OPS.replace("/v1.0/", "/beta/"), "absolute-other-version"),
    ("/v1.0/reports/partners/billing/operations/1", "relative"),
    (OPS.replace("graph.microsoft.com", "elsewhere.example"), "other-host"),
])
def test_location_form_silent_point(location, form):
    from recon_contracts.checks.graph_export import location_form

    assert location_form(ex(202, None, headers={"Location": location}), graph_base_url=BASE) == form
