"""Partner Center: ``GET /v1/invoices/{invoice-id}/lineitems`` (unbilled one-time billing line items)."""

from __future__ import annotations

import json
import re
import uuid
from urllib.parse import parse_qsl, unquote_plus

from starlette.requests import Request
from starlette.responses import Response

from .data import NUMERIC_FIELDS, line_item, raw_charge_type, report_charge_type
from .responses import PC_JSON, bearer_ok, pc_fault, throttle_body

# under the throttled profile: the 5th authenticated request, then every 25th, answers 429
THROTTLE_EVERY = 25
from .state import MockState
from .tokens import TokenError

MAX_SIZE = 2000
# The spelling of each parameter in the docs (pc-case-sensitive accepts only these).
DOC_NAMES = {"provider": "provider", "invoicelineitemtype": "invoicelineitemtype", "currencycode": "currencycode",
             "period": "period", "size": "size", "seekoperation": "seekOperation",
             "haspartnerearnedcredit": "hasPartnerEarnedCredit"}
_CURRENCY = re.compile(r"^[A-Za-z]{3}$")
_SIZE = re.compile(r"^[0-9]{1,9}$")
_encode = json.JSONEncoder(check_circular=False).encode  # one encode per page


def _echo_headers(request: Request) -> dict[str, str]:
    return {
        "MS-RequestId": request.headers.get("ms-requestid") or str(uuid.uuid4()),
        "MS-CorrelationId": request.headers.get("ms-correlationid") or str(uuid.uuid4()),
        "MS-CV": "bpqyomePDUqrSSYC.0",
    }


def _number_text(v: object) -> object:
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, int):
        return str(v)
    return v


class BadQuery(Exception):
    def __init__(self, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.description = description
        self.status = status


async def line_items(request: Request, state: MockState, invoice_id: str) -> Response:
    echo = _echo_headers(request)
    html = state.has("pc-error-html")

    state.pc_requests += 1
    if state.has("pc-unavailable-forever"):
        return pc_fault(503, "The service is temporarily unavailable. Try again later.",
                        headers={**echo, "Retry-After": "1"})
    if state.has("unavailable-once") and state.pc_requests == 1:
        return pc_fault(503, "The service is temporarily unavailable. Try again later.",
                        headers={**echo, "Retry-After": "1"})
    if not bearer_ok(request) and not state.has("pc-no-auth"):
        return pc_fault(401, "Authorization header is missing or is not a bearer token.",
                        headers={**echo, "WWW-Authenticate": "OAuth realm=urn:cpsvc:cpid:mock"}, html=html)
    state.pc_authorised += 1
    if state.has("throttled") and state.pc_authorised % THROTTLE_EVERY == 5:
        body = json.dumps(throttle_body(1)).encode()
        return Response(body, 429, headers={**echo, "Retry-After": "1"}, media_type="application/json")
    if invoice_id.lower() != "unbilled":
        return pc_fault(404, f"Invoice {invoice_id} was not found. This mock serves the unbilled invoice "
                        "('unbilled') only.", code="20002", headers=echo, html=html)

    try:
        return _page(request, state, invoice_id, echo)
    except BadQuery as exc:
        return pc_fault(exc.status, exc.description, headers=echo, html=html)


def _parse_query(request: Request, state: MockState) -> tuple[dict[str, str], list[tuple[str, str]]]:
    raw = request.scope.get("query_string", b"").decode("latin-1")
    pairs = parse_qsl(raw, keep_blank_values=True)
    params: dict[str, str] = {}
    for name, value in pairs:
        low = name.lower()
        if low in params:
            raise BadQuery(f"The query parameter '{name}' is given more than once.")
        if state.has("pc-case-sensitive") and low in DOC_NAMES and name != DOC_NAMES[low]:
            raise BadQuery(f"Unknown query parameter '{name}'.")
        params[low] = value
    return params, pairs


def _normalise(params: dict[str, str], state: MockState) -> dict[str, str]:
    """Validate the query; return it normalised (lower-case names, canonical values)."""
    lenient = state.has("pc-accepts-invalid")
    strict_case = state.has("pc-case-sensitive")
    out: dict[str, str] = {}

    def enum(name: str, allowed: tuple[str, ...], default: str | None, required: bool = True) -> str | None:
        value = params.get(name)
        if value is None or value.strip() == "":
            if lenient and default is not None:
                return default
            if required:
                raise BadQuery(f"The query parameter '{DOC_NAMES[name]}' is required.")
            return None
        exact = value if strict_case else value.lower()
        canon = {a.lower(): a for a in allowed} if not strict_case else {a: a for a in allowed}
        if exact not in canon:
            if lenient and default is not None:
                return default
            raise BadQuery(f"The value '{value}' of the query parameter '{DOC_NAMES[name]}' is not valid; "
                           f"expected {' or '.join(allowed)}.")
        return canon[exact]

    out["provider"] = enum("provider", ("onetime",), "onetime")
    out["invoicelineitemtype"] = enum("invoicelineitemtype", ("billinglineitems",), "billinglineitems")
    currency = params.get("currencycode")
    if currency is None or currency == "":
        raise BadQuery("The query parameter 'currencycode' is required.")
    if not _CURRENCY.match(currency):
        raise BadQuery(f"The value '{currency}' of the query parameter 'currencycode' is not a 3-letter ISO 4217 code.")
    out["currencycode"] = currency.upper()
    out["period"] = enum("period", ("current", "previous"), "current")
    size = params.get("size")
    if size is None:
        out["size"] = str(MAX_SIZE)
    elif _SIZE.match(size) and 1 <= int(size) <= MAX_SIZE:
        out["size"] = str(int(size))
    elif lenient:
        out["size"] = str(MAX_SIZE)
    else:
        raise BadQuery(f"The value '{size}' of the query parameter 'size' is not valid; expected an integer "
                       f"from 1 to {MAX_SIZE}.")
    seek = enum("seekoperation", ("Next",), None, required=False)
    if "seekoperation" in params and seek is None:
        raise BadQuery("The query parameter 'seekOperation' has no value; expected Next.")
    out["seekoperation"] = seek or ""
    out["haspartnerearnedcredit"] = enum("haspartnerearnedcredit", ("true", "false"), None, required=False) or ""
    return out


def _binding(q: dict[str, str], invoice_id: str) -> str:
    return "|".join((invoice_id.lower(), q["provider"], q["invoicelineitemtype"], q["currencycode"],
                     q["period"], q["size"], q["haspartnerearnedcredit"]))


def _page(request: Request, state: MockState, invoice_id: str, echo: dict[str, str]) -> Response:
    cfg = state.config
    try:
        params, pairs = _parse_query(request, state)
    except BadQuery as exc:
        if state.has("pc-invalid-query-500"):
            exc.status = 500
        raise
    token = request.headers.get("ms-continuationtoken")
    if state.has("pc-next-drops-query") and token and "currencycode" not in params:
        # Lenient to clients that follow this profile's broken link: take the query the token was issued for.
        try:
            _, fp = state.tokens.decode(token)
            params = {**state.query_by_fingerprint.get(fp, {}), **params, "seekoperation": "Next"}
        except TokenError:
            pass
    try:
        q = _normalise(params, state)
    except BadQuery as exc:
        if state.has("pc-invalid-query-500"):
            exc.status = 500
        raise
    fingerprint = state.tokens.fingerprint(_binding(q, invoice_id))
    bad_token_status = 500 if state.has("pc-bad-token-500") else 400
    offset = 0
    if q["seekoperation"]:
        if not token or not token.strip():
            raise BadQuery("seekOperation=Next needs the MS-ContinuationToken header.", bad_token_status)
        try:
            offset, bound = state.tokens.decode(token)
        except TokenError as exc:
            raise BadQuery(f"{exc}.", bad_token_status) from None
        if bound != fingerprint:
            raise BadQuery("The continuation token was issued for another query.", bad_token_status)
    elif len(state.query_by_fingerprint) < 10_000:
        state.query_by_fingerprint.setdefault(fingerprint, {k: v for k, v in q.items() if k != "seekoperation"})

    size = int(q["size"])
    total = 0 if state.has("empty") else cfg.items
    take = size + 1 if state.has("pc-page-exceeds-size") else size
    end = min(offset + take, total)
    currency = q["currencycode"]
    key = f"unbilled:{q['period']}"
    items = [line_item(cfg.seed, key, i, currency) for i in range(offset, end)] if offset < total else []
    _apply_profile(items, offset, state, currency)

    next_offset = max(end, offset) + (1 if state.has("pc-paging-skips-item") else 0)
    if state.has("pc-endless-paging"):
        has_next, next_offset = True, max(next_offset, offset + size)
    else:
        has_next = next_offset < total

    prefix = "/v1" if state.has("v1-links") else ""
    path = f"{prefix}/invoices/{invoice_id}/lineitems"
    raw_query = request.scope.get("query_string", b"").decode("latin-1")
    links: dict[str, dict] = {"self": {"uri": f"{path}?{raw_query}" if raw_query else path, "method": "GET",
                                       "headers": []}}
    body: dict = {"totalCount": total if state.has("pc-grand-totalcount") else len(items), "items": items}
    if has_next:
        next_token = state.tokens.encode(next_offset, fingerprint)
        keep = []
        for part in raw_query.split("&"):
            if not part:
                continue
            name = unquote_plus(part.split("=", 1)[0]).lower()
            if name == "seekoperation":
                continue
            if state.has("pc-next-drops-query") and name == "currencycode":
                continue
            keep.append(part)
        if not state.has("pc-next-drops-query"):
            keep.append("seekOperation=Next")
        headers = [] if state.has("pc-next-without-token") else [{"key": "MS-ContinuationToken", "value": next_token}]
        links["next"] = {"uri": f"{path}?{'&'.join(keep)}", "method": "GET", "headers": headers}
        body["links"] = links
        body["continuationToken"] = next_token
    else:
        body["links"] = links
    body["attributes"] = {"objectType": "Collection"}
    return Response(_encode(body).encode(), 200, headers=echo, media_type=PC_JSON)


def _apply_profile(items: list[dict], offset: int, state: MockState, currency: str) -> None:
    p = state.profile
    if p in ("conforming", "throttled", "unavailable-once", "slow-operation", "empty", "manifest-by-link",
             "offsetless-created", "v1-links") or not items:
        return
    seed = state.config.seed
    for n, item in enumerate(items):
        i = offset + n
        if p == "numbers-as-strings":
            for f in NUMERIC_FIELDS:
                item[f] = _number_text(item[f])
        elif p == "lowercase-charge-types":
            item["chargeType"] = item["chargeType"].lower()
        elif p == "undeclared-properties":
            item["pricingModel"] = "Commitment"
        elif p == "pc-item-missing-field":
            del item["subscriptionId"]
        elif p == "pc-charge-type-leak":
            raw = raw_charge_type(seed, i)
            if raw != report_charge_type(raw):
                item["chargeType"] = raw
        elif p == "pc-wrong-currency":
            item["currency"] = "EUR" if currency != "EUR" else "USD"
        elif p == "pc-dates-unparsable":
            if i % 4 == 1:
                item["chargeEndDate"] = "03/03/2019 09:22"
        elif p == "pc-dates-reversed":
            if i % 4 == 1:
                item["chargeStartDate"], item["chargeEndDate"] = item["chargeEndDate"], item["chargeStartDate"]
        else:
            return
