"""Partner Center: ``GET /v1/invoices/{invoice-id}/lineitems`` (unbilled one-time billing line items)."""

from __future__ import annotations

import json
import re
import uuid
from urllib.parse import parse_qsl, unquote_plus

from starlette.requests import Request
from starlette.responses import Response

from .data import NUMERIC_FIELDS, OPTIONAL_FIELDS, line_item, raw_charge_type, report_charge_type, stable_int
from .drift import LATE_ITEM, Drift
from .responses import PC_JSON, base_url, bearer_ok, pc_fault, retry_after, throttle_body
from .responses import wait_seconds as _wait

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
    html = Drift.PC_ERROR_HTML in state.drift

    knobs = state.knobs
    state.pc_requests += 1
    if (knobs.unavailable == "forever" or (knobs.unavailable == "once" and state.pc_requests == 1)
            or (knobs.unavailable == "after-first" and state.pc_requests > 1)):
        return pc_fault(503, "The service is temporarily unavailable. Try again later.",
                        headers={**echo, "Retry-After": retry_after(_wait(knobs.unavailable), knobs.retry_after_format)})
    if not bearer_ok(request) and Drift.PC_NO_AUTH not in state.drift:
        return pc_fault(401, "Authorization header is missing or is not a bearer token.",
                        headers={**echo, "WWW-Authenticate": "OAuth realm=urn:cpsvc:cpid:mock"}, html=html)
    state.pc_authorised += 1
    if (knobs.throttling == "forever" or (knobs.throttling == "after-first" and state.pc_authorised > 1)
            or (knobs.throttling == "intermittent" and state.pc_authorised % THROTTLE_EVERY == 5)):
        wait = {**echo, "Retry-After": retry_after(_wait(knobs.throttling), knobs.retry_after_format)}
        if knobs.pc_throttle_body == "api-fault":
            return pc_fault(429, "Rate limit is exceeded. Try again in 1 seconds.", headers=wait)
        body = json.dumps(throttle_body(1)).encode()
        return Response(body, 429, headers=wait, media_type="application/json")
    transient = state.transient("pc-next" if request.headers.get("ms-continuationtoken") else "pc-first")
    if transient is not None:
        headers = {**echo, **({"Retry-After": state.config.retry_after_header} if transient.retry_after else {})}
        if transient.status == 429:
            return Response(json.dumps(throttle_body(1)).encode(), 429, headers=headers, media_type="application/json")
        return pc_fault(transient.status, "The service is temporarily unavailable. Try again later.", headers=headers)
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
    knobs = state.knobs
    for name, value in pairs:
        low = name.lower()
        if Drift.PC_CASE_SENSITIVE in state.drift and low in DOC_NAMES and name != DOC_NAMES[low]:
            raise BadQuery(f"Unknown query parameter '{name}'.")
        if low not in DOC_NAMES and knobs.unknown_param == "rejected-4xx":
            raise BadQuery(f"Unknown query parameter '{name}'.")
        if low in params:
            if knobs.repeated_param == "rejected-4xx":
                raise BadQuery(f"The query parameter '{name}' is given more than once.")
            if knobs.repeated_param == "first-wins":
                continue
        params[low] = value
    if knobs.empty_param == "ignored":
        params = {k: v for k, v in params.items() if v.strip() or k not in _OPTIONAL}
    return params, pairs


_OPTIONAL = ("size", "seekoperation", "haspartnerearnedcredit")


def _normalise(params: dict[str, str], state: MockState) -> dict[str, str]:
    """Validate the query; return it normalised (lower-case names, canonical values)."""
    lenient = state.knobs.invalid_query == "served"
    strict_case = Drift.PC_CASE_SENSITIVE in state.drift
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
    elif _SIZE.match(size) and int(size) > MAX_SIZE and state.knobs.size_max != "rejected-4xx":
        out["size"] = str(MAX_SIZE if state.knobs.size_max == "clamped" else int(size))
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
        if Drift.PC_INVALID_QUERY_500 in state.drift:
            exc.status = 500
        raise
    token = request.headers.get("ms-continuationtoken")
    if Drift.PC_NEXT_DROPS_QUERY in state.drift and token and "currencycode" not in params:
        # Lenient to clients that follow this profile's broken link: take the query the token was issued for.
        try:
            _, fp = state.tokens.decode(token)
            params = {**state.query_by_fingerprint.get(fp, {}), **params, "seekoperation": "Next"}
        except TokenError:
            pass
    try:
        q = _normalise(params, state)
    except BadQuery as exc:
        if Drift.PC_INVALID_QUERY_500 in state.drift:
            exc.status = 500
        raise
    fingerprint = state.tokens.fingerprint(_binding(q, invoice_id))
    bad_token_status = 500 if Drift.PC_BAD_TOKEN_500 in state.drift else 400
    offset = 0
    if q["seekoperation"]:
        lenient_token = state.knobs.bad_token == "served-from-start"
        bound = fingerprint
        if not token or not token.strip():
            if not lenient_token:
                raise BadQuery("seekOperation=Next needs the MS-ContinuationToken header.", bad_token_status)
        else:
            try:
                offset, bound = state.tokens.decode(token)
            except TokenError as exc:
                if not lenient_token:
                    raise BadQuery(f"{exc}.", bad_token_status) from None
        if bound != fingerprint and state.knobs.token_query_binding == "rejected-4xx":
            raise BadQuery("The continuation token was issued for another query.", bad_token_status)
    elif len(state.query_by_fingerprint) < 10_000:
        state.query_by_fingerprint.setdefault(fingerprint, {k: v for k, v in q.items() if k != "seekoperation"})

    knobs = state.knobs
    size = int(q["size"])
    total = state.items
    take = min(size, cfg.page_cap) if knobs.page_fill == "short" else size
    if knobs.page_fill == "varying":  # the server picks each page's size, 1 to size, by where the page starts
        take = 1 + stable_int(cfg.seed, "page", offset) % size
    if Drift.PC_PAGE_EXCEEDS_SIZE in state.drift or (Drift.PC_PAGE_EXCEEDS_SIZE_LATE in state.drift and offset > 0):
        take = size + 1
    end = min(offset + take, total)
    currency = q["currencycode"]
    key = f"unbilled:{q['period']}"
    items = [line_item(cfg.seed, key, i, currency) for i in range(offset, end)] if offset < total else []
    _apply_profile(items, offset, state, currency, total)

    next_offset = max(end, offset) + (1 if Drift.PC_PAGING_SKIPS_ITEM in state.drift else 0)
    if Drift.PC_ENDLESS_PAGING in state.drift:
        # past the data, the empty page links to itself: the walk never ends, shown by its token coming back
        has_next, next_offset = True, (next_offset if next_offset < total else max(offset, total))
    else:
        has_next = next_offset < total

    prefix = {"relative": "", "v1-prefixed": "/v1", "absolute": base_url(request) + "/v1"}[knobs.link_form]
    path = f"{prefix}/invoices/{invoice_id}/lineitems"
    raw_query = request.scope.get("query_string", b"").decode("latin-1")
    if knobs.next_query == "canonical":
        raw_query = _canonical_query(q)
    links: dict[str, dict] = {"self": {"uri": f"{path}?{raw_query}" if raw_query else path, "method": "GET",
                                       "headers": []}}
    count = len(items)
    if knobs.total_count == "grand-total":
        count = total
    body: dict = {"totalCount": count, "items": items}
    if has_next:
        next_token = state.tokens.encode(next_offset, fingerprint)
        keep = []
        for part in raw_query.split("&"):
            if not part:
                continue
            name = unquote_plus(part.split("=", 1)[0]).lower()
            if name == "seekoperation":
                continue
            if Drift.PC_NEXT_DROPS_QUERY in state.drift and name == "currencycode":
                continue
            keep.append(part)
        if Drift.PC_NEXT_DROPS_QUERY not in state.drift:
            keep.append("seekOperation=Next")
        drop = Drift.PC_NEXT_WITHOUT_TOKEN in state.drift or (Drift.PC_NEXT_WITHOUT_TOKEN_LATE in state.drift and offset > 0)
        headers = [] if drop else [{"key": "MS-ContinuationToken", "value": next_token}]
        links["next"] = {"uri": f"{path}?{'&'.join(keep)}", "method": "GET", "headers": headers}
        body["links"] = links
        if knobs.continuation_token_field != "absent":
            body["continuationToken"] = next_token
    else:
        if knobs.last_page_next == "null":
            links["next"] = None
        body["links"] = links
        if knobs.continuation_token_field in ("null", "empty"):
            body["continuationToken"] = None if knobs.continuation_token_field == "null" else ""
    body["attributes"] = {"objectType": "Collection"}
    media = PC_JSON if knobs.pc_content_type == "json-charset" else "application/json"
    if Drift.PC_PAGE_ARRAY_LATE in state.drift and offset > 0:
        return Response(_encode(items).encode(), 200, headers=echo, media_type=media)
    return Response(_encode(body).encode(), 200, headers=echo, media_type=media)


def _canonical_query(q: dict[str, str]) -> str:
    """The normalised query in the docs' spelling (names as in the request syntax, seekOperation left out)."""
    return "&".join(f"{DOC_NAMES[k]}={v}" for k, v in q.items() if v and k != "seekoperation")


def _apply_knobs(items: list[dict], offset: int, state: MockState) -> None:
    knobs = state.knobs
    for n, item in enumerate(items):
        if knobs.charge_date_order == "some-reversed" and (offset + n) % 4 == 1:
            item["chargeStartDate"], item["chargeEndDate"] = item["chargeEndDate"], item["chargeStartDate"]
        if knobs.number_encoding == "string":
            for f in NUMERIC_FIELDS:
                item[f] = _number_text(item[f])
        if knobs.charge_type_case == "lower":
            item["chargeType"] = item["chargeType"].lower()
        if knobs.extra_properties == "present":
            item["pricingModel"] = "Commitment"
        if knobs.optional_values != "empty-string":
            for f in OPTIONAL_FIELDS:
                if f in item and item[f] in ("", []):
                    if knobs.optional_values == "null":
                        item[f] = None
                    else:
                        del item[f]


def _apply_profile(items: list[dict], offset: int, state: MockState, currency: str, total: int) -> None:
    if not items:
        return
    _apply_knobs(items, offset, state)
    d = state.drift
    if not d:
        return
    late = d & LATE_ITEM  # one item changes: the last of the data set, or item 2345 of thousands
    if late:
        target = 2345 if Drift.PC_REFUND_AMONG_THOUSANDS in late else total - 1
        if offset <= target < offset + len(items):
            item = items[target - offset]
            if Drift.PC_PURCHASE_LATE_PAGE in late:
                item["chargeType"] = "purchase"
            if Drift.PC_REFUND_AMONG_THOUSANDS in late:
                item["chargeType"] = "REFUND"
            if Drift.PC_MISSING_FIELD_LATE_PAGE in late:
                item.pop("subscriptionId", None)
            if Drift.PC_CURRENCY_LATE_PAGE in late:
                item["currency"] = "EUR" if currency != "EUR" else "USD"
            if Drift.PC_DATES_LATE_PAGE in late:
                item["chargeEndDate"] = "03/03/2019 09:22"  # not a date-time
    seed = state.config.seed
    for n, item in enumerate(items):
        i = offset + n
        if Drift.PC_ITEM_MISSING_FIELD in d:
            item.pop("subscriptionId", None)
        if Drift.PC_CHARGE_TYPE_LEAK in d:
            raw = raw_charge_type(seed, i)
            if raw != report_charge_type(raw):
                item["chargeType"] = raw
        if Drift.PC_WRONG_CURRENCY in d:
            item["currency"] = "EUR" if currency != "EUR" else "USD"
        if Drift.PC_DATES_UNPARSABLE in d and i % 4 == 1:
            item["chargeEndDate"] = "03/03/2019 09:22"
