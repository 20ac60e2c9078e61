"""The one registry of checks: each check declares what it applies to; the live suite and the offline checker look it up.

A check is a pure function (exchanges in, findings out) in one of the modules of :mod:`recon_contracts.checks`.
It declares, with :func:`check`, the cases it applies to, the answers (statuses) it judges and the catalog rules
it proves. A *case* is an operation of one API (a shape of :mod:`recon_contracts.protocol.shapes`) and what was
asked of it: "an invalid query", "a page of a walk", "an export request whose body is invalid", "a poll".
Whoever judges an exchange, the live contract suite (which knows the case because it built the request) or
:mod:`recon_contracts.checks.recorded` (which tells the case from the recording), names the case and runs what the
registry holds for it: neither keeps its own list of which check applies when.

    @check(PC_INVALID_QUERY, rules=("PC-QUERY-INVALID-4XX", "PC-QUERY-NO-5XX"))
    def check_query_rejected(exchange, why): ...

    findings = run(PC_INVALID_QUERY, exchange, why="size=0")

A check may be declared for several cases, with other statuses for each (a stacked :func:`check`). Keyword
context given to :func:`run` goes to the checks whose signature takes it; a check whose required context was
not given does not apply (an item's currency is judged only where the request named one). Helpers that only
run registered checks together (``check_every_page``, ``check_blobs``) or that are one rule of a registered check
are not registered themselves: :data:`COMPOSITES` names them and says why.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from ..findings import Finding

Scope = Literal["answer", "sequence"]
CheckFn = Callable[..., list[Finding]]
F = TypeVar("F", bound=CheckFn)

# The shapes of exchange (protocol.shapes labels), plus two for checks of what no single exchange holds
SHAPES = ("PC_LINEITEMS", "GRAPH_EXPORTS", "GRAPH_OPERATION", "GRAPH_MANIFEST", "BLOB", "LINK", "PARITY")


@dataclass(frozen=True)
class Case:
    """What a check applies to: a shape of exchange and what was asked of it. ``answer``: one exchange is judged;
    ``sequence``: an ordered group (a walk, the polls of one operation, the blobs of one export)."""

    shape: str
    name: str
    scope: Scope = "answer"

    def __str__(self) -> str:
        return f"{self.shape}: {self.name}"


@dataclass(frozen=True)
class Statuses:
    """The answers a check judges, by HTTP status (inclusive range, minus ``excluded``)."""

    label: str
    low: int = 0
    high: int = 999
    excluded: frozenset[int] = frozenset()

    def __contains__(self, status: object) -> bool:
        return isinstance(status, int) and self.low <= status <= self.high and status not in self.excluded


ANY = Statuses("any")
OK = Statuses("200", 200, 200)
ACCEPTED = Statuses("202", 202, 202)
ERROR = Statuses("4xx/5xx", 400, 599)
CLIENT_ERROR = Statuses("4xx", 400, 499)

# ---------------------------------------------------------------- the cases
# Partner Center line items, one answer
PC_ANSWER = Case("PC_LINEITEMS", "any answer judged alone: a page's schema, an error's shape")
PC_PAGE = Case("PC_LINEITEMS", "a page of line items: its schema and every item")
PC_PAGE_LINKS = Case("PC_LINEITEMS", "a page of a walk: its next link, size and count")
PC_RECORDED_ANSWER = Case("PC_LINEITEMS", "a recorded answer: the request ids it echoes")
PC_SPELLED_QUERY = Case("PC_LINEITEMS", "a valid query in a chosen spelling")
PC_SPELLING_REFUSED = Case("PC_LINEITEMS", "a valid query refused though another spelling of it was served")
PC_VALID_QUERY = Case("PC_LINEITEMS", "a query the spec allows")
PC_INVALID_QUERY = Case("PC_LINEITEMS", "a query the spec calls invalid")
PC_BAD_TOKEN = Case("PC_LINEITEMS", "a continuation the server never issued, or none with seekOperation=Next")
PC_REPLAYED_TOKEN = Case("PC_LINEITEMS", "a real continuation token replayed with another query")
# Partner Center line items, a group
PC_WITHOUT_TOKEN = Case("PC_LINEITEMS", "a request sent without a token")
PC_WALK = Case("PC_LINEITEMS", "a paging walk, first page to last", "sequence")
PC_WALK_AGAINST_ONE_PAGE = Case("PC_LINEITEMS", "a walk of small pages against the one page of every item", "sequence")
PC_RETRIES = Case("PC_LINEITEMS", "every answer, the throttled ones included", "sequence")
# Graph exports
GR_EXPORT = Case("GRAPH_EXPORTS", "an export request of an existing invoice")
GR_EXPORT_ANY_INVOICE = Case("GRAPH_EXPORTS", "a valid export request whose invoice may not exist")
GR_EXPORT_SPELLING = Case("GRAPH_EXPORTS", "an export request on one spelling of the action")
GR_INVALID_EXPORT = Case("GRAPH_EXPORTS", "an export request whose body is invalid")
GR_WITHOUT_TOKEN = Case("GRAPH_EXPORTS", "an export request sent without a token")
GR_UNKNOWN_OPERATION = Case("GRAPH_OPERATION", "a poll of an operation id never issued")
GR_POLL = Case("GRAPH_OPERATION", "one poll of an export operation")
GR_POLLS = Case("GRAPH_OPERATION", "the polls of one operation, in order", "sequence")
GR_POLLS_TO_THE_END = Case("GRAPH_OPERATION", "the polls of one operation followed until it ends", "sequence")
GR_MANIFEST = Case("GRAPH_MANIFEST", "the manifest the operation links to")
GR_MANIFEST_INLINE = Case("GRAPH_OPERATION", "a manifest inline in the terminal poll")
GR_BLOB = Case("BLOB", "a blob download")
GR_BLOB_READ = Case("BLOB", "a blob read to its end", "sequence")
GR_BLOB_URL = Case("BLOB", "a blob URL the runner refused to fetch", "sequence")
GR_EXPORT_ROWS = Case("BLOB", "the rows of every blob of one export", "sequence")
GR_ATTRIBUTE_SETS = Case("BLOB", "the columns of a basic export against a full one", "sequence")
LINK_OFF_ORIGIN = Case("LINK", "a link the target handed out, on another origin", "sequence")
PARITY = Case("PARITY", "Partner Center v1 items joined with the rows of a Graph export", "sequence")

CASES: tuple[Case, ...] = tuple(v for v in dict(globals()).values() if isinstance(v, Case))

# The modules whose checks register themselves (imported by :func:`declarations`)
CHECK_MODULES = ("auth", "blobs", "common", "graph_export", "operations", "paging", "parity", "partner_center", "rows")

# Public check functions that only run registered checks together, or help them; not registered themselves
COMPOSITES: dict[str, str] = {
    "partner_center.check_every_page": "runs the PC_PAGE checks over every 200 page of a walk",
    "partner_center.check_items": "runs one item check over every 200 page of a walk",
    "paging.check_next_keeps_query": "one of check_page's rules",
    "paging.check_next_has_token": "one of check_page's rules",
    "paging.check_page_size": "one of check_page's rules",
    "paging.check_total_count": "one of check_page's rules",
    "operations.check_poll_response": "one of check_operation's rules",
    "operations.check_odata_type": "one of check_operation's rules",
    "operations.check_error_iff_failed": "one of check_operation's rules",
    "operations.check_resource_iff_succeeded": "one of check_operation's rules",
    "operations.check_timestamps": "one of check_operation's rules",
    "operations.check_retry_after": "one of check_operation's rules",
    "operations.check_terminates": "one of check_polls's rules",
    "blobs.check_blobs": "runs the GR_BLOB, GR_BLOB_READ and GR_BLOB_URL checks over the blobs of one export",
    "common.check_schema": "a helper of every schema rule, not a check of its own",
    "graph_export.check_location_form": "one of check_export_accepted's rules",
    "graph_export.check_error_envelope": "a helper of the 4xx rules",
    "baseline.check_against_baseline": "compares two observed.json files (--baseline), no exchange",
}


@dataclass(frozen=True)
class Declaration:
    """One check declared for one case: the statuses it judges and the rules it proves."""

    function: CheckFn
    case: Case
    statuses: Statuses
    rules: tuple[str, ...]
    takes: frozenset[str]  # keyword context the function accepts
    needs: frozenset[str]  # ... and the part of it without which it does not apply

    @property
    def name(self) -> str:
        return f"{self.function.__module__.rsplit('.', 1)[-1]}.{self.function.__name__}"

    def applies(self, subject: object, context: dict[str, Any]) -> bool:
        if not self.needs <= context.keys():
            return False
        return self.case.scope == "sequence" or getattr(subject, "status", None) in self.statuses

    def __call__(self, subject: object, context: dict[str, Any]) -> list[Finding]:
        return self.function(subject, **{k: v for k, v in context.items() if k in self.takes})


_DECLARED: list[Declaration] = []


def _parameters(function: CheckFn) -> tuple[frozenset[str], frozenset[str]]:
    """What keyword context a check accepts and needs: its parameters after the first (the subject)."""
    params = list(inspect.signature(function).parameters.values())[1:]
    named = [p for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    return frozenset(p.name for p in named), frozenset(p.name for p in named if p.default is p.empty)


def check(*cases: Case, statuses: Statuses = ANY, rules: Sequence[str]) -> Callable[[F], F]:
    """Register the decorated check for ``cases``, judging the answers in ``statuses``, proving ``rules``."""
    if not cases or not rules:
        raise ValueError("a check declares at least one case and one rule")
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        raise ValueError(f"no dispatcher applies the case {unknown[0]}: declare it in CASES and apply it")

    def register(function: F) -> F:
        takes, needs = _parameters(function)
        for case in cases:
            _DECLARED.append(Declaration(function, case, statuses, tuple(rules), takes, needs))
        return function

    return register


def declarations() -> list[Declaration]:
    """Every declaration, in order of registration (each check module imported first)."""
    for module in CHECK_MODULES:
        importlib.import_module(f"{__package__}.{module}")
    return list(_DECLARED)


def for_case(case: Case) -> list[Declaration]:
    """The checks declared for ``case``, in the order they were declared."""
    return [d for d in declarations() if d.case == case]


def run(case: Case, subject: object, /, **context: Any) -> list[Finding]:
    """Every check declared for ``case`` that applies to ``subject`` (an exchange, or a group for a sequence case)."""
    return run_cases((case,), subject, **context)


def run_cases(cases: Iterable[Case], subject: object, /, **context: Any) -> list[Finding]:
    """The checks of every case in ``cases`` that apply to ``subject``, each function once, case by case."""
    found: list[Finding] = []
    ran: set[CheckFn] = set()
    every = declarations()
    for case in cases:
        for declared in every:
            if declared.case == case and declared.function not in ran and declared.applies(subject, context):
                ran.add(declared.function)
                found += declared(subject, context)
    return found


def rules_proved() -> set[str]:
    """Every rule some registered check proves."""
    return {r for d in declarations() for r in d.rules}
