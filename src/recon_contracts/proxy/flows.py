"""Correlating exchanges into flows: an export (POST -> 202 -> polls -> manifest -> blobs) and a paging walk
(page 1 -> N, each page found by the continuation token its predecessor handed out).

Keys are upstream URLs (paths case-folded, as :mod:`recon_contracts.checks.recorded` matches them).
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urljoin, urlsplit

from ..checks.blobs import manifest_blobs
from ..checks.operations import NAV_LINK
from ..checks.paging import CONTINUATION_HEADER, body_of, next_request
from ..findings import Exchange
from ..redact import REDACTOR
from ..protocol.shapes import (
    BLOB,
    GRAPH_EXPORT_QUALIFIED,
    GRAPH_EXPORT_SHORT,
    GRAPH_MANIFEST,
    GRAPH_OPERATION,
    PC_LINEITEMS,
    classify,
)

_ids = itertools.count(1)


def _path(url: str) -> str:
    return urlsplit(url).path.rstrip("/").casefold()


@dataclass
class Flow:
    """One export or one paging walk: its exchanges in order (blob exchanges are heads, judged by the tee)."""

    kind: str  # "export" | "walk" | "other"
    id: int = field(default_factory=lambda: next(_ids))
    exchanges: list[Exchange] = field(default_factory=list)
    blob_root: str | None = None
    blobs_listed: int | None = None
    blobs_done: int = 0
    request_body: dict[str, Any] | None = None
    row_judge: Any = None  # the flow's ExportJudge, made by the judge on the first blob

    @property
    def checked(self) -> list[Exchange]:
        """The exchanges the offline rules judge (blob bodies are judged streamed, not here)."""
        return [e for e in self.exchanges if e.operation != BLOB]


class Flows:
    """Assigns each exchange to its flow; thread-safe (blob tees finish on worker threads)."""

    def __init__(self) -> None:
        self.all: list[Flow] = []
        self._by_token: dict[str, Flow] = {}
        self._by_operation: dict[str, Flow] = {}
        self._by_manifest: dict[str, Flow] = {}
        self._lock = threading.Lock()

    def label(self, exchange: Exchange) -> Exchange:
        """The exchange with its API and operation as the offline checker names them (by URL shape)."""
        shape = classify(exchange.method, exchange.url)
        if shape is not None:
            return replace(exchange, api=shape.api, operation=shape.operation)
        return exchange

    def add(self, exchange: Exchange) -> Flow:
        with self._lock:
            flow = self._find(exchange)
            flow.exchanges.append(exchange)
            self._learn(flow, exchange)
            return flow

    def _new(self, kind: str) -> Flow:
        flow = Flow(kind)
        self.all.append(flow)
        return flow

    def _find(self, e: Exchange) -> Flow:
        if e.operation == PC_LINEITEMS:
            token = (e.request_header(CONTINUATION_HEADER) or "").strip()
            return self._by_token.get(token) or self._new("walk") if token else self._new("walk")
        if e.operation in (GRAPH_EXPORT_SHORT, GRAPH_EXPORT_QUALIFIED):
            return self._new("export")
        if e.operation == GRAPH_OPERATION:
            return self._by_operation.get(_path(e.url)) or self._by_operation.setdefault(_path(e.url), self._new("export"))
        if e.operation == GRAPH_MANIFEST:
            return self._by_manifest.get(_path(e.url)) or self._new("export")
        if e.operation == BLOB:
            bare = e.url.split("?", 1)[0]
            found = next((f for f in self.all if f.blob_root and bare.startswith(f.blob_root + "/")), None)
            return found or self._new("other")
        return self._new("other")

    def _learn(self, flow: Flow, e: Exchange) -> None:
        """What this exchange says about the flow's next steps: the next token, the operation, the manifest."""
        if e.status >= 300 and e.operation != BLOB:
            return
        body = body_of(e) if e.operation != BLOB else None
        if e.operation == PC_LINEITEMS:
            step = next_request(body, classify(e.method, e.url).base_url) if body is not None else None  # type: ignore[union-attr]
            if step is not None:
                self._by_token[step.token] = flow
        elif e.operation in (GRAPH_EXPORT_SHORT, GRAPH_EXPORT_QUALIFIED):
            flow.request_body = _json_object(e.request_body)
            location = (e.header("location") or "").strip()
            if location:
                self._by_operation[_path(urljoin(e.url, location))] = flow
        elif e.operation in (GRAPH_OPERATION, GRAPH_MANIFEST) and isinstance(body, dict):
            link = body.get(NAV_LINK)
            if isinstance(link, str) and link.strip():
                self._by_manifest[_path(urljoin(e.url, link.strip()))] = flow
            manifest = body if e.operation == GRAPH_MANIFEST else body.get("resourceLocation")
            if isinstance(manifest, dict) and isinstance(manifest.get("rootDirectory"), str):
                REDACTOR.add_sas(str(manifest.get("sasToken") or ""))
                flow.blob_root = urljoin(e.url, manifest["rootDirectory"]).rstrip("/")
                flow.blobs_listed = len(manifest_blobs(manifest))


def _json_object(raw: bytes | None) -> dict[str, Any] | None:
    try:
        value = json.loads((raw or b"").decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None
