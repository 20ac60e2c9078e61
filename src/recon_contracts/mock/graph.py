"""Microsoft Graph ``reports/partners/billing``: reconciliation exports, operations and manifests."""

from __future__ import annotations

import json
import math
import re
import secrets
import string
import time
import uuid
from datetime import timedelta
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from ..truth.exports import ExportKind, kind_of_path
from .data import billing_month, partner_id, stable_guid
from .responses import (GRAPH_JSON, base_url, bearer_ok, graph_error, graph_headers, iso_7, iso_seconds,
                        json_response, retry_after, utcnow)
from .responses import wait_seconds as _wait
from .blobs import PERIOD, export_blob_rows
from .drift import Drift
from .state import Manifest, MockState, Operation

NS = "#microsoft.graph.partners.billing."
KNOWN_INVOICE = re.compile(r"^G\d{9}$")
MAX_BODY = 64 * 1024
_CURRENCY = re.compile(r"^[A-Za-z]{3}$")
_ALNUM = string.ascii_letters + string.digits
# rootDirectory containers: billedusagefastpath/unbilledusagefastpath as in the docs example and real manifests
# (domain notes B.1); the reconciliation and aggregated-usage ones are not documented (no public manifest shows them)
_CONTAINERS = {"billed-reconciliation": "billedreconfastpath", "unbilled-reconciliation": "unbilledreconfastpath",
               "billed-usage": "billedusagefastpath", "unbilled-usage": "unbilledusagefastpath",
               "billed-aggregated-usage": "billedaggregatedusagefastpath"}
ODATA_JSON = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"


def _media(state: MockState) -> str:
    return ODATA_JSON if state.knobs.graph_content_type == "odata-json" else GRAPH_JSON


class BadExport(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def gate(request: Request, state: MockState) -> Response | None:
    """Checks every Graph request passes first: the transient 503 and the bearer token."""
    knobs = state.knobs
    state.graph_requests += 1
    if (knobs.unavailable == "forever" or (knobs.unavailable == "once" and state.graph_requests == 1)
            or (knobs.unavailable == "after-first" and state.graph_requests > 1)):
        return graph_error(request, 503, "serviceNotAvailable", "The service is temporarily unavailable.",
                           {"Retry-After": retry_after(_wait(knobs.unavailable), knobs.retry_after_format)})
    if not bearer_ok(request) and Drift.GR_NO_AUTH not in state.drift:
        return graph_error(request, 401, "InvalidAuthenticationToken", "Access token is empty.",
                           {"WWW-Authenticate": 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/'
                            'common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"'})
    if knobs.throttling == "forever" or (knobs.throttling == "after-first" and state.graph_requests > 1):
        return graph_error(request, 429, "TooManyRequests", "Too many requests.",
                           {"Retry-After": retry_after(_wait(knobs.throttling), knobs.retry_after_format)})
    return None


def _transient(request: Request, state: MockState, step: str) -> Response | None:
    """A 429/503 the configuration places at this request of ``step`` (``transients.py``), or None."""
    t = state.transient(step)
    if t is None:
        return None
    headers = {"Retry-After": state.config.retry_after_header} if t.retry_after else {}
    if t.status == 429:
        return graph_error(request, 429, "TooManyRequests", "Too many requests.", headers)
    return graph_error(request, 503, "serviceNotAvailable", "The service is temporarily unavailable.", headers)


# ------------------------------------------------------------------ export

def _kind(segment: str, version: str) -> ExportKind | None:
    """The family member at ``segment`` (``usage/billed``…) that ``version`` serves, or None (the beta-only export
    is not on v1.0: Graph answers an unknown segment 404)."""
    found = kind_of_path(f"/reports/partners/billing/{segment}/export")
    if found is None or version not in found[0].versions:
        return None
    return found[0]


async def export(request: Request, state: MockState, version: str, segment: str, qualified: bool) -> Response:
    transient = _transient(request, state, "gr-export")
    if transient is not None:
        return transient
    kind = _kind(segment, version)
    if kind is None:
        return graph_error(request, 404, "BadRequest",
                           f"Resource not found for the segment '{segment.split('/')[0]}'.")
    if qualified and Drift.GR_QUALIFIED_NAME_404 in state.drift:
        return graph_error(request, 404, "BadRequest",
                           "Resource not found for the segment 'microsoft.graph.partners.billing.export'.")
    lenient = state.knobs.bad_export_request == "accepted"
    try:
        dataset, currency, attribute_set, invoice_id = await _read_export(request, kind, state)
    except BadExport as exc:
        if Drift.GR_BAD_REQUEST_500 in state.drift:
            return graph_error(request, 500, "InternalServerError", "An unexpected error occurred.")
        if not lenient:
            return graph_error(request, exc.status, exc.code, exc.message)
        dataset, currency, attribute_set, invoice_id = None, "USD", "full", None

    now = utcnow()
    op = Operation(id=str(uuid.uuid4()), created=now.replace(microsecond=0), last_action=now, dataset=dataset,
                   currency=currency, attribute_set=attribute_set, invoice_id=invoice_id, started=time.monotonic(),
                   kind=kind.name)
    state.operations[op.id] = op
    headers = graph_headers(request)
    if Drift.GR_LOCATION_MISSING not in state.drift:
        where = version if state.knobs.location_form == "absolute-same-version" else (
            "beta" if version == "v1.0" else "v1.0")  # the v1.0 unbilled page's own example points to /beta
        headers["Location"] = f"{base_url(request)}/{where}/reports/partners/billing/operations/{op.id}"
    if state.knobs.export_202_retry_after == "present":
        headers["Retry-After"] = retry_after(math.ceil(state.config.retry_after), state.knobs.retry_after_format)
    if state.knobs.export_202_body == "operation-json":
        return json_response(_operation_body(request, state, version, op, "notStarted"), 202, headers, _media(state))
    return Response(b"", 202, headers=headers)


async def _read_export(request: Request, kind: ExportKind, state: MockState) -> tuple[str | None, str, str, str | None]:
    knobs = state.knobs
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json":
        status, code = (415, "UnsupportedMediaType") if knobs.bad_content_type_status == "415" else (400, "BadRequest")
        raise BadExport(status, code, f"Content-Type '{media or '(none)'}' is not supported; send application/json.")
    body = await request.body()
    if len(body) > MAX_BODY:
        raise BadExport(413, "RequestEntityTooLarge", "The request body is too large.")
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BadExport(400, "BadRequest", "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise BadExport(400, "BadRequest", "The request body must be a JSON object of the action's parameters.")
    allowed = {"invoiceId"} if kind.billed else {"currencyCode", "billingPeriod"}
    if kind.attribute_sets:
        allowed.add("attributeSet")
    if knobs.export_body_case == "case-insensitive":
        spelled = {a.lower(): a for a in allowed}
        data = {spelled.get(k.lower(), k): v for k, v in data.items()}
    for key in data:
        if "@" not in key and key not in allowed:
            raise BadExport(400, "BadRequest", f"The parameter '{key}' in the request payload is not a valid "
                            "parameter for the operation 'export'.")
    attribute_set = data.get("attributeSet", "full")
    if attribute_set is None:
        attribute_set = "full"
    if (isinstance(attribute_set, str) and attribute_set.lower() == "unknownfuturevalue"
            and knobs.attribute_set_future == "accepted"):
        attribute_set = "full"
    if not isinstance(attribute_set, str) or attribute_set.lower() not in ("full", "basic"):
        raise BadExport(400, "BadRequest", f"The attributeSet '{attribute_set}' is not supported; use full or basic.")
    attribute_set = attribute_set.lower()
    if kind.billed:
        invoice_id = data.get("invoiceId")
        if not isinstance(invoice_id, str) or not invoice_id.strip():
            raise BadExport(400, "BadRequest", "The parameter 'invoiceId' is required.")
        dataset = invoice_id if KNOWN_INVOICE.match(invoice_id) else None
        return dataset, "USD", attribute_set, invoice_id
    currency = data.get("currencyCode")
    if not isinstance(currency, str) or not _CURRENCY.match(currency):
        raise BadExport(400, "BadRequest", "The parameter 'currencyCode' is required (a 3-letter ISO 4217 code).")
    period = data.get("billingPeriod")
    if not isinstance(period, str) or period.lower() not in ("current", "last"):
        raise BadExport(400, "BadRequest", "The parameter 'billingPeriod' is required (current or last).")
    dataset = "unbilled:current" if period.lower() == "current" else "unbilled:previous"
    return dataset, currency.upper(), attribute_set, None


# ------------------------------------------------------------------ operations

def _context(request: Request, version: str, entity: str) -> str:
    return f"{base_url(request)}/{version}/$metadata#reports/partners/billing/{entity}/$entity"


def _terminal_status(op: Operation, state: MockState) -> str:
    if op.dataset is None:
        return "failed"
    if state.items > 0 or state.knobs.empty_export == "succeeded-no-blobs":
        return "completed" if state.knobs.success_status == "completed" else "succeeded"
    return "failed"


def _advance(op: Operation, state: MockState) -> str:
    cfg = state.config
    knobs = state.knobs
    op.polls += 1
    n = op.polls
    if op.terminal_polls:
        op.terminal_polls += 1
        if knobs.op_terminal == "flapping" and op.terminal_polls == 2:
            return "running"
        return op.status
    pending = cfg.poll_count + (5 if knobs.op_duration == "slow" else 0)
    if knobs.op_progression == "immediate":
        pending = 0
    if knobs.op_status_order == "backwards":
        pending = max(pending, 3)
    elapsed = time.monotonic() - op.started
    ready = n > pending and elapsed >= cfg.poll_seconds and knobs.op_duration != "never"
    if ready:
        op.terminal_polls = 1
        return _terminal_status(op, state)
    if knobs.op_status_order == "backwards":
        return "notStarted" if n == 2 else "running"
    return "notStarted" if n == 1 and knobs.op_progression == "notstarted-running" else "running"


async def get_operation(request: Request, state: MockState, version: str, op_id: str) -> Response:
    transient = _transient(request, state, "gr-poll")
    if transient is not None:
        return transient
    op = state.operations.get(op_id.lower())
    if op is None:
        if state.knobs.unknown_operation == "404":
            return graph_error(request, 404, "itemNotFound", f"The operation '{op_id}' was not found.")
        now = utcnow()
        op = Operation(id=op_id, created=now.replace(microsecond=0), last_action=now, dataset=None,
                       currency="USD", attribute_set="full", invoice_id=None)
        return _operation_response(request, state, version, op, "running")
    if state.knobs.throttling == "intermittent":
        state.graph_polls += 1
        if state.graph_polls == 1:
                return graph_error(request, 429, "TooManyRequests", "Too many requests. Retry after 1 seconds.",
                               {"Retry-After": retry_after(1, state.knobs.retry_after_format)})
    status = _advance(op, state)
    if status != op.status:
        if op.status not in ("succeeded", "failed"):
            op.last_action = max(utcnow(), op.last_action)
        op.status = status
    if status in ("succeeded", "completed") and op.manifest_id is None:
        op.manifest_id = _make_manifest(request, state, op).id
    return _operation_response(request, state, version, op, status)


def _operation_response(request: Request, state: MockState, version: str, op: Operation, status: str) -> Response:
    body = _operation_body(request, state, version, op, status)
    headers = graph_headers(request)
    if status in ("notStarted", "running"):
        headers["Retry-After"] = retry_after(math.ceil(state.config.retry_after), state.knobs.retry_after_format)
    return json_response(body, 200, headers, _media(state))


def _operation_body(request: Request, state: MockState, version: str, op: Operation, status: str) -> dict:
    knobs = state.knobs
    created = iso_seconds(op.created, "" if knobs.created_offset == "none" else "Z")
    last = op.last_action
    if knobs.op_timestamp_order == "reversed":
        last = op.created - timedelta(hours=1)
    succeeded = status in ("succeeded", "completed")
    kind = "exportSuccessOperation" if succeeded else "failedOperation" if status == "failed" else "runningOperation"
    if Drift.GR_ODATA_TYPE_MISMATCH in state.drift and succeeded:
        kind = "runningOperation"
    body: dict = {"@odata.context": _context(request, version, "operations"), "@odata.type": NS + kind,
                  "id": op.id, "status": status, "createdDateTime": created, "lastActionDateTime": iso_7(last)}
    if knobs.odata_context == "absent":
        del body["@odata.context"]
    if Drift.GR_OPERATION_MISSING_FIELDS in state.drift:
        del body["createdDateTime"]
    if knobs.extra_properties == "present":
        body["percentComplete"] = 100 if status in ("succeeded", "completed", "failed") else 50
    if succeeded and Drift.GR_SUCCESS_WITHOUT_MANIFEST not in state.drift:
        manifest = state.manifests[op.manifest_id]  # type: ignore[index]
        if knobs.resource_location in ("navigation-link", "both"):
            body["resourceLocation@odata.navigationLink"] = (
                f"{base_url(request)}/{version}/reports/partners/billing/manifests/{manifest.id}")
        if knobs.resource_location in ("inline", "both"):
            body["resourceLocation"] = dict(manifest.body)
    elif status == "failed" and Drift.GR_FAILED_WITHOUT_ERROR not in state.drift:
        body["error"] = {"code": "5000", "message": "No data available"}
    return body


# ------------------------------------------------------------------ manifests

def _make_manifest(request: Request, state: MockState, op: Operation) -> Manifest:
    cfg = state.config
    knobs = state.knobs
    assert op.dataset is not None
    count = cfg.export_rows if cfg.export_rows is not None else state.items
    tenant = partner_id(cfg.seed)
    year, month = billing_month(cfg.seed, op.dataset)
    created = utcnow()
    container = _CONTAINERS[op.kind]
    fragment = f"Fragment={op.attribute_set}/" if op.kind != "billed-aggregated-usage" else ""
    if op.dataset.startswith("unbilled:"):
        root_path = (f"/blobs/{container}/v1/{created:%Y%m%d%H%M}/PartnerTenantId={tenant}/"
                     f"BillingMonth={year}{month:02d}/Currency={op.currency}/{fragment}"
                     "PartitionType=default")
    else:
        ny, nm = (year + 1, 1) if month == 12 else (year, month + 1)
        root_path = (f"/blobs/{container}/v1/PartnerTenantId={tenant}/BillingMonth={year}{month:02d}/"
                     f"InvoiceId={op.dataset}/InvoiceVersion={ny}{nm:02d}080713/{fragment}"
                     "PartitionType=default")
    manifest_id = str(uuid.uuid4())
    rows_per_blob = export_blob_rows(state, count)
    n_blobs = math.ceil(count / rows_per_blob) + (1 if knobs.empty_blob == "present" else 0)
    names = tuple(f"part-{k:05d}-{uuid.uuid4()}.c000.json.gz" for k in range(n_blobs))
    sig = secrets.token_urlsafe(32).replace("-", "+").replace("_", "/") + "="
    stamp = lambda d: quote(iso_seconds(d), safe="")  # noqa: E731
    sas = (f"skoid={stable_guid('skoid', cfg.seed)}&sktid={stable_guid('sktid', cfg.seed)}&skt={stamp(created)}"
           f"&ske={stamp(created + timedelta(days=1))}&sks=b&skv=2021-08-06&sv=2021-08-06"
           f"&se={stamp(created + timedelta(hours=1 if knobs.sas_lifetime == '1h' else 12))}&sr=d&sp=rl&sdd=7&sig={quote(sig, safe='')}")
    blobs = [{"name": name, "partitionValue": "default"} for name in names]
    if knobs.extra_properties == "present":
        for k, blob in enumerate(blobs):
            blob["itemCount"] = max(0, min(rows_per_blob, count - k * rows_per_blob))
    body = {
        "id": manifest_id,
        "schemaVersion": knobs.manifest_schema_version,
        "dataFormat": knobs.manifest_data_format,
        "createdDateTime": created.strftime("%Y-%m-%dT%H:%M:%S.") + f"{created.microsecond // 10000:02d}Z",
        "eTag": "".join(secrets.choice(_ALNUM) for _ in range(17)),
        "partnerTenantId": tenant,
        "rootDirectory": base_url(request) + root_path,
        "sasToken": sas,
        "partitionType": knobs.manifest_partition_type,
        "blobCount": n_blobs + (1 if Drift.GR_BLOBCOUNT_WRONG in state.drift else 0),
        "blobs": blobs,
    }
    if knobs.extra_properties == "present":
        body["dataVersion"] = created.strftime("%Y%m%d%H%M")
    manifest = Manifest(id=manifest_id, body=body, root_path=root_path, sig=sig, dataset=op.dataset,
                        currency=op.currency, attribute_set=op.attribute_set, count=count, blob_names=names,
                        blob_rows=rows_per_blob, kind=op.kind,
                        # exact rows when the export is the data set itself (parity compares them item by item);
                        # --export-rows exports repeat PERIOD distinct rows (benchmarks)
                        period=PERIOD if cfg.export_rows is not None else max(count, 1))
    state.manifests[manifest_id] = manifest
    for k, name in enumerate(names):
        state.blobs[f"{root_path}/{name}"] = (manifest_id, k)
    return manifest


async def get_manifest(request: Request, state: MockState, version: str, manifest_id: str) -> Response:
    transient = _transient(request, state, "gr-manifest")
    if transient is not None:
        return transient
    manifest = state.manifests.get(manifest_id.lower())
    if manifest is None:
        return graph_error(request, 404, "itemNotFound", f"The manifest '{manifest_id}' was not found.")
    body = {"@odata.context": _context(request, version, "manifests"), **manifest.body}
    if state.knobs.odata_context == "absent":
        del body["@odata.context"]
    return json_response(body, 200, graph_headers(request), _media(state))
