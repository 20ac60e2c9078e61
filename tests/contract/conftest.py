"""Partner Center helpers for tests/contract/test_pc_*.py: one line-items request, a page walk, cached walks.

Only Partner Center fixtures live here (``lineitems``); the Graph tests do not use them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

import pytest

from recon_contracts.checks.paging import DEFAULT_PAGE_SIZE, body_of, next_request, page_items
from recon_contracts.traffic.client import ApiClient, new_request_ids, show_origin
from recon_contracts.checks.common import check_link_origin
from recon_contracts.findings import Exchange
from recon_contracts import progress
from recon_contracts.redact import REDACTOR

PC_LINEITEMS = "/v1/invoices/unbilled/lineitems"
PC_OPERATION = "GET /v1/invoices/{invoice-id}/lineitems"

Query = list[tuple[str, str]]


def base_query(currency: str, period: str, *, size: int | None = None) -> Query:
    """The documented query (request syntax spelling), with an optional page size."""
    query = [
        ("provider", "onetime"),
        ("invoicelineitemtype", "billinglineitems"),
        ("currencycode", currency),
        ("period", period),
    ]
    if size is not None:
        query.append(("size", str(size)))
    return query


def _items(exchange: Exchange) -> list[Any]:
    return page_items(body_of(exchange))


class LineItems:
    """Drives the Partner Center line-items endpoint for the tests; checks stay in the check modules."""

    def __init__(self, client: ApiClient, target: Any) -> None:
        self.client = client
        self.target = target
        self._walks: dict[tuple[str, ...], list[Exchange]] = {}
        self._refused: dict[int, tuple[str, str]] = {}  # id of a walk's page list -> (why, the link not followed)

    @property
    def base_url(self) -> str:
        return self.client.base_url

    def query(self, *, currency: str | None = None, period: str | None = None, size: int | None = None) -> Query:
        return base_query(currency or self.target.currency, period or self.target.period, size=size)

    def get(self, query: Iterable[tuple[str, str]] | str | None, headers: Mapping[str, str] | None = None,
            *, url: str = PC_LINEITEMS) -> Exchange:
        """One GET with fresh MS-RequestId/MS-CorrelationId (429/503 are waited out by the client)."""
        params = list(query) if query is not None and not isinstance(query, str) else query
        return self.client.request("GET", url, operation=PC_OPERATION, params=params,
                                   headers={**new_request_ids(), **(headers or {})})

    def walk(self, query: Query, *, budget: int | None = None) -> list[Exchange]:
        """Fetch the first page and follow links.next (with the link's own headers) to the last page.

        Stops at the last page, at a page that is not a 200 JSON page, at a next link without a
        continuation token, at a repeated token or page, or after ``budget`` pages. The checks of
        ``paging.py`` and ``partner_center.py`` then judge the list, every page of it.
        """
        budget = budget or self.target.page_budget
        pages = [self.get(query)]
        tokens: set[str] = set()
        seen: set[str] = set()
        walked = 0
        while len(pages) < budget:
            last = pages[-1]
            if last.status != 200:
                break
            body = body_of(last)
            if body is None:
                break
            items = page_items(body)
            key = json.dumps(items, sort_keys=True)
            step = next_request(body, self.base_url)
            if step is None or step.token in tokens or (items and key in seen):
                break  # an empty page that links on is followed: only a walk that never ends is drift
            if not self.client.same_origin(step.url):
                # never send the bearer token to a host the run was not pointed at (the client would refuse it:
                # OffOriginLink): the rest of the walk is unproven
                self._refused[id(pages)] = (f"page {len(pages)}'s links.next points at another host "
                                            f"({urlsplit(step.url).netloc}); it was not followed, so the later pages "
                                            "were not checked", step.url)
                break
            tokens.add(step.token)
            if items:
                seen.add(key)
            walked += len(items)
            progress.update(f"walk {id(pages)}", f"line-items walk: page {len(pages) + 1}, {walked:,} items so far")
            pages.append(self.get(None, step.headers, url=step.url))
        progress.done(f"walk {id(pages)}")
        return pages

    def first_page_ok(self, pages: list[Exchange], contract: Any = None) -> list[Exchange]:
        """``pages``, after failing the test plainly when the documented query itself was not served.

        With ``contract``: a walk cut short by a refused link marks the test's rules unproven (not silent).
        """
        refused = self._refused.get(id(pages))
        if refused and contract is not None:
            reason, url = refused
            contract.check(check_link_origin(api="partner-center", operation=PC_OPERATION, url=REDACTOR(url),
                                             origin=show_origin(self.client.origin)))  # advisory: reported, never failing
            contract.unproven(reason)
        first = pages[0]
        if first.status != 200 or not isinstance(body_of(first), dict):
            pytest.fail(f"the documented query was not served, so nothing could be checked: {first.method} {first.url} "
                        f"answered {first.summary(300)}", pytrace=False)
        return pages

    def cached_walk(self, query: Query) -> list[Exchange]:
        """The walk of ``query``, fetched once per session."""
        key = tuple(f"{k}={v}" for k, v in query)
        if key not in self._walks:
            self._walks[key] = self.walk(query)
        return self._walks[key]

    def all_items(self, *, currency: str | None = None, period: str | None = None) -> list[Any]:
        """Every item of the default-size walk (cached)."""
        return [item for page in self.cached_walk(self.query(currency=currency, period=period)) for item in _items(page)]

    def items_of(self, pages: list[Exchange]) -> list[Any]:
        return [item for page in pages if page.status == 200 for item in _items(page)]

    def smallest_size(self, total: int) -> int:
        """The smallest page size whose walk over ``total`` items fits the page budget (one page spare)."""
        pages = max(1, self.target.page_budget - 1)
        return min(DEFAULT_PAGE_SIZE, max(1, math.ceil(total / pages)))


@pytest.fixture(scope="session")
def lineitems(pc: ApiClient, target: Any) -> LineItems:
    """The Partner Center line-items endpoint of the target, with a per-session cache of walks."""
    return LineItems(pc, target)
