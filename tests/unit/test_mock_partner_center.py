"""The mock's Partner Center endpoint: GET /v1/invoices/unbilled/lineitems."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from recon_contracts.mock import MockConfig, serve
from recon_contracts.truth.rules import charge_types

AUTH = {"Authorization": "Bearer test-token"}
# The docs' request example 1, verbatim (with its double slash).
DOC_URL_1 = ("/v1//invoices/unbilled/lineitems?provider=onetime&invoicelineitemtype=billinglineitems"
             "&currencycode=usd&period=previous&size=2000")
Q = "provider=onetime&invoicelineitemtype=billinglineitems&currencycode=usd&period=previous"
PATH = "/v1/invoices/unbilled/lineitems"

# The structure of the docs' response examples (domain D.9): field -> accepted JSON types.
EXAMPLE_1_FIELDS = {
    "partnerId": str, "customerId": str, "customerName": str, "customerDomainName": str, "customerCountry": str,
    "invoiceNumber": str, "mpnId": str, "resellerMpnId": (int, str), "orderId": str, "orderDate": str,
    "productId": str, "skuId": str, "availabilityId": str, "productName": str, "skuName": str, "chargeType": str,
    "unitPrice": (int, float), "effectiveUnitPrice": (int, float), "unitType": str, "quantity": int,
    "subtotal": (int, float), "taxTotal": (int, float), "totalForCustomer": (int, float), "currency": str,
    "publisherName": str, "publisherId": str, "subscriptionDescription": str, "subscriptionId": str,
    "chargeStartDate": str, "chargeEndDate": str, "termAndBillingCycle": str, "alternateId": str,
    "priceAdjustmentDescription": str, "discountDetails": str, "pricingCurrency": str,
    "pcToBCExchangeRate": (int, float), "pcToBCExchangeRateDate": str, "billableQuantity": (int, float),
    "meterDescription": str, "reservationOrderId": str, "attributes": dict,
}
OPTIONAL_FIELDS = {  # in the SDK and the 2021 example, absent from the 2019 examples
    "productQualifiers": list, "subscriptionStartDate": str, "subscriptionEndDate": str, "referenceId": str,
    "billingFrequency": str, "invoiceLineItemType": str, "billingProvider": str, "promotionId": str,
}
SEVEN_DIGITS_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}(Z|[+-]\d\d:\d\d)$")


@pytest.fixture(scope="module")
def server():
    with serve(MockConfig(items=40, seed=0, retry_after=0)) as running:
        yield running


@pytest.fixture(scope="module")
def http():
    with httpx.Client(timeout=10) as client:
        yield client


def get(http, server, query: str, token: str | None = None, headers: dict | None = None) -> httpx.Response:
    h = dict(AUTH if headers is None else headers)
    if token is not None:
        h["MS-ContinuationToken"] = token
    return http.get(f"{server.base_url}{PATH}?{query}", headers=h)


def dt(text: str) -> datetime:
    text = text.replace("Z", "+00:00")
    m = re.match(r"^(.*T\d\d:\d\d:\d\d)\.(\d+)(.*)$", text)
    if m:
        text = f"{m.group(1)}.{m.group(2)[:6].ljust(6, '0')}{m.group(3)}"
    return datetime.fromisoformat(text)


def validate_item(item: dict) -> None:
    for field, kind in EXAMPLE_1_FIELDS.items():
        assert isinstance(item[field], kind) and not isinstance(item[field], bool), field
    for field, kind in OPTIONAL_FIELDS.items():
        if field in item:
            assert isinstance(item[field], kind), field
    assert set(item) <= set(EXAMPLE_1_FIELDS) | set(OPTIONAL_FIELDS)
    assert item["attributes"] == {"objectType": "OneTimeInvoiceLineItem"}
    assert SEVEN_DIGITS_WITH_OFFSET.match(item["chargeStartDate"]) and SEVEN_DIGITS_WITH_OFFSET.match(item["chargeEndDate"])
    assert dt(item["chargeStartDate"]) <= dt(item["chargeEndDate"])
    dt(item["orderDate"]), dt(item["pcToBCExchangeRateDate"])
    if "invoiceLineItemType" in item:
        assert item["invoiceLineItemType"] == "billing_line_items" and item["billingProvider"] == "one_time"


def walk(http, server, query: str, size: int) -> tuple[list[dict], list[dict]]:
    """(items, pages) following links.next with the header token."""
    r = get(http, server, f"{query}&size={size}")
    pages = []
    while True:
        assert r.status_code == 200, r.text
        body = r.json()
        pages.append(body)
        nxt = body["links"].get("next")
        if not nxt:
            break
        token = nxt["headers"][0]["value"]
        r = http.get(f"{server.base_url}/v1{nxt['uri']}", headers={**AUTH, "MS-ContinuationToken": token})
    return [i for p in pages for i in p["items"]], pages


def test_docs_request_example_1(server, http):
    r = http.get(server.base_url + DOC_URL_1, headers={**AUTH, "MS-RequestId": "1234ecb8-37af-45f4-a1a1-358de3ca2b9e",
                                                        "MS-CorrelationId": "5e612512-4345-4bb0-866e-47aeda031234"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    assert r.headers["ms-requestid"] == "1234ecb8-37af-45f4-a1a1-358de3ca2b9e"
    assert r.headers["ms-correlationid"] == "5e612512-4345-4bb0-866e-47aeda031234"
    body = r.json()
    assert list(body) == ["totalCount", "items", "links", "attributes"]
    assert body["totalCount"] == len(body["items"]) == 40
    assert body["attributes"] == {"objectType": "Collection"}
    assert body["links"] == {"self": {"uri": DOC_URL_1.removeprefix("/v1/"), "method": "GET", "headers": []}}
    for item in body["items"]:
        validate_item(item)
        assert item["currency"] == "USD" and item["invoiceNumber"] == ""


def test_items_cover_docs_shapes_and_charge_types(server, http):
    items = get(http, server, f"{Q}&size=40").json()["items"]
    full = [i for i in items if set(OPTIONAL_FIELDS) <= set(i)]
    bare = [i for i in items if not set(OPTIONAL_FIELDS) & set(i)]
    assert full and bare, "some items like the 2021 example, some like the 2019 examples"
    assert any(i["reservationOrderId"] == "" and i["meterDescription"] == "" for i in bare), "like docs page 2"
    assert any(i["customerId"].startswith("org:") for i in items)
    assert any(i["productQualifiers"] for i in full)
    ct = charge_types()
    reported = {i["chargeType"] for i in items}
    assert {k.casefold() for k in ct.known} == {t.casefold() for t in reported}
    assert not {t.casefold() for t in reported} & ct.forbidden()


def test_next_link_like_the_docs(server, http):
    body = get(http, server, f"{Q}&size=7").json()
    nxt = body["links"]["next"]
    assert nxt["uri"] == f"/invoices/unbilled/lineitems?{Q}&size=7&seekOperation=Next"
    assert nxt["method"] == "GET"
    assert nxt["headers"] == [{"key": "MS-ContinuationToken", "value": body["continuationToken"]}]
    assert body["links"]["self"]["uri"] == f"/invoices/unbilled/lineitems?{Q}&size=7"
    assert body["totalCount"] == 7


@pytest.mark.parametrize("size", [1, 3, 7, 39, 40, 2000])
def test_pages_hold_the_items_of_one_page(server, http, size):
    one_page = get(http, server, f"{Q}&size=2000").json()["items"]
    items, pages = walk(http, server, Q, size)
    assert items == one_page
    assert len(pages) == -(-40 // size)
    tokens = [p["continuationToken"] for p in pages[:-1]]
    assert len(set(tokens)) == len(tokens)
    for page in pages:
        assert page["totalCount"] == len(page["items"]) <= size
    assert "next" not in pages[-1]["links"] and "continuationToken" not in pages[-1]


def test_docs_request_example_2_casing(server, http):
    """invoiceLineItemType, currencyCode and seekoperation=next, as the docs' second request sends them."""
    first = get(http, server, f"{Q}&size=10").json()
    query = ("provider=onetime&invoiceLineItemType=billinglineitems&currencyCode=usd&period=previous&size=10"
             "&seekoperation=next")
    r = get(http, server, query, first["continuationToken"])
    assert r.status_code == 200
    assert r.json()["items"] == get(http, server, f"{Q}&size=20").json()["items"][10:]
    # the next link keeps the request's own parameters and adds seekOperation=Next once
    nxt = r.json()["links"]["next"]["uri"]
    names = [k for k, _ in parse_qsl(urlsplit(nxt).query)]
    assert names == ["provider", "invoiceLineItemType", "currencyCode", "period", "size", "seekOperation"]


@pytest.mark.parametrize("query", [
    "PROVIDER=ONETIME&INVOICELINEITEMTYPE=BILLINGLINEITEMS&CURRENCYCODE=USD&PERIOD=PREVIOUS",
    "Provider=OneTime&InvoiceLineItemType=BillingLineItems&CurrencyCode=Usd&Period=Previous&Size=5",
    f"{Q}&hasPartnerEarnedCredit=true",
    f"{Q}&haspartnerearnedcredit=False",
])
def test_names_and_values_any_case(server, http, query):
    r = get(http, server, query)
    assert r.status_code == 200
    assert {i["currency"] for i in r.json()["items"]} == {"USD"}


def test_token_binding(server, http):
    token = get(http, server, f"{Q}&size=5").json()["continuationToken"]
    assert get(http, server, f"{Q}&size=5&seekOperation=Next", token).status_code == 200
    for other in (Q.replace("usd", "eur"), Q.replace("previous", "current")):
        r = get(http, server, f"{other}&size=5&seekOperation=Next", token)
        assert r.status_code == 400 and set(r.json()) == {"code", "description", "data", "source"}
    for garbage in ("AQAAAA==", "not a token", token[:-6] + "AAAAA=", token.replace(",", ";"), ",,"):
        r = get(http, server, f"{Q}&size=5&seekOperation=Next", garbage)
        assert r.status_code == 400, garbage
    r = get(http, server, f"{Q}&size=5&seekOperation=Next")
    assert r.status_code == 400 and "MS-ContinuationToken" in r.json()["description"]


def test_period_and_currency_change_the_items(server, http):
    previous = get(http, server, f"{Q}&size=5").json()["items"]
    current = get(http, server, Q.replace("previous", "current") + "&size=5").json()["items"]
    assert [i["subscriptionId"] for i in previous] != [i["subscriptionId"] for i in current]
    eur = get(http, server, Q.replace("usd", "eur") + "&size=5").json()["items"]
    assert {i["currency"] for i in eur} == {"EUR"}
    assert [i["subscriptionId"] for i in eur] == [i["subscriptionId"] for i in previous]


@pytest.mark.parametrize("query", [
    "invoicelineitemtype=billinglineitems&currencycode=usd&period=previous",  # provider missing
    "provider=azure&invoicelineitemtype=billinglineitems&currencycode=usd&period=previous",
    "provider=all&invoicelineitemtype=billinglineitems&currencycode=usd&period=previous",
    "provider=onetime&currencycode=usd&period=previous",
    "provider=onetime&invoicelineitemtype=usagelineitems&currencycode=usd&period=previous",
    "provider=onetime&invoicelineitemtype=billinglineitems&period=previous",
    "provider=onetime&invoicelineitemtype=billinglineitems&currencycode=us&period=previous",
    "provider=onetime&invoicelineitemtype=billinglineitems&currencycode=u5d&period=previous",
    "provider=onetime&invoicelineitemtype=billinglineitems&currencycode=usd",
    "provider=onetime&invoicelineitemtype=billinglineitems&currencycode=usd&period=last",
    f"{Q}&size=0", f"{Q}&size=2001", f"{Q}&size=-1", f"{Q}&size=ten", f"{Q}&size=", f"{Q}&size=1.5",
    f"{Q}&seekOperation=Previous", f"{Q}&hasPartnerEarnedCredit=maybe", f"{Q}&provider=onetime",
    "%ZZ=1&" + Q.replace("provider=onetime&", ""),
])
def test_invalid_queries_are_400_apifault(server, http, query):
    r = get(http, server, query)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"code", "description", "data", "source"}
    assert isinstance(body["code"], str) and isinstance(body["description"], str) and body["data"] == []


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Token abc"},
                                     {"Authorization": "Bearer"}])
def test_bearer_token_required(server, http, headers):
    r = get(http, server, Q, headers=headers)
    assert r.status_code == 401
    assert set(r.json()) == {"code", "description", "data", "source"}


def test_other_paths_and_methods(server, http):
    r = http.get(f"{server.base_url}/v1/invoices/G000024135/lineitems?{Q}", headers=AUTH)
    assert r.status_code == 404 and "description" in r.json()
    r = http.get(f"{server.base_url}/v1/customers", headers=AUTH)
    assert r.status_code == 404 and "description" in r.json()
    r = http.post(f"{server.base_url}{PATH}?{Q}", headers=AUTH, content=b"{}")
    assert r.status_code == 405 and r.headers["allow"] == "GET" and "description" in r.json()
    r = http.delete(f"{server.base_url}{PATH}", headers=AUTH)
    assert r.status_code == 405
    r = http.get(f"{server.base_url}/nothing/here")
    assert r.status_code == 404 and "error" in r.json()
