"""Checks of what a succeeded Graph export produced: the manifest, its blobs, and basic versus full.

Rules GR-RESPONSE-SCHEMA (Manifest), GR-RESPONSE-UNDECLARED-PROPERTY, GR-MANIFEST-BLOBCOUNT,
GR-BLOB-URL, GR-BLOB-GZIP-JSONL, GR-EXPORT-BASIC-SUBSET.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from ..findings import Exchange, Finding, finding
from ..redact import REDACTOR
from .common import check_schema

GRAPH_SPEC = "graph"
GZIP_MAGIC = b"\x1f\x8b"
MAX_BLOB_BYTES = 512 * 1024 * 1024  # decompressed; a bigger blob is reported, never held in memory whole


def redacted(f: Finding) -> Finding:
    """Blob URLs carry the SAS token: mask its signature in everything the finding shows."""
    return replace(f, message=REDACTOR(f.message), actual=REDACTOR(f.actual), curl=REDACTOR(f.curl), url=REDACTOR(f.url))


def blob_url(manifest: dict[str, Any], blob: dict[str, Any]) -> str:
    """rootDirectory + "/" + name + "?" + sasToken, as Microsoft's sample builds it."""
    root = str(manifest.get("rootDirectory") or "")
    sas = str(manifest.get("sasToken") or "").lstrip("?")
    return f"{root}/{blob.get('name', '')}" + (f"?{sas}" if sas else "")


def manifest_blobs(manifest: Any) -> list[dict[str, Any]]:
    blobs = manifest.get("blobs") if isinstance(manifest, dict) else None
    return [b for b in blobs if isinstance(b, dict)] if isinstance(blobs, list) else []


def check_manifest(exchange: Exchange, manifest: Any, *, where: str = "manifest", schema: bool = True) -> list[Finding]:
    """The manifest validates against Manifest, and blobCount is the number of blobs listed.

    ``schema=False`` for an inline resourceLocation: the Operation schema has validated it already.
    """
    found: list[Finding] = []
    if schema:
        found += [
            redacted(f)
            for f in check_schema(
                exchange,
                manifest,
                spec_name=GRAPH_SPEC,
                schema_name="Manifest",
                rule_id="GR-RESPONSE-SCHEMA",
                undeclared_rule_id="GR-RESPONSE-UNDECLARED-PROPERTY",
                where=where,
            )
        ]
    if not isinstance(manifest, dict):
        return found
    count, blobs = manifest.get("blobCount"), manifest.get("blobs")
    if isinstance(count, int) and not isinstance(count, bool) and isinstance(blobs, list) and count != len(blobs):
        names = ", ".join(str(b.get("name")) for b in manifest_blobs(manifest))[:300]
        found.append(
            redacted(
                finding(
                    "GR-MANIFEST-BLOBCOUNT",
                    f"the manifest says blobCount {count} but lists {len(blobs)} blob(s)",
                    exchange,
                    expected=f"blobCount == len(blobs) == {len(blobs)}",
                    actual=f"blobCount {count}, {len(blobs)} blob(s): {names}",
                )
            )
        )
    return found


def check_manifest_response(exchange: Exchange) -> list[Finding]:
    """GET of the manifest navigation link answers 200 with a Manifest (then as :func:`check_manifest`)."""
    if exchange.status != 200:
        return [
            redacted(
                finding(
                    "GR-RESPONSE-SCHEMA",
                    f"the manifest navigation link was answered {exchange.status}, not 200",
                    exchange,
                    expected="200 with a Manifest",
                )
            )
        ]
    try:
        manifest = exchange.json()
    except (ValueError, UnicodeDecodeError):
        return [
            redacted(
                finding(
                    "GR-RESPONSE-SCHEMA",
                    f"the manifest body is not JSON ({exchange.header('content-type') or 'no Content-Type'})",
                    exchange,
                    expected="a JSON Manifest",
                )
            )
        ]
    return check_manifest(exchange, manifest)


def check_blob_download(exchange: Exchange) -> list[Finding]:
    """The blob URL built from the manifest answers 200 (with the SAS token, without Authorization)."""
    if exchange.status == 200:
        return []
    return [
        redacted(
            finding(
                "GR-BLOB-URL",
                f"a blob at rootDirectory/name?sasToken was answered {exchange.status}, not 200",
                exchange,
                expected="200 with the blob's content",
                actual=exchange.summary(300),
            )
        )
    ]


def read_jsonl_gzip(data: bytes, *, limit: int = MAX_BLOB_BYTES) -> tuple[list[dict[str, Any]], str | None]:
    """The objects of a gzip JSON Lines blob, and why it is not one (None when it is)."""
    if not data.startswith(GZIP_MAGIC):
        head = data[:16]
        return [], f"the blob is not gzip (it starts with {head!r}, not 1f 8b)"
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        raw = inflater.decompress(data, limit + 1)
        if len(raw) > limit:
            return [], f"the blob inflates past {limit} bytes"
        raw += inflater.flush()
    except zlib.error as exc:
        return [], f"the blob is not valid gzip: {exc}"
    if not inflater.eof:
        return [], "the gzip stream is truncated"
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return [], f"the inflated blob is not UTF-8: {exc}"
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            return rows, f"line {number} is not JSON ({exc}): {line[:120]!r}"
        if not isinstance(row, dict):
            return rows, f"line {number} is a JSON {type(row).__name__}, not an object: {line[:120]!r}"
        rows.append(row)
    return rows, None


def check_blob_content(exchange: Exchange) -> list[Finding]:
    """A downloaded blob is gzip holding JSON Lines, one JSON object per line."""
    if exchange.status != 200:
        return []  # GR-BLOB-URL reports it
    _, problem = read_jsonl_gzip(exchange.response_body)
    if problem is None:
        return []
    return [
        redacted(
            finding(
                "GR-BLOB-GZIP-JSONL",
                problem,
                exchange,
                expected="gzip-compressed JSON Lines (one JSON object per line)",
                actual=f"{len(exchange.response_body)} bytes, Content-Type {exchange.header('content-type') or '(none)'}",
            )
        )
    ]


def check_blobs(manifest_exchange: Exchange, manifest: Any, blobs: Sequence[Exchange]) -> list[Finding]:
    """Every blob the manifest lists was downloaded (200) and is gzip JSON Lines."""
    found: list[Finding] = []
    for blob in blobs:
        found += check_blob_download(blob)
        found += check_blob_content(blob)
    listed = len(manifest_blobs(manifest))
    if len(blobs) < listed and not any(f.rule == "GR-BLOB-URL" for f in found):
        found.append(
            redacted(
                finding(
                    "GR-BLOB-URL",
                    f"only {len(blobs)} of the {listed} blobs the manifest lists could be requested",
                    manifest_exchange,
                    expected="a download of every blob",
                )
            )
        )
    return found


def attributes(blobs: Iterable[Exchange]) -> set[str]:
    """The union of the keys over every JSON line of every readable blob."""
    keys: set[str] = set()
    for blob in blobs:
        if blob.status == 200:
            rows, _ = read_jsonl_gzip(blob.response_body)
            for row in rows:
                keys.update(row)
    return keys


def check_basic_subset(basic: set[str], full: set[str], *, evidence: Exchange | None = None) -> list[Finding]:
    """GR-EXPORT-BASIC-SUBSET: every attribute of a basic export is one of a full export of the same invoice.

    full is "a complete response", so basic may not carry more; that basic is a *proper* subset is not
    required (no document lists the reconciliation attributes).
    """
    extra = sorted(basic - full)
    if not extra:
        return []
    message = f"a basic export carries {len(extra)} attribute(s) that the full export lacks: {', '.join(extra[:12])}"
    return [
        redacted(
            finding(
                "GR-EXPORT-BASIC-SUBSET",
                message,
                evidence,
                expected="basic attributes ⊆ full attributes (full is the complete response)",
                actual=f"basic: {len(basic)} attributes, full: {len(full)}; only in basic: {', '.join(extra) or '-'}",
            )
        )
    ]
