"""The Partner Center walk of the contract suite: it follows every page it may, and says when it may not."""

from __future__ import annotations

import importlib.util
from types import SimpleNamespace

import httpx
import pytest

from recon_contracts.drivers.partner_center import WalkItems
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


# ------------------------------------------------------------------ size is not drift


def _lazy_lineitems(total: int, size: int, *, page_budget: int | None = None, loop_after: int | None = None,
                    empty_forever_after: int | None = None):
    """A Partner Center that serves ``total`` items ``size`` per page, each page made when it is asked for."""
    import json as _json

    seen = [0]

    def serve(request: httpx.Request) -> httpx.Response:
        seen[0] += 1
        token = request.headers.get("ms-continuationtoken")
        offset = 0 if token is None else int(token.split(":")[1])
        end = min(offset + size, total)
        items = [{"orderId": f"order-{i}", "quantity": 1} for i in range(offset, end)]
        next_offset: int | None = end if end < total else None
        if loop_after is not None and offset >= loop_after:
            next_offset = offset  # the page links to itself: the same token again
        if empty_forever_after is not None and offset >= empty_forever_after:
            items, next_offset = [], offset + 1
        links: dict = {"self": {"uri": "/invoices/unbilled/lineitems", "method": "GET", "headers": []}}
        if next_offset is not None:
            links["next"] = {"uri": "/invoices/unbilled/lineitems?seekOperation=Next", "method": "GET",
                             "headers": [{"key": "MS-ContinuationToken", "value": f"tok:{next_offset}"}]}
        body = {"totalCount": len(items), "items": items, "links": links, "attributes": {"objectType": "Collection"}}
        return httpx.Response(200, content=_json.dumps(body).encode(), headers={"content-type": "application/json"})

    client = ApiClient(api="partner-center", base_url="https://pc.example", token=None, budget=RequestBudget())
    client._http = httpx.Client(transport=httpx.MockTransport(serve))
    target = SimpleNamespace(currency="USD", period="current", page_budget=page_budget)
    return _conftest().LineItems(client, target), seen


def test_a_walk_of_500000_items_goes_to_its_end_bounded_in_memory():
    from recon_contracts.checks.paging import check_walk_terminates

    lineitems, seen = _lazy_lineitems(500_000, 1000)
    pages = lineitems.walk(lineitems.query(size=1000))
    assert len(pages) == 500 and seen[0] == 500, "the walk went on past the old guessed budget of 200 pages"
    largest = max(pages.item_counts) * 64
    assert pages.memory_bytes() <= largest, "more than one page's body is held in memory"
    assert pages.disk_bytes() > 10 * 1024 * 1024
    assert len(lineitems.items_of(pages)) == 500_000 == len(WalkItems(pages))
    assert check_walk_terminates(pages) == [], "a long walk that ends is no drift"
    contract = Contract("tests/contract/test_pc_paging.py::test_walk_to_the_end", strict=False)
    lineitems.first_page_ok(pages, contract)
    assert contract.unproven_marks == []


def test_running_out_of_a_user_set_budget_is_unproven_never_breaking():
    from recon_contracts.checks.paging import check_walk_terminates

    lineitems, seen = _lazy_lineitems(5_000, 100, page_budget=7)
    pages = lineitems.walk(lineitems.query(size=100))
    assert len(pages) == 7 and seen[0] == 7
    assert check_walk_terminates(pages, budget=7) == []
    contract = Contract("tests/contract/test_pc_paging.py::test_walk_to_the_end", strict=False)
    lineitems.first_page_ok(pages, contract)
    (mark,) = contract.unproven_marks
    assert "--page-budget 7" in mark["reason"] and "PC-PAGING-TERMINATES" in mark["rules"]
    assert contract.latest() == [] if hasattr(contract, "latest") else True


def test_an_endless_walk_is_proven_by_its_repeated_token():
    from recon_contracts.checks.paging import check_walk_terminates

    lineitems, seen = _lazy_lineitems(1_000, 100, loop_after=300)
    pages = lineitems.walk(lineitems.query(size=100))
    assert seen[0] == len(pages) == 4, "the walk stops at the first repeated token (page 4 hands out page 3's)"
    (found,) = check_walk_terminates(pages)
    assert found.rule == "PC-PAGING-TERMINATES" and "continuation token of page 3 again" in found.message


def test_empty_pages_with_new_tokens_forever_end_the_walk_unproven():
    lineitems, seen = _lazy_lineitems(10_000, 100, empty_forever_after=300)
    pages = lineitems.walk(lineitems.query(size=100))
    assert seen[0] < 200, "the walk went on through empty pages without end"
    contract = Contract("tests/contract/test_pc_paging.py::test_walk_to_the_end", strict=False)
    lineitems.first_page_ok(pages, contract)
    (mark,) = contract.unproven_marks
    assert "empty pages in a row" in mark["reason"]


def test_walk_items_index_and_slice_like_the_list_of_every_item():
    """A walk's items by position read only the pages that hold them, and say what the whole list would say."""
    lineitems, _seen = _lazy_lineitems(23, 5)
    pages = lineitems.walk(lineitems.query(size=5))
    every = lineitems.items_of(pages)
    items = WalkItems(pages)
    assert len(items) == len(every) == 23
    for i in [0, 4, 5, 9, 22, -1, -23]:
        assert items[i] == every[i]
    for s in [slice(None), slice(3, 17), slice(2, 20, 3), slice(None, None, -4), slice(-6, None), slice(30, 40)]:
        assert items[s] == every[s]
    for bad in [23, -24]:
        with pytest.raises(IndexError):
            items[bad]


def test_walk_items_by_position_parse_only_the_page_that_holds_it(monkeypatch):
    from recon_contracts.drivers import partner_center

    lineitems, _seen = _lazy_lineitems(23, 5)
    pages = lineitems.walk(lineitems.query(size=5))
    expected = lineitems.items_of(pages)[22]
    parsed = []
    real = partner_center._items
    monkeypatch.setattr(partner_center, "_items", lambda page: parsed.append(page) or real(page))
    assert WalkItems(pages)[22] == expected
    assert len(parsed) == 1, f"{len(parsed)} pages parsed for one item"
