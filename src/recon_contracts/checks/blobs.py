"""Checks of what a succeeded Graph export produced: the manifest, its blobs, and basic versus full.

Rules GR-RESPONSE-SCHEMA (Manifest), GR-RESPONSE-UNDECLARED-PROPERTY, GR-MANIFEST-BLOBCOUNT,
GR-BLOB-URL, GR-BLOB-GZIP-JSONL, GR-EXPORT-BASIC-SUBSET.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from ..findings import Exchange, Finding, finding
from ..protocol.graph import blob_url, manifest_blobs  # noqa: F401
from ..redact import REDACTOR
from ..traffic.blob_stream import BlobOutcome
from .common import check_schema
from .registry import GR_ATTRIBUTE_SETS, GR_BLOB, GR_BLOB_READ, GR_BLOB_URL, GR_MANIFEST, GR_MANIFEST_INLINE, check, run

GRAPH_SPEC = "graph"


def redacted(f: Finding) -> Finding:
    """Blob URLs carry the SAS token: mask its signature in everything the finding shows."""
    return replace(f, message=REDACTOR(f.message), actual=REDACTOR(f.actual), curl=REDACTOR(f.curl), url=REDACTOR(f.url))


@check(GR_MANIFEST_INLINE, rules=("GR-RESPONSE-SCHEMA", "GR-RESPONSE-UNDECLARED-PROPERTY", "GR-MANIFEST-BLOBCOUNT"))
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


@check(GR_MANIFEST, rules=("GR-RESPONSE-SCHEMA", "GR-RESPONSE-UNDECLARED-PROPERTY", "GR-MANIFEST-BLOBCOUNT"))
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


@check(GR_BLOB, rules=("GR-BLOB-URL",))
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


@check(GR_BLOB_READ, rules=("GR-BLOB-GZIP-JSONL",))
def check_blob_content(outcome: BlobOutcome) -> list[Finding]:
    """A blob read to its end is gzip holding JSON Lines (what reading it found; lines that are no object are
    counted by the row judge under the same rule)."""
    if outcome.problem is None or not outcome.downloaded:
        return []
    stats = outcome.stats
    return [
        redacted(
            finding(
                "GR-BLOB-GZIP-JSONL",
                f"blob {outcome.name}: {outcome.problem}",
                outcome.exchange,
                expected="gzip-compressed JSON Lines (one JSON object per line), read to the gzip trailer",
                actual=f"{stats.compressed:,} bytes read, {stats.inflated:,} inflated"
                + (f", Content-Type {outcome.exchange.header('content-type') or '(none)'}" if outcome.exchange else ""),
                operation=outcome.exchange.operation if outcome.exchange else "validate-export",
                blob=outcome.name, lines=[outcome.problem_line] if outcome.problem_line else [],
            )
        )
    ]


def check_blobs(manifest_exchange: Exchange | None, manifest: Any, blobs: Sequence[BlobOutcome]) -> list[Finding]:
    """Every blob the manifest lists was downloaded (200) and is gzip JSON Lines."""
    found: list[Finding] = []
    for blob in blobs:
        if blob.exchange is not None and not blob.inconclusive:
            found += run(GR_BLOB, blob.exchange)
        found += run(GR_BLOB_READ, blob)
        found += run(GR_BLOB_URL, blob, manifest_exchange=manifest_exchange)
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


@check(GR_BLOB_URL, rules=("GR-BLOB-URL-SAFE",))
def check_blob_url_safe(blob: BlobOutcome, manifest_exchange: Exchange | None = None) -> list[Finding]:
    """GR-BLOB-URL-SAFE (advisory): the runner refused the blob's URL (scheme, http under https, or an internal
    address); nothing was sent, and the blob's rows are unproven (the outcome is also inconclusive)."""
    if not blob.refused:
        return []
    return [redacted(finding("GR-BLOB-URL-SAFE", f"blob {blob.name}: {blob.refused}", manifest_exchange,
                             expected="an https URL on public storage (as the manifest example's "
                                      "https://....blob.core.windows.net)"))]


def unreadable(blobs: Iterable[BlobOutcome]) -> list[str]:
    """Why blobs could not be read to their end for reasons that are no drift (the check is then inconclusive)."""
    return [f"blob {b.name}: {REDACTOR(b.inconclusive)}" for b in blobs if b.inconclusive]


@check(GR_ATTRIBUTE_SETS, rules=("GR-EXPORT-BASIC-SUBSET",))
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
