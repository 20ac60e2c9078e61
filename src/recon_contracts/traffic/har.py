"""Exchanges from recorded traffic: HAR 1.2 files (devtools, mitmproxy, Schemathesis ``--report har``, ours).

Each entry becomes an :class:`~recon_contracts.findings.Exchange`, labelled with its API and operation
by the shape of its URL (:mod:`.shapes`). Entries to other hosts are not checked; they are counted
per host. An entry whose response body was not recorded whole (a ``content.size`` larger than the
text, no text at all, or our own truncation note) is counted and left out, so that no check judges
half a body.
"""

from __future__ import annotations

import base64
import binascii
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from ..errors import HarError
from .. import jsonpolicy
from ..findings import Exchange
from ..protocol.shapes import BLOB, GRAPH_MANIFEST, GRAPH_OPERATION, classify


@dataclass
class RecordedTraffic:
    """The exchanges of one or more HAR files that belong to the two APIs, in time order."""

    exchanges: list[Exchange] = field(default_factory=list)
    ignored: Counter[str] = field(default_factory=Counter)  # host -> entries that are no operation of either API
    truncated: Counter[str] = field(default_factory=Counter)  # operation -> entries without their whole body
    entries: int = 0

    def summary(self) -> dict[str, Any]:
        return {
            "entries": self.entries,
            "checked": len(self.exchanges),
            "ignored_by_host": dict(sorted(self.ignored.items())),
            "ignored_incomplete_bodies": dict(sorted(self.truncated.items())),
        }


def _entries(path: Path) -> list[dict[str, Any]]:
    try:
        document = jsonpolicy.loads(path.read_bytes())
    except OSError as exc:
        raise HarError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise HarError(f"{path}: not JSON ({exc})") from None
    log = document.get("log") if isinstance(document, dict) else None
    entries = log.get("entries") if isinstance(log, dict) else None
    if not isinstance(entries, list):
        raise HarError(f"{path}: not a HAR file (no log.entries list)")
    return [e for e in entries if isinstance(e, dict)]


def _headers(records: Any) -> dict[str, str]:
    headers: dict[str, str] = {}
    for record in records if isinstance(records, list) else []:
        if isinstance(record, dict) and isinstance(record.get("name"), str) and not record["name"].startswith(":"):
            name, value = record["name"], str(record.get("value", ""))
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def _body(content: Any) -> tuple[bytes, bool]:
    """The response body and whether it is whole."""
    if not isinstance(content, dict):
        return b"", True
    text = content.get("text")
    size = content.get("size") if isinstance(content.get("size"), int) else -1
    if text is None:
        return b"", size <= 0
    if content.get("encoding") == "base64":
        try:
            body = base64.b64decode(str(text), validate=False)
        except (binascii.Error, ValueError):
            return b"", False
    else:
        body = str(text).encode("utf-8")
    if "truncated" in str(content.get("comment", "")).lower():
        return body, False
    # shorter than its size: cut by the recorder, or only redacted (a masked SAS signature is shorter); a body that
    # still parses as JSON was redacted, not cut
    return body, size < 0 or len(body) >= size or _parses(body)


def _parses(body: bytes) -> bool:
    try:
        jsonpolicy.loads(body)
    except ValueError:
        return False
    return True


def _started(entry: dict[str, Any]) -> float:
    raw = entry.get("startedDateTime")
    try:
        return datetime.fromisoformat(str(raw).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def _exchange(entry: dict[str, Any]) -> tuple[Exchange, bool] | None:
    request, response = entry.get("request"), entry.get("response")
    if not isinstance(request, dict) or not isinstance(response, dict):
        return None
    url, method, status = request.get("url"), request.get("method"), response.get("status")
    if not isinstance(url, str) or not isinstance(method, str) or not isinstance(status, int) or status <= 0:
        return None  # devtools record aborted requests with status 0: nothing came back
    post = request.get("postData")
    request_body = post.get("text").encode("utf-8") if isinstance(post, dict) and isinstance(post.get("text"), str) else None
    body, whole = _body(response.get("content"))
    exchange = Exchange(
        api="", operation="", method=method.upper(), url=url,
        request_headers=_headers(request.get("headers")),
        request_body=request_body or None,
        status=status,
        response_headers={k.lower(): v for k, v in _headers(response.get("headers")).items()},
        response_body=body,
        elapsed_ms=float(entry.get("time") or 0.0) if isinstance(entry.get("time"), (int, float)) else 0.0,
    )
    return exchange, whole


def blob_roots(exchanges: Iterable[Exchange]) -> set[str]:
    """The rootDirectory of every manifest in the traffic (inline in a poll or fetched by its link)."""
    roots: set[str] = set()
    for exchange in exchanges:
        if exchange.operation not in (GRAPH_OPERATION, GRAPH_MANIFEST) or exchange.status != 200:
            continue
        try:
            body = exchange.json()
        except (ValueError, UnicodeDecodeError):
            continue
        manifest = body.get("resourceLocation") if isinstance(body, dict) and exchange.operation == GRAPH_OPERATION else body
        root = manifest.get("rootDirectory") if isinstance(manifest, dict) else None
        if isinstance(root, str) and root.startswith(("http://", "https://")):
            roots.add(root)
        elif isinstance(root, str) and root:
            roots.add(urljoin(exchange.url, root))
    return roots


def read_har(paths: Sequence[str | Path]) -> RecordedTraffic:
    """The exchanges of the two APIs in the given HAR files, in time order (raises :class:`HarError`)."""
    raw: list[tuple[float, int, dict[str, Any]]] = []
    for path in paths:
        for entry in _entries(Path(path)):
            raw.append((_started(entry), len(raw), entry))
    raw.sort(key=lambda r: (r[0], r[1]))
    traffic = RecordedTraffic(entries=len(raw))
    parsed: list[tuple[Exchange, bool]] = [p for p in (_exchange(e) for _, _, e in raw) if p is not None]
    labelled: list[tuple[Exchange | None, Exchange, bool]] = []
    for exchange, whole in parsed:
        shape = classify(exchange.method, exchange.url)
        labelled.append((replace(exchange, api=shape.api, operation=shape.operation) if shape else None, exchange, whole))
    roots = blob_roots(e for e, _, whole in labelled if e is not None and whole)
    for known, exchange, whole in labelled:
        if known is None:
            shape = classify(exchange.method, exchange.url, roots)
            if shape is None:
                traffic.ignored[urlsplit(exchange.url).netloc or "(no host)"] += 1
                continue
            known = replace(exchange, api=shape.api, operation=shape.operation)
        if not whole:
            traffic.truncated[known.operation] += 1
            continue
        traffic.exchanges.append(known)
    traffic.ignored += Counter({"(unreadable entry)": len(raw) - len(parsed)}) if len(raw) > len(parsed) else Counter()
    return traffic


__all__ = ["HarError", "RecordedTraffic", "read_har", "blob_roots", "BLOB"]
