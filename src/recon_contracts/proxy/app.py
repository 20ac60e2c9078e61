"""The proxy's ASGI app: one route, routed by path to the named upstreams; API answers judged, then rewritten.

API exchanges are read whole (capped), judged as upstream sent them, rewritten so that the client's next
request comes back here, and answered; soft mode names the findings in ``Recon-Contracts-Findings``, hard mode
(``--fail-on-breaking``) answers a breaking exchange with 502 ``application/problem+json`` naming the rule.
Blob downloads stream through untouched, teed into the row engine.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from ..findings import Exchange, breaking
from ..redact import REDACTOR
from ..protocol.shapes import BLOB
from . import upstream
from .judge import Judge
from .urlmap import UrlMap

FINDINGS_HEADER = "Recon-Contracts-Findings"
PROBLEM = "application/problem+json"
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
CHUNK = 256 * 1024
KEEP = 1024 * 1024  # first bytes of a blob kept for traffic.har (recorded as cut, as the suite does)


@dataclass
class ProxyState:
    urls: UrlMap
    judge: Judge
    bounds: upstream.Bounds = field(default_factory=upstream.Bounds)
    fail_on_breaking: bool = False
    record: Callable[[Exchange], None] = lambda e: None
    counted: Callable[[], None] = lambda: None  # called once per finished exchange (--exit-after)
    client: httpx.AsyncClient | None = None


def problem(status: int, title: str, detail: str, **extra: Any) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": REDACTOR(detail), **extra}
    return Response(json.dumps(body), status_code=status, media_type=PROBLEM)


def _raw_path(request: Request) -> str:
    raw = request.scope.get("raw_path")
    return raw.decode("latin-1").split("?", 1)[0] if raw else request.url.path


def _head_exchange(method: str, url: str, headers: dict[str, str], body: bytes | None, response: httpx.Response,
                   content: bytes, elapsed_ms: float, api: str) -> Exchange:
    return Exchange(api=api, operation="", method=method, url=url, request_headers=dict(headers),
                    request_body=body or None, status=response.status_code,
                    response_headers={k.lower(): v for k, v in response.headers.items()},
                    response_body=content, elapsed_ms=elapsed_ms)


def create_app(state: ProxyState) -> Starlette:
    async def handle(request: Request) -> Response:
        target = state.urls.upstream(_raw_path(request), request.scope.get("query_string", b"").decode("latin-1"))
        if target is None:
            return problem(404, "Not served by this proxy",
                           f"{request.method} {_raw_path(request)} is under no upstream this proxy was given "
                           "(Partner Center /v1, Graph /v1.0 and /beta, blobs with --proxy-blobs); nothing was forwarded")
        upstream.register_secrets(request.headers)
        if state.client is None:
            state.client = upstream.new_client(state.bounds)
        headers = upstream.request_headers(request.headers, api=target.api)
        if target.api == "blob":
            return await _blob(request, target.url, headers)
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > upstream.MAX_REQUEST_BYTES:
                return problem(413, "Request too large", f"the request body passes {upstream.MAX_REQUEST_BYTES} bytes")
        try:
            response, content, elapsed = await upstream.exchange(state.client, request.method, target.url, headers,
                                                                 body, state.bounds)
        except upstream.UpstreamError as exc:
            state.judge.note_unproven(str(exc), [])
            state.counted()
            return problem(502, "Upstream failed", str(exc))
        exchange = state.judge.flows.label(_head_exchange(request.method, target.url, headers, body, response,
                                                          content, elapsed, target.api))
        new = await asyncio.to_thread(state.judge.api_exchange, exchange)
        state.record(exchange)
        state.counted()
        failing = breaking(new)
        if state.fail_on_breaking and failing:
            first = failing[0]
            return problem(502, "Breaking contract violation", f"[{first.rule}] {first.message}",
                           rule=first.rule, rules=sorted({f.rule for f in failing}), upstreamStatus=response.status_code)
        return _answer(response, content, target.api, [f.rule for f in new])

    def _answer(response: httpx.Response, content: bytes, api: str, rules: list[str]) -> Response:
        headers = upstream.response_headers(response.headers, decoded=True)
        location = next((v for k, v in headers if k.lower() == "location"), None)
        if location is not None:
            headers = [(k, state.urls.to_proxy(v) if k.lower() == "location" else v) for k, v in headers]
        ctype = response.headers.get("content-type", "").lower()
        if content and "json" in ctype:
            try:
                body = json.loads(content.decode("utf-8-sig"))
            except (ValueError, UnicodeDecodeError):
                body = None
            if body is not None and state.urls.rewrite_body(api, body):
                content = json.dumps(body, ensure_ascii=False).encode("utf-8")
        if rules:
            headers.append((FINDINGS_HEADER, ", ".join(dict.fromkeys(rules))))
        out = Response(content, status_code=response.status_code)
        out.raw_headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers] + [
            (b"content-length", str(len(content)).encode())]
        return out

    async def _blob(request: Request, url: str, headers: dict[str, str]) -> Response:
        assert state.client is not None
        try:
            response = await upstream.open_stream(state.client, request.method, url, headers, state.bounds)
        except upstream.UpstreamError as exc:
            state.judge.note_unproven(str(exc), ["GR-BLOB-URL"])
            state.counted()
            return problem(502, "Upstream failed", str(exc))
        head = Exchange(api="blob", operation=BLOB, method=request.method, url=url, request_headers=dict(headers),
                        request_body=None, status=response.status_code,
                        response_headers={k.lower(): v for k, v in response.headers.items()}, response_body=b"")
        name = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        tee = await asyncio.to_thread(state.judge.blob, head, name) if response.status_code == 200 else None
        if tee is None:  # not a 200: read (capped) and judged whole, like an API answer
            content = b""
            try:
                async for chunk in response.aiter_raw(CHUNK):
                    content += chunk[: max(0, KEEP - len(content))]
            except httpx.HTTPError:
                pass
            finally:
                await response.aclose()
            head = replace(head, response_body=content)
            await asyncio.to_thread(state.judge.blob_head_only, head)
            state.record(head)
            state.counted()
            return _answer(response, content, "blob", [])

        async def body() -> AsyncIterator[bytes]:
            kept, size, complete = bytearray(), 0, False
            try:
                async for chunk in response.aiter_raw(CHUNK):
                    size += len(chunk)
                    if size > state.bounds.max_blob_bytes:
                        tee.outcome.inconclusive = (f"the blob is larger than the cap of {state.bounds.max_blob_bytes} "
                                                    "bytes; the download was cut there")
                        break
                    if len(kept) < KEEP:
                        kept += chunk[: KEEP - len(kept)]
                    if not tee.offer(chunk):
                        await asyncio.to_thread(tee.put, chunk)
                    yield chunk
                else:
                    complete = True
            except httpx.HTTPError:
                pass
            finally:
                def settle() -> None:  # judged, recorded and counted even when shutdown cancels this stream
                    tee.close(complete=complete)
                    state.record(replace(head, response_body=bytes(kept), response_size=None if size <= KEEP else size))
                    state.counted()

                await asyncio.shield(asyncio.to_thread(settle))
                await response.aclose()

        return StreamingResponse(body(), status_code=response.status_code,
                                 headers=dict(upstream.response_headers(response.headers, decoded=False))
                                 | ({"content-length": response.headers["content-length"]}
                                    if "content-length" in response.headers else {}))

    return Starlette(routes=[Route("/{path:path}", handle, methods=METHODS)])
