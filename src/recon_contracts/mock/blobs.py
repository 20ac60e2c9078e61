"""The exported blobs: ``{rootDirectory}/{name}?{sasToken}``, gzip JSON Lines built from the line items."""

from __future__ import annotations

import gzip
import hmac
import json

from starlette.requests import Request
from starlette.responses import Response

from .data import export_row, line_item
from .responses import storage_error
from .state import MockState


def blob_bytes(state: MockState, manifest_id: str, index: int) -> bytes:
    """The JSON lines of one blob (not compressed)."""
    cfg = state.config
    m = state.manifests[manifest_id]
    start = index * cfg.blob_rows
    end = min(start + cfg.blob_rows, m.count)
    extra: dict = {}
    if state.has("undeclared-properties"):
        extra["PricingModel"] = "Commitment"
    if state.has("gr-basic-not-subset") and m.attribute_set == "basic":
        extra["RowVersion"] = 1
    dumps = json.JSONEncoder(separators=(",", ":")).encode
    lines = []
    for i in range(start, end):
        row = export_row(line_item(cfg.seed, m.dataset, i, m.currency), m.attribute_set)
        if extra:
            row.update(extra)
        lines.append(dumps(row))
    return ("\n".join(lines) + "\n").encode() if lines else b""


async def download(request: Request, state: MockState, path: str) -> Response:
    found = state.blobs.get(path)
    if found is None:
        return storage_error(404, "BlobNotFound", "The specified blob does not exist.")
    manifest_id, index = found
    sig = request.query_params.get("sig")
    if state.has("gr-blob-sas-rejected") or not sig or not hmac.compare_digest(sig.encode(), state.manifests[manifest_id].sig.encode()):
        return storage_error(403, "AuthenticationFailed", "Server failed to authenticate the request. Make sure the "
                             "value of Authorization header is formed correctly including the signature.")
    data = blob_bytes(state, manifest_id, index)
    if not state.has("gr-blob-not-gzip"):
        data = gzip.compress(data, compresslevel=5, mtime=0)
    return Response(data, 200, media_type="application/octet-stream",
                    headers={"x-ms-blob-type": "BlockBlob", "x-ms-version": "2021-08-06"})
