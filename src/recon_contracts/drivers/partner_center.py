"""The live Partner Center walk: one line-items request, a page walk that follows links.next, cached walks.

It sends what the contract tests ask for and keeps every exchange; it never judges (the checks do) and never
raises on drift. A links.next on another origin is not followed (the bearer token stays with the target):
the walk stops there and :meth:`LineItems.refused` says why, so the caller can mark the rest unproven.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from .. import progress
from ..findings import Exchange
from ..protocol.partner_center import (
    DEFAULT_PAGE_SIZE,
    LINEITEMS_OPERATION,
    LINEITEMS_PATH,
    Query,
    base_query,
    body_of,
    next_request,
    page_items,
)
from ..traffic.client import ApiClient, new_request_ids


def _items(exchange: Exchange) -> list[Any]:
    return page_items(body_of(exchange))


class LineItems:
    """Drives the Partner Center line-items endpoint of a target; ``target`` has currency, period and page_budget."""

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
            *, url: str = LINEITEMS_PATH) -> Exchange:
        """One GET with fresh MS-RequestId/MS-CorrelationId (429/503 are waited out by the client)."""
        params: Any = list(query) if query is not None and not isinstance(query, str) else query  # a str: sent as written
        return self.client.request("GET", url, operation=LINEITEMS_OPERATION, params=params,
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

    def refused(self, pages: list[Exchange]) -> tuple[str, str] | None:
        """(why, the link) when this walk stopped at a links.next on another origin, else None."""
        return self._refused.get(id(pages))

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
        pages = max(1, int(self.target.page_budget) - 1)
        return min(DEFAULT_PAGE_SIZE, max(1, math.ceil(total / pages)))
