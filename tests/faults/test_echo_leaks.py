"""A target that echoes the run's credentials back, in every encoding: no report file may hold any of them.

The server answers with the request's own headers and target (the bearer token, the blob URL's SAS
signature) inside JSON, HTML, UTF-16, Latin-1 (not UTF-8), gzip-encoded and base64 bodies, and inside
gzip blobs. Every file the run wrote is then searched for every secret in each of its encodings (plain,
URL-encoded, base64 at any alignment, UTF-16, UTF-32, JSON-escaped), and every body a HAR stores
base64-encoded or gzip-compressed is decoded and searched again.
"""

from __future__ import annotations

import base64
import gzip
import json
import zlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from faultserver import FaultServer, Seen, Writer, response
from suiterun import CLIENT_SECRET, SAS_SIG, SECRETS, TOKEN
from test_faults import _page, _succeeded

from recon_contracts.redact import base64_cores

pytestmark = pytest.mark.faults
OPERATIONS = "/v1.0/reports/partners/billing/operations"


def _echo(seen: Seen) -> str:
    said = "\n".join(f"{k}: {v}" for k, v in seen.headers.items())
    return f"{seen.method} {seen.target}\n{said}\nclient_secret={CLIENT_SECRET}"


def _answers(seen: Seen, n: int) -> bytes:
    """An error answer echoing the request, in the n-th of several encodings."""
    echo = _echo(seen)
    kind = n % 6
    if kind == 0:
        return response(400, json.dumps({"error": {"code": "BadRequest", "message": echo}}).encode())
    if kind == 1:
        return response(400, f"<html><body><pre>{echo}</pre></body></html>".encode(), content_type="text/html")
    if kind == 2:
        return response(400, echo.encode("utf-16"), content_type="text/plain; charset=utf-16")
    if kind == 3:
        return response(400, b"\xff\xfe not UTF-8 \xe9 " + echo.encode("latin-1"), content_type="text/plain")
    if kind == 4:
        return response(400, gzip.compress(json.dumps({"message": echo}).encode()),
                        headers={"Content-Encoding": "gzip"})
    return response(400, json.dumps({"echo": base64.b64encode(echo.encode()).decode()}).encode())


def echoing_api(server_count: list[int]):
    async def handle(server: FaultServer, seen: Seen, writer: Writer) -> bool:
        server_count[0] += 1
        n = server_count[0]
        echo = _echo(seen)
        if seen.path == "/v1/invoices/unbilled/lineitems" and "seekOperation" not in seen.target and n % 2:
            page = _page()
            page["items"][0] = {**page["items"][0], "productName": echo}
            writer.write(response(200, json.dumps(page).encode()))
        elif seen.path.endswith("/recon-contracts-preflight"):
            writer.write(response(404, json.dumps({"error": {"code": "NotFound", "message": echo}}).encode()))
        elif seen.method == "POST" and seen.path.endswith("/export"):
            writer.write(response(202, headers={"Location": f"{server.origin}{OPERATIONS}/9ab9cb54-d07f-4f52-9ea6-a09d7de52c14"},
                                  content_type=None))
        elif seen.path.startswith(OPERATIONS + "/9ab9"):
            body = _succeeded(server.origin)
            body["echo"] = echo
            writer.write(response(200, json.dumps(body).encode()))
        elif seen.path.startswith("/blobs/"):
            rows = [{"PartnerId": "x", "echo": echo}, {"echo16": base64.b64encode(echo.encode("utf-16")).decode()}]
            blob = b"".join(gzip.compress(json.dumps(r).encode() + b"\n") for r in rows)  # two members
            writer.write(response(200, blob, content_type="application/octet-stream"))
        else:
            writer.write(_answers(seen, n))
        await writer.drain()
        return True

    return handle


def _forms(secret: str) -> dict[str, bytes]:
    raw = secret.encode()
    forms = {"plain": raw, "url-encoded": quote(secret, safe="").encode(), "utf-16-le": secret.encode("utf-16-le"),
             "utf-16-be": secret.encode("utf-16-be"), "utf-32-le": secret.encode("utf-32-le"),
             "json-escaped utf-16": secret.encode("utf-16-le").decode("latin-1").replace("\x00", "\\u0000").encode()}
    for i, core in enumerate(sorted(base64_cores(raw) | base64_cores(secret.encode("utf-16-le")))):
        forms[f"base64 form {i}"] = core.encode()
    forms["gzip of it"] = gzip.compress(raw, mtime=0)[10:-8]  # the deflate stream of the secret alone
    return forms


def _inflate_all(data: bytes) -> bytes:
    out, rest = [], data
    while rest[:2] == b"\x1f\x8b":
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            out.append(inflater.decompress(rest))
        except zlib.error:
            break
        rest = inflater.unused_data
    return b"".join(out)


def _views(path: Path) -> Iterator[tuple[str, bytes]]:
    """A report file's bytes, and every HAR body decoded from base64 and inflated from gzip."""
    data = path.read_bytes()
    yield path.name, data
    if path.suffix != ".har":
        return
    for i, entry in enumerate(json.loads(data)["log"]["entries"]):
        content = entry["response"].get("content", {})
        text = content.get("text") or ""
        body = base64.b64decode(text) if content.get("encoding") == "base64" else text.encode()
        yield f"{path.name} entry {i} body", body
        if body[:2] == b"\x1f\x8b":
            yield f"{path.name} entry {i} body inflated", _inflate_all(body)


@pytest.mark.parametrize("api", ["pc", "graph"])
def test_echoed_credentials_leave_in_no_encoding(api, suite):
    count = [0]
    with FaultServer(echoing_api(count)) as target:
        if api == "pc":
            run = suite("--pc-base-url", target.origin, "--pc-token", TOKEN, "--request-timeout", "5",
                        pytest_args=("-k", "test_invalid_queries_rejected or test_walk_to_the_end or requires_token"))
        else:
            run = suite("--graph-base-url", f"{target.origin}/v1.0", "--graph-token", TOKEN, "--request-timeout", "5",
                        pytest_args=("-k", "test_operation_lifecycle or test_export_rows or test_export_bad_requests"))
        sent = [s for s in target.requests if TOKEN in s.headers.get("authorization", "") or SAS_SIG in s.target]
    assert run.ended, run.output[-2000:]
    assert "Traceback" not in run.output, run.output[-3000:]
    assert sent, "the target never saw a credential, so nothing was echoed"
    if api == "graph":
        assert any(s.path.startswith("/blobs/") and SAS_SIG in s.target for s in target.requests), run.output[-2000:]
    files = [p for p in sorted(run.report_dir.rglob("*")) if p.is_file()]
    assert any(p.suffix == ".har" for p in files), [p.name for p in files]
    print(f"{api}: exit {run.code}, {len(target.requests)} requests, {len(files)} report files searched")
    leaks = []
    for secret in SECRETS:
        forms = _forms(secret)
        for name, form in forms.items():
            if form in run.output.encode():
                leaks.append(f"{secret[:8]}... as {name} in the output")
        for path in files:
            for where, data in _views(path):
                leaks += [f"{secret[:8]}... as {name} in {where}" for name, form in forms.items() if form in data]
    assert not leaks, "\n".join(leaks[:40])
