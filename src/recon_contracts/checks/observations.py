"""The target's answers at silent points (``contracts/silent-points.yaml``), read off exchanges.

Pure functions: exchanges in, ``(point ID, answer)`` pairs out. They are observations, not findings:
the suite records them with ``contract.observe`` so that a run says which of the answers a
docs-following server may give this target gave.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ..findings import Exchange
from ..protocol.graph import is_success, is_terminal, status_of
from ..protocol.partner_center import body_of, links_of, page_items

Observation = tuple[str, str]

_OFFSET = re.compile(r"(Z|[+-]\d\d:?\d\d)$", re.IGNORECASE)


def _json_object(exchange: Exchange | None) -> dict[str, Any] | None:
    body = body_of(exchange) if exchange is not None and exchange.status == 200 else None
    return body if isinstance(body, dict) else None


# ---------------------------------------------------------------------------- Partner Center pages


def link_form(uri: str) -> str:
    """SP-PC-LINK-FORM: relative (to /v1), v1-prefixed or absolute."""
    uri = uri.strip().lower()
    if uri.startswith(("http://", "https://")):
        return "absolute"
    return "v1-prefixed" if uri.lstrip("/").startswith("v1/") else "relative"


def page_answers(pages: Sequence[Exchange], *, size: int | None = None) -> list[Observation]:
    """What a walk's pages say about the Partner Center silent points of pages and items."""
    bodies = [(e, b) for e, b in ((e, _json_object(e)) for e in pages) if b is not None]
    if not bodies:
        return []
    out: list[Observation] = []
    first, last = bodies[0], bodies[-1]
    content_type = (first[0].header("content-type") or "").lower()
    if content_type.startswith("application/json"):
        out.append(("SP-PC-CONTENT-TYPE", "json-charset" if "charset" in content_type else "json"))
    links = links_of(last[1])
    if "next" not in links:
        out.append(("SP-PC-LAST-PAGE-NEXT", "absent"))
    elif links["next"] is None:
        out.append(("SP-PC-LAST-PAGE-NEXT", "null"))
    nxt = links_of(first[1]).get("next")
    if isinstance(nxt, dict) and isinstance(nxt.get("uri"), str):
        out.append(("SP-PC-LINK-FORM", link_form(nxt["uri"])))
    counts = [(b.get("totalCount"), len(page_items(b))) for _, b in bodies]
    total = sum(n for _, n in counts)
    if all(c == n for c, n in counts):
        out.append(("SP-PC-TOTALCOUNT", "page"))
    elif all(c == total for c, _ in counts):
        out.append(("SP-PC-TOTALCOUNT", "grand-total"))
    if size is not None and len(bodies) > 1:
        short = any(n < size for _, n in counts[:-1])
        out.append(("SP-PC-PAGE-FILL", "short" if short else "full"))
    items = [i for _, b in bodies for i in page_items(b) if isinstance(i, dict)]
    prices = [i.get("unitPrice") for i in items if "unitPrice" in i]
    if prices:
        out.append(("SP-PC-NUMBER-ENCODING", "string" if all(isinstance(p, str) for p in prices) else "number"))
    charge_types = [i["chargeType"] for i in items if isinstance(i.get("chargeType"), str)]
    if charge_types:
        out.append(("SP-PC-CHARGETYPE-CASE", "lower" if all(c == c.lower() for c in charge_types) else "as-documented"))
    return out


# ---------------------------------------------------------------------------- Graph export runs


def _retry_after_form(value: str | None) -> str | None:
    if not value:
        return None
    return "delta-seconds" if value.strip().isdigit() else "http-date"


def export_answers(run: Any) -> list[Observation]:
    """What one export run (``drivers.graph_export.ExportRun``) says about the Graph silent points."""
    out: list[Observation] = []
    post = run.post
    if post is not None and post.status == 202:
        out.append(("SP-GR-EXPORT-202-BODY", "operation-json" if post.response_body.strip() else "empty"))
        out.append(("SP-GR-EXPORT-202-RETRY-AFTER", "present" if post.header("retry-after") else "absent"))
    polls = [p for p in run.polls if _json_object(p) is not None]
    statuses = [status_of(p) for p in polls]
    if statuses:
        if is_terminal(statuses[0]):
            out.append(("SP-GR-OP-PROGRESSION", "immediate"))
        else:
            out.append(("SP-GR-OP-PROGRESSION", "notstarted-running" if "notStarted" in statuses else "running-only"))
        content_type = (polls[0].header("content-type") or "").lower()
        out.append(("SP-GR-CONTENT-TYPE", "odata-json" if "odata" in content_type else "json"))
        last = _json_object(polls[-1]) or {}
        out.append(("SP-GR-ODATA-CONTEXT", "present" if "@odata.context" in last else "absent"))
        created = last.get("createdDateTime")
        if isinstance(created, str):
            out.append(("SP-GR-OP-CREATED-OFFSET", "z" if _OFFSET.search(created.strip()) else "none"))
    for poll, status in zip(polls, statuses):
        form = _retry_after_form(poll.header("retry-after")) if not is_terminal(status) else None
        if form:
            out.append(("SP-GR-RETRY-AFTER-FORMAT", form))
            break
    terminal = next((p for p, s in zip(polls, statuses) if is_terminal(s)), None)
    body = _json_object(terminal)
    if terminal is not None and body is not None and is_success(status_of(terminal)):
        out.append(("SP-GR-OP-SUCCESS-STATUS", str(body["status"])))
        inline = isinstance(body.get("resourceLocation"), dict)
        link = "resourceLocation@odata.navigationLink" in body
        if inline or link:
            out.append(("SP-GR-OP-RESOURCE-LOCATION", "both" if inline and link else "inline" if inline else "navigation-link"))
    manifest = run.manifest if isinstance(run.manifest, dict) else None
    if manifest is not None:
        known = {"SP-GR-MANIFEST-DATAFORMAT": ("dataFormat", ("compressedJSON", "compressedJSONLines")),
                 "SP-GR-MANIFEST-SCHEMAVERSION": ("schemaVersion", ("1", "2")),
                 "SP-GR-MANIFEST-PARTITIONTYPE": ("partitionType", ("default", "Default"))}
        for point, (key, values) in known.items():
            if key in manifest:
                out.append((point, str(manifest[key]) if manifest[key] in values else "other"))
        blobs = manifest.get("blobs")
        if isinstance(blobs, list) and blobs:
            out.append(("SP-GR-BLOB-PARTITIONING", "many-blobs" if len(blobs) > 1 else "one-blob"))
    return out
