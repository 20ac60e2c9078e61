"""Forwarding one request upstream: bounded in time and size, credentials only to the named API origins.

The client's own ``Authorization`` (and other credential headers) go to the Partner Center or Graph upstream
the user named, never to a blob origin; the proxy mints and stores no token (a token is only registered with
the redactor, so that no report shows it). Redirects are never followed. Deadlines and caps are the suite's:
one total deadline per API exchange (``DEFAULT_REQUEST_TIMEOUT_S``), API bodies capped at
``DEFAULT_MAX_RESPONSE_BYTES``, blob bodies at ``DEFAULT_MAX_BLOB_BYTES``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from ..redact import REDACTOR
from ..traffic.client import (
    CREDENTIAL_HEADERS,
    DEFAULT_MAX_BLOB_BYTES,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_REQUEST_TIMEOUT_S,
)

HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
                        "trailers", "transfer-encoding", "upgrade", "host", "content-length"})
MAX_REQUEST_BYTES = 1024 * 1024  # a client's request body (an export POST is a few dozen bytes)


class UpstreamError(Exception):
    """The upstream could not be reached, timed out, or sent too much; the message says which (redacted)."""


@dataclass(frozen=True)
class Bounds:
    timeout_s: float = DEFAULT_REQUEST_TIMEOUT_S
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    max_blob_bytes: int = DEFAULT_MAX_BLOB_BYTES


def register_secrets(headers: Mapping[str, str]) -> None:
    """Every credential the client sends is known to the redactor before anything is written."""
    for name, value in headers.items():
        if name.lower() in CREDENTIAL_HEADERS:
            REDACTOR.add(value)
            scheme, _, credential = value.partition(" ")
            if credential and scheme.lower() == "bearer":
                REDACTOR.add(credential.strip())


def request_headers(headers: Mapping[str, str], *, api: str) -> dict[str, str]:
    """The headers sent upstream: hop-by-hop ones dropped; no credentials to a blob origin."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        lower = name.lower()
        if lower in HOP_BY_HOP or (api == "blob" and lower in CREDENTIAL_HEADERS):
            continue
        if lower == "accept-encoding" and api != "blob":
            continue  # API bodies are decoded and may be rewritten: httpx asks for what it can decode
        out[name] = value
    return out


def response_headers(headers: httpx.Headers, *, decoded: bool) -> list[tuple[str, str]]:
    """The upstream's headers for the client; a decoded body loses its Content-Encoding."""
    drop = HOP_BY_HOP | ({"content-encoding"} if decoded else set())
    return [(k, v) for k, v in headers.multi_items() if k.lower() not in drop]


def new_client(bounds: Bounds) -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=httpx.Timeout(bounds.timeout_s, connect=min(bounds.timeout_s, 10.0)),
                             follow_redirects=False, trust_env=False,
                             limits=httpx.Limits(max_connections=64, max_keepalive_connections=16))


def _describe(exc: BaseException, where: str, bounds: Bounds) -> str:
    if isinstance(exc, (TimeoutError, httpx.TimeoutException)):
        return f"the upstream did not answer {where} completely within {bounds.timeout_s:g} s"
    if isinstance(exc, httpx.ConnectError):
        return f"the upstream is unreachable for {where}: {REDACTOR(str(exc)) or type(exc).__name__}"
    return f"the upstream broke off its answer to {where}: {REDACTOR(str(exc)) or type(exc).__name__}"


async def exchange(client: httpx.AsyncClient, method: str, url: str, headers: Mapping[str, str], body: bytes,
                   bounds: Bounds) -> tuple[httpx.Response, bytes, float]:
    """Send an API request and read its (decoded) body whole within the deadline and the cap."""
    where = f"{method} {REDACTOR(url.split('?', 1)[0])}"
    started = time.monotonic()
    try:
        async with asyncio.timeout(bounds.timeout_s):
            request = client.build_request(method, url, headers=headers, content=body or None)
            response = await client.send(request, stream=True)
            try:
                declared = response.headers.get("content-length", "").strip()
                if declared.isdigit() and int(declared) > bounds.max_response_bytes:
                    raise UpstreamError(f"the upstream's answer to {where} declares {declared} bytes, more than "
                                        f"the cap of {bounds.max_response_bytes}; it was not read")
                chunks, size = [], 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > bounds.max_response_bytes:
                        raise UpstreamError(f"the upstream's answer to {where} is larger than the cap of "
                                            f"{bounds.max_response_bytes} bytes; it was not read further")
                    chunks.append(chunk)
            finally:
                await response.aclose()
    except UpstreamError:
        raise
    except (TimeoutError, httpx.HTTPError) as exc:
        raise UpstreamError(_describe(exc, where, bounds)) from None
    except (ValueError, UnicodeError) as exc:
        raise UpstreamError(f"the upstream URL is not usable: {where}: {REDACTOR(str(exc))}") from None
    return response, b"".join(chunks), (time.monotonic() - started) * 1000.0


async def open_stream(client: httpx.AsyncClient, method: str, url: str, headers: Mapping[str, str],
                      bounds: Bounds) -> httpx.Response:
    """Send a blob request and return the response with its body unread (the head within the deadline)."""
    where = f"{method} {REDACTOR(url.split('?', 1)[0])}"
    try:
        async with asyncio.timeout(bounds.timeout_s):
            return await client.send(client.build_request(method, url, headers=headers), stream=True)
    except (TimeoutError, httpx.HTTPError) as exc:
        raise UpstreamError(_describe(exc, where, bounds)) from None
    except (ValueError, UnicodeError) as exc:
        raise UpstreamError(f"the upstream URL is not usable: {where}: {REDACTOR(str(exc))}") from None
