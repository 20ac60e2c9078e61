"""``traffic.har``: every exchange of a run as an HTTP Archive 1.2, the evidence for a support ticket.

Written with ``harfile`` (the HAR 1.2 writer Schemathesis uses for ``--report har``). Each process
of a run (the pytest process, or each pytest-xdist worker) streams its exchanges into a part file
of its own; the controller merges the parts, in time order, into one ``traffic.har`` at the end.

Every string goes through :data:`~recon_contracts.redact.REDACTOR` in the process that knows the
secrets (tokens, SAS signatures), and the merged file once more as a whole. A body larger than the
limit is cut: ``content.size`` keeps the real size, ``content.text`` holds the first bytes and
``content.comment`` says so (the reader of ``recon-contracts check`` skips such bodies).
"""

from __future__ import annotations

import base64
import http
import threading
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import harfile

from .. import __version__, jsonpolicy
from ..findings import Exchange
from ..redact import REDACTOR, redact_bytes

HAR_FILE = "traffic.har"
DEFAULT_BODY_LIMIT = 1024 * 1024
TRUNCATED = "truncated by recon-contracts"
CREATOR = {"name": "recon-contracts", "version": __version__}


def _text(value: str) -> str:
    return REDACTOR(value)


def _records(headers: dict[str, str]) -> list[harfile.Record]:
    return [harfile.Record(name=_text(k), value=_text(v)) for k, v in headers.items()]


def _status_text(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def _utf8(data: bytes, cut: bool) -> str | None:
    """``data`` as text when it is UTF-8 (a character cut at the limit is dropped), else None."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if not (cut and exc.start >= len(data) - 3):
            return None
        text = data[: exc.start].decode("utf-8", "replace")
    return None if "\x00" in text else text


def body_content(body: bytes, mime_type: str, limit: int, size: int | None = None) -> harfile.Content:
    """A response body as HAR content: text when it is UTF-8, else base64; cut past ``limit`` bytes.

    The bytes are redacted before either: a secret in a UTF-16 or gzip body is masked where it is.

    ``size``: the body's real size when ``body`` is only its first bytes (a streamed blob recorded in part).
    """
    size = len(body) if size is None else size
    kept = body[:limit]
    cut = size > len(kept)
    kept = redact_bytes(kept)  # every encoding: UTF-16, Latin-1, gzip, base64 spellings (before it is base64-encoded)
    comment = f"{TRUNCATED}: the first {len(kept)} of {size} bytes are recorded" if cut else None
    text = _utf8(kept, cut)
    if text is None:
        return harfile.Content(size=size, mimeType=mime_type, text=base64.b64encode(kept).decode("ascii"),
                               encoding="base64", comment=comment)
    return harfile.Content(size=size, mimeType=mime_type, text=_text(text), comment=comment)


def entry(exchange: Exchange, *, finished: datetime, limit: int = DEFAULT_BODY_LIMIT) -> dict[str, Any]:
    """The keyword arguments of ``HarFile.add_entry`` for one exchange (every string redacted)."""
    url = _text(exchange.url)
    request_body = exchange.request_body
    post = None
    if request_body:
        mime = exchange.request_header("content-type") or ""
        text = redact_bytes(request_body[:limit]).decode("utf-8", "replace")
        post = harfile.PostData(mimeType=_text(mime), text=_text(text),
                                comment=f"{TRUNCATED}: the first {limit} of {len(request_body)} bytes are recorded"
                                if len(request_body) > limit else None)
    request = harfile.Request(
        method=exchange.method,
        url=url,
        httpVersion="HTTP/1.1",
        headers=_records(exchange.request_headers),
        queryString=[harfile.Record(name=k, value=v) for k, v in parse_qsl(urlsplit(url).query, keep_blank_values=True)],
        postData=post,
        bodySize=len(request_body) if request_body else 0,
    )
    encoded = bool(exchange.header("content-encoding"))
    response = harfile.Response(
        status=exchange.status,
        statusText=_status_text(exchange.status),
        httpVersion="HTTP/1.1",
        headers=_records(exchange.response_headers),
        content=body_content(exchange.response_body, _text(exchange.header("content-type") or ""), limit,
                             exchange.response_size),
        redirectURL=_text(exchange.header("location") or ""),
        bodySize=-1 if encoded else len(exchange.response_body),
    )
    elapsed = max(0.0, float(exchange.elapsed_ms))
    return {
        "startedDateTime": finished - timedelta(milliseconds=elapsed),
        "time": round(elapsed, 3),
        "request": request,
        "response": response,
        "timings": harfile.Timings(send=0, wait=round(elapsed, 3), receive=0),
        "comment": _text(f"{exchange.api}: {exchange.operation}"),
    }


class HarRecorder:
    """Streams the exchanges one process sees into a HAR file of its own (thread-safe)."""

    def __init__(self, path: Path, *, limit: int = DEFAULT_BODY_LIMIT) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.limit = limit
        self.count = 0
        self._lock = threading.Lock()
        self._har = harfile.open(str(path), creator=harfile.Creator(**CREATOR))

    def record(self, exchange: Exchange) -> None:
        kwargs = entry(exchange, finished=datetime.now(timezone.utc), limit=self.limit)
        with self._lock:
            if not self._har.closed:
                self._har.add_entry(**kwargs)
                self.count += 1

    def close(self) -> None:
        with self._lock:
            self._har.close()


def merge(parts: Iterable[Path], destination: Path) -> int:
    """One HAR from the parts of a run's processes, entries in time order; returns the entry count."""
    entries: list[dict[str, Any]] = []
    for part in sorted(parts):
        try:
            entries += jsonpolicy.loads(part.read_bytes())["log"]["entries"]
        except (OSError, ValueError, KeyError, TypeError):
            continue  # a worker that died mid-write: its part is lost, the others still make a HAR
    entries.sort(key=lambda e: str(e.get("startedDateTime", "")))
    document = {"log": {"version": harfile.HAR_VERSION, "creator": CREATOR, "pages": [], "entries": entries}}
    destination.parent.mkdir(parents=True, exist_ok=True)
    tmp = destination.with_name(destination.name + ".tmp")
    tmp.write_text(REDACTOR(jsonpolicy.dumps_indented(document)), encoding="utf-8")
    tmp.replace(destination)
    return len(entries)
