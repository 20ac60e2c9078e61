"""The live Partner Center walk: one line-items request, a page walk that follows links.next, cached walks.

It sends what the contract tests ask for and keeps every exchange; it never judges (the checks do) and never
raises on drift. A links.next on another origin is not followed (the bearer token stays with the target):
the walk stops there and :meth:`LineItems.refused` says why, so the caller can mark the rest unproven.
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import islice
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
from ..traffic.pages import PageStore, digest

# A walk at a small page size is made to fit about this many pages by raising the size (gentle on live tenants:
# the paging rules need a few pages, not one request per item). It caps nothing: a walk at the size the data
# need goes on to the last page, however many pages the tenant's size makes.
SIZING_PAGES = 20
# Empty pages that link on with a new token are followed (no document forbids them); this many in a row, with
# neither an end nor a repeat in sight, stop the walk as unproven (liveness: an end cannot be proven there).
EMPTY_PAGES_IN_A_ROW = 100


def _items(exchange: Exchange) -> list[Any]:
    return page_items(body_of(exchange))


class LineItems:
    """Drives the Partner Center line-items endpoint of a target; ``target`` has currency, period and page_budget."""

    def __init__(self, client: ApiClient, target: Any) -> None:
        self.client = client
        self.target = target
        self._walks: dict[tuple[str, ...], PageStore] = {}
        # id of a walk's pages -> (why it stopped short, the link not followed or None at the user's page budget)
        self._refused: dict[int, tuple[str, str | None]] = {}

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

    def walk(self, query: Query, *, budget: int | None = None) -> PageStore:
        """Fetch the first page and follow links.next (with the link's own headers) to the last page.

        Stops at the last page, at a page that is not a 200 JSON page, at a next link without a
        continuation token, at a repeated token or page (an endless walk: PC-PAGING-TERMINATES), or
        at a budget the user set (``--page-budget``; the walk's rules are then unproven, never broken:
        size is not drift). The pages are held on disk (:class:`PageStore`), so a walk of any length is
        bounded in memory; the checks of ``paging.py`` and ``partner_center.py`` then judge every page.
        """
        budget = budget or self.target.page_budget or None
        pages = PageStore()
        first = self.get(query)
        pages.append(first, len(_items(first)))
        tokens: set[bytes] = set()
        seen: set[bytes] = set()
        empty_run = 0
        walked = 0
        while True:
            last = pages[-1]
            if last.status != 200:
                break
            body = body_of(last)
            if body is None:
                break
            items = page_items(body)
            key = digest(json.dumps(items, sort_keys=True))
            step = next_request(body, self.base_url)
            if step is None or digest(step.token) in tokens or (items and key in seen):
                break  # an empty page that links on is followed: only a walk that never ends is drift
            if not self.client.same_origin(step.url):
                # never send the bearer token to a host the run was not pointed at (the client would refuse it:
                # OffOriginLink): the rest of the walk is unproven
                self._refused[id(pages)] = (f"page {len(pages)}'s links.next points at another host "
                                            f"({urlsplit(step.url).netloc}); it was not followed, so the later pages "
                                            "were not checked", step.url)
                break
            if budget is not None and len(pages) >= budget:
                self._refused[id(pages)] = (f"the walk reached --page-budget {budget} with page {len(pages)} still "
                                            "linking on to a new page; a large tenant is no drift, so the later pages "
                                            "and the walk's end are unproven", None)
                break
            empty_run = 0 if items else empty_run + 1
            if empty_run >= EMPTY_PAGES_IN_A_ROW:
                self._refused[id(pages)] = (f"{empty_run} empty pages in a row kept linking on with new tokens (page "
                                            f"{len(pages)}); neither an end nor a repeat was seen, so the walk's end is "
                                            "unproven", None)
                break
            tokens.add(digest(step.token))
            if items:
                seen.add(key)
            walked += len(items)
            progress.update(f"walk {id(pages)}", f"line-items walk: page {len(pages) + 1}, {walked:,} items so far")
            page = self.get(None, step.headers, url=step.url)
            pages.append(page, len(_items(page)) if page.status == 200 else 0)
        progress.done(f"walk {id(pages)}")
        return pages

    def refused(self, pages: PageStore) -> tuple[str, str | None] | None:
        """(why, the link or None) when this walk stopped short: a links.next on another origin (the link), the
        user's --page-budget or an endless run of empty pages (None), else None."""
        return self._refused.get(id(pages))

    def cached_walk(self, query: Query) -> PageStore:
        """The walk of ``query``, fetched once per session."""
        key = tuple(f"{k}={v}" for k, v in query)
        if key not in self._walks:
            self._walks[key] = self.walk(query)
        return self._walks[key]

    def all_items(self, *, currency: str | None = None, period: str | None = None) -> WalkItems:
        """Every item of the default-size walk (cached), read page by page from the walk's store."""
        return WalkItems(self.cached_walk(self.query(currency=currency, period=period)))

    def items_of(self, pages: Iterable[Exchange]) -> list[Any]:
        return [item for page in pages if page.status == 200 for item in _items(page)]

    def smallest_size(self, total: int) -> int:
        """The smallest page size whose walk over ``total`` items takes about :data:`SIZING_PAGES` pages (or fits
        the user's --page-budget, one page spare)."""
        pages = SIZING_PAGES if not self.target.page_budget else min(SIZING_PAGES, int(self.target.page_budget))
        return min(DEFAULT_PAGE_SIZE, max(1, math.ceil(total / max(1, pages - 1))))


class WalkItems(Sequence[Any]):
    """The items of a walk, read page by page (a walk's items are never all in memory at once)."""

    def __init__(self, pages: PageStore) -> None:
        self.pages = pages

    def __len__(self) -> int:
        return sum(self.pages.item_counts)

    def __iter__(self) -> Iterator[Any]:
        for page in self.pages:
            yield from _items(page)

    def __getitem__(self, index: Any) -> Any:
        """An item (or a slice of them), reading only the page(s) that hold it."""
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step > 0:
                return list(islice(self, start, stop, step))
            return [self[i] for i in range(start, stop, step)]
        position = operator.index(index)
        if position < 0:
            position += len(self)
        if position >= 0:
            for page, count in enumerate(self.pages.item_counts):
                if position < count:
                    return _items(self.pages[page])[position]
                position -= count
        raise IndexError("walk item index out of range")
