"""Response helpers shared by the API modules: JSON bodies, error shapes, timestamps."""

from __future__ import annotations

import gzip
import json
import uuid
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from .knobs import Knobs

PC_JSON = "application/json; charset=utf-8"
GRAPH_JSON = "application/json"


def json_response(body: object, status: int = 200, headers: dict[str, str] | None = None,
                  media_type: str = GRAPH_JSON) -> Response:
    return Response(json.dumps(body).encode(), status_code=status, headers=headers, media_type=media_type)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso_seconds(d: datetime, offset: str = "Z") -> str:
    """2023-03-09T08:12:53Z (or without the Z when offset is '')."""
    return d.strftime("%Y-%m-%dT%H:%M:%S") + offset


def iso_7(d: datetime) -> str:
    """2023-03-09T08:37:48.5046691Z: seven fraction digits, as Graph sends lastActionDateTime."""
    return d.strftime("%Y-%m-%dT%H:%M:%S") + f".{d.microsecond * 10:07d}Z"


def base_url(request: Request) -> str:
    """scheme://host[:port] as the client addressed this server."""
    host = request.headers.get("host")
    if not host:
        server = request.scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{request.url.scheme}://{host}"


def bearer_ok(request: Request) -> bool:
    """Any non-empty bearer token is accepted (its value is never logged)."""
    value = request.headers.get("authorization", "")
    scheme, _, token = value.strip().partition(" ")
    return scheme.lower() == "bearer" and bool(token.strip())


# ------------------------------------------------------------------ Partner Center

def pc_fault(status: int, description: str, code: str | None = None, headers: dict[str, str] | None = None,
             html: bool = False) -> Response:
    """A Partner Center error: the ApiFault shape {code, description, data, source}."""
    if html and 400 <= status < 500:
        page = (f"<!DOCTYPE html><html><head><title>Error {status}</title></head>"
                f"<body><h1>Error {status}</h1><p>{description}</p></body></html>")
        return Response(page.encode(), status_code=status, headers=headers, media_type="text/html; charset=utf-8")
    body = {"code": code or str(status), "description": description, "data": [], "source": "PartnerFD"}
    return json_response(body, status, headers, PC_JSON)


def throttle_body(seconds: int) -> dict:
    return {"statusCode": 429, "message": f"Rate limit is exceeded. Try again in {seconds} seconds."}


# ------------------------------------------------------------------ Graph

def graph_error(request: Request, status: int, code: str, message: str,
                headers: dict[str, str] | None = None) -> Response:
    """A Graph error: {"error": {"code", "message", "innerError": {...}}}."""
    request_id = str(uuid.uuid4())
    client_request_id = request.headers.get("client-request-id") or request_id
    body = {"error": {"code": code, "message": message, "innerError": {
        "date": iso_seconds(utcnow()), "request-id": request_id, "client-request-id": client_request_id}}}
    out = {"request-id": request_id, "client-request-id": client_request_id}
    out.update(headers or {})
    return json_response(body, status, out, GRAPH_JSON)


def graph_headers(request: Request) -> dict[str, str]:
    request_id = str(uuid.uuid4())
    return {"request-id": request_id, "client-request-id": request.headers.get("client-request-id") or request_id}


# ------------------------------------------------------------------ elsewhere

def not_found(path: str) -> Response:
    return json_response({"error": {"code": "NotFound", "message": f"No resource at {path}. The mock serves "
                                    "/v1/invoices/{id}/lineitems, /v1.0/... and /beta/reports/partners/billing/..."}},
                         404)


def storage_error(status: int, code: str, message: str) -> Response:
    """An Azure Blob Storage error (XML, as storage sends it)."""
    body = (f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{code}</Code>'
            f"<Message>{message}\nRequestId:{uuid.uuid4()}\nTime:{iso_7(utcnow())}</Message></Error>")
    return Response(body.encode(), status_code=status, media_type="application/xml",
                    headers={"x-ms-error-code": code})


# ------------------------------------------------------------------ transport knobs (both APIs)

def retry_after(seconds: int, form: str) -> str:
    """Retry-After as delta-seconds or as an HTTP-date that many seconds ahead (RFC 9110 allows both)."""
    if form == "http-date":
        # one second more: an HTTP-date has whole seconds, so the wait must not round down to nothing
        return format_datetime(utcnow().replace(microsecond=0) + timedelta(seconds=seconds + 1), usegmt=True)
    return str(seconds)


def wait_seconds(mode: str) -> int:
    """Retry-After seconds for a throttling/unavailable knob: 1 when a retry gets through, 0 when none ever will."""
    return 0 if mode in ("after-first", "forever") else 1


# header fields no document names, as front doors, gateways and storage add them (extra_headers=present)
EXTRA_HEADERS = (("X-Content-Type-Options", "nosniff"), ("Strict-Transport-Security", "max-age=31536000"),
                 ("X-Frontend-Node", "mock-7"), ("Cache-Control", "no-cache"))


def _spell(name: bytes, case: str) -> bytes:
    if case == "title":
        return b"-".join(part[:1].upper() + part[1:].lower() for part in name.split(b"-"))
    return name.upper() if case == "upper" else name.lower()


def finish(response: Response, knobs: Knobs, accept_encoding: str = "") -> Response:
    """Apply the transport knobs (RFC 9110/9112 freedoms): connection, content coding, framing, header case and
    extra header fields. Content coding applies to JSON answers of the APIs only (a blob is a gzip file served as
    it is); a streamed body (a blob) keeps its own framing."""
    headers = response.headers
    if knobs.connection == "close":
        headers["Connection"] = "close"
    if knobs.extra_headers == "present":
        for name, value in EXTRA_HEADERS:
            headers[name] = value
    streamed = isinstance(response, StreamingResponse)
    if not streamed and response.body:
        accepts = {c.split(";")[0].strip().lower() for c in accept_encoding.split(",")}
        json_answer = headers.get("content-type", "").startswith("application/json")  # API answers, not blobs
        if (knobs.content_encoding == "gzip" and json_answer and "gzip" in accepts
                and "content-encoding" not in headers):
            response.body = gzip.compress(bytes(response.body), mtime=0)
            headers["Content-Encoding"] = "gzip"
            headers["Vary"] = "Accept-Encoding"
            headers["Content-Length"] = str(len(response.body))
    if not streamed and knobs.transfer_coding == "chunked":
        del headers["content-length"]  # uvicorn then sends Transfer-Encoding: chunked (HTTP/1.1)
    if knobs.header_case != "lower":
        response.raw_headers = [(_spell(k, knobs.header_case), v) for k, v in response.raw_headers]
    return response
