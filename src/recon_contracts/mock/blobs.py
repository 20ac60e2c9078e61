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
    start = index * m.rows_per_blob
    end = min(start + m.rows_per_blob, m.count)
    knobs = state.knobs
    camel = knobs.row_key_case == "camel"
    extra: dict = {}
    if knobs.extra_properties == "present":
        extra["PricingModel"] = "Commitment"
    if state.has("gr-basic-not-subset") and m.attribute_set == "basic":
        extra["RowVersion"] = 1
    dumps = json.JSONEncoder(separators=(",", ":")).encode
    lines = []
    for i in range(start, end):
        row = export_row(line_item(cfg.seed, m.dataset, i, m.currency), m.attribute_set, camel)
        if extra:
            row.update(extra)
        lines.append(dumps(row))
    if not lines:
        return b""
    return ("\n".join(lines) + ("\n" if knobs.row_final_newline == "present" else "")).encode()


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
    plain = state.has("gr-blob-not-gzip") or (
        state.has("gr-last-blob-not-gzip") and index == len(state.manifests[manifest_id].blob_names) - 1)
    if not plain:
        data = gzip.compress(data, compresslevel=5, mtime=0)
    return Response(data, 200, media_type="application/octet-stream",
                    headers={"x-ms-blob-type": "BlockBlob", "x-ms-version": "2021-08-06"})
