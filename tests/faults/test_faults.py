"""Broken and hostile targets: every fault ends the run bounded, with one clear message, and no secret leaks.

Each case points the real ``recon-contracts run`` at a small misbehaving server on loopback (see
``faultserver.py``), one fault per case, with a small ``--request-timeout`` and ``--max-response-bytes``.
For each: the exit code, that the run ended (a liveness bound, not a speed target), that the child's
peak memory stayed under a bound, that the expected message was printed without a traceback, that
no token, client secret or SAS signature appears in any output or report file, and that a second
origin (``other``) never received a request carrying the bearer token.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from faultserver import (
    FaultServer,
    Handler,
    Seen,
    Writer,
    answer_404,
    gzip_bomb,
    hold,
    json_response,
    reset,
    response,
)
from suiterun import SAS_SIG, SECRETS, TOKEN

PC_LINEITEMS = "/v1/invoices/unbilled/lineitems"
OPERATIONS = "/v1.0/reports/partners/billing/operations"
REQUEST_TIMEOUT = "2"
MAX_RESPONSE_BYTES = str(1024 * 1024)
pytestmark = pytest.mark.faults
PREFLIGHT_PC = rf"GET http://127\.0\.0\.1:\d+{PC_LINEITEMS}"
BOMB = gzip_bomb(1 << 30)  # 1 GiB of zeros in about 1 MiB
# Peak memory of the child: the suite itself (pytest, schemathesis, hypothesis) takes about 110 MiB.
MEMORY_MIB = 256
MEMORY_MIB_DEFAULT_CAP = 320  # the endless body read up to the default 32 MiB cap


QUERY = "provider=onetime&invoicelineitemtype=billinglineitems&currencycode=USD&period=current&size=1"
# the docs' own first line item (response example 1): a page that is right in every way but the one under test
DOC_ITEM = json.loads((Path(__file__).parents[1] / "fixtures" / "doc-examples" / "pc-response-example-1.json")
                      .read_text(encoding="utf-8"))["items"][0]


def _page(next_uri: str | None = None) -> dict:
    links: dict = {"self": {"uri": f"{PC_LINEITEMS[3:]}?{QUERY}", "method": "GET", "headers": []}}
    if next_uri:
        links["next"] = {"uri": next_uri, "method": "GET",
                         "headers": [{"key": "MS-ContinuationToken", "value": "fault-continuation-1"}]}
    return {"totalCount": 1, "items": [DOC_ITEM], "links": links, "attributes": {"objectType": "Collection"}}


def _manifest(origin: str) -> dict:
    return {
        "id": "8fe347d7-1e0f-4bd6-9091-4672691f32db", "schemaVersion": "2", "dataFormat": "compressedJSON",
        "createdDateTime": "2023-03-09T08:37:48.28Z", "eTag": "Ykd2MO8NTdg8Ld56a",
        "partnerTenantId": "3b33e682-00c3-41ee-9dd2-a548adf56438",
        "rootDirectory": f"{origin}/blobs/billedreconfastpath/v1/Fragment=full/PartitionType=default",
        "sasToken": f"skt=2023-03-09T08%3A37%3A48Z&sv=2021-08-06&sr=d&sp=rl&sdd=7&sig={SAS_SIG}",
        "partitionType": "default", "blobCount": 1,
        "blobs": [{"name": "part-00000-b016029b-a7a7-4c46-9b5e-c925ac317ac6.c000.json.gz", "partitionValue": "default"}],
    }


def _succeeded(origin: str) -> dict:
    return {
        "@odata.type": "#microsoft.graph.partners.billing.exportSuccessOperation",
        "id": "9ab9cb54-d07f-4f52-9ea6-a09d7de52c14", "status": "succeeded",
        "createdDateTime": "2023-03-09T08:12:53Z", "lastActionDateTime": "2023-03-09T08:37:48.5046691Z",
        "resourceLocation": _manifest(origin),
    }


def graph_api(*, blob: Callable[[Writer], object] | None = None, location_origin: FaultServer | None = None,
              manifest_origin: FaultServer | None = None) -> Handler:
    """A Graph export that succeeds at once with an inline manifest of one blob, answered by ``blob``.

    ``location_origin`` puts the operation's Location there; ``manifest_origin`` answers with
    ``resourceLocation@odata.navigationLink`` there instead of an inline manifest.
    """

    async def handle(server: FaultServer, seen: Seen, writer: Writer) -> bool:
        if seen.method == "POST" and seen.path.endswith("/export"):
            where = (location_origin or server).origin
            writer.write(response(202, headers={"Location": f"{where}{OPERATIONS}/9ab9cb54-d07f-4f52-9ea6-a09d7de52c14"},
                                  content_type=None))
        elif seen.path.startswith(OPERATIONS + "/9ab9"):
            body = _succeeded(server.origin)
            if manifest_origin is not None:
                del body["resourceLocation"]
                body["resourceLocation@odata.navigationLink"] = (
                    f"{manifest_origin.origin}/v1.0/reports/partners/billing/manifests/8fe347d7-1e0f-4bd6-9091-4672691f32db")
            writer.write(json_response(200, body))
        elif seen.path.startswith("/blobs/") and blob is not None:
            result = blob(writer)
            if asyncio.iscoroutine(result):
                await result
            await writer.drain()
            return True  # a complete answer: the connection serves the next request (another export's)
        else:
            return await answer_404(server, seen, writer)
        await writer.drain()
        return True

    return handle


def next_link_elsewhere(other: FaultServer) -> Handler:
    """A right first page whose links.next (the request's own query plus seekOperation=Next) is on ``other``."""

    async def handle(server: FaultServer, seen: Seen, writer: Writer) -> bool:
        query = seen.target.split("?", 1)[1] if "?" in seen.target else QUERY
        writer.write(json_response(200, _page(f"{other.origin}{PC_LINEITEMS}?{query}&seekOperation=Next")))
        await writer.drain()
        return True

    return handle


def every_request(answer: Callable[[Writer], object], *, keep_alive: bool = False) -> Handler:
    """The same answer to every request (the first one, the preflight, included).

    ``keep_alive`` when the answer is a complete HTTP message: the connection then serves the next
    request, as a server that does not say ``Connection: close`` must.
    """

    async def handle(server: FaultServer, seen: Seen, writer: Writer) -> bool:
        result = answer(writer)
        if asyncio.iscoroutine(result):
            await result
        await writer.drain()
        return keep_alive

    return handle


# ------------------------------------------------------------------ the faults, one per case


def reset_before_headers(writer: Writer) -> None:
    reset(writer)


async def reset_mid_body(writer: Writer) -> None:
    writer.write(response(200, b'{"totalCount": 1, "items": [', length=100_000))
    await writer.drain()
    await asyncio.sleep(0.2)
    reset(writer)


async def stall_before_headers(writer: Writer) -> None:
    await hold()


async def drip_feed(writer: Writer) -> None:
    """Headers at once, then one byte of the body every 0.2 s: no single read ever waits long."""
    writer.write(response(200, b"", length=100_000))
    for _ in range(100_000):
        writer.write(b" ")
        await writer.drain()
        await asyncio.sleep(0.2)


async def endless_chunked(writer: Writer) -> None:
    """A JSON array that never ends, in 64 KiB chunks, as fast as the client reads."""
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"[" + b"0," * (32 * 1024 - 1)
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    while True:
        writer.write(frame)
        await writer.drain()


def content_length_larger(writer: Writer) -> None:
    writer.write(response(200, b'{"totalCount": 0, "items": []}', length=5000))


def invalid_chunked(writer: Writer) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                 b"zz-not-a-size\r\n{}\r\n0\r\n\r\n")


def invalid_utf8(writer: Writer) -> None:
    writer.write(response(200, b'{"totalCount": 1, "items": ["\xff\xfe\xc3\x28"], "links": {}}'))


def deep_json(writer: Writer) -> None:
    writer.write(response(200, b"[" * 100_000 + b"]" * 100_000))


def redirect_loop(writer: Writer) -> None:
    writer.write(response(302, headers={"Location": f"{PC_LINEITEMS}?provider=onetime"}, content_type=None))


def close_at_once(writer: Writer) -> None:
    writer.close()


def throttled_for_days(writer: Writer) -> None:
    writer.write(json_response(429, {"statusCode": 429, "message": "Rate limit is exceeded."},
                               headers={"Retry-After": "Sun, 06 Nov 2044 08:49:37 GMT"}))


@dataclass
class Case:
    handler: Callable[[FaultServer], Handler]  # given the other origin
    code: int | tuple[int, ...]
    message: str  # a regex the output must match
    api: str = "pc"
    pytest_args: tuple[str, ...] = ("-k", "test_walk_to_the_end")
    options: tuple[str, ...] = ("--request-timeout", REQUEST_TIMEOUT, "--max-response-bytes", MAX_RESPONSE_BYTES)
    memory_mib: int = MEMORY_MIB
    report: str | None = None  # a rule that summary.json must list
    requests: int | None = None  # how many requests the target must have received, when that is the point


UNUSABLE = 2
CASES = {
    "reset before headers": Case(lambda o: every_request(reset_before_headers), UNUSABLE,
                                 rf"partner-center target (broke off or garbled its answer to|broke the connection during) {PREFLIGHT_PC}"),
    "reset mid-body": Case(lambda o: every_request(reset_mid_body), UNUSABLE,
                           rf"partner-center target (broke off or garbled its answer to|broke the connection during) {PREFLIGHT_PC}"),
    "stall before headers": Case(lambda o: every_request(stall_before_headers), UNUSABLE,
                                 rf"did not answer {PREFLIGHT_PC} completely within --request-timeout 2 s"),
    "drip feed": Case(lambda o: every_request(drip_feed), UNUSABLE,
                      rf"did not answer {PREFLIGHT_PC} completely within --request-timeout 2 s"),
    "endless chunked body": Case(lambda o: every_request(endless_chunked), UNUSABLE,
                                 rf"answer to {PREFLIGHT_PC} is larger than --max-response-bytes 1048576 bytes"),
    "endless chunked body, default cap": Case(
        lambda o: every_request(endless_chunked), UNUSABLE,
        rf"answer to {PREFLIGHT_PC} is larger than --max-response-bytes 33554432 bytes",
        options=("--request-timeout", "30"), memory_mib=MEMORY_MIB_DEFAULT_CAP),
    "Content-Length larger than the body": Case(lambda o: every_request(content_length_larger), UNUSABLE,
                                                rf"broke off or garbled its answer to {PREFLIGHT_PC}"),
    "invalid chunked encoding": Case(lambda o: every_request(invalid_chunked), UNUSABLE,
                                     rf"broke off or garbled its answer to {PREFLIGHT_PC}"),
    "invalid UTF-8": Case(lambda o: every_request(invalid_utf8), UNUSABLE,
                          r"does not answer like the partner-center API.*not JSON"),
    "JSON nested 100,000 deep": Case(lambda o: every_request(deep_json), UNUSABLE,
                                     r"does not answer like the partner-center API.*nested too deep"),
    "302 loop": Case(lambda o: every_request(redirect_loop), UNUSABLE,
                     r"with a redirect \(302 to /v1/invoices/unbilled/lineitems\); redirects are never followed",
                     requests=1),
    "redirect to another origin": Case(
        lambda o: every_request(lambda w: w.write(response(302, headers={"Location": f"{o.origin}{PC_LINEITEMS}"},
                                                           content_type=None))),
        UNUSABLE, r"with a redirect \(302 to http://127\.0\.0\.1:\d+/v1/invoices/unbilled/lineitems\); redirects are never followed"),
    "closes every connection": Case(lambda o: every_request(close_at_once), UNUSABLE,
                                    rf"partner-center target broke off or garbled its answer to {PREFLIGHT_PC}"),
    "endless 429, Retry-After days ahead": Case(lambda o: every_request(throttled_for_days), UNUSABLE,
                                                r"answered 429 to preflight partner-center \(Retry-After: .*2044.*\): a wait of "
                                                r"\d+ s is longer than the longest wait honoured \(90 s\)"),
    # the checks that needed the link are unproven (exit 2, inconclusive); the link is reported, the run goes on
    "next link on another origin": Case(
        lambda o: next_link_elsewhere(o),
        2, r"page 1's links.next points at another host \(127\.0\.0\.1:\d+\); it was not followed",
        report="PC-LINK-SAME-ORIGIN"),
    "Location on another origin": Case(
        lambda o: graph_api(location_origin=o), 2,
        r"the export's Location is on another host \(http://127\.0\.0\.1:\d+/v1\.0/reports/partners/billing/operations/",
        api="graph", pytest_args=("-k", "test_operation_lifecycle and existing"), report="GR-LINK-SAME-ORIGIN"),
    "manifest link on another origin": Case(
        lambda o: graph_api(manifest_origin=o), 2,
        r"the manifest navigation link is on another host \(http://127\.0\.0\.1:\d+/v1\.0/"
        r"reports/partners/billing/manifests/8fe347d7-1e0f-4bd6-9091-4672691f32db\); it was not followed",
        api="graph", pytest_args=("-k", "test_operation_lifecycle and existing"), report="GR-LINK-SAME-ORIGIN"),
    "gzip bomb blob": Case(
        # inflating past the ratio cap stops the read: the rows could not be read, so they are unproven (exit 2)
        lambda o: graph_api(blob=lambda w: w.write(response(200, BOMB, content_type="application/octet-stream"))), 2,
        r"inflates .*(gzip bomb|cap)",
        api="graph", pytest_args=("-k", "test_export_rows"), report=None),
    "non-gzip blob named .gz": Case(
        lambda o: graph_api(blob=lambda w: w.write(response(200, b'{"a": 1}\n{"a": 2}\n', content_type="application/octet-stream"))),
        1, r"GR-BLOB-GZIP-JSONL.*the blob is not gzip",
        api="graph", pytest_args=("-k", "test_operation_lifecycle and existing"), report="GR-BLOB-GZIP-JSONL"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_fault_ends_bounded_with_one_clear_message(name, suite):
    case = CASES[name]
    with FaultServer() as other, FaultServer() as target:
        target.handler = case.handler(other)
        base = ["--pc-base-url", target.origin] if case.api == "pc" else ["--graph-base-url", f"{target.origin}/v1.0"]
        token = ["--pc-token", TOKEN] if case.api == "pc" else ["--graph-token", TOKEN]
        run = suite(*base, *token, *case.options, pytest_args=case.pytest_args)

    print(f"{name}: exit {run.code}, {run.seconds:.1f} s, peak {run.peak_mib or 0:.0f} MiB, "
          f"{len(target.requests)} requests to the target")
    assert run.ended, f"{name}: the run did not end within the liveness bound; output:\n{run.output[-2000:]}"
    assert run.code in (case.code if isinstance(case.code, tuple) else (case.code,)), \
        f"{name}: exit {run.code}; output:\n{run.output[-3000:]}"
    said = re.search(case.message, run.output, re.S)
    assert said, f"{name}: expected /{case.message}/ in:\n{run.output[-3000:]}"
    print(f"  said: {said.group(0)[:300]}")
    assert "Traceback" not in run.output, run.output[-3000:]
    assert run.peak_mib is not None, f"{name}: the child's peak memory was not measured (no /proc?)"
    assert run.peak_mib < case.memory_mib, f"{name}: peak memory {run.peak_mib:.0f} MiB >= {case.memory_mib} MiB"

    files = run.report_texts()
    for secret in SECRETS:
        assert secret not in run.output, f"{name}: a secret is in the output"
        leaked = [f for f, text in files.items() if secret in text]
        assert not leaked, f"{name}: a secret is in {leaked}"

    # the bearer token went only to the origin the run was pointed at
    assert not [s for s in other.requests if TOKEN in s.headers.get("authorization", "")]
    assert other.requests == [], f"{name}: the other origin was asked {[s.target for s in other.requests]}"
    for seen in target.requests:
        if seen.path.startswith("/blobs/"):
            assert "authorization" not in seen.headers, "a blob download carried the bearer token"
            assert SAS_SIG in seen.target, "a blob download without its SAS"
    if case.requests is not None:
        assert len(target.requests) == case.requests, f"{name}: {[s.target for s in target.requests]}"
    if case.report:
        summary = json.loads(files["summary.json"])
        assert case.report in {f["rule"] for f in summary["findings"]}, f"{name}: no {case.report} finding"
