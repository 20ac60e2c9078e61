"""Checks of the Partner Center paging rules (PC-PAGING-*): next links, page sizes, the walk as a whole.

Every function is pure: it takes exchanges (or their bodies) and returns findings or plain values.
Sending the requests of a walk is the driver's business (``drivers/partner_center.py``); where a walk goes
next is Partner Center's vocabulary (``protocol/partner_center.py``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from ..findings import Exchange, Finding, finding
from ..protocol.partner_center import (  # noqa: F401 - the vocabulary the checks and their callers use
    CONTINUATION_HEADER,
    DEFAULT_PAGE_SIZE,
    SEEK_OPERATION,
    NextRequest,
    body_of,
    continuation_token,
    link_headers,
    links_of,
    next_link,
    next_request,
    page_items,
    query_pairs,
    query_value,
    requested_size,
    resolve_link,
)
from ..traffic.pages import digest
from .common import expect_status, is_client_error
from .registry import OK, PC_BAD_TOKEN, PC_PAGE_LINKS, PC_REPLAYED_TOKEN, PC_WALK, PC_WALK_AGAINST_ONE_PAGE, check

_body = body_of


def _label(page: int | None) -> str:
    return f"page {page + 1}: " if page is not None else ""


# ------------------------------------------------------------------ per-page checks


def check_next_keeps_query(exchange: Exchange, base_url: str, *, page: int | None = None,
                           walk_url: str | None = None) -> list[Finding]:
    """PC-PAGING-NEXT-QUERY: links.next keeps the path and every query parameter and adds seekOperation=Next.

    ``walk_url`` is the first request of the walk: every next link keeps *its* query (by default the
    query of this page's own request).
    """
    link = next_link(_body(exchange))
    if link is None:
        return []
    uri = link.get("uri")
    if not isinstance(uri, str) or not uri.strip():
        return [finding("PC-PAGING-NEXT-QUERY", f"{_label(page)}links.next has no uri", exchange,
                        expected="links.next.uri with the request's query and seekOperation=Next", actual=json.dumps(link)[:300])]
    target = resolve_link(base_url, uri)
    asked = urlsplit(walk_url or exchange.url)
    problems: list[str] = []
    if asked.path.rstrip("/").lower() != urlsplit(target).path.rstrip("/").lower():
        problems.append(f"it points to {urlsplit(target).path}, not {asked.path}")
    sent = [(k, v) for k, v in query_pairs(asked.geturl()) if k.lower() != SEEK_OPERATION]
    linked: dict[str, list[str]] = {}
    for k, v in query_pairs(target):
        linked.setdefault(k.lower(), []).append(v)
    for name, value in sent:
        values = linked.get(name.lower())
        if values is None:
            problems.append(f"{name}={value} is missing")
        elif not any(v.lower() == value.lower() for v in values):
            problems.append(f"{name}={value} became {name}={values[0]}")
    seek = linked.get(SEEK_OPERATION)
    if not seek:
        problems.append("seekOperation=Next is missing")
    elif not any(v.lower() == "next" for v in seek):
        problems.append(f"seekOperation is {seek[0]!r}, not Next")
    if not problems:
        return []
    return [finding(
        "PC-PAGING-NEXT-QUERY",
        f"{_label(page)}links.next does not repeat the request's query: " + "; ".join(problems),
        exchange,
        expected=f"the query of {asked.path}?{asked.query} plus seekOperation=Next",
        actual=uri,
        next_uri=uri,
    )]


def check_next_has_token(exchange: Exchange, *, page: int | None = None) -> list[Finding]:
    """PC-PAGING-NEXT-TOKEN: links.next carries a non-empty MS-ContinuationToken header."""
    link = next_link(_body(exchange))
    if link is None or continuation_token(link) is not None:
        return []
    return [finding(
        "PC-PAGING-NEXT-TOKEN",
        f"{_label(page)}links.next carries no {CONTINUATION_HEADER} in its headers, so the next page cannot be asked for",
        exchange,
        expected=f'links.next.headers [{{"key": "{CONTINUATION_HEADER}", "value": "<token>"}}]',
        actual=json.dumps(link.get("headers"))[:300],
    )]


def check_page_size(exchange: Exchange, *, size: int | None = None, page: int | None = None) -> list[Finding]:
    """PC-PAGING-PAGE-SIZE: a page holds at most ``size`` items (2000 when the request named none)."""
    limit = size if size is not None else requested_size(exchange)
    count = len(page_items(_body(exchange)))
    if count <= limit:
        return []
    return [finding(
        "PC-PAGING-PAGE-SIZE",
        f"{_label(page)}the page holds {count} items but size was {limit}",
        exchange,
        expected=f"at most {limit} items",
        actual=f"{count} items",
    )]


def check_total_count(exchange: Exchange, *, page: int | None = None) -> list[Finding]:
    """PC-PAGING-TOTALCOUNT: totalCount is the number of items on this page."""
    body = _body(exchange)
    if not isinstance(body, dict):
        return []
    count = len(page_items(body))
    raw = body.get("totalCount")
    try:
        total = int(raw) if not isinstance(raw, bool) and isinstance(raw, (int, str)) else None
    except ValueError:
        total = None
    if total == count:
        return []
    return [finding(
        "PC-PAGING-TOTALCOUNT",
        f"{_label(page)}totalCount is {raw!r} but the page holds {count} items",
        exchange,
        expected=f"totalCount {count} (the items on this page, not a grand total)",
        actual=f"totalCount {raw!r}",
    )]


@check(PC_PAGE_LINKS, statuses=OK, rules=("PC-PAGING-NEXT-QUERY", "PC-PAGING-NEXT-TOKEN", "PC-PAGING-PAGE-SIZE", "PC-PAGING-TOTALCOUNT"))
def check_page(exchange: Exchange, base_url: str, *, size: int | None = None, page: int | None = None,
               walk_url: str | None = None) -> list[Finding]:
    """Every per-page paging rule of one 200 page (``walk_url``: the walk's first request)."""
    if exchange.status != 200 or _body(exchange) is None:
        return []
    return [
        *check_next_keeps_query(exchange, base_url, page=page, walk_url=walk_url),
        *check_next_has_token(exchange, page=page),
        *check_page_size(exchange, size=size, page=page),
        *check_total_count(exchange, page=page),
    ]


def first_per_rule(findings: Sequence[Finding]) -> list[Finding]:
    """One finding per rule (the first), its message counting the others: a walk of 40 pages that all
    drop the same parameter is one finding, not 40."""
    firsts: dict[str, Finding] = {}
    counts: dict[str, int] = {}
    for f in findings:
        firsts.setdefault(f.rule, f)
        counts[f.rule] = counts.get(f.rule, 0) + 1
    out = []
    for rule_id, f in firsts.items():
        if counts[rule_id] > 1:
            f.message += f" (and {counts[rule_id] - 1} more page(s) alike)"
            f.extra["occurrences_in_walk"] = counts[rule_id]
        out.append(f)
    return out


# ------------------------------------------------------------------ the walk


def _canonical(item: Any) -> str:
    return json.dumps(item, sort_keys=True, separators=(",", ":"))


@check(PC_WALK, rules=("PC-PAGING-TERMINATES",))
def check_walk_terminates(pages: Sequence[Exchange], *, budget: int | None = None) -> list[Finding]:
    """PC-PAGING-TERMINATES over the pages of one walk, in the order they were fetched.

    No page and no token repeats, and a next link answers 200. A walk that never ends is proven by
    that evidence (a repeated token or page), never by its length: size is not drift, and a walk cut
    at a page budget is unproven (the walk says so), so ``budget`` is not judged (kept for callers).
    An empty page that still links on is tolerated (no document forbids it, and Microsoft's sample keeps
    following the token). Pages and tokens are remembered as digests (a long walk stays small in memory).
    """
    found: list[Finding] = []
    tokens: dict[bytes, int] = {}
    seen_pages: dict[bytes, int] = {}
    for index, exchange in enumerate(pages):
        if exchange.status != 200:
            if index > 0:
                found.append(finding(
                    "PC-PAGING-TERMINATES",
                    f"following links.next of page {index} was answered {exchange.status}; the walk broke off",
                    exchange, expected="200 with the next page"))
            break
        body = _body(exchange)
        if body is None:
            break
        items = page_items(body)
        link = next_link(body)
        token = continuation_token(link)
        if items:
            key = digest(_canonical(items))
            if key in seen_pages:
                found.append(finding(
                    "PC-PAGING-TERMINATES",
                    f"page {index + 1} repeats page {seen_pages[key] + 1} ({len(items)} identical items)",
                    exchange, expected="each page new items"))
                break
            seen_pages[key] = index
        if token is not None:
            if digest(token) in tokens:
                found.append(finding(
                    "PC-PAGING-TERMINATES",
                    f"page {index + 1} hands out the continuation token of page {tokens[digest(token)] + 1} again",
                    exchange, expected="a new continuation token on every page", actual=f"token {token[:60]!r}"))
                break
            tokens[digest(token)] = index
    return found


def _identity(item: Any) -> str:
    if isinstance(item, dict):
        keys = ("orderId", "subscriptionId", "chargeType", "chargeStartDate")
        parts = [f"{k}={item.get(k)}" for k in keys if k in item]
        if parts:
            return "{" + ", ".join(parts) + "}"
    return _canonical(item)[:120]


@check(PC_WALK_AGAINST_ONE_PAGE, rules=("PC-PAGING-CONSISTENT",))
def check_pages_match(reference: Sequence[Any], pages: Sequence[Exchange], *, size: int) -> list[Finding]:
    """PC-PAGING-CONSISTENT: the items of ``pages`` are exactly ``reference``: no duplicate, none missing, none extra
    (in any order: no document orders the line items).

    ``reference`` is the item list of the single page that held all the data.
    """
    want = [_canonical(i) for i in reference]
    got: list[str] = []
    where: list[int] = []  # page index of each item we got
    items: list[Any] = []
    for exchange in pages:
        if exchange.status != 200 or not isinstance(_body(exchange), dict):
            # the walk broke off (an error, a page that is no collection): PC-PAGING-TERMINATES and
            # PC-RESPONSE-SCHEMA say so; what the broken walk holds proves nothing about consistency
            return []
    for index, exchange in enumerate(pages):
        for item in page_items(_body(exchange)):
            got.append(_canonical(item))
            items.append(item)
            where.append(index)
    if got == want or sorted(got) == sorted(want):
        return []  # the same items; no document orders them, so another order across page sizes is no drift
    problems: list[str] = []
    wanted = set(want)
    counts: dict[str, int] = {}
    for key in got:
        counts[key] = counts.get(key, 0) + 1
    missing = [reference[i] for i, key in enumerate(want) if key not in counts]
    duplicates = [k for k, n in counts.items() if n > 1]
    extra = [items[i] for i, key in enumerate(got) if key not in wanted]
    if missing:
        problems.append(f"{len(missing)} missing (first {_identity(missing[0])})")
    if duplicates:
        problems.append(f"{len(duplicates)} duplicated")
    if extra:
        problems.append(f"{len(extra)} not on the single page (first {_identity(extra[0])})")
    first = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
    page_index = where[first] if first < len(where) else (where[-1] if where else 0)
    evidence = pages[page_index] if pages else None
    return [finding(
        "PC-PAGING-CONSISTENT",
        f"pages of size {size} hold {len(got)} items, the single page {len(want)}: " + "; ".join(problems)
        + f"; first divergence at item {first + 1} (page {page_index + 1})",
        evidence,
        expected=f"the {len(want)} items of the single page, in order",
        actual=f"{len(got)} items over {len(pages)} pages",
    )]


@check(PC_REPLAYED_TOKEN, rules=("PC-PAGING-BAD-TOKEN-NO-5XX",))
def check_bad_token_no_server_error(exchange: Exchange, what: str) -> list[Finding]:
    """PC-PAGING-BAD-TOKEN-NO-5XX: a request with an unusable or replayed continuation is never answered 5xx."""
    return expect_status(exchange, "PC-PAGING-BAD-TOKEN-NO-5XX", lambda status: status < 500, message=what,
                         expected="a 4xx (400 BadInput), or a page; never a 5xx")


@check(PC_BAD_TOKEN, rules=("PC-PAGING-BAD-TOKEN-4XX", "PC-PAGING-BAD-TOKEN-NO-5XX"))
def check_bad_token_rejected(exchange: Exchange, what: str) -> list[Finding]:
    """A token the server never issued (or none with seekOperation=Next): never 5xx (PC-PAGING-BAD-TOKEN-NO-5XX);
    refused 4xx rather than served (PC-PAGING-BAD-TOKEN-4XX, advisory: no document says)."""
    if exchange.status >= 500:
        return check_bad_token_no_server_error(exchange, what)
    return expect_status(exchange, "PC-PAGING-BAD-TOKEN-4XX", is_client_error, message=what,
                         expected="4xx (400 BadInput) (advisory: the docs do not say what a server does with such a token)")
