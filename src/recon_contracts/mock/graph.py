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

from .data import billing_month, partner_id, stable_guid
from .responses import (GRAPH_JSON, base_url, bearer_ok, graph_error, graph_headers, iso_7, iso_seconds,
                        json_response, utcnow)
from .state import Manifest, MockState, Operation

NS = "#microsoft.graph.partners.billing."
KNOWN_INVOICE = re.compile(r"^G\d{9}$")
MAX_BODY = 64 * 1024
_CURRENCY = re.compile(r"^[A-Za-z]{3}$")
_ALNUM = string.ascii_letters + string.digits


class BadExport(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def gate(request: Request, state: MockState) -> Response | None:
    """Checks every Graph request passes first: the transient 503 and the bearer token."""
    state.graph_requests += 1
    if state.has("unavailable-once") and state.graph_requests == 1:
        return graph_error(request, 503, "serviceNotAvailable", "The service is temporarily unavailable.",
                           {"Retry-After": "1"})
    if not bearer_ok(request) and not state.has("gr-no-auth"):
        return graph_error(request, 401, "InvalidAuthenticationToken", "Access token is empty.",
                           {"WWW-Authenticate": 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/'
                            'common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"'})
    return None


# ------------------------------------------------------------------ export

async def export(request: Request, state: MockState, version: str, kind: str, qualified: bool) -> Response:
    if qualified and state.has("gr-qualified-name-404"):
        return graph_error(request, 404, "BadRequest",
                           "Resource not found for the segment 'microsoft.graph.partners.billing.export'.")
    lenient = state.has("gr-accepts-bad-request")
    try:
        dataset, currency, attribute_set, invoice_id = await _read_export(request, kind)
    except BadExport as exc:
        if state.has("gr-bad-request-500"):
            return graph_error(request, 500, "InternalServerError", "An unexpected error occurred.")
        if not lenient:
            return graph_error(request, exc.status, exc.code, exc.message)
        dataset, currency, attribute_set, invoice_id = None, "USD", "full", None

    now = utcnow()
    op = Operation(id=str(uuid.uuid4()), created=now.replace(microsecond=0), last_action=now, dataset=dataset,
                   currency=currency, attribute_set=attribute_set, invoice_id=invoice_id, started=time.monotonic())
    state.operations[op.id] = op
    headers = graph_headers(request)
    if not state.has("gr-location-missing"):
        headers["Location"] = f"{base_url(request)}/{version}/reports/partners/billing/operations/{op.id}"
    return Response(b"", 202, headers=headers)


async def _read_export(request: Request, kind: str) -> tuple[str | None, str, str, str | None]:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json":
        raise BadExport(415, "UnsupportedMediaType",
                        f"Content-Type '{media or '(none)'}' is not supported; send application/json.")
    body = await request.body()
    if len(body) > MAX_BODY:
        raise BadExport(413, "RequestEntityTooLarge", "The request body is too large.")
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BadExport(400, "BadRequest", "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise BadExport(400, "BadRequest", "The request body must be a JSON object of the action's parameters.")
    allowed = {"invoiceId", "attributeSet"} if kind == "billed" else {"currencyCode", "billingPeriod", "attributeSet"}
    for key in data:
        if "@" not in key and key not in allowed:
            raise BadExport(400, "BadRequest", f"The parameter '{key}' in the request payload is not a valid "
                            "parameter for the operation 'export'.")
    attribute_set = data.get("attributeSet", "full")
    if attribute_set is None:
        attribute_set = "full"
    if not isinstance(attribute_set, str) or attribute_set.lower() not in ("full", "basic"):
        raise BadExport(400, "BadRequest", f"The attributeSet '{attribute_set}' is not supported; use full or basic.")
    attribute_set = attribute_set.lower()
    if kind == "billed":
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
    items = 0 if state.has("empty") else state.config.items
    return "succeeded" if op.dataset is not None and items > 0 else "failed"


def _advance(op: Operation, state: MockState) -> str:
    cfg = state.config
    op.polls += 1
    n = op.polls
    if op.terminal_polls:
        op.terminal_polls += 1
        if state.has("gr-terminal-not-absorbing") and op.terminal_polls == 2:
            return "running"
        return op.status
    pending = cfg.poll_count + (5 if state.has("slow-operation") else 0)
    if state.has("gr-status-backwards"):
        pending = max(pending, 3)
    elapsed = time.monotonic() - op.started
    ready = n > pending and elapsed >= cfg.poll_seconds and not state.has("gr-never-finishes")
    if ready:
        op.terminal_polls = 1
        return _terminal_status(op, state)
    if state.has("gr-status-backwards"):
        return "notStarted" if n == 2 else "running"
    return "notStarted" if n == 1 else "running"


async def get_operation(request: Request, state: MockState, version: str, op_id: str) -> Response:
    op = state.operations.get(op_id.lower())
    if op is None:
        if not state.has("gr-unknown-operation-200"):
            return graph_error(request, 404, "itemNotFound", f"The operation '{op_id}' was not found.")
        now = utcnow()
        op = Operation(id=op_id, created=now.replace(microsecond=0), last_action=now, dataset=None,
                       currency="USD", attribute_set="full", invoice_id=None)
        return _operation_response(request, state, version, op, "running")
    if state.has("throttled"):
        state.graph_polls += 1
        if state.graph_polls == 1:
            return graph_error(request, 429, "TooManyRequests", "Too many requests. Retry after 1 seconds.",
                               {"Retry-After": "1"})
    status = _advance(op, state)
    if status != op.status:
        if op.status not in ("succeeded", "failed"):
            op.last_action = max(utcnow(), op.last_action)
        op.status = status
    if status == "succeeded" and op.manifest_id is None:
        op.manifest_id = _make_manifest(request, state, op).id
    return _operation_response(request, state, version, op, status)


def _operation_response(request: Request, state: MockState, version: str, op: Operation, status: str) -> Response:
    created = iso_seconds(op.created, "" if state.has("offsetless-created") else "Z")
    last = op.last_action
    if state.has("gr-timestamps-reversed"):
        last = op.created - timedelta(hours=1)
    kind = {"succeeded": "exportSuccessOperation", "failed": "failedOperation"}.get(status, "runningOperation")
    if state.has("gr-odata-type-mismatch") and status == "succeeded":
        kind = "runningOperation"
    body: dict = {"@odata.context": _context(request, version, "operations"), "@odata.type": NS + kind,
                  "id": op.id, "status": status, "createdDateTime": created, "lastActionDateTime": iso_7(last)}
    if state.has("gr-operation-missing-fields"):
        del body["createdDateTime"]
    if state.has("undeclared-properties"):
        body["percentComplete"] = 100 if status in ("succeeded", "failed") else 50
    headers = graph_headers(request)
    if status == "succeeded" and not state.has("gr-success-without-manifest"):
        manifest = state.manifests[op.manifest_id]  # type: ignore[index]
        if state.has("manifest-by-link"):
            body["resourceLocation@odata.navigationLink"] = (
                f"{base_url(request)}/{version}/reports/partners/billing/manifests/{manifest.id}")
        else:
            body["resourceLocation"] = dict(manifest.body)
    elif status == "failed" and not state.has("gr-failed-without-error"):
        body["error"] = {"code": "5000", "message": "No data available"}
    elif status in ("notStarted", "running"):
        headers["Retry-After"] = state.config.retry_after_header
    return json_response(body, 200, headers, GRAPH_JSON)


# ------------------------------------------------------------------ manifests

def _make_manifest(request: Request, state: MockState, op: Operation) -> Manifest:
    cfg = state.config
    assert op.dataset is not None
    count = cfg.items
    tenant = partner_id(cfg.seed)
    year, month = billing_month(cfg.seed, op.dataset)
    created = utcnow()
    if op.dataset.startswith("unbilled:"):
        root_path = (f"/blobs/unbilledreconfastpath/v1/{created:%Y%m%d%H%M}/PartnerTenantId={tenant}/"
                     f"BillingMonth={year}{month:02d}/Currency={op.currency}/Fragment={op.attribute_set}/"
                     "PartitionType=default")
    else:
        ny, nm = (year + 1, 1) if month == 12 else (year, month + 1)
        root_path = (f"/blobs/billedreconfastpath/v1/PartnerTenantId={tenant}/BillingMonth={year}{month:02d}/"
                     f"InvoiceId={op.dataset}/InvoiceVersion={ny}{nm:02d}080713/Fragment={op.attribute_set}/"
                     "PartitionType=default")
    manifest_id = str(uuid.uuid4())
    n_blobs = math.ceil(count / cfg.blob_rows)
    names = tuple(f"part-{k:05d}-{uuid.uuid4()}.c000.json.gz" for k in range(n_blobs))
    sig = secrets.token_urlsafe(32).replace("-", "+").replace("_", "/") + "="
    stamp = lambda d: quote(iso_seconds(d), safe="")  # noqa: E731
    sas = (f"skoid={stable_guid('skoid', cfg.seed)}&sktid={stable_guid('sktid', cfg.seed)}&skt={stamp(created)}"
           f"&ske={stamp(created + timedelta(days=1))}&sks=b&skv=2021-08-06&sv=2021-08-06"
           f"&se={stamp(created + timedelta(hours=12))}&sr=d&sp=rl&sdd=7&sig={quote(sig, safe='')}")
    blobs = [{"name": name, "partitionValue": "default"} for name in names]
    if state.has("undeclared-properties"):
        for k, blob in enumerate(blobs):
            blob["itemCount"] = min(cfg.blob_rows, count - k * cfg.blob_rows)
    body = {
        "id": manifest_id,
        "schemaVersion": "2",
        "dataFormat": "compressedJSON",
        "createdDateTime": created.strftime("%Y-%m-%dT%H:%M:%S.") + f"{created.microsecond // 10000:02d}Z",
        "eTag": "".join(secrets.choice(_ALNUM) for _ in range(17)),
        "partnerTenantId": tenant,
        "rootDirectory": base_url(request) + root_path,
        "sasToken": sas,
        "partitionType": "default",
        "blobCount": n_blobs + (1 if state.has("gr-blobcount-wrong") else 0),
        "blobs": blobs,
    }
    if state.has("undeclared-properties"):
        body["dataVersion"] = created.strftime("%Y%m%d%H%M")
    manifest = Manifest(id=manifest_id, body=body, root_path=root_path, sig=sig, dataset=op.dataset,
                        currency=op.currency, attribute_set=op.attribute_set, count=count, blob_names=names)
    state.manifests[manifest_id] = manifest
    for k, name in enumerate(names):
        state.blobs[f"{root_path}/{name}"] = (manifest_id, k)
    return manifest


async def get_manifest(request: Request, state: MockState, version: str, manifest_id: str) -> Response:
    manifest = state.manifests.get(manifest_id.lower())
    if manifest is None:
        return graph_error(request, 404, "itemNotFound", f"The manifest '{manifest_id}' was not found.")
    body = {"@odata.context": _context(request, version, "manifests"), **manifest.body}
    return json_response(body, 200, graph_headers(request), GRAPH_JSON)
