"""The Partner Center walk of the contract suite: it follows every page it may, and says when it may not."""

from __future__ import annotations

import importlib.util
from types import SimpleNamespace

import httpx

from recon_contracts.plugin.recording import Contract
from recon_contracts.traffic.client import ApiClient, RequestBudget
from recon_contracts.truth.resources import project_root


def _conftest():
    spec = importlib.util.spec_from_file_location("contract_conftest", project_root() / "tests" / "contract" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _page(n: int, next_uri: str | None) -> dict:
    links = {"self": {"uri": "/invoices/unbilled/lineitems", "method": "GET", "headers": []}}
    if next_uri:
        links["next"] = {"uri": next_uri, "method": "GET", "headers": [{"key": "MS-ContinuationToken", "value": f"t{n}"}]}
    items = [{"orderId": f"o{n}"}] if n != 1 else []  # page 2 is empty but links on
    return {"totalCount": len(items), "items": items, "links": links, "attributes": {"objectType": "Collection"}}


def _lineitems(pages: list[dict]):
    seen: list[httpx.Request] = []

    def serve(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        token = request.headers.get("ms-continuationtoken")
        n = 0 if token is None else int(token[1:]) + 1
        return httpx.Response(200, json=pages[n])

    client = ApiClient(api="partner-center", base_url="https://pc.example", token=None, budget=RequestBudget(50))
    client._http = httpx.Client(transport=httpx.MockTransport(serve))
    target = SimpleNamespace(currency="USD", period="current", page_budget=10)
    return _conftest().LineItems(client, target), seen


def test_walk_follows_an_empty_page_that_links_on_to_the_end():
    nxt = "/invoices/unbilled/lineitems?seekOperation=Next"
    lineitems, seen = _lineitems([_page(0, nxt), _page(1, nxt), _page(2, None)])
    pages = lineitems.walk(lineitems.query())
    assert len(pages) == 3 and len(seen) == 3


def test_a_next_link_on_another_host_is_refused_and_leaves_the_test_unproven():
    nxt = "https://elsewhere.example/v1/invoices/unbilled/lineitems?seekOperation=Next"
    lineitems, seen = _lineitems([_page(0, nxt), _page(2, None)])
    pages = lineitems.walk(lineitems.query())
    assert len(pages) == 1 and all(r.url.host == "pc.example" for r in seen), "the bearer token stays with the target"
    contract = Contract("tests/contract/test_pc_items.py::test_charge_types_mapped", strict=False)
    assert lineitems.first_page_ok(pages, contract) is pages
    (mark,) = contract.unproven_marks
    assert "another host" in mark["reason"] and "PC-CHARGETYPE-MAPPED" in mark["rules"]
