"""Checks of the Partner Center line-items rules: query handling, response and error shapes, line items.

Every function is pure: it takes exchanges and returns findings (the paging rules are in
``paging.py``). Messages say what was expected and what came back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from ..findings import Exchange, Finding, finding
from ..truth.rules import charge_types
from ..truth.spec import load_spec
from .common import abridge, check_schema, expect_status, is_client_error, json_body, parse_datetime
from ..protocol.partner_center import CONTINUATION_HEADER, page_items, query_pairs
from .registry import (
    CLIENT_ERROR, ERROR, OK, PC_ANSWER, PC_INVALID_QUERY, PC_PAGE, PC_RECORDED_ANSWER, PC_RETRIES, PC_SPELLED_QUERY,
    PC_SPELLING_REFUSED, PC_VALID_QUERY, check, run,
)

SPEC = "partner-center"
COLLECTION_SCHEMA = "LineItemCollection"
ERROR_SCHEMA = "PartnerCenterError"
ECHOED_HEADERS = ("MS-RequestId", "MS-CorrelationId")
DATE_FIELDS = (
    "orderDate",
    "chargeStartDate",
    "chargeEndDate",
    "subscriptionStartDate",
    "subscriptionEndDate",
    "pcToBCExchangeRateDate",
)
# Optional date-times: absent, null or "" is fine (the SDK types them DateTime?).
OPTIONAL_DATE_FIELDS = frozenset({"subscriptionStartDate", "subscriptionEndDate", "pcToBCExchangeRateDate"})


LINEITEMS_PATH = "/v1/invoices/{invoice-id}/lineitems"
_OPERATION_POINTER = "/paths/~1v1~1invoices~1{invoice-id}~1lineitems/get"


def case_insensitive() -> bool:
    """Whether the spec says query names and values are case-insensitive (``x-case-insensitive``)."""
    return bool(load_spec(SPEC).extension(f"{_OPERATION_POINTER}/x-case-insensitive"))


@cache
def query_parameters() -> dict[str, dict[str, Any]]:
    """The operation's query parameters by name, as the spec declares them."""
    spec = load_spec(SPEC)
    declared = spec.extension(f"{_OPERATION_POINTER}/parameters") or []
    names = [p.get("name") for p in declared if isinstance(p, dict)]
    params = (spec.parameter(LINEITEMS_PATH, "get", n) for n in names if isinstance(n, str))
    return {p["name"]: p for p in params if p.get("in") == "query"}


_INTEGER = re.compile(r"^[+-]?[0-9]+$")


def _same(a: str, b: str) -> bool:
    return a == b


def _same_folded(a: str, b: str) -> bool:
    return a.casefold() == b.casefold()


def _folded(name: str) -> str:
    return name.casefold()


def _as_given(name: str) -> str:
    return name

# Declared, but "only applied when provider type is OneTime and InvoiceLineItemType is UsageLineItems":
# a server may ignore a bad value, so it decides nothing.
_IGNORABLE = frozenset({"haspartnerearnedcredit"})


def _value_problem(name: str, value: str, schema: Mapping[str, Any], fold: bool) -> str | None:
    """Why one query value is invalid by its schema (lenient: surrounding blanks are ignored)."""
    text = value.strip()
    same = _same_folded if fold else _same
    kind = schema.get("type")
    if "enum" in schema:
        allowed = [str(v) for v in schema["enum"]]
        if not any(same(text, a) for a in allowed):
            return f"{name}={value!r} (expected {' or '.join(allowed)})"
        return None
    if kind == "integer":
        if not _INTEGER.match(text):
            return f"{name}={value!r} (not an integer)"
        number = int(text)
        if "minimum" in schema and number < schema["minimum"]:
            return f"{name}={value} (below {schema['minimum']})"
        if "maximum" in schema and number > schema["maximum"]:
            return f"{name}={value} (above {schema['maximum']})"
        return None
    if kind == "boolean":
        if not any(same(text, b) for b in ("true", "false")):
            return f"{name}={value!r} (not true or false)"
        return None
    if "pattern" in schema and not re.search(schema["pattern"], text):
        return f"{name}={value!r} (does not match {schema['pattern']})"
    if "minLength" in schema and len(text) < schema["minLength"]:
        return f"{name}={value!r} (too short)"
    return None


@dataclass(frozen=True)
class QueryVerdict:
    """What the spec says of the query a request actually sent.

    ``problems``: why it is certainly invalid (a 4xx is due). ``doubts``: why the spec cannot tell
    (a parameter given twice, an ignorable flag with a bad value): then 200 and 4xx are both fine.
    """

    problems: tuple[str, ...]
    doubts: tuple[str, ...]

    @property
    def invalid(self) -> bool:
        return bool(self.problems)


def classify_query(exchange: Exchange) -> QueryVerdict:
    """Judge the sent query against the spec's query parameters.

    Names and values compare case-insensitively when the spec says ``x-case-insensitive``, so a value
    that differs from the enum only in letter case is valid. ``seekOperation=Next`` without an
    ``MS-ContinuationToken`` header is invalid too.
    """
    fold = case_insensitive()
    key = _folded if fold else _as_given
    sent: dict[str, list[str]] = {}
    for name, value in query_pairs(exchange.url):
        sent.setdefault(key(name), []).append(value)
    problems: list[str] = []
    doubts: list[str] = []
    for name, parameter in query_parameters().items():
        values = sent.get(key(name))
        if not values:
            if parameter.get("required"):
                problems.append(f"{name} missing")
            continue
        found = [p for p in (_value_problem(name, v, parameter.get("schema", {}), fold) for v in values) if p]
        if len(values) > 1 and len(found) < len(values):
            doubts.append(f"{name} given {len(values)} times")
        elif found:
            (doubts if name.casefold() in _IGNORABLE else problems).extend(found)
    seek = sent.get(key("seekOperation"))
    if seek and not problems and not (exchange.request_header(CONTINUATION_HEADER) or "").strip():
        problems.append(f"seekOperation={seek[0]} without {CONTINUATION_HEADER}")
    return QueryVerdict(tuple(problems), tuple(doubts))


def _where(page: int | None, index: int) -> str:
    return f"page {page + 1} item {index + 1}" if page is not None else f"item {index + 1}"


def _body(exchange: Exchange) -> Any:
    try:
        return exchange.json()
    except (ValueError, UnicodeDecodeError):
        return None


# ------------------------------------------------------------------ query handling


# How Microsoft's own pages and SDK spell the query (request syntax, request example 2, the URI
# parameters table, the .NET SDK): names and values a server must serve (PC-QUERY-CASE-INSENSITIVE).
# Any other spelling is PC-QUERY-ANY-CASE (advisory).
DOCUMENTED_NAMES = {
    "provider": ("provider",),
    "invoicelineitemtype": ("invoicelineitemtype", "invoiceLineItemType"),
    "currencycode": ("currencycode", "currencyCode"),
    "period": ("period",),
    "size": ("size",),
    "seekoperation": ("seekOperation", "seekoperation"),
    "haspartnerearnedcredit": ("hasPartnerEarnedCredit",),
}
DOCUMENTED_VALUES = {
    "provider": ("onetime", "OneTime"),
    "invoicelineitemtype": ("billinglineitems", "BillingLineItems"),
    "period": ("current", "previous"),
    "seekoperation": ("Next", "next"),
    "haspartnerearnedcredit": ("true", "false"),
}


def documented_spelling(pairs: Iterable[tuple[str, str]]) -> bool:
    """Whether every name and value of a query is spelled as a Microsoft document or SDK spells it.

    Currency codes count as documented in upper and in lower case (the docs send ``usd``, items say ``USD``).
    """
    for name, value in pairs:
        key = name.casefold()
        if name not in DOCUMENTED_NAMES.get(key, (name,)):
            return False
        if key == "currencycode":
            if value not in (value.upper(), value.lower()):
                return False
        elif key in DOCUMENTED_VALUES and value not in DOCUMENTED_VALUES[key]:
            return False
    return True


@check(PC_SPELLED_QUERY, rules=("PC-QUERY-CASE-INSENSITIVE", "PC-QUERY-ANY-CASE"))
@check(PC_SPELLING_REFUSED, statuses=CLIENT_ERROR, rules=("PC-QUERY-CASE-INSENSITIVE", "PC-QUERY-ANY-CASE"))
def check_query_accepted(exchange: Exchange, query: str = "", *, documented: bool = True) -> list[Finding]:
    """A valid query is answered 200: PC-QUERY-CASE-INSENSITIVE for the spellings Microsoft's docs and SDK
    send (``documented``), PC-QUERY-ANY-CASE (advisory) for any other letter case."""
    sent = query or exchange.url.partition("?")[2]
    if documented:
        return expect_status(
            exchange, "PC-QUERY-CASE-INSENSITIVE", lambda status: status == 200,
            message=f"a valid query spelled as Microsoft's docs or SDK spell it ({sent!r})",
            expected="200: the docs send invoicelineitemtype and invoiceLineItemType, currencycode and currencyCode, "
                     "seekOperation=Next and seekoperation=next",
        )
    return expect_status(
        exchange, "PC-QUERY-ANY-CASE", lambda status: status == 200,
        message=f"a valid query in a letter case no document uses ({sent!r})",
        expected="200 if names and values are case-insensitive (not documented; advisory)",
    )


@check(PC_INVALID_QUERY, rules=("PC-QUERY-INVALID-4XX", "PC-QUERY-NO-5XX"))
def check_query_rejected(exchange: Exchange, why: str) -> list[Finding]:
    """A missing or invalid parameter: never 5xx (PC-QUERY-NO-5XX); refused 4xx rather than served
    (PC-QUERY-INVALID-4XX, advisory: no document says a server must refuse)."""
    if exchange.status >= 500:
        return check_no_server_error(exchange, why)
    return expect_status(
        exchange, "PC-QUERY-INVALID-4XX", is_client_error,
        message=f"a request with {why}",
        expected="4xx (400 BadInput) for a missing or invalid query parameter (advisory: the docs do not say)",
    )


@check(PC_VALID_QUERY, rules=("PC-QUERY-NO-5XX",))
def check_no_server_error(exchange: Exchange, why: str) -> list[Finding]:
    """PC-QUERY-NO-5XX: whatever the query, the answer is never a 5xx (invalid input is documented as 400)."""
    return expect_status(
        exchange, "PC-QUERY-NO-5XX", lambda status: status < 500,
        message=f"a request with {why}",
        expected="200, or a 4xx (400 BadInput: 'Invalid request input'); never a 5xx",
    )


@check(PC_ANSWER, statuses=ERROR, rules=("PC-ERROR-SHAPE",))
def check_error_shape(exchange: Exchange) -> list[Finding]:
    """PC-ERROR-SHAPE: a 4xx/5xx body is JSON in a documented error shape (ApiFault or the throttling body)."""
    if exchange.status < 400:
        return []
    body, found = json_body(exchange, "PC-ERROR-SHAPE", what=f"{exchange.status} error")
    if found:
        return found
    return check_schema(exchange, body, spec_name=SPEC, schema_name=ERROR_SCHEMA, rule_id="PC-ERROR-SHAPE",
                        where=f"{exchange.status} error")


# ------------------------------------------------------------------ response


@check(PC_ANSWER, PC_PAGE, PC_SPELLED_QUERY, statuses=OK, rules=("PC-RESPONSE-SCHEMA", "PC-RESPONSE-UNDECLARED-PROPERTY"))
def check_collection(exchange: Exchange, *, page: int | None = None) -> list[Finding]:
    """PC-RESPONSE-SCHEMA (and PC-RESPONSE-UNDECLARED-PROPERTY): a 200 body is a valid LineItemCollection.

    A 200 that is not JSON, or JSON that is not an object (an array), is a PC-RESPONSE-SCHEMA finding too.
    """
    if exchange.status != 200:
        return []
    label = f"page {page + 1}" if page is not None else "response"
    body, found = json_body(exchange, "PC-RESPONSE-SCHEMA", what=label)
    if found:
        return found
    return check_schema(exchange, body, spec_name=SPEC, schema_name=COLLECTION_SCHEMA, rule_id="PC-RESPONSE-SCHEMA",
                        undeclared_rule_id="PC-RESPONSE-UNDECLARED-PROPERTY",
                        where=f"page {page + 1}" if page is not None else "")


def continuation_token_field(exchange: Exchange) -> str | None:
    """How a 200 page spells its top-level continuationToken (silent point SP-PC-CONTINUATION-TOKEN-FIELD):
    absent, null, empty or string; None when the page is no JSON object."""
    body = _body(exchange)
    if exchange.status != 200 or not isinstance(body, dict):
        return None
    if "continuationToken" not in body:
        return "absent"
    value = body["continuationToken"]
    if value is None:
        return "null"
    if isinstance(value, str):
        return "empty" if not value.strip() else "string"
    return "other"


def check_every_page(pages: Sequence[Exchange], *, currency: str) -> list[Finding]:
    """Every page- and item-level rule on every page of a walk: the collection schema and undeclared
    properties, charge types, currency and dates. Each finding names its page; a 200 page that is not a
    JSON object (the walk stops there) is a PC-RESPONSE-SCHEMA finding, not the silent end of the walk."""
    found: list[Finding] = []
    for index, exchange in enumerate(pages):
        found += run(PC_PAGE, exchange, page=index, requested=currency)
    return found


@check(PC_SPELLED_QUERY, rules=("PC-HEADERS-ECHO",))
@check(PC_RECORDED_ANSWER, statuses=OK, rules=("PC-HEADERS-ECHO",))
def check_headers_echoed(exchange: Exchange) -> list[Finding]:
    """PC-HEADERS-ECHO (advisory): MS-RequestId and MS-CorrelationId sent are echoed on the response."""
    problems = []
    for name in ECHOED_HEADERS:
        sent = exchange.request_header(name)
        if sent is None:
            continue
        got = exchange.header(name)
        if got is None:
            problems.append(f"{name} missing")
        elif got.strip().lower() != sent.strip().lower():
            problems.append(f"{name} {got!r} instead of {sent!r}")
    if not problems:
        return []
    return [finding(
        "PC-HEADERS-ECHO",
        "request ids not echoed: " + "; ".join(problems),
        exchange,
        expected="the MS-RequestId and MS-CorrelationId of the request on the response",
        actual="; ".join(problems),
    )]


@check(PC_RETRIES, rules=("PC-THROTTLE-RETRY-AFTER",))
def check_throttle_retry_after(exchanges: Iterable[Exchange]) -> list[Finding]:
    """PC-THROTTLE-RETRY-AFTER (advisory): every 429 carries Retry-After."""
    bare = [e for e in exchanges if e.status == 429 and not (e.header("retry-after") or "").strip()]
    if not bare:
        return []
    return [finding(
        "PC-THROTTLE-RETRY-AFTER",
        f"{len(bare)} 429 answer(s) without Retry-After",
        bare[0],
        expected="429 with a Retry-After header",
        count=len(bare),
    )]


# ------------------------------------------------------------------ line items


@check(PC_PAGE, statuses=OK, rules=("PC-CHARGETYPE-MAPPED", "PC-CHARGETYPE-KNOWN"))
def check_charge_types(exchange: Exchange, *, page: int | None = None) -> list[Finding]:
    """PC-CHARGETYPE-MAPPED (Purchase/Refund never appear) and PC-CHARGETYPE-KNOWN (documented values), per page."""
    types = charge_types()
    forbidden = types.forbidden()
    leaked: list[tuple[int, str]] = []
    unknown: list[tuple[int, str]] = []
    for index, item in enumerate(page_items(_body(exchange))):
        value = item.get("chargeType") if isinstance(item, dict) else None
        if not isinstance(value, str):
            continue
        if value.casefold() in forbidden:
            leaked.append((index, value))
        elif not types.is_known(value):
            unknown.append((index, value))
    return [
        *_charge_type_finding(
            "PC-CHARGETYPE-MAPPED", leaked, "the unmapped", exchange, page,
            expected="; ".join(f"{k} reported as {v}" for k, v in types.mapping.items()),
        ),
        *_charge_type_finding(
            "PC-CHARGETYPE-KNOWN", unknown, "an undocumented", exchange, page,
            expected="one of " + ", ".join(types.known) + " (any letter case)",
        ),
    ]


def _charge_type_finding(
    rule_id: str, hits: list[tuple[int, str]], kind: str, exchange: Exchange, page: int | None, *, expected: str
) -> list[Finding]:
    """One finding for all the items of a page whose chargeType breaks ``rule_id`` (none when there are none)."""
    if not hits:
        return []
    index, value = hits[0]
    values = sorted({v for _, v in hits})
    return [finding(
        rule_id,
        f"{len(hits)} item(s) carry {kind} chargeType {', '.join(map(repr, values[:8]))}; first at {_where(page, index)}",
        exchange,
        expected=expected,
        actual=f"chargeType {value!r}",
        count=len(hits),
        values=values[:50],
    )]


# attributes.objectType as the docs and the SDK show it: the page (a collection) and each of its line items
OBJECT_TYPES = {"page": "Collection", "item": "OneTimeInvoiceLineItem"}


@check(PC_PAGE, statuses=OK, rules=("PC-OBJECT-TYPE-DOCUMENTED",))
def check_object_types(exchange: Exchange, *, page: int | None = None) -> list[Finding]:
    """PC-OBJECT-TYPE-DOCUMENTED: a page's attributes.objectType is Collection, an item's OneTimeInvoiceLineItem
    (compared case-insensitively; a missing objectType is PC-RESPONSE-SCHEMA's)."""
    body = _body(exchange)
    if not isinstance(body, dict):
        return []
    seen: list[str] = []

    def judge(where: str, holder: Any, kind: str) -> None:
        attributes = holder.get("attributes") if isinstance(holder, dict) else None
        value = attributes.get("objectType") if isinstance(attributes, dict) else None
        if isinstance(value, str) and value.casefold() != OBJECT_TYPES[kind].casefold():
            seen.append(f"{where} {value!r}")

    judge("the page", body, "page")
    for index, item in enumerate(page_items(body)):
        judge(_where(page, index), item, "item")
    if not seen:
        return []
    return [finding("PC-OBJECT-TYPE-DOCUMENTED", f"attributes.objectType outside the documented values: {abridge(seen, 3, '; ')}",
                    exchange, expected="objectType Collection on a page, OneTimeInvoiceLineItem on a line item",
                    page=page)]


@check(PC_PAGE, statuses=OK, rules=("PC-ITEM-CURRENCY",))
def check_item_currency(exchange: Exchange, requested: str, *, page: int | None = None) -> list[Finding]:
    """PC-ITEM-CURRENCY: every item's currency is the requested currencycode (case-insensitive)."""
    wrong: list[tuple[int, Any]] = []
    for index, item in enumerate(page_items(_body(exchange))):
        value = item.get("currency") if isinstance(item, dict) else None
        if not isinstance(value, str) or value.strip().casefold() != requested.strip().casefold():
            wrong.append((index, value))
    if not wrong:
        return []
    index, value = wrong[0]
    values = sorted({json.dumps(v) for _, v in wrong})
    return [finding(
        "PC-ITEM-CURRENCY",
        f"{len(wrong)} item(s) are not in the requested currency {requested!r} but in {', '.join(values[:5])}; first at {_where(page, index)}",
        exchange,
        expected=f"currency {requested.upper()} on every item (currencycode={requested})",
        actual=f"currency {value!r}",
        count=len(wrong),
    )]


def item_date_problems(item: Mapping[str, Any]) -> list[str]:
    """Date-time fields of one item that do not parse (PC-ITEM-DATES)."""
    problems = []
    for name in DATE_FIELDS:
        if name not in item:
            continue
        value = item[name]
        if name in OPTIONAL_DATE_FIELDS and value in (None, ""):
            continue
        if parse_datetime(value) is None:
            problems.append(f"{name} {value!r} is not a date-time")
    return problems


def item_date_order_problem(item: Mapping[str, Any]) -> str | None:
    """chargeStartDate after chargeEndDate (PC-ITEM-DATE-ORDER), or None."""
    start, end = parse_datetime(item.get("chargeStartDate")), parse_datetime(item.get("chargeEndDate"))
    if start is not None and end is not None and start > end:
        return f"chargeStartDate {item['chargeStartDate']} is after chargeEndDate {item['chargeEndDate']}"
    return None


@check(PC_PAGE, statuses=OK, rules=("PC-ITEM-DATES", "PC-ITEM-DATE-ORDER"))
def check_item_dates(exchange: Exchange, *, page: int | None = None) -> list[Finding]:
    """PC-ITEM-DATES: every date-time parses; PC-ITEM-DATE-ORDER (advisory): chargeStartDate <= chargeEndDate."""
    bad: list[tuple[int, list[str]]] = []
    reversed_: list[tuple[int, str]] = []
    for index, item in enumerate(page_items(_body(exchange))):
        if isinstance(item, dict):
            problems = item_date_problems(item)
            if problems:
                bad.append((index, problems))
            order = item_date_order_problem(item)
            if order:
                reversed_.append((index, order))
    found: list[Finding] = []
    if bad:
        index, problems = bad[0]
        found.append(finding(
            "PC-ITEM-DATES",
            f"{len(bad)} item(s) with date-times that do not parse; first at {_where(page, index)}: {'; '.join(problems)}",
            exchange,
            expected="parsable date-times (7-digit fractions, offsets and offset-less forms allowed)",
            actual="; ".join(problems),
            count=len(bad),
        ))
    if reversed_:
        index, problem = reversed_[0]
        found.append(finding(
            "PC-ITEM-DATE-ORDER",
            f"{len(reversed_)} item(s) end before they start; first at {_where(page, index)}: {problem}",
            exchange,
            expected="chargeStartDate <= chargeEndDate (not documented; advisory)",
            actual=problem,
            count=len(reversed_),
        ))
    return found


def check_items(pages: Sequence[Exchange], check: Callable[..., list[Finding]], *args: Any) -> list[Finding]:
    """Run a per-page item check over the pages of a walk (each finding names its page)."""
    found: list[Finding] = []
    for index, exchange in enumerate(pages):
        if exchange.status == 200:
            found.extend(check(exchange, *args, page=index))
    return found
