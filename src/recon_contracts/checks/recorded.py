"""Checks of recorded traffic: every rule that needs no new request, run over exchanges read from HAR files.

The exchanges are regrouped the way the live suite produced them (paging walks by their
continuation tokens, export operations by their Location, manifests and blobs by their links) and
judged by the checks :mod:`recon_contracts.checks.registry` holds for each case, the registry the live
suite looks its checks up in. What this module knows is how to tell the case from a recording (a first
request or a followed link, a valid query or not, an inline manifest or a linked one); which check
applies to which case, and to which answers, is declared once, by each check. Nothing here judges on its
own. Rules that need a request the recording cannot be trusted to hold are listed in
:data:`NOT_IN_RECORDINGS` (:data:`NEEDS_NEW_REQUEST` and :data:`JUDGED_LIVE`), with the reason; every other rule
of the catalog is checked offline.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from .blobs import redacted
from .rows import ExportJudge, export_columns, judge_for
from ..traffic.blob_stream import RecordedBlob, read_blob
from ..protocol.graph import NAV_LINK, is_success, is_terminal, operation_body, status_of
from ..protocol.partner_center import CONTINUATION_HEADER, body_of, next_link, next_request, page_items, query_pairs, requested_size
from .paging import first_per_rule
from .partner_center import classify_query, query_parameters
from .registry import (
    GR_ATTRIBUTE_SETS,
    GR_BLOB,
    GR_BLOB_READ,
    GR_EXPORT_ANY_INVOICE,
    GR_EXPORT_ROWS,
    GR_EXPORT_SPELLING,
    GR_INVALID_EXPORT,
    GR_MANIFEST,
    GR_MANIFEST_INLINE,
    GR_POLL,
    GR_POLLS,
    PC_ANSWER,
    PC_BAD_TOKEN,
    PC_INVALID_QUERY,
    PC_PAGE,
    PC_PAGE_LINKS,
    PC_RECORDED_ANSWER,
    PC_RETRIES,
    PC_SPELLING_REFUSED,
    PC_VALID_QUERY,
    PC_WALK,
    PC_WALK_AGAINST_ONE_PAGE,
    Case,
    run,
    run_cases,
)
from .. import jsonpolicy
from ..findings import Exchange, Finding
from ..truth.exports import QUALIFIED_ACTION, kind_of_path
from ..protocol.shapes import BLOB, GRAPH_EXPORTS, GRAPH_MANIFEST, GRAPH_OPERATION, PC_LINEITEMS, classify
from ..truth.rules import catalog

# Rules that a recording cannot settle, and why: their check needs a request made for the purpose.
NEEDS_NEW_REQUEST: dict[str, str] = {
    "PC-AUTH-401": "needs a request sent without a token; a recording may have had its Authorization header "
                   "removed (devtools' sanitized export), so a 200 to an apparently bare request proves nothing",
    "GR-AUTH-401": "needs a request sent without a token; a recording may have had its Authorization header removed",
    "GR-OP-TERMINATES": "needs polling until the operation ends; a recording may stop before it does",
    "GR-OP-UNKNOWN-404": "needs an operation id known never to have been issued; a recording cannot tell",
    "REGISTER-ANSWER-UNLISTED": "needs the live suite's readings of the silent points (contract.observe), some of them "
                                "from probes sent for the purpose; a recording holds no such reading",
}
# Rules about what the runner itself does with the target's answers: nothing in a recording settles them.
JUDGED_LIVE: dict[str, str] = {
    "PC-LINK-SAME-ORIGIN": "judged where the runner declines to follow a link to another origin; a recording holds "
                           "what its own client chose to follow",
    "GR-LINK-SAME-ORIGIN": "judged where the runner declines to follow a link to another origin; a recording holds "
                           "what its own client chose to follow",
    "GR-BLOB-URL-SAFE": "judged where the runner refuses to fetch a manifest's blob URL; checking a recording fetches "
                        "nothing",
    "MIGRATION-ONLY-IN-V1": "the parity of a Partner Center walk and an export's rows, joined by `recon-contracts "
                            "parity` or the live suite; recordings are not joined",
    "MIGRATION-ONLY-IN-GRAPH": "the parity of a Partner Center walk and an export's rows, joined by `recon-contracts "
                               "parity` or the live suite; recordings are not joined",
    "MIGRATION-FIELD-DIFFERS": "the parity of a Partner Center walk and an export's rows, joined by `recon-contracts "
                               "parity` or the live suite; recordings are not joined",
}
# Every rule a recording cannot settle, with the reason: what `recon-contracts check` lists as not checked
NOT_IN_RECORDINGS: dict[str, str] = {**NEEDS_NEW_REQUEST, **JUDGED_LIVE}
OFFLINE_SOURCE = "recorded traffic"
# The cases of the check registry this module tells apart in a recording (tests/unit/test_check_registry.py)
OFFLINE_CASES: frozenset[Case] = frozenset({
    PC_ANSWER, PC_RECORDED_ANSWER, PC_PAGE, PC_BAD_TOKEN, PC_INVALID_QUERY, PC_VALID_QUERY, PC_SPELLING_REFUSED,
    PC_PAGE_LINKS, PC_WALK, PC_WALK_AGAINST_ONE_PAGE, PC_RETRIES, GR_INVALID_EXPORT, GR_EXPORT_ANY_INVOICE,
    GR_EXPORT_SPELLING, GR_POLL, GR_POLLS, GR_MANIFEST, GR_MANIFEST_INLINE, GR_BLOB, GR_BLOB_READ, GR_EXPORT_ROWS,
    GR_ATTRIBUTE_SETS,
})
UNAUTHORISED = frozenset({401, 403})  # a recording may have lost its token: no answer check judges these
VALID_ATTRIBUTE_SETS = {"full", "basic", "unknownfuturevalue"}
RETRIED = frozenset({429, 503})


def offline_rules() -> list[str]:
    """Catalog rules checked on recorded traffic: all but BASELINE-* (given --baseline), REGISTER-* (judged where the
    live suite observes a silent point, contract.observe) and NOT_IN_RECORDINGS."""
    return [r for r in catalog() if r not in NOT_IN_RECORDINGS and not r.startswith(("BASELINE-", "REGISTER-"))]


@dataclass
class OfflineResult:
    findings: list[Finding] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)  # what was checked: operations, walks, exports...
    unproven: list[tuple[str, str]] = field(default_factory=list)  # (rule, why) the recorded data cannot settle


def _tag(found: list[Finding], test: str) -> list[Finding]:
    for f in found:
        f.extra.setdefault("test", test)
    return found


# ------------------------------------------------------------------ Partner Center


def _origin_base(exchange: Exchange) -> str:
    shape = classify(exchange.method, exchange.url)
    return shape.base_url if shape else ""


def _query_key(url: str, *, drop: tuple[str, ...] = ()) -> tuple[tuple[str, str], ...]:
    """The query, names and values case-folded and sorted, without ``drop``: what makes two requests alike."""
    return tuple(sorted((k.casefold(), v.casefold()) for k, v in query_pairs(url) if k.casefold() not in drop))


def _seeks_next(exchange: Exchange) -> bool:
    return any(k.casefold() == "seekoperation" and v.strip().casefold() == "next" for k, v in query_pairs(exchange.url))


def _token_of(exchange: Exchange) -> str:
    return (exchange.request_header(CONTINUATION_HEADER) or "").strip()


def _walks(pages: Sequence[Exchange]) -> list[list[Exchange]]:
    """Paging walks: a first page (no token) followed, link by link, by the request that used its next link."""
    claimed: set[int] = set()
    walks = []
    position = {id(e): i for i, e in enumerate(pages)}
    for start in pages:
        if _token_of(start) or _seeks_next(start) or id(start) in claimed or classify_query(start).invalid:
            continue  # a walk starts with a valid query (an invalid one served anyway is PC-QUERY-INVALID-4XX's)
        walk = [start]
        claimed.add(id(start))
        while walk[-1].status == 200:
            body = body_of(walk[-1])
            step = next_request(body, _origin_base(walk[-1])) if body is not None else None
            if step is None:
                break
            after = position[id(walk[-1])]
            follow = next((e for e in pages[after + 1:] if id(e) not in claimed and _token_of(e) == step.token
                           and _query_key(e.url) == _query_key(step.url)), None)
            if follow is None:
                break
            claimed.add(id(follow))
            walk.append(follow)
        walks.append(walk)
    return walks


def _complete(walk: list[Exchange]) -> bool:
    last = walk[-1]
    return all(p.status == 200 for p in walk) and body_of(last) is not None and next_link(body_of(last)) is None


def check_partner_center(exchanges: Sequence[Exchange]) -> tuple[list[Finding], dict[str, int]]:
    pc = [e for e in exchanges if e.operation == PC_LINEITEMS]
    found: list[Finding] = []
    by_spelling: dict[tuple[tuple[str, str], ...], list[Exchange]] = defaultdict(list)
    for e in pc:
        if e.status in UNAUTHORISED:
            continue
        # every answer is an answer and, served, a page; then what its request was, told from the recording
        cases = [PC_ANSWER, PC_RECORDED_ANSWER, PC_PAGE]
        context: dict[str, Any] = {}
        currency = next((v for k, v in query_pairs(e.url) if k.casefold() == "currencycode"), None)
        if currency:
            context["requested"] = currency
        if _seeks_next(e) and not _token_of(e):
            cases.append(PC_BAD_TOKEN)
            context["what"] = f"seekOperation=Next without {CONTINUATION_HEADER}"
        elif not _token_of(e):
            verdict = classify_query(e)
            if verdict.invalid:
                cases.append(PC_INVALID_QUERY)
                context["why"] = "; ".join(verdict.problems)
            else:
                cases.append(PC_VALID_QUERY)
                context["why"] = "a query the spec allows"
                if not verdict.doubts:
                    by_spelling[_query_key(e.url)].append(e)
        found += _tag(run_cases(cases, e, **context), "recorded: partner-center responses")
    # PC-QUERY-CASE-INSENSITIVE: the same valid query, spelled differently, served once and refused another time
    case = []
    for group in by_spelling.values():
        if any(e.status == 200 for e in group):
            case += [f for e in group for f in run(PC_SPELLING_REFUSED, e)]
    found += _tag(case, "recorded: partner-center query spellings")

    # a query that gives a parameter twice (SP-PC-REPEATED-PARAM) asked for what the server chose, and one with an
    # undocumented parameter (SP-PC-UNKNOWN-PARAM) may be linked on without it: neither is judged as a walk (the live
    # suite sends both as probes, not walks)
    walks = [w for w in _walks(pc) if not _repeats_a_parameter(w[0]) and not _undocumented_parameter(w[0])]
    paging: list[Finding] = []
    for walk in walks:
        if walk[0].status != 200:
            continue
        size_given = any(k.casefold() == "size" for k, _ in query_pairs(walk[0].url))
        size = requested_size(walk[0]) if size_given else None
        per_page = []
        for index, page in enumerate(walk):
            per_page += run(PC_PAGE_LINKS, page, base_url=_origin_base(page), size=size, page=index, walk_url=walk[0].url)
        paging += first_per_rule(per_page)
        paging += run(PC_WALK, walk, budget=10**9)  # a recording may stop early: the budget is not judged
    complete = [w for w in walks if _complete(w)]
    singles: dict[tuple[tuple[str, str], ...], list[Exchange]] = {}
    for walk in complete:
        if len(walk) == 1 and len(page_items(body_of(walk[0]))) < 2000:
            singles.setdefault(_query_key(walk[0].url, drop=("seekoperation", "size")), walk)
    for walk in complete:
        reference = singles.get(_query_key(walk[0].url, drop=("seekoperation", "size")))
        if reference is None or walk is reference or len(walk) == 1:
            continue
        paging += run(PC_WALK_AGAINST_ONE_PAGE, page_items(body_of(reference[0])), pages=walk, size=requested_size(walk[0]))
    found += _tag(_first_per_message(paging), "recorded: partner-center paging walks")
    return found, {"partner-center exchanges": len(pc), "paging walks": len(walks), "complete walks": len(complete)}


def _undocumented_parameter(exchange: Exchange) -> bool:
    documented = {name.casefold() for name in query_parameters()}
    return any(k.casefold() not in documented for k, _ in query_pairs(exchange.url))


def _repeats_a_parameter(exchange: Exchange) -> bool:
    names = [k.casefold() for k, _ in query_pairs(exchange.url)]
    return len(names) != len(set(names))


def _first_per_message(found: list[Finding]) -> list[Finding]:
    """The same finding from walks that repeat each other (one per process of a parallel run) once."""
    seen: set[tuple[str, str]] = set()
    out = []
    for f in found:
        if (f.rule, f.message) not in seen:
            seen.add((f.rule, f.message))
            out.append(f)
    return out


# ------------------------------------------------------------------ Graph


def _export_body(exchange: Exchange) -> tuple[dict[str, Any] | None, str | None]:
    """The export request's body, and why it is invalid (None when valid, "" when it cannot be judged)."""
    ctype = (exchange.request_header("content-type") or "").split(";")[0].strip().casefold()
    raw = exchange.request_body or b""
    try:
        body = jsonpolicy.loads(raw) if raw else None
    except (ValueError, UnicodeDecodeError):
        return None, "a body that is not JSON"
    if ctype and ctype != "application/json" and not ctype.endswith("+json"):
        return None, f"Content-Type {ctype}"
    if not isinstance(body, dict):
        return None, "a body that is not a JSON object" if raw else ""
    found = kind_of_path(urlsplit(exchange.url).path)
    kind = found[0] if found else None
    invoice, attribute_set = body.get("invoiceId"), body.get("attributeSet")
    if kind is not None and not kind.billed:  # the unbilled members: a currency and a billing period
        currency, period = body.get("currencyCode"), body.get("billingPeriod")
        if not isinstance(currency, str) or not currency.strip():
            return body, "a missing currencyCode"
        if not isinstance(period, str):
            return body, "a missing billingPeriod"
        if period.casefold() not in ("current", "last", "unknownfuturevalue"):
            return body, f'billingPeriod "{period}"'
    else:
        if "invoiceId" not in body:
            return body, "a missing invoiceId"
        if not isinstance(invoice, str):
            return body, f"invoiceId {json.dumps(invoice)[:40]} (not a string)"
    if kind is not None and not kind.attribute_sets:
        return body, ("an attributeSet, which this export does not take" if "attributeSet" in body else None)
    if attribute_set is None:
        return body, ""  # no attributeSet: the docs do not say what a target must do
    if not isinstance(attribute_set, str):
        return body, f"attributeSet {json.dumps(attribute_set)[:40]} (not a string)"
    if attribute_set.isdigit():
        return body, ""  # OData may read digits as the enum's values
    if attribute_set.casefold() not in VALID_ATTRIBUTE_SETS:
        return body, f'an unknown attributeSet "{attribute_set}"'
    return body, None


def _same_export(exchange: Exchange, body: Any) -> str:
    """What identifies an export apart from its spelling and attribute set: the member and its other parameters (the
    suite sends a member's full export on the short name and its basic export on the qualified one)."""
    found = kind_of_path(urlsplit(exchange.url).path)
    rest = {k: v for k, v in body.items() if k != "attributeSet"} if isinstance(body, dict) else body
    return f"{found[0].name if found else ''} {json.dumps(rest, sort_keys=True)}"


@dataclass
class _Export:
    post: Exchange | None
    body: dict[str, Any] | None
    polls: list[Exchange] = field(default_factory=list)


def _operation_path(url: str) -> str:
    return urlsplit(url).path.rstrip("/").casefold()


def check_graph(exchanges: Sequence[Exchange], unproven: list[tuple[str, str]] | None = None,
                ) -> tuple[list[Finding], dict[str, int]]:
    """Every offline Graph rule; what the recorded rows cannot settle is appended to ``unproven``."""
    found: list[Finding] = []
    posts = [e for e in exchanges if e.operation in GRAPH_EXPORTS]
    accepted_bodies: set[str] = set()
    exports: dict[str, _Export] = {}
    for e in posts:
        body, problem = _export_body(e)
        base = _origin_base(e)
        if problem:
            found += _tag(run(GR_INVALID_EXPORT, e, case=problem), "recorded: graph export requests")
        elif problem is None:
            found += _tag(run(GR_EXPORT_ANY_INVOICE, e, graph_base_url=base), "recorded: graph export requests")
            if e.status == 202:
                accepted_bodies.add(_same_export(e, body))
                location = (e.header("location") or "").strip()
                if location:
                    exports.setdefault(_operation_path(urljoin(e.url, location)), _Export(e, body))
    for e in posts:  # GR-EXPORT-QUALIFIED-NAME: the qualified spelling refused a body the short one accepted
        body, problem = _export_body(e)
        if e.operation.endswith(QUALIFIED_ACTION) and problem is None and e.status != 202 \
                and _same_export(e, body) in accepted_bodies:
            found += _tag(run(GR_EXPORT_SPELLING, e, spelling="qualified", graph_base_url=_origin_base(e)),
                          "recorded: graph export requests")

    for e in exchanges:
        if e.operation == GRAPH_OPERATION:
            key = _operation_path(e.url)
            if key in exports or operation_body(e) is not None:
                exports.setdefault(key, _Export(None, None)).polls.append(e)
    manifests_by_url = {_operation_path(e.url): e for e in exchanges if e.operation == GRAPH_MANIFEST}
    blobs = [e for e in exchanges if e.operation == BLOB]
    succeeded: dict[tuple[str, str], tuple[Exchange, ExportJudge]] = {}
    lifecycle: list[Finding] = []
    data: list[Finding] = []
    for export in exports.values():
        polls = export.polls
        if not polls:
            continue
        seen: set[tuple[str, str]] = set()
        for poll in polls:
            for f in run(GR_POLL, poll):
                if (f.rule, f.message) not in seen:
                    seen.add((f.rule, f.message))
                    lifecycle.append(redacted(f))
        lifecycle += [redacted(f) for f in run(GR_POLLS, polls)]
        terminal = next((p for p in polls if is_terminal(status_of(p))), None)
        if terminal is None or not is_success(status_of(terminal)):
            continue
        manifest_exchange, manifest = _manifest(terminal, manifests_by_url)
        if manifest_exchange is None:
            continue
        if manifest_exchange is terminal:
            data += run(GR_MANIFEST_INLINE, terminal, manifest=manifest, schema=False)
        else:
            data += run(GR_MANIFEST, manifest_exchange)
        if not isinstance(manifest, dict):
            continue
        root = str(manifest.get("rootDirectory") or "").rstrip("/")
        mine = [b for b in blobs if root and b.url.split("?", 1)[0].startswith(root + "/")]
        body = export.body or {}
        found_kind = kind_of_path(urlsplit(export.post.url).path) if export.post is not None else None
        judge = judge_for(found_kind[0].name if found_kind else None,
                          invoice_id=str(body["invoiceId"]) if body.get("invoiceId") else None,
                          attribute_set=str(body.get("attributeSet") or "full"),
                          currency=str(body["currencyCode"]) if body.get("currencyCode") else None)
        for blob in mine:
            data += run(GR_BLOB, blob)
            if blob.status == 200:
                outcome = read_blob(RecordedBlob(blob), judge.blob(RecordedBlob(blob).name).consume)
                data += run(GR_BLOB_READ, outcome)
        if mine:
            data += run(GR_EXPORT_ROWS, judge)
            if unproven is not None:
                unproven += judge.unjudged()
        if export.body and mine:
            subject = (f"{found_kind[0].name if found_kind else ''}|{export.body.get('invoiceId') or export.body.get('currencyCode')}",
                       str(export.body.get("attributeSet", "")).casefold())
            succeeded.setdefault(subject, (mine[0], judge))
    found += _tag(_first_per_message(lifecycle), "recorded: graph operations")
    found += _tag(_first_per_message(data), "recorded: graph manifests and blobs")
    subset: list[Finding] = []
    for (invoice, attribute_set), (basic_blob, basic_judge) in succeeded.items():
        full = succeeded.get((invoice, "full"))
        if attribute_set == "basic" and full:
            basic_keys, full_keys = export_columns(basic_judge), export_columns(full[1])
            if basic_keys and full_keys:
                subset += run(GR_ATTRIBUTE_SETS, basic_keys, full=full_keys, evidence=basic_blob) + basic_judge.basic_columns()
    found += _tag(subset, "recorded: graph attribute sets")
    return found, {"graph exchanges": len(posts) + sum(len(x.polls) for x in exports.values()),
                   "export operations": sum(1 for x in exports.values() if x.polls), "blobs": len(blobs)}


def _manifest(terminal: Exchange, manifests: dict[str, Exchange]) -> tuple[Exchange | None, Any]:
    body = operation_body(terminal) or {}
    inline = body.get("resourceLocation")
    if isinstance(inline, dict) and inline:
        return terminal, inline
    link = body.get(NAV_LINK)
    if not isinstance(link, str) or not link.strip():
        return None, None  # GR-OP-RESOURCE-IFF-SUCCEEDED reports it
    exchange = manifests.get(_operation_path(urljoin(terminal.url, link.strip())))
    if exchange is None:
        return None, None  # not recorded
    return exchange, body_of(exchange)


def check_recorded(exchanges: Sequence[Exchange]) -> OfflineResult:
    """Every offline rule over recorded exchanges of both APIs (labelled by :func:`protocol.shapes.classify`).

    429 and 503 answers are judged only by the throttling rule: the live client waits them out and
    retries, so they are not the answer a check is about (a recording holds the retry after them).
    """
    answered = [e for e in exchanges if e.status not in RETRIED and not (e.operation == BLOB and e.status == 500)]  # storage's 500 is retried
    pc_found, pc_counts = check_partner_center(answered)
    pc_found += _tag(run(PC_RETRIES, [e for e in exchanges if e.operation == PC_LINEITEMS]),
                     "recorded: partner-center throttling")
    unproven: list[tuple[str, str]] = []
    graph_found, graph_counts = check_graph(answered, unproven)
    counts = {**pc_counts, **graph_counts, "429/503 answers (waited out, not judged)": len(exchanges) - len(answered)}
    return OfflineResult(findings=pc_found + graph_found, checked=counts, unproven=unproven)
