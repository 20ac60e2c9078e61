"""Graph partner-billing export's vocabulary: paths, operation names, the operation's states, the manifest's links.

The states (which are terminal, which mean success) are read from ``contracts/operation-states.yaml``;
nothing else in the package spells a status. Nothing here judges: the checks do.
"""

from __future__ import annotations

from typing import Any

from ..findings import Exchange
from ..truth.exports import BILLED_RECONCILIATION, ExportKind
from ..truth.rules import operation_states

API = "graph"
EXPORT_PATHS = {
    "short": "/reports/partners/billing/reconciliation/billed/export",
    "qualified": "/reports/partners/billing/reconciliation/billed/microsoft.graph.partners.billing.export",
}
EXPORT_OPERATIONS = {spelling: f"POST {path}" for spelling, path in EXPORT_PATHS.items()}
POLL_OPERATION = "GET /reports/partners/billing/operations/{operation-id}"
MANIFEST_OPERATION = "GET /reports/partners/billing/manifests/{manifest-id}"
BLOB_OPERATION = "GET {rootDirectory}/{blob-name}?{sasToken}"
NAV_LINK = "resourceLocation@odata.navigationLink"


def export_operation(spelling: str, kind: ExportKind = BILLED_RECONCILIATION) -> str:
    """The operation name of an export member's POST on one of its two URL spellings ("short", "qualified")."""
    return kind.operation(spelling)


def operation_body(exchange: Exchange) -> dict[str, Any] | None:
    """The poll's body when it is a 200 with a JSON object, else None."""
    if exchange.status != 200:
        return None
    try:
        body = exchange.json()
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


def status_of(exchange: Exchange) -> str | None:
    body = operation_body(exchange)
    status = body.get("status") if body else None
    return status if isinstance(status, str) else None


def is_terminal(status: str | None) -> bool:
    return status in operation_states().terminal


def is_success(status: str | None) -> bool:
    """A terminal status that means the export's data is there ('succeeded', and 'completed' of the prose)."""
    return status in operation_states().success


def blob_url(manifest: dict[str, Any], blob: dict[str, Any]) -> str:
    """rootDirectory + "/" + name + "?" + sasToken, as Microsoft's sample builds it."""
    root = str(manifest.get("rootDirectory") or "")
    sas = str(manifest.get("sasToken") or "").lstrip("?")
    return f"{root}/{blob.get('name', '')}" + (f"?{sas}" if sas else "")


def manifest_blobs(manifest: Any) -> list[dict[str, Any]]:
    blobs = manifest.get("blobs") if isinstance(manifest, dict) else None
    return [b for b in blobs if isinstance(b, dict)] if isinstance(blobs, list) else []
