"""Bad requests never crash the mock: each gets a clean 4xx in the shape of the API its path belongs to."""

from __future__ import annotations

import itertools

import httpx
import pytest

from recon_contracts.mock import MockConfig, serve

PATHS = ["/v1/invoices/unbilled/lineitems", "/v1//invoices/unbilled/lineitems/", "/v1/invoices//lineitems",
         "/v1", "/v1.0", "/beta/", "/v1.0/reports/partners/billing/operations/%00",
         "/beta/reports/partners/billing/manifests/..%2F", "/v1.0/reports/partners/billing/reconciliation/billed/export",
         "/beta/reports/partners/billing/reconciliation/unbilled/microsoft.graph.partners.billing.export",
         "/blobs/x", "/", "/%ff%fe", "/v1/invoices/%E2%82%AC/lineitems", "/favicon.ico"]
QUERIES = ["", "provider=onetime&invoicelineitemtype=billinglineitems&currencycode=usd&period=current"
           "&size=99999999999999999999", "a=%ZZ&&&==&provider", "size=" + "9" * 3000,
           "currencycode=%C3%A9%C3%A9%C3%A9&provider=onetime&invoicelineitemtype=billinglineitems&period=current",
           "seekOperation=Next&provider=onetime&invoicelineitemtype=billinglineitems&currencycode=usd&period=current"]
BODIES = [b"", b"{}", b'{"invoiceId": null}', b"\x00\xff", b'"x"', b"1e999999", b'{"invoiceId": {"a": 1}}',
          b'{"currencyCode": "USD", "billingPeriod": "current", "attributeSet": null}']
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]


@pytest.fixture(scope="module")
def client():
    with serve(MockConfig(retry_after=0)) as server, httpx.Client(base_url=server.base_url, timeout=10) as http:
        yield http


@pytest.mark.parametrize("method", METHODS)
def test_no_server_errors(client, method):
    cases = itertools.product(PATHS, QUERIES, BODIES[:3] if method in ("GET", "HEAD") else BODIES)
    for n, (path, query, body) in enumerate(cases):
        headers = {"Authorization": "Bearer x" if n % 3 else "", "Content-Type": "application/json",
                   "MS-ContinuationToken": ["", "a,b,c", ",,,,", "AAAA"][n % 4]}
        r = client.request(method, path + (f"?{query}" if query else ""), headers=headers, content=body)
        assert r.status_code < 500, (method, path, query, body, r.status_code, r.text[:200])
        if r.status_code >= 400 and method != "HEAD" and not path.startswith("/blobs/"):
            body_json = r.json()
            low = path.lower()
            if low.startswith("/v1/") or low == "/v1":
                assert "description" in body_json or "statusCode" in body_json
            else:
                assert "error" in body_json


def test_wrong_method_answers_405_with_allow(client):
    r = client.put("/v1/invoices/unbilled/lineitems")
    assert r.status_code == 405 and r.headers["allow"] == "GET"
    r = client.delete("/v1.0/reports/partners/billing/manifests/x")
    assert r.status_code == 405 and r.headers["allow"] == "GET" and "error" in r.json()
    r = client.get("/beta/reports/partners/billing/reconciliation/billed/microsoft.graph.partners.billing.export")
    assert r.status_code == 405 and r.headers["allow"] == "POST"
