"""Partner Center paging: next links, page sizes, walks to the end, consistency, bad continuation tokens.

Rules PC-PAGING-NEXT-QUERY, PC-PAGING-NEXT-TOKEN, PC-PAGING-PAGE-SIZE, PC-PAGING-TOTALCOUNT,
PC-PAGING-TERMINATES, PC-PAGING-CONSISTENT, PC-PAGING-BAD-TOKEN-NO-5XX, PC-PAGING-BAD-TOKEN-4XX and
PC-ERROR-SHAPE; and on every page of every walk PC-RESPONSE-SCHEMA, PC-RESPONSE-UNDECLARED-PROPERTY and
the item rules (charge types, currency, dates).
"""

from __future__ import annotations

import pytest
from hypothesis import Phase, example, given, settings
from hypothesis import strategies as st

from recon_contracts.checks.paging import (
    CONTINUATION_HEADER,
    body_of,
    first_per_rule,
    next_request,
)
from recon_contracts.checks.observations import continuation_token_answer, page_answers, throttle_answers, transport_answers
from recon_contracts.checks.partner_center import check_every_page
from recon_contracts.checks.registry import (
    PC_ANSWER,
    PC_BAD_TOKEN,
    PC_PAGE_LINKS,
    PC_REPLAYED_TOKEN,
    PC_WALK,
    PC_WALK_AGAINST_ONE_PAGE,
    run,
    run_cases,
)

# Shapes of continuation tokens the server never issued: base64-ish, blank-ish, and the
# characters real tokens carry (/ + = ,). Not the docs' own "AQAAAA==": Microsoft's response
# example 1 issues it, so a server may honour it (domain notes D.5).
GARBAGE_TOKENS = (
    "bm90LWEtdG9rZW4tZnJvbS10aGUtc2VydmVy",
    "=",
    "null",
    "0",
    "d19617b8-fbe5-4684-a5d8-0230972fb0cf,0705c4a9_a4ayc/80/OGda4BO/1o/V0etp+OqiLx1J==,0d81c700",
    "////++++====,,,,",
)


# Every drawn size is a whole walk that repeats what the fixed sizes prove (three pages with a full middle one, a
# partial last page, a single page): by default (12 examples) only the fixed sizes are walked; --thorough (100) draws 7 more
# walks and adds size 1 (a page per item). Walks are cached per query for the session, so both tests share them.
_DRAWN = settings().max_examples // 12 - 1
FEW = settings(max_examples=max(1, _DRAWN), phases=(Phase.explicit,) if _DRAWN < 1 else tuple(Phase))


def _thorough_example(**kwargs):  # type: ignore[no-untyped-def]
    """An explicit example only when generated walks run too (--thorough): it costs a request per item."""
    return example(**kwargs) if _DRAWN >= 1 else (lambda test: test)


# A size relative to the target's data: a third of its items (at least 1), so that the walk has three pages, the
# middle one full, whatever the data's size (a fixed size may give a small data set a single page).
THIRD = -3


def _sized(size: int | None, total: int) -> int | None:
    if size is None or size > 0:
        return size
    return max(1, -(-total // -size))


def _fits(lineitems, size: int | None) -> int | None:
    """``size`` (THIRD made absolute), raised when a walk at that size would not fit the page budget for the target's data."""
    if size is None:
        return None
    total = len(lineitems.all_items())
    return max(_sized(size, total), lineitems.smallest_size(total))


@pytest.mark.partner_center
@FEW
@given(size=st.integers(min_value=2, max_value=12))
@_thorough_example(size=1)
@example(size=THIRD)
@example(size=7)
@example(size=None)
def test_walk_to_the_end(lineitems, target, contract, size):
    """Walk from the first page to the last: every page and the walk as a whole keep the paging rules.

    Sizes too small for the target's data to fit the page budget are raised until they fit. Walks
    are cached per query for the session (test_pages_match_single_page compares the same walks).
    """
    size = _fits(lineitems, size)
    pages = lineitems.first_page_ok(lineitems.cached_walk(lineitems.query(size=size)), contract)
    findings = []
    for index, exchange in enumerate(pages):
        findings += run(PC_PAGE_LINKS, exchange, base_url=lineitems.base_url, size=size, page=index, walk_url=pages[0].url)
    # read off the walk's own pages (and the 429s waited out on the way): no request of their own
    spelling = continuation_token_answer(pages)  # the top-level token of the linked pages and of the last one
    if spelling is not None:
        contract.observe("SP-PC-CONTINUATION-TOKEN-FIELD", spelling, pages[-1])
    for point, answer in page_answers(pages, size=size, whole=size is None):
        contract.observe(point, answer, pages[0])
    for point, answer in transport_answers(pages) + throttle_answers(lineitems.client.retried):
        contract.observe(point, answer)
    findings += check_every_page(pages, currency=target.currency)
    findings = first_per_rule(findings)
    findings += run(PC_WALK, pages, budget=target.page_budget)
    contract.check(findings)


@pytest.mark.partner_center
@FEW
@given(size=st.integers(min_value=2, max_value=25))
@_thorough_example(size=1)
@example(size=THIRD)
@example(size=7)
def test_pages_match_single_page(lineitems, contract, size):
    """When the data fit one page of 2000, smaller pages hold exactly its items, in order."""
    single = lineitems.first_page_ok(lineitems.cached_walk(lineitems.query(size=2000)), contract)
    reference = lineitems.items_of(single)
    if len(reference) >= 2000 and len(single) > 1:
        pytest.skip(f"the target has more than 2000 line items ({len(reference)}+); the data do not fit one page")
    size = max(_sized(size, len(reference)), lineitems.smallest_size(len(reference)))
    pages = lineitems.first_page_ok(lineitems.cached_walk(lineitems.query(size=size)), contract)
    # every page of every walk gets every page- and item-level check, whichever test walked it
    every = first_per_rule(check_every_page(single, currency=lineitems.target.currency)
                           + check_every_page(pages, currency=lineitems.target.currency))
    contract.check(run(PC_WALK_AGAINST_ONE_PAGE, reference, pages=pages, size=size) + every)


def _answer(exchange) -> str:
    """The target's answer at a token silent point: rejected-4xx, accepted (a page) or the status."""
    if 400 <= exchange.status < 500:
        return "rejected-4xx"
    return "accepted" if exchange.status == 200 else f"status-{exchange.status}"


@pytest.mark.partner_center
def test_bad_tokens_rejected(lineitems, target, contract):
    """Garbage tokens, seekOperation=Next without a token, a real token replayed with another query: never 5xx.

    Whether the server refuses a token it never issued is advisory (PC-PAGING-BAD-TOKEN-4XX); whether it binds
    its tokens to their query is only observed (SP-PC-TOKEN-QUERY-BINDING): no document says either.
    """
    findings = []

    def expect_4xx(exchange, what):
        # the token's own rule, then the answer's (a token served as a page: the page must still be a page)
        findings.extend(run_cases((PC_BAD_TOKEN, PC_ANSWER), exchange, what=what))
        contract.observe("SP-PC-BAD-TOKEN", _answer(exchange))

    paged = lineitems.query(size=1) + [("seekOperation", "Next")]
    for token in GARBAGE_TOKENS:
        exchange = lineitems.get(paged, {CONTINUATION_HEADER: token})
        expect_4xx(exchange, f"a continuation token the server never issued ({token!r})")
    expect_4xx(lineitems.get(paged), f"seekOperation=Next without {CONTINUATION_HEADER}")

    first = lineitems.get(lineitems.query(size=1))
    step = next_request(body_of(first), lineitems.base_url) if first.status == 200 else None
    if step is None:
        contract.check(findings)
        pytest.skip("the first page of size 1 has no usable next link (the target has at most one line item): "
                    "the replay of a real token was not tried")
    other_period = "previous" if target.period.lower() == "current" else "current"
    other_currency = "EUR" if target.currency.upper() != "EUR" else "USD"
    replays = {
        f"period={other_period}": lineitems.query(period=other_period, size=1),
        f"currencycode={other_currency}": lineitems.query(currency=other_currency, size=1),
    }
    for what, query in replays.items():
        exchange = lineitems.get(query + [("seekOperation", "Next")], {CONTINUATION_HEADER: step.token})
        findings.extend(run_cases(
            (PC_REPLAYED_TOKEN, PC_ANSWER), exchange,
            what=f"a server token of the {target.currency}/{target.period} size-1 walk replayed with {what}"))
        contract.observe("SP-PC-TOKEN-QUERY-BINDING", _answer(exchange))
    contract.check(findings)
