"""Partner Center query handling: valid queries in any letter case, invalid ones never 5xx.

Rules PC-QUERY-CASE-INSENSITIVE (the spellings Microsoft documents), PC-QUERY-ANY-CASE (advisory: any other),
PC-RESPONSE-SCHEMA, PC-RESPONSE-UNDECLARED-PROPERTY, PC-HEADERS-ECHO, PC-THROTTLE-RETRY-AFTER, PC-QUERY-NO-5XX,
PC-QUERY-INVALID-4XX (advisory) and PC-ERROR-SHAPE. A fuzzed or negative case that a docs-following server may
accept never gives a breaking finding, so the verdict does not depend on the Hypothesis seed: only a 5xx, a
malformed error body or a 200 that is no collection can fail the gate here. Where the docs leave the answer
open, the target's answer is recorded as a silent point (SP-PC-*).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from hypothesis import Phase, example, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from recon_contracts.checks.observations import repeated_param_answer, unknown_param_answer
from recon_contracts.checks.paging import CONTINUATION_HEADER, body_of, page_items, query_pairs
from recon_contracts.checks.partner_center import (
    LINEITEMS_PATH,
    SPEC,
    case_insensitive,
    classify_query,
    documented_spelling,
)
from recon_contracts.checks.registry import PC_ANSWER, PC_INVALID_QUERY, PC_RETRIES, PC_SPELLED_QUERY, PC_VALID_QUERY, run, run_cases
from recon_contracts.truth.spec import load_spec

CASE_INSENSITIVE = case_insensitive()


# ------------------------------------------------------------------ valid queries in any letter case


def recase(text: str, flips: tuple[bool, ...]) -> str:
    """``text`` with the case of its i-th letter swapped where ``flips[i]`` is true (the mask repeats)."""
    if not flips:
        return text
    out, i = [], 0
    for char in text:
        if char.isalpha():
            out.append(char.swapcase() if flips[i % len(flips)] else char)
            i += 1
        else:
            out.append(char)
    return "".join(out)


def case_flips(length: int = 8) -> st.SearchStrategy[tuple[bool, ...]]:
    """A letter-case mask; it shrinks to no flip. Nothing varies when the spec is case-sensitive."""
    if not CASE_INSENSITIVE:
        return st.just(())
    return st.lists(st.booleans(), max_size=length).map(tuple)


def cased(text: str) -> st.SearchStrategy[str]:
    """``text`` in any letter case, shrinking towards the docs' spelling."""
    return case_flips(len(text)).map(lambda flips: recase(text, flips))


@dataclass(frozen=True)
class Spelling:
    """How one valid query is spelled: each name as sent and a case mask for its value.

    The values themselves (the target's currency and period) are only known at run time.
    """

    names: tuple[str, ...]  # provider, invoicelineitemtype, currencycode, period as sent
    values: tuple[tuple[bool, ...], ...]  # their value case masks
    size: tuple[str, int] | None = None
    earned_credit: tuple[str, str] | None = None
    order: tuple[int, ...] = ()

    def query(self, currency: str, period: str) -> list[tuple[str, str]]:
        plain = ("onetime", "billinglineitems", currency, period)
        pairs = [(name, recase(value, flips)) for name, value, flips in zip(self.names, plain, self.values)]
        if self.size is not None:
            pairs.append((self.size[0], str(self.size[1])))
        if self.earned_credit is not None:
            pairs.append(self.earned_credit)
        order = [i for i in self.order if i < len(pairs)]
        order += [i for i in range(len(pairs)) if i not in order]
        return [pairs[i] for i in order]


REQUIRED = ("provider", "invoicelineitemtype", "currencycode", "period")


@st.composite
def spellings(draw: st.DrawFn) -> Spelling:
    names = tuple(draw(cased(n)) for n in REQUIRED)
    values = tuple(draw(case_flips()) for _ in REQUIRED)
    size = draw(st.none() | st.tuples(cased("size"), st.integers(min_value=1, max_value=2000)))
    credit = draw(st.none() | st.tuples(cased("hasPartnerEarnedCredit"), st.sampled_from(["true", "false"]).flatmap(cased)))
    order = tuple(draw(st.permutations(range(6))))
    return Spelling(names, values, size, credit, order)


# Request example 2 of the docs: invoiceLineItemType, currencyCode, a lower-case currency.
DOCS_EXAMPLE_2 = Spelling(("provider", "invoiceLineItemType", "currencyCode", "period"), ((), (), (True,), ()),
                          size=("size", 2000))
SHOUTED = Spelling(tuple(n.upper() for n in REQUIRED), ((True,), (True,), (), (True,)), size=("SIZE", 7),
                   earned_credit=("HASPARTNEREARNEDCREDIT", "TRUE"))


# Each drawn spelling proves the same rule as the next: a third of the run's examples (4 by default) beside the
# two fixed ones; each costs one request.
SOME = settings(max_examples=max(1, settings().max_examples // 3))


@pytest.mark.partner_center
@SOME
@given(spelling=spellings())
@example(spelling=DOCS_EXAMPLE_2)
@example(spelling=SHOUTED)
def test_valid_queries_in_any_case(lineitems, target, contract, spelling):
    """A valid query in any letter case is answered 200 with a LineItemCollection that validates."""
    query = spelling.query(target.currency, target.period)
    retried = len(lineitems.client.retried)
    exchange = lineitems.get(query)
    text = "&".join(f"{k}={v}" for k, v in query)
    contract.check([
        *run(PC_SPELLED_QUERY, exchange, query=text, documented=documented_spelling(query)),
        *run(PC_RETRIES, [*lineitems.client.retried[retried:], exchange]),
    ])


# ------------------------------------------------------------------ invalid queries rejected

SCHEMA = schemathesis.openapi.from_path(str(load_spec(SPEC).path))
OPERATION = SCHEMA[LINEITEMS_PATH]["GET"]
PATH_PARAMETERS = {"invoice-id": "unbilled"}
DECLARED_HEADERS = {"ms-requestid", "ms-correlationid", "x-locale", "ms-partnercenter-application"}


def without_continuation(case: Any) -> Any:
    """The map_case step: only server-issued continuation tokens are valid input, so generated ones go.

    A generated MS-ContinuationToken is dropped, and so is seekOperation=Next (in any case), which
    is meaningless without one (bad tokens are test_pc_paging's concern). Other seekOperation values
    stay: they are invalid input.
    """
    if case.headers:
        case.headers = {k: v for k, v in case.headers.items() if k.lower() != CONTINUATION_HEADER.lower()}
    if isinstance(case.query, dict):
        case.query = {
            k: v for k, v in case.query.items()
            if not (k.lower() == "seekoperation" and isinstance(v, str) and v.strip().lower() == "next")
        }
    return case


GENERATED = st.one_of(
    OPERATION.as_strategy(GenerationMode.NEGATIVE, path_parameters=PATH_PARAMETERS),
    OPERATION.as_strategy(GenerationMode.POSITIVE, path_parameters=PATH_PARAMETERS),
).map(without_continuation)

_VALID = {"provider": "onetime", "invoicelineitemtype": "billinglineitems", "currencycode": "USD", "period": "current"}


def _case(**changes: Any) -> Any:
    """A hand-made case: the documented query with ``changes`` (None removes a parameter)."""
    query = {**_VALID, **changes}
    return OPERATION.Case(path_parameters=dict(PATH_PARAMETERS), query={k: v for k, v in query.items() if v is not None})


# The documented invalid values, always exercised whatever the number of generated examples.
INVALID_TABLE = (
    _case(provider=None),
    _case(provider="azure"),
    _case(invoicelineitemtype=None),
    _case(invoicelineitemtype="usagelineitemsx"),
    _case(currencycode=None),
    _case(currencycode="US"),
    _case(currencycode="12$"),
    _case(period=None),
    _case(period="someday"),
    _case(size="0"),
    _case(size="2001"),
    _case(size="-1"),
    _case(size="abc"),
    _case(size="2000", seekOperation="Previous"),
    _case(seekOperation=""),
    _case(size=""),
)


def _params(raw: Any) -> list[tuple[str, str]] | str | None:
    """Schemathesis' query as plain (name, text) pairs: lists repeat the name, None drops it."""
    if raw is None or isinstance(raw, str):
        return raw
    pairs = []
    for name, value in dict(raw).items():
        for v in value if isinstance(value, list) else [value]:
            if v is None:
                continue
            text = ("true" if v else "false") if isinstance(v, bool) else v if isinstance(v, str) else json.dumps(v)
            pairs.append((str(name), text))
    return pairs


def _headers(raw: Any) -> dict[str, str]:
    """The generated headers the spec declares, when they can travel as plain ASCII."""
    return {str(k): v for k, v in dict(raw or {}).items()
            if str(k).lower() in DECLARED_HEADERS and isinstance(v, str) and v.isascii() and v.isprintable()}


def _table_example(test):  # type: ignore[no-untyped-def]
    for case in reversed(INVALID_TABLE):
        test = example(case=case)(test)
    return test


# Shrinking a generated schemathesis case costs tens of seconds and adds little: the finding already
# names the query that was sent, with its curl.
# The table proves each documented kind of invalid query; generated cases add a third of the run's examples
# (4 by default), one request each.
NO_SHRINK = settings(phases=[Phase.explicit, Phase.reuse, Phase.generate], max_examples=max(1, settings().max_examples // 3))


@pytest.mark.partner_center
@NO_SHRINK
@given(case=GENERATED)
@_table_example
def test_invalid_queries_rejected(lineitems, contract, case):
    """Queries the spec calls invalid are answered 4xx in the documented error shape; valid ones never 5xx."""
    sent = case.as_transport_kwargs(base_url=lineitems.base_url)
    exchange = lineitems.get(_params(sent.get("params")), _headers(sent.get("headers")), url=sent["url"])
    verdict = classify_query(exchange)
    if verdict.invalid:
        case, why = PC_INVALID_QUERY, "; ".join(verdict.problems)
        for point, answer in silent_points(exchange, verdict.problems):
            contract.observe(point, answer)
    else:
        case, why = PC_VALID_QUERY, "a query the spec allows" + (f" ({'; '.join(verdict.doubts)})" if verdict.doubts else "")
    contract.check(run_cases((case, PC_ANSWER), exchange, why=why))


def silent_points(exchange: Any, problems: tuple[str, ...]) -> list[tuple[str, str]]:
    """The silent points an invalid query touched, with the target's answer (rejected-4xx, or what it served)."""
    status = exchange.status
    refused = 400 <= status < 500
    answer = "rejected-4xx" if refused else ("served" if status == 200 else f"status-{status}")
    points: list[tuple[str, str]] = []
    sent = [(k.casefold(), v) for k, v in query_pairs(exchange.url)]
    if any(v == "" for _, v in sent):
        points.append(("SP-PC-EMPTY-PARAM", "rejected-4xx" if refused else ("ignored" if status == 200 else answer)))
    size = next((v for k, v in sent if k == "size"), None)
    if size is not None and size.strip().lstrip("+").isdigit() and int(size) > 2000:
        items = len(page_items(body_of(exchange))) if status == 200 else 0
        # a page of fewer than 2000 items cannot tell clamped from served (the tenant has no more): not observed
        if status != 200 or items >= 2000:
            points.append(("SP-PC-SIZE-MAX", "rejected-4xx" if refused else (
                "served" if items > 2000 else "clamped" if status == 200 else answer)))
    if any(p.endswith(" missing") for p in problems):
        points.append(("SP-PC-MISSING-REQUIRED", answer))
    if any(not p.endswith(" missing") for p in problems):
        points.append(("SP-PC-INVALID-VALUE", answer))
    return points



# ------------------------------------------------------------------ repeated and undocumented parameters


@pytest.mark.partner_center
def test_repeated_and_unknown_parameters(lineitems, target, contract):
    """Two silent points no other test touches, observed with one request each (the only requests of this test):

    - SP-PC-REPEATED-PARAM: the documented query with size given twice (size=1&size=2) is refused (rejected-4xx),
      or served a page of 1 item (first-wins) or of 2 (last-wins); sent only when the target has 2 items or more,
      since fewer cannot tell the two values apart (the item count comes from the session's cached walk);
    - SP-PC-UNKNOWN-PARAM: the documented query with an undocumented parameter added is answered 200 (ignored) or
      refused (rejected-4xx).

    Both are observations: the docs are silent, so any registered answer passes; an answer the register does not
    list (a page of neither size, a 5xx) is the advisory REGISTER-ANSWER-UNLISTED. Each answer is also judged
    alone (an error's documented shape, a page's schema).
    """
    query = lineitems.query()
    answers = []
    if len(lineitems.all_items()) >= 2:
        repeated = lineitems.get([*query, ("size", "1"), ("size", "2")])
        contract.observe("SP-PC-REPEATED-PARAM", repeated_param_answer(repeated, first=1, last=2), repeated)
        answers.append(repeated)
    unknown = lineitems.get([*query, ("reconContractsProbe", "1")])
    contract.observe("SP-PC-UNKNOWN-PARAM", unknown_param_answer(unknown), unknown)
    answers.append(unknown)
    contract.check([f for exchange in answers for f in run(PC_ANSWER, exchange)])
