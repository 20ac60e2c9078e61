"""The exported blobs: ``{rootDirectory}/{name}?{sasToken}``, gzip JSON Lines built from the line items, streamed.

An export of N rows (``--export-rows N``) is generated lazily and sent chunk by chunk, so a million rows cost
no more memory than forty. Row ``i`` of a blob is ``export_row(line_item(seed, data set, i mod 4096))``: exact
line items up to 4096 rows, then the same 4096 again. The gzip stream is assembled from raw-deflate segments of
256 rows, each compressed once after a full flush (so a segment's bytes do not depend on what came before it)
and kept in a small cache; the CRC-32 is computed as the bytes go out. That keeps the mock several times faster
than any reader (bench/bench_rows.py measures it alone), so a benchmark measures the reader, not the mock.

Row drift profiles (``gr-row-*``, ``gr-blob-truncated``) and the conforming export alternatives (``export-*``)
change rows here; see mock/profiles.py.
"""

from __future__ import annotations

import hmac
import math
import struct
import zlib
from collections.abc import AsyncIterator, Iterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from .drift import Drift
from .data import kind_row, line_item, usage_meter
from .responses import storage_error
from .state import Manifest, MockState

PERIOD = 4096  # distinct rows; row i repeats row i % PERIOD
SEGMENT = 256  # rows per cached deflate segment (PERIOD is a multiple)
CHUNK = 256 * 1024  # bytes per body chunk sent
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # deflate, no name, mtime 0, unknown OS
_FINAL_BLOCK = b"\x03\x00"  # an empty final fixed-Huffman block: ends the deflate stream


def export_blob_rows(state: MockState, count: int) -> int:
    """Rows per blob of an export of ``count`` rows (blob_layout many-blobs spreads them over at least 6 blobs)."""
    rows = state.config.blob_rows
    if state.knobs.blob_layout == "many-blobs":
        rows = max(1, min(rows, math.ceil(count / 6) if count else 1))
    return rows


# ------------------------------------------------------------------ rows


def _camel(name: str) -> str:
    if name.startswith("PCToBC"):
        return "pcToBC" + name[6:]
    return name[0].lower() + name[1:]


_RECON_FILE_NAMES = {"TotalForCustomer": "Total", "ResellerMpnId": "Tier2MpnId", "ReferenceId": "ReferenceID",
                     "PromotionId": "PromotionID"}
_NUMERIC = ("ResellerMpnId", "UnitPrice", "EffectiveUnitPrice", "Quantity", "Subtotal", "TaxTotal", "TotalForCustomer",
            "PCToBCExchangeRate", "BillableQuantity")
_DATES = ("OrderDate", "ChargeStartDate", "ChargeEndDate", "PCToBCExchangeRateDate", "SubscriptionStartDate",
          "SubscriptionEndDate")


def _us_date(value: object) -> object:
    """``2024-01-05T…`` -> ``1/5/2024``, the recon file's format."""
    if isinstance(value, str) and len(value) >= 10 and value[4] == "-":
        return f"{int(value[5:7])}/{int(value[8:10])}/{value[:4]}"
    return value


def blob_row(state: MockState, m: Manifest, i: int) -> dict:
    """Row ``i`` of an export as the profile serves it."""
    cfg = state.config
    knobs = state.knobs
    d = state.drift
    # migration parity drift: every 10th row of an unbilled reconciliation export is an item Partner Center does not list
    n = i + m.count if knobs.export_parity == "items-differ" and m.kind == "unbilled-reconciliation" and i % 10 == 3 else i
    # rows are built, drifted and respelled in PascalCase; the key case comes last, so that every knob and drift
    # takes on camelCase rows too (a drift layered on row_key_case=camel still drifts)
    row = kind_row(m.kind, line_item(cfg.seed, m.dataset, n, m.currency), m.attribute_set)
    if knobs.extra_properties == "present":
        row["PricingModel"] = "Commitment"
    if Drift.GR_BASIC_NOT_SUBSET in d and m.attribute_set == "basic":
        row["RowVersion"] = 1
    # ---------------------------------------------------------- row drift (issue 10)
    if Drift.GR_ROW_COLUMN_RENAMED in d:
        row["SubscriptionGuid"] = row.pop("SubscriptionId", "")
    if Drift.GR_ROW_COLUMN_DROPPED in d:
        if i % 3 == 1:
            row.pop("ChargeEndDate", None)
    if Drift.GR_ROW_RETYPED in d:
        if i % 5 == 2 and "UnitPrice" in row:
            row["UnitPrice"] = {"amount": row["UnitPrice"], "currency": m.currency}
    if Drift.GR_ROW_BAD_DATES in d:
        if i % 4 == 1:
            start = str(row.get("ChargeStartDate", ""))
            row["ChargeStartDate"] = f"{start[8:10]}.{start[5:7]}.{start[:4]}" if len(start) >= 10 else "not a date"
    if Drift.GR_ROW_OTHER_INVOICE in d:
        if i % 10 == 7 and "InvoiceNumber" in row:
            row["InvoiceNumber"] = "G999999999"
    if Drift.GR_ROW_RENAMED_IN_ONE_BLOB in d:
        if i < m.blob_rows and "UnitPrice" in row:
            row["Price"] = row.pop("UnitPrice")
    # ---------------------------------------------------------- the export family's drift (one member each)
    if Drift.GR_UNBILLED_RECON_WRONG_CURRENCY in d and m.kind == "unbilled-reconciliation":
        if i % 4 == 2 and "Currency" in row:
            row["Currency"] = "EUR" if m.currency != "EUR" else "USD"
    if Drift.GR_USAGE_BASIC_EXTRA in d and m.kind == "billed-usage" and m.attribute_set == "basic":
        row["MeterId"] = usage_meter(i)
    if Drift.GR_UNBILLED_USAGE_COLUMN_DROPPED in d and m.kind == "unbilled-usage":
        row.pop("MeterCategory", None)
    if Drift.PARITY_OTHER_CURRENCY in d and m.kind == "unbilled-reconciliation":
        other = "EUR" if m.currency != "EUR" else "USD"
        row = kind_row(m.kind, line_item(cfg.seed, m.dataset, n, other), m.attribute_set)
    if Drift.PARITY_FIELD_RENAMED in d and m.kind == "unbilled-reconciliation":
        if "UnitPrice" in row:
            row["Price"] = row.pop("UnitPrice")
    if Drift.GR_AGG_ROW_RETYPED in d and m.kind == "billed-aggregated-usage":
        if i % 3 == 0 and "PartnerPrice" in row:
            row["PartnerPrice"] = {"amount": row["PartnerPrice"], "currency": m.currency}
    if knobs.export_parity == "amounts-differ" and m.kind == "unbilled-reconciliation":
        if i % 7 == 5 and isinstance(row.get("Subtotal"), (int, float)):
            row["Subtotal"] = round(row["Subtotal"] + 0.05, 2)
    if knobs.row_nulls == "dropped":  # Spark's JSON writer drops null fields (ignoreNullFields): empty values go
        row = {k: v for k, v in row.items() if v not in ("", None)}
    # ---------------------------------------------------------- conforming alternatives (register knobs)
    # the same items as the line items (every 4th from the second): the export holds the data Partner Center lists
    if knobs.charge_date_order == "some-reversed" and n % 4 == 1 and "ChargeEndDate" in row:  # a credit's reversed period
        row["ChargeStartDate"], row["ChargeEndDate"] = row["ChargeEndDate"], row["ChargeStartDate"]
    if knobs.row_number_encoding == "string":
        for key in _NUMERIC:
            if key in row and isinstance(row[key], (int, float)):
                row[key] = repr(row[key]) if isinstance(row[key], float) else str(row[key])
    if knobs.row_column_style == "recon-file":
        for key in _DATES:
            if key in row:
                row[key] = _us_date(row[key])
        if isinstance(row.get("ProductQualifiers"), list):
            row["ProductQualifiers"] = "[" + ",".join(f'"{q}"' for q in row["ProductQualifiers"]) + "]"
        row = {_RECON_FILE_NAMES.get(k, k): v for k, v in row.items()}
    camel = knobs.row_key_case == "camel"
    if Drift.GR_ROW_MIXED_CASING in d and i % 2 == 1:  # every other row in the other case
        camel = not camel
    return {_camel(k): v for k, v in row.items()} if camel else row


def blob_bytes(state: MockState, manifest_id: str, index: int) -> bytes:
    """The JSON lines of one blob (not compressed), for tests and small blobs."""
    m = state.manifests[manifest_id]
    start, end = blob_range(state, m, index)
    return b"".join(_raw(state, m, i, stop, stop == end)
                    for i in _segment_starts(start, end) for stop in [min(i + SEGMENT - i % SEGMENT, end)])


def blob_range(state: MockState, m: Manifest, index: int) -> tuple[int, int]:
    if state.knobs.empty_blob == "present" and index == len(m.blob_names) - 1:
        return 0, 0
    start = index * m.blob_rows
    return start, max(start, min(start + m.blob_rows, m.count))


def _segment_starts(start: int, end: int) -> Iterator[int]:
    i = start
    while i < end:
        yield i
        i = min(i + SEGMENT - i % SEGMENT, end)


_dumps = __import__("json").JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _raw(state: MockState, m: Manifest, start: int, end: int, last: bool = False) -> bytes:
    """Rows ``start..end`` as JSON lines; the blob's ``last`` segment drops its final newline when the knob says so."""
    text = "".join(_dumps(blob_row(state, m, i % m.period)) + "\n" for i in range(start, end))
    if last and state.knobs.row_final_newline == "absent":
        text = text[:-1]
    return text.encode()


def segment(state: MockState, m: Manifest, start: int, end: int, last: bool = False) -> tuple[bytes, bytes]:
    """(deflate bytes, the raw rows) of rows ``start:end``, cached by (manifest, start mod PERIOD, length) in the state;
    raw deflate after a full flush; ``last``: the blob's final segment."""

    def build() -> tuple[bytes, bytes]:
        raw = _raw(state, m, start, end, last)
        deflater = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        return deflater.compress(raw) + deflater.flush(zlib.Z_FULL_FLUSH), raw

    return state.segments.get((m.id, start % m.period, end - start, last), build)


def gzip_chunks(state: MockState, m: Manifest, index: int) -> Iterator[bytes]:
    """The gzip stream of one blob, chunk by chunk (``gr-blob-truncated`` breaks off halfway through the first blob,
    the largest one, with no gzip trailer; the HTTP response itself ends normally)."""
    start, end = blob_range(state, m, index)
    cut = None
    if Drift.GR_BLOB_TRUNCATED in state.drift and index == 0:
        cut = start + (end - start) // 2  # a one-row blob breaks off inside its only row
    crc, size = 0, 0
    out = [_GZIP_HEADER]
    pending = len(_GZIP_HEADER)
    for i in _segment_starts(start, end):
        stop = min(i + SEGMENT - i % SEGMENT, end)
        data, raw = segment(state, m, i, stop, stop == end)
        if cut is not None and stop > cut:
            out.append(data[: max(1, len(data) // 2)])  # the stream breaks off inside a deflate segment
            yield b"".join(out)
            return
        crc = zlib.crc32(raw, crc)  # a few GB/s: cheap next to building the rows
        size += len(raw)
        out.append(data)
        pending += len(data)
        if pending >= CHUNK:
            yield b"".join(out)
            out, pending = [], 0
    out.append(_FINAL_BLOCK + struct.pack("<II", crc & 0xFFFFFFFF, size & 0xFFFFFFFF))
    yield b"".join(out)


async def download(request: Request, state: MockState, path: str) -> Response:
    found = state.blobs.get(path)
    if found is None:
        return storage_error(404, "BlobNotFound", "The specified blob does not exist.")
    manifest_id, index = found
    transient = state.transient("blob")
    if transient is not None:  # Azure Storage: 503 ServerBusy and 500 are retryable (transients.py)
        code = {429: "TooManyRequests", 500: "InternalError", 503: "ServerBusy"}[transient.status]
        busy = storage_error(transient.status, code, "The server is busy." if transient.status != 500 else
                             "The server encountered an internal error. Please retry the request.")
        if transient.retry_after:
            busy.headers["Retry-After"] = state.config.retry_after_header
        return busy
    sig = request.query_params.get("sig")
    if Drift.GR_BLOB_SAS_REJECTED in state.drift or not sig or not hmac.compare_digest(sig.encode(), state.manifests[manifest_id].sig.encode()):
        return storage_error(403, "AuthenticationFailed", "Server failed to authenticate the request. Make sure the "
                             "value of Authorization header is formed correctly including the signature.")
    headers = {"x-ms-blob-type": "BlockBlob", "x-ms-version": "2021-08-06"}
    m = state.manifests[manifest_id]
    if Drift.GR_BLOB_NOT_GZIP in state.drift or (Drift.GR_LAST_BLOB_NOT_GZIP in state.drift and index == len(m.blob_names) - 1):
        return Response(blob_bytes(state, manifest_id, index), 200, media_type="application/octet-stream", headers=headers)
    async def body() -> AsyncIterator[bytes]:
        for chunk in gzip_chunks(state, m, index):
            yield chunk

    return StreamingResponse(body(), 200, media_type="application/octet-stream", headers=headers)
