"""Unit tests of the pure Partner Center checks (checks/partner_center.py and checks/paging.py).

Each check gets a conforming exchange (no finding) and drifted ones (the rule's finding), built by
hand from the docs' own examples.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from recon_contracts.checks import paging as pg
from recon_contracts.checks import partner_center as pc
from recon_contracts.findings import Exchange

DOCS = Path(__file__).resolve().parents[1] / "fixtures" / "doc-examples"
BASE = "https://api.partnercenter.microsoft.com"
QUERY = "provider=onetime&invoicelineitemtype=billinglineitems&currencycode=usd&period=previous&size=2000"
URL = f"{BASE}/v1/invoices/unbilled/lineitems?{QUERY}"
IDS = {"MS-RequestId": "1234ecb8-37af-45f4-a1a1-358de3ca2b9e", "MS-CorrelationId": "5e612512-4345-4bb0-866e-47aeda031234"}


def doc(name: str) -> Any:
    return json.loads((DOCS / name).read_text(encoding="utf-8"))


def exchange(body: Any = None, *, status: int = 200, url: str = URL, request_headers: dict[str, str] | None = None,
             headers: dict[str, str] | None = None, raw: bytes | None = None) -> Exchange:
    content = raw if raw is not None else json.dumps(body).encode()
    return Exchange(
        api="partner-center",
        operation="GET /v1/invoices/{invoice-id}/lineitems",
        method="GET",
        url=url,
        request_headers={"Authorization": "Bearer secret-token", **(request_headers or {})},
        request_body=None,
        status=status,
        response_headers={"content-type": "application/json; charset=utf-8", **{k.lower(): v for k, v in (headers or {}).items()}},
        response_body=content,
    )


@pytest.fixture
def page() -> dict[str, Any]:
    """Response example 1 of the docs: two items and a next link."""
    return doc("pc-response-example-1.json")


def rules(findings) -> list[str]:
    return [f.rule for f in findings]


def page_of(items: list[Any], *, next_uri: str | None = None, token: str | None = "tok") -> dict[str, Any]:
    links: dict[str, Any] = {"self": {"uri": "/invoices/unbilled/lineitems", "method": "GET", "headers": []}}
    if next_uri is not None:
        headers = [{"key": "MS-ContinuationToken", "value": token}] if token else []
        links["next"] = {"uri": next_uri, "method": "GET", "headers": headers}
    return {"totalCount": len(items), "items": items, "links": links, "attributes": {"objectType": "Collection"}}


# ------------------------------------------------------------------ links and queries


@pytest.mark.parametrize(
    "uri, expected",
    [
        ("/invoices/unbilled/lineitems?a=1", f"{BASE}/v1/invoices/unbilled/lineitems?a=1"),
        ("invoices/unbilled/lineitems?a=1", f"{BASE}/v1/invoices/unbilled/lineitems?a=1"),
        ("/v1/invoices/unbilled/lineitems?a=1", f"{BASE}/v1/invoices/unbilled/lineitems?a=1"),
        ("/V1/invoices/unbilled/lineitems", f"{BASE}/V1/invoices/unbilled/lineitems"),
        ("https://other.example/v1/invoices?a=1", "https://other.example/v1/invoices?a=1"),
    ],
)
def test_resolve_link(uri, expected):
    assert pg.resolve_link(BASE, uri) == expected
    assert pg.resolve_link(BASE + "/v1/", uri) == expected  # a base given with /v1 is tolerated


def test_next_request_uses_the_link_headers(page):
    step = pg.next_request(page, BASE)
    assert step is not None
    assert step.url == f"{BASE}/v1/invoices/unbilled/lineitems?{QUERY}&seekOperation=Next"
    assert step.headers == {"MS-ContinuationToken": "AQAAAA=="} and step.token == "AQAAAA=="
    assert pg.next_request(page_of([1]), BASE) is None  # last page
    assert pg.next_request(page_of([1], next_uri="/invoices/x", token=None), BASE) is None  # unusable


def test_link_headers_tolerate_a_dict():
    assert pg.continuation_token({"uri": "/x", "headers": {"ms-continuationtoken": "abc"}}) == "abc"
    assert pg.continuation_token({"uri": "/x", "headers": [{"key": "MS-ContinuationToken", "value": " "}]}) is None


# ------------------------------------------------------------------ PC-PAGING-NEXT-QUERY


def test_next_query_conforming(page):
    assert pg.check_next_keeps_query(exchange(page), BASE) == []


def test_next_query_accepts_host_relative_absolute_and_other_case(page):
    for uri in (f"/v1/invoices/unbilled/lineitems?{QUERY}&seekOperation=Next",
                f"{BASE}/v1/invoices/unbilled/lineitems?{QUERY}&seekOperation=Next",
                f"/invoices/unbilled/lineitems?{QUERY.upper()}&seekoperation=next"):
        page["links"]["next"]["uri"] = uri
        assert pg.check_next_keeps_query(exchange(page), BASE) == [], uri


def test_next_query_no_next_link_is_fine():
    assert pg.check_next_keeps_query(exchange(page_of([1])), BASE) == []


def test_next_query_dropped_parameter(page):
    page["links"]["next"]["uri"] = page["links"]["next"]["uri"].replace("&currencycode=usd", "")
    (found,) = pg.check_next_keeps_query(exchange(page), BASE)
    assert found.rule == "PC-PAGING-NEXT-QUERY" and "currencycode=usd is missing" in found.message
    assert "${TOKEN}" in found.curl and "secret-token" not in found.curl


def test_next_query_changed_value_and_missing_seek(page):
    page["links"]["next"]["uri"] = f"/invoices/unbilled/lineitems?{QUERY.replace('size=2000', 'size=10')}"
    (found,) = pg.check_next_keeps_query(exchange(page), BASE)
    assert "size=2000 became size=10" in found.message and "seekOperation=Next is missing" in found.message


def test_next_query_wrong_seek_and_path(page):
    page["links"]["next"]["uri"] = f"/invoices/G1/lineitems?{QUERY}&seekOperation=Previous"
    (found,) = pg.check_next_keeps_query(exchange(page), BASE)
    assert "not Next" in found.message and "points to /v1/invoices/G1/lineitems" in found.message


def test_next_query_without_uri(page):
    del page["links"]["next"]["uri"]
    assert rules(pg.check_next_keeps_query(exchange(page), BASE)) == ["PC-PAGING-NEXT-QUERY"]


# ------------------------------------------------------------------ PC-PAGING-NEXT-TOKEN, PAGE-SIZE, TOTALCOUNT


def test_next_token(page):
    assert pg.check_next_has_token(exchange(page)) == []
    page["links"]["next"]["headers"] = []
    (found,) = pg.check_next_has_token(exchange(page))
    assert found.rule == "PC-PAGING-NEXT-TOKEN" and "MS-ContinuationToken" in found.message
    page["links"]["next"]["headers"] = [{"key": "MS-ContinuationToken", "value": ""}]
    assert rules(pg.check_next_has_token(exchange(page))) == ["PC-PAGING-NEXT-TOKEN"]


def test_page_size(page):
    assert pg.check_page_size(exchange(page)) == []
    assert pg.check_page_size(exchange(page), size=2) == []
    (found,) = pg.check_page_size(exchange(page, url=URL.replace("size=2000", "size=1")))
    assert found.rule == "PC-PAGING-PAGE-SIZE" and "holds 2 items but size was 1" in found.message
    big = page_of([{"n": i} for i in range(2001)])
    unsized = URL.replace("&size=2000", "")
    assert rules(pg.check_page_size(exchange(big, url=unsized))) == ["PC-PAGING-PAGE-SIZE"]  # default 2000


def test_total_count(page):
    assert pg.check_total_count(exchange(page)) == []
    page["totalCount"] = "2"  # a numeric string is the same count
    assert pg.check_total_count(exchange(page)) == []
    page["totalCount"] = 40
    (found,) = pg.check_total_count(exchange(page))
    assert found.rule == "PC-PAGING-TOTALCOUNT" and "totalCount is 40 but the page holds 2" in found.message
    del page["totalCount"]
    assert rules(pg.check_total_count(exchange(page))) == ["PC-PAGING-TOTALCOUNT"]


def test_check_page_runs_every_page_rule(page):
    assert pg.check_page(exchange(page), BASE) == []
    page["totalCount"] = 9
    page["links"]["next"]["headers"] = []
    assert sorted(rules(pg.check_page(exchange(page), BASE, size=1))) == [
        "PC-PAGING-NEXT-TOKEN", "PC-PAGING-PAGE-SIZE", "PC-PAGING-TOTALCOUNT"]
    assert pg.check_page(exchange({"code": "x"}, status=400), BASE) == []  # not a page


# ------------------------------------------------------------------ PC-PAGING-TERMINATES


NEXT = f"/invoices/unbilled/lineitems?{QUERY}&seekOperation=Next"


def test_walk_conforming():
    pages = [exchange(page_of([1], next_uri=NEXT, token="a")), exchange(page_of([2], next_uri=NEXT, token="b")),
             exchange(page_of([3]))]
    assert pg.check_walk_terminates(pages, budget=10) == []


def test_walk_empty_page_that_links_on_is_tolerated_when_the_walk_ends():
    pages = [exchange(page_of([1], next_uri=NEXT, token="a")), exchange(page_of([], next_uri=NEXT, token="b")),
             exchange(page_of([]))]
    assert pg.check_walk_terminates(pages, budget=10) == []
    endless = [exchange(page_of([1], next_uri=NEXT, token="a"))] + [
        exchange(page_of([], next_uri=NEXT, token=f"e{i}")) for i in range(4)]
    assert pg.check_walk_terminates(endless, budget=5) == [], "length alone is no evidence of an endless walk"
    looping = endless + [exchange(page_of([], next_uri=NEXT, token="e3"))]
    (found,) = pg.check_walk_terminates(looping)
    assert found.rule == "PC-PAGING-TERMINATES" and "continuation token of page 5 again" in found.message


def test_walk_repeated_token_and_page():
    pages = [exchange(page_of([1], next_uri=NEXT, token="a")), exchange(page_of([2], next_uri=NEXT, token="a"))]
    assert "continuation token of page 1 again" in pg.check_walk_terminates(pages, budget=10)[0].message
    pages = [exchange(page_of([1], next_uri=NEXT, token="a")), exchange(page_of([1], next_uri=NEXT, token="b"))]
    assert "page 2 repeats page 1" in pg.check_walk_terminates(pages, budget=10)[0].message


def test_walk_over_budget_is_no_finding_and_broken_link_is():
    pages = [exchange(page_of([i], next_uri=NEXT, token=str(i))) for i in range(3)]
    assert pg.check_walk_terminates(pages, budget=3) == [], "size is not drift: a walk cut at a budget is unproven"
    pages = [exchange(page_of([1], next_uri=NEXT, token="a")), exchange({"code": "x", "description": "y"}, status=500)]
    assert "answered 500" in pg.check_walk_terminates(pages, budget=10)[0].message


def test_walk_stopped_at_a_tokenless_link_is_not_a_termination_finding():
    pages = [exchange(page_of([1], next_uri=NEXT, token=None))]
    assert pg.check_walk_terminates(pages, budget=1) == []


# ------------------------------------------------------------------ PC-PAGING-CONSISTENT


ITEMS = [{"orderId": f"o{i}", "chargeType": "New"} for i in range(5)]


def _pages(*chunks: list[Any]) -> list[Exchange]:
    return [exchange(page_of(c, next_uri=NEXT if i < len(chunks) - 1 else None)) for i, c in enumerate(chunks)]


def test_pages_match_conforming():
    assert pg.check_pages_match(ITEMS, _pages(ITEMS[:2], ITEMS[2:4], ITEMS[4:]), size=2) == []


def test_pages_match_missing_item():
    (found,) = pg.check_pages_match(ITEMS, _pages(ITEMS[:2], ITEMS[3:]), size=2)
    assert found.rule == "PC-PAGING-CONSISTENT" and "1 missing (first {orderId=o2" in found.message


def test_pages_match_duplicate_extra_and_order():
    found = pg.check_pages_match(ITEMS, _pages(ITEMS[:2], ITEMS[1:]), size=2)[0]
    assert "1 duplicated" in found.message and "page 2" in found.message
    found = pg.check_pages_match(ITEMS, _pages(ITEMS, [{"orderId": "zz"}]), size=5)[0]
    assert "1 not on the single page" in found.message
    # no document orders line items: the same items in another order are no drift
    assert pg.check_pages_match(ITEMS, _pages(ITEMS[::-1]), size=5) == []


# ------------------------------------------------------------------ PC-PAGING-BAD-TOKEN-4XX


def test_bad_token_rejected():
    assert pg.check_bad_token_rejected(exchange({"code": "400", "description": "bad token"}, status=400), "garbage") == []
    # served instead of refused: the docs do not say, so worth knowing only
    (found,) = pg.check_bad_token_rejected(exchange(page_of([]), status=200), "a garbage token")
    assert found.rule == "PC-PAGING-BAD-TOKEN-4XX" and found.severity == "advisory" and "answered 200" in found.message
    # a 5xx is wrong whatever the server decides about the token
    for status in (500, 503):
        (found,) = pg.check_bad_token_rejected(exchange(page_of([]), status=status), "a garbage token")
        assert found.rule == "PC-PAGING-BAD-TOKEN-NO-5XX" and found.severity == "breaking"
        assert f"answered {status}" in found.message


def test_replayed_token_may_be_served_or_refused_never_5xx():
    assert pg.check_bad_token_no_server_error(exchange(page_of([]), status=200), "a replayed token") == []
    assert pg.check_bad_token_no_server_error(exchange({"code": "400", "description": "x"}, status=400), "r") == []
    assert rules(pg.check_bad_token_no_server_error(exchange({}, status=500), "r")) == ["PC-PAGING-BAD-TOKEN-NO-5XX"]


# ------------------------------------------------------------------ query handling


def test_query_accepted():
    assert pc.check_query_accepted(exchange(page_of([]))) == []
    (found,) = pc.check_query_accepted(exchange({"code": "400", "description": "x"}, status=400), "currencyCode=usd")
    assert found.rule == "PC-QUERY-CASE-INSENSITIVE" and found.severity == "breaking"
    assert "'currencyCode=usd')" in found.message and "answered 400" in found.message
    (found,) = pc.check_query_accepted(exchange({"code": "400", "description": "x"}, status=400), "CURRENCYCODE=usd",
                                       documented=False)
    assert found.rule == "PC-QUERY-ANY-CASE" and found.severity == "advisory"


@pytest.mark.parametrize("pairs, documented", [
    ([("provider", "onetime"), ("invoicelineitemtype", "billinglineitems"), ("currencycode", "usd"), ("period", "previous")], True),
    ([("provider", "onetime"), ("invoiceLineItemType", "billinglineitems"), ("currencyCode", "usd"), ("period", "previous"),
      ("size", "2000"), ("seekoperation", "next")], True),  # request example 2
    ([("provider", "OneTime"), ("invoicelineitemtype", "BillingLineItems"), ("currencycode", "USD")], True),  # the table
    ([("PROVIDER", "onetime")], False),
    ([("provider", "ONETIME")], False),
    ([("currencycode", "Usd")], False),
    ([("Size", "7")], False),
])
def test_documented_spellings(pairs, documented):
    assert pc.documented_spelling(pairs) is documented


def test_query_rejected():
    assert pc.check_query_rejected(exchange({}, status=400), "size=0") == []
    # served: size=2001 clamped, seekOperation= ignored... the docs do not say a server must refuse
    (found,) = pc.check_query_rejected(exchange({}, status=200), "size=2001")
    assert found.rule == "PC-QUERY-INVALID-4XX" and found.severity == "advisory" and "size=2001 was answered 200" in found.message
    (found,) = pc.check_query_rejected(exchange({}, status=500), "size=0")
    assert found.rule == "PC-QUERY-NO-5XX" and found.severity == "breaking" and "size=0 was answered 500" in found.message


def test_no_server_error():
    assert pc.check_no_server_error(exchange({}, status=200), "q") == []
    assert pc.check_no_server_error(exchange({}, status=404), "q") == []
    assert rules(pc.check_no_server_error(exchange({}, status=502), "q")) == ["PC-QUERY-NO-5XX"]


@pytest.mark.parametrize("fixture", ["pc-apifault-404-600074.json", "pc-apifault-600061.json",
                                     "pc-apifault-error-codes-template.CONSTRUCTED.json", "pc-error-429-throttling.json"])
def test_error_shape_documented(fixture):
    assert pc.check_error_shape(exchange(doc(fixture), status=400)) == []


def test_error_shape_drift():
    (found,) = pc.check_error_shape(exchange(raw=b"<html><body>Bad Request</body></html>", status=400,
                                             headers={"content-type": "text/html"}))
    assert found.rule == "PC-ERROR-SHAPE" and "not JSON (text/html)" in found.message
    (found,) = pc.check_error_shape(exchange({"error": {"message": "x"}}, status=400))
    assert found.rule == "PC-ERROR-SHAPE" and "PartnerCenterError" in found.message
    assert pc.check_error_shape(exchange({"anything": 1}, status=200)) == []  # not an error


def _sent(query: str, **headers: str) -> Exchange:
    return exchange({}, url=f"{BASE}/v1/invoices/unbilled/lineitems?{query}", request_headers=headers)


def test_classify_query_valid_in_any_case():
    assert pc.case_insensitive() is True
    for query in (QUERY, "PROVIDER=OneTime&InvoiceLineItemType=BillingLineItems&CurrencyCode=Usd&Period=Previous",
                  QUERY + "&hasPartnerEarnedCredit=TRUE", QUERY + "&seekoperation=next"):
        headers = {"MS-ContinuationToken": "abc"} if "seek" in query else {}
        verdict = pc.classify_query(_sent(query, **headers))
        assert not verdict.invalid, (query, verdict)


@pytest.mark.parametrize(
    "change, problem",
    [
        (("provider=onetime&", ""), "provider missing"),
        (("provider=onetime", "provider=azure"), "provider='azure'"),
        (("invoicelineitemtype=billinglineitems&", ""), "invoicelineitemtype missing"),
        (("currencycode=usd", "currencycode=US"), "currencycode='US'"),
        (("period=previous", "period=someday"), "period='someday'"),
        (("size=2000", "size=0"), "size=0 (below 1)"),
        (("size=2000", "size=2001"), "size=2001 (above 2000)"),
        (("size=2000", "size=-1"), "size=-1 (below 1)"),
        (("size=2000", "size=abc"), "size='abc' (not an integer)"),
        (("size=2000", "size=2000&seekOperation=Previous"), "seekOperation='Previous'"),
        (("size=2000", "size=2000&seekOperation=Next"), "seekOperation=Next without MS-ContinuationToken"),
    ],
)
def test_classify_query_invalid(change, problem):
    verdict = pc.classify_query(_sent(QUERY.replace(*change)))
    assert verdict.invalid and any(problem in p for p in verdict.problems), verdict


def test_classify_query_doubts():
    verdict = pc.classify_query(_sent(QUERY + "&size=5"))  # size given twice, both valid
    assert not verdict.invalid and "size given 2 times" in verdict.doubts
    verdict = pc.classify_query(_sent(QUERY + "&hasPartnerEarnedCredit=maybe"))  # an ignorable flag
    assert not verdict.invalid and verdict.doubts


# ------------------------------------------------------------------ response


def test_collection_conforming(page):
    assert pc.check_collection(exchange(page)) == []
    assert pc.check_collection(exchange(doc("pc-response-example-2-rev2019.json"))) == []


def test_collection_missing_field_and_undeclared(page):
    del page["items"][0]["subscriptionId"]
    page["items"][1]["brandNewField"] = 1
    found = pc.check_collection(exchange(page))
    assert rules(found) == ["PC-RESPONSE-SCHEMA", "PC-RESPONSE-UNDECLARED-PROPERTY"]
    assert "subscriptionId" in found[0].message and found[1].severity == "additive"
    assert rules(pc.check_collection(exchange(raw=b"oops"))) == ["PC-RESPONSE-SCHEMA"]
    assert pc.check_collection(exchange(raw=b"oops", status=400)) == []  # errors are PC-ERROR-SHAPE's


def test_headers_echoed(page):
    assert pc.check_headers_echoed(exchange(page, request_headers=IDS, headers=IDS)) == []
    assert pc.check_headers_echoed(exchange(page)) == []  # nothing sent, nothing to echo
    (found,) = pc.check_headers_echoed(exchange(page, request_headers=IDS, headers={"MS-RequestId": "other"}))
    assert found.rule == "PC-HEADERS-ECHO" and found.severity == "advisory"
    assert "MS-RequestId 'other' instead of" in found.message and "MS-CorrelationId missing" in found.message


def test_throttle_retry_after():
    throttled = doc("pc-error-429-throttling.json")
    assert pc.check_throttle_retry_after([exchange(throttled, status=429, headers={"Retry-After": "57"})]) == []
    (found,) = pc.check_throttle_retry_after([exchange(throttled, status=429)])
    assert found.rule == "PC-THROTTLE-RETRY-AFTER" and found.severity == "advisory"


# ------------------------------------------------------------------ line items


def test_charge_types(page):
    assert pc.check_charge_types(exchange(page)) == []
    page["items"][1]["chargeType"] = "new"
    assert pc.check_charge_types(exchange(page)) == []  # any letter case
    items = copy.deepcopy(page["items"])
    items[0]["chargeType"], items[1]["chargeType"] = "PURCHASE", "refund"
    found = pc.check_charge_types(exchange(page_of(items)), page=2)
    assert rules(found) == ["PC-CHARGETYPE-MAPPED"]
    assert "2 item(s)" in found[0].message and "first at page 3 item 1" in found[0].message
    items[0]["chargeType"], items[1]["chargeType"] = "Prorate", "Cancel"
    (found,) = pc.check_charge_types(exchange(page_of(items)))
    assert found.rule == "PC-CHARGETYPE-KNOWN" and found.severity == "additive" and "'Prorate'" in found.message


def test_item_currency(page):
    assert pc.check_item_currency(exchange(page), "usd") == []
    assert pc.check_item_currency(exchange(page), "USD") == []
    page["items"][1]["currency"] = "EUR"
    page["items"][1]["pricingCurrency"] = "EUR"  # the pricing currency is not checked
    (found,) = pc.check_item_currency(exchange(page), "usd", page=0)
    assert found.rule == "PC-ITEM-CURRENCY" and "first at page 1 item 2" in found.message and '"EUR"' in found.message


def test_item_dates(page):
    assert pc.check_item_dates(exchange(page)) == []
    assert pc.check_item_dates(exchange(page_of([doc("pc-onetime-line-item-2021.json")]))) == []  # offset-less
    page["items"][0]["pcToBCExchangeRateDate"] = None  # optional
    assert pc.check_item_dates(exchange(page)) == []
    page["items"][0]["chargeEndDate"] = "2019-02-01T00:00:00Z"
    (found,) = pc.check_item_dates(exchange(page))
    assert found.rule == "PC-ITEM-DATE-ORDER" and found.severity == "advisory" and "is after chargeEndDate" in found.message
    page["items"][0]["chargeEndDate"] = "2019-03-03T09:22:40.1767993-08:00"
    page["items"][1]["orderDate"] = "yesterday"
    (found,) = pc.check_item_dates(exchange(page))
    assert found.rule == "PC-ITEM-DATES" and found.severity == "breaking"
    assert "orderDate 'yesterday' is not a date-time" in found.message and "item 2" in found.message


def test_check_items_names_pages(page):
    bad = copy.deepcopy(page)
    bad["items"][0]["currency"] = "EUR"
    pages = [exchange(page), exchange(bad), exchange({}, status=500)]
    (found,) = pc.check_items(pages, pc.check_item_currency, "USD")
    assert "page 2 item 1" in found.message


def test_first_per_rule_counts_the_rest(page):
    page["totalCount"] = 9
    findings = [f for i in range(3) for f in pg.check_page(exchange(page), BASE, page=i)]
    (found,) = pg.first_per_rule(findings)
    assert found.rule == "PC-PAGING-TOTALCOUNT" and found.message.startswith("page 1:")
    assert "(and 2 more page(s) alike)" in found.message


def test_next_query_compares_with_the_first_request_of_the_walk(page):
    second_url = URL.replace("&currencycode=usd", "") + "&seekOperation=Next"
    page["links"]["next"]["uri"] = page["links"]["next"]["uri"].replace("&currencycode=usd", "")
    assert pg.check_next_keeps_query(exchange(page, url=second_url), BASE) == []  # against its own request
    (found,) = pg.check_next_keeps_query(exchange(page, url=second_url), BASE, walk_url=URL)
    assert "currencycode=usd is missing" in found.message


# ------------------------------------------------------------------ every page of a walk


def _walk(pages: int = 6) -> list[dict[str, Any]]:
    """A walk of ``pages`` pages of the docs' first item, each with a unique orderId."""
    item = doc("pc-response-example-1.json")["items"][0]
    out = []
    for n in range(pages):
        it = {**copy.deepcopy(item), "orderId": f"order-{n}"}
        out.append(page_of([it], next_uri="/invoices/unbilled/lineitems?seekOperation=Next" if n < pages - 1 else None,
                           token=f"t{n}"))
    return out


def test_every_page_conforming_walk_passes():
    pages = [exchange(p) for p in _walk()]
    assert pc.check_every_page(pages, currency="usd") == []


@pytest.mark.parametrize("value, spelling", [(None, "null"), ("", "empty"), ("tok", "string")])
def test_continuation_token_null_or_empty_is_a_conforming_alternative(value, spelling):
    """Microsoft's C# sample tests string.IsNullOrWhiteSpace(ContinuationToken): null and empty are expected."""
    body = {**_walk(2)[0], "continuationToken": value}
    assert pc.check_collection(exchange(body)) == []
    assert pc.continuation_token_field(exchange(body)) == spelling
    assert pc.continuation_token_field(exchange(_walk(2)[0])) == "absent"


@pytest.mark.parametrize("page_index, mutate, rule", [
    (2, lambda item: item.update(chargeType="Purchase"), "PC-CHARGETYPE-MAPPED"),
    (3, lambda item: item.update(chargeType="refund"), "PC-CHARGETYPE-MAPPED"),
    (4, lambda item: item.pop("subscriptionId"), "PC-RESPONSE-SCHEMA"),
    (5, lambda item: item.update(currency="EUR"), "PC-ITEM-CURRENCY"),
    (4, lambda item: item.update(chargeEndDate="03/03/2019 09:22"), "PC-ITEM-DATES"),
], ids=["purchase-page-3", "refund-lower-case-page-4", "no-subscriptionId-page-5", "currency-page-6", "date-page-5"])
def test_drift_on_a_later_page_is_caught(page_index, mutate, rule):
    bodies = _walk()
    mutate(bodies[page_index]["items"][0])
    found = [f for f in pc.check_every_page([exchange(b) for b in bodies], currency="USD") if f.rule == rule]
    assert found and found[0].severity == "breaking"
    assert f"page {page_index + 1}" in found[0].message


@pytest.mark.parametrize("raw, words", [
    (b"<html>maintenance</html>", "not JSON"),
    (json.dumps([{"orderId": "x"}]).encode(), "array"),
], ids=["html-page", "json-array-page"])
def test_a_200_page_that_is_no_collection_mid_walk_is_a_finding(raw, words):
    pages = [exchange(b) for b in _walk(3)[:2]] + [exchange(raw=raw)]
    found = [f for f in pc.check_every_page(pages, currency="USD") if f.rule == "PC-RESPONSE-SCHEMA"]
    assert found and found[0].severity == "breaking", "a page that ends the walk silently would prove nothing"
    assert "page 3" in found[0].message and (words in found[0].message or "is not of type 'object'" in found[0].message)


def test_pages_match_is_not_judged_on_a_broken_walk():
    """A walk cut short by a page that is no collection is PC-RESPONSE-SCHEMA's finding, not a consistency one."""
    broken = _pages(ITEMS[:2]) + [exchange(raw=b"[1, 2]")]
    assert pg.check_pages_match(ITEMS, broken, size=2) == []


def test_last_page_next_may_be_null():
    body = page_of([doc("pc-response-example-1.json")["items"][0]])
    body["links"]["next"] = None
    assert pc.check_collection(exchange(body)) == []
