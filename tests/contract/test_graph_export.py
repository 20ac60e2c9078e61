"""The Graph partner-billing export family: request, long-running operation, manifest and blobs, per member.

Rules GR-EXPORT-202-LOCATION, GR-EXPORT-QUALIFIED-NAME, GR-EXPORT-BAD-REQUEST-4XX, GR-RESPONSE-SCHEMA,
GR-RESPONSE-UNDECLARED-PROPERTY, GR-OP-*, GR-MANIFEST-BLOBCOUNT, GR-BLOB-URL, GR-BLOB-GZIP-JSONL,
GR-EXPORT-BASIC-SUBSET, GR-USAGE-*, and the row rules GR-ROW-* (each member's own row schema). One driver
(``recon_contracts.drivers.graph_export``) and one row engine serve every member; the tests are parametrized over the
members (``recon_contracts.truth.exports``) that ``--exports`` chooses (default: every v1.0 export, plus the beta one when a
beta base is available, as on the embedded mock).

Gentle on a live tenant: one export per member and attribute set per run, shared by every test that needs it
(session-scoped, run side by side, its blobs streamed and judged once). The full export of a member is sent on the
short action name and its basic export on the namespace-qualified one, so both spellings are proven without an extra
job; one export of an invoice that does not exist (for the failed operation) is the only other job. Invalid bodies
that a lenient server might accept (and so start a job) stop at the first one it accepts.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest
from hypothesis import given, seed
from hypothesis import strategies as st

from recon_contracts.checks.observations import bad_content_type_answer, export_answers, parity_answer, row_answers
from recon_contracts.checks.blobs import check_blobs, unreadable
from recon_contracts.checks.rows import export_columns
from recon_contracts.rows_pool import pooled_judge_for
from recon_contracts.checks.graph_export import (
    bad_request_answer,
    location_form,
)
from recon_contracts.checks.registry import (
    GR_ATTRIBUTE_SETS,
    GR_EXPORT,
    GR_EXPORT_ANY_INVOICE,
    GR_EXPORT_ROWS,
    GR_EXPORT_SPELLING,
    GR_INVALID_EXPORT,
    GR_MANIFEST,
    GR_MANIFEST_INLINE,
    GR_POLLS_TO_THE_END,
    GR_UNKNOWN_OPERATION,
    LINK_OFF_ORIGIN,
    PARITY,
    run as run_checks,
)
from recon_contracts.truth.exports import BILLED_RECONCILIATION, KINDS, ExportKind, parse_exports
from recon_contracts.checks.parity import ParityJoin
from recon_contracts.traffic.client import Unproven, show_origin
from recon_contracts.drivers.graph_export import POLL_OPERATION, ExportRun, jobs_by_kind, post_export, run_export

PARITY_EXPORT = "unbilled-reconciliation"
NONEXISTENT_INVOICE = "recon-contracts-no-such-invoice"
VALID_ATTRIBUTE_SETS = {"full", "basic", "unknownfuturevalue"}
# the spelling each export of a member is sent on: together they prove both action names without an extra job
SPELLING = {"full": "short", "basic": "qualified", None: "short"}
_VERSION = re.compile(r"/(v1\.0|beta)$")


def chosen(config: pytest.Config) -> tuple[ExportKind, ...]:
    """The members --exports chooses for this target (a beta base, or the embedded mock, also serves beta)."""
    from recon_contracts.plugin.hooks import run_state

    s = run_state(config).settings
    version = "beta" if (s.graph_base_url or "").endswith("/beta") else "v1.0"
    return parse_exports(s.exports, version=version, beta_available=s.embedded or version == "beta")


def why_not(config: pytest.Config) -> dict[str, str]:
    """Each member this run does not run, and why."""
    from recon_contracts.plugin.hooks import run_state

    s = run_state(config).settings
    picked = chosen(config)
    on_v1 = not s.embedded and not (s.graph_base_url or "").endswith("/beta")
    reasons = {}
    for other in KINDS.values():
        if other not in picked:
            reasons[other.name] = "not chosen (--exports)"
        elif other.beta_only and on_v1:
            reasons[other.name] = "beta only; the Graph target is v1.0: run it against a /beta base"
    return reasons


def not_run(config: pytest.Config, kind: ExportKind) -> str | None:
    """Why ``kind`` is not run in this run (one sentence that names every member not run), or None."""
    reasons = why_not(config)
    if kind.name not in reasons:
        return None
    return "exports not run in this run: " + "; ".join(f"{name} ({why})" for name, why in reasons.items())


def _kinds(*, attribute_sets: bool = False) -> list[Any]:
    return [pytest.param(k, id=k.name) for k in KINDS.values() if k.attribute_sets or not attribute_sets]


class ExportRuns:
    """Runs each needed export once per session, side by side, and hands out the finished runs.

    Key: (member, "existing" | "nonexistent", attributeSet or None). The first request starts every export the
    chosen members need, so a run waits for them once."""

    def __init__(self, graph, target, kinds: tuple[ExportKind, ...]) -> None:  # noqa: ANN001 - ApiClient, Target
        self._graph, self._target, self._kinds = graph, target, kinds
        self._wanted = [(k.name, "existing", a) for k in kinds for a in (k.attribute_sets or (None,))]
        if BILLED_RECONCILIATION in kinds:  # one export of an invoice that does not exist: the failed operation
            self._wanted.append((BILLED_RECONCILIATION.name, "nonexistent", "full"))
        self._pool = ThreadPoolExecutor(max_workers=max(1, len(self._wanted)), thread_name_prefix="graph-export")
        # the unbilled reconciliation export's rows also stream into the migration-parity join (test_migration_parity):
        # one download serves both; only the join's spill files hold them
        self.parity = ParityJoin(currency=target.currency, period=target.period)
        self._futures: dict[tuple[str, str, str | None], Future[ExportRun]] = {}
        self._lock = threading.Lock()

    @property
    def failing_kind(self) -> str | None:
        return next((name for name, subject, _ in self._wanted if subject == "nonexistent"), None)

    def client_for(self, kind: ExportKind) -> Any:
        """The Graph client of the run, on the beta base for a beta-only member (same origin, same budget)."""
        if "v1.0" in kind.versions or self._graph.base_url.endswith("/beta"):
            return self._graph
        beta = copy.copy(self._graph)
        beta.base_url = _VERSION.sub("/beta", self._graph.base_url)
        return beta

    def _start(self, name: str, subject: str, attribute_set: str | None) -> Future[ExportRun]:
        kind = KINDS[name]
        invoice_id = self._target.invoice_id if subject == "existing" else NONEXISTENT_INVOICE
        sink = self.parity.add_graph_line if (name, subject, attribute_set) == (PARITY_EXPORT, "existing", "full") else None
        return self._pool.submit(run_export, self.client_for(kind), invoice_id, attribute_set, kind=kind,
                                 currency=self._target.currency, period=self._target.period,
                                 poll_timeout=self._target.poll_timeout, spelling=SPELLING[attribute_set],
                                 sink=pooled_judge_for(name, invoice_id=invoice_id if kind.billed else None,
                                                       attribute_set=attribute_set, currency=self._target.currency),
                                 row_sink=sink)

    def get(self, kind: ExportKind, subject: str = "existing", attribute_set: str | None = "full") -> ExportRun:
        attribute_set = attribute_set if kind.attribute_sets else None
        key = (kind.name, subject, attribute_set)
        with self._lock:
            if not self._futures:
                self._futures = {k: self._start(*k) for k in self._wanted}
            future = self._futures.get(key)
            if future is None:
                future = self._futures[key] = self._start(*key)
        return future.result()  # TargetError / BudgetExhausted surface here, as for any request

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.parity.close()

    def coverage(self, config: pytest.Config) -> dict[str, Any]:
        """Which members this run exercised (their exports, jobs started, rows judged) and which not, and why."""
        exports = []
        for (name, subject, attribute_set), future in sorted(self._futures.items(), key=lambda kv: kv[0][:2]):
            run = future.result() if future.done() and not future.exception() else None
            exports.append({"export": name, "subject": subject, "attributeSet": attribute_set,
                            "spelling": SPELLING[attribute_set],
                            "status": run.status if run else None, "stopped": run.stopped if run else "not finished",
                            "rows": run.rows.rows if run and run.rows else 0})
        members = {}
        reasons = why_not(config)
        for kind in KINDS.values():
            members[kind.name] = {"exercised": kind.name not in reasons and any(e["export"] == kind.name for e in exports),
                                  "why_not": reasons.get(kind.name)}
        return {"members": members, "exports": exports, "jobs_started": jobs_by_kind()}


@pytest.fixture(scope="session")
def export_runs(request, graph, target) -> Iterator[ExportRuns]:  # noqa: ANN001
    runs = ExportRuns(graph, target, chosen(request.config))
    try:
        yield runs
    finally:
        runs.close()
        _write_coverage(target, runs.coverage(request.config))


def _write_coverage(target: Any, coverage: dict[str, Any]) -> None:
    """exports.json beside the reports: the members exercised and not (with why), and the jobs each started."""
    folder = target.settings.report_dir
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "exports.json").write_text(json.dumps(coverage, indent=2) + "\n", encoding="utf-8")
    except OSError:
        pass  # the reports are written by the plugin, which says so when the folder is unusable


@pytest.fixture
def member(request, kind: ExportKind) -> ExportKind:  # noqa: ANN001
    """The parametrized member, skipped with the reason when this run does not run it."""
    why = not_run(request.config, kind)
    if why:
        pytest.skip(why)
    return kind


def _data_findings(run: ExportRun) -> list[Any]:
    """Manifest and blob rules of a succeeded run."""
    if run.manifest_exchange is None:
        return []  # no resourceLocation at all: GR-OP-RESOURCE-IFF-SUCCEEDED reports it
    if run.manifest_exchange in run.polls:  # inline resourceLocation: the Operation schema covered its shape
        found = run_checks(GR_MANIFEST_INLINE, run.manifest_exchange, manifest=run.manifest, schema=False)
    else:
        found = run_checks(GR_MANIFEST, run.manifest_exchange)
    if isinstance(run.manifest, dict):
        found += check_blobs(run.manifest_exchange, run.manifest, run.blobs)
    return found


# ---------------------------------------------------------------- the export request


@pytest.mark.graph
@pytest.mark.parametrize("kind", _kinds())
def test_export_accepted(member, graph, contract, export_runs):
    """Both URL spellings answer 202 with an absolute Location on the target's API version: the full export of the
    member went out on the short action name, its basic export on the namespace-qualified one (no extra job)."""
    found = []
    for attribute_set in member.attribute_sets or (None,):
        run = export_runs.get(member, "existing", attribute_set)
        assert run.post is not None
        client = export_runs.client_for(member)
        found += run_checks(GR_EXPORT_SPELLING, run.post, spelling=run.spelling, graph_base_url=client.base_url)
        if run.post.status == 202:
            contract.observe("SP-GR-LOCATION-FORM", location_form(run.post, graph_base_url=client.base_url))
    contract.check(found)


BAD_REQUESTS = {
    "a missing invoiceId": {"json": {"attributeSet": "full"}},
    'an unknown attributeSet "everything"': {"json": {"invoiceId": "{invoice}", "attributeSet": "everything"}},
    "a body that is not JSON": {"content": b'{"invoiceId": "G0', "headers": {"Content-Type": "application/json"}},
    "Content-Type text/plain": {"content": '{"invoiceId": "{invoice}", "attributeSet": "full"}',
                                "headers": {"Content-Type": "text/plain"}},
}
# What the other members refuse: a body without their required parameters. Graph's billingPeriod is current or last:
# "previous" is Partner Center v1's word, not Graph's.
MEMBER_BAD_REQUESTS = {
    "unbilled-reconciliation": ("a missing currencyCode", {"json": {"billingPeriod": "current", "attributeSet": "full"}}),
    "billed-usage": ("a missing invoiceId", {"json": {"attributeSet": "full"}}),
    "unbilled-usage": ('billingPeriod "previous" (v1\'s word; Graph says last)',
                       {"json": {"currencyCode": "USD", "billingPeriod": "previous"}}),
    "billed-aggregated-usage": ("a missing invoiceId", {"json": {}}),
}


def _fill(value: Any, invoice_id: str) -> Any:
    if isinstance(value, dict):
        return {k: _fill(v, invoice_id) for k, v in value.items()}
    if isinstance(value, str):
        return value.replace("{invoice}", invoice_id)
    return value


def invalid_attribute_sets() -> st.SearchStrategy[str]:
    """Words that are no attributeSet in any case (digits excluded: OData reads them as the enum's values)."""
    word = st.text(alphabet=st.characters(codec="ascii", categories=("Lu", "Ll", "Nd")), min_size=1, max_size=16)
    return word.filter(lambda s: s.casefold() not in VALID_ATTRIBUTE_SETS and not s.isdigit())


def wrongly_typed_invoice_ids() -> st.SearchStrategy[Any]:
    """invoiceId values that are not a JSON string."""
    return st.one_of(
        st.integers(min_value=-(2**53), max_value=2**53),
        st.booleans(),
        st.lists(st.integers(0, 9), max_size=3),
        st.dictionaries(st.sampled_from(["id", "value"]), st.integers(0, 9), max_size=2),
    )


def invalid_export_bodies(invoice_id: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        st.builds(lambda a: {"invoiceId": invoice_id, "attributeSet": a}, invalid_attribute_sets()),
        st.builds(lambda i, a: {"invoiceId": i, "attributeSet": a}, wrongly_typed_invoice_ids(),
                  st.sampled_from(["full", "basic"])),
        st.builds(lambda a: {"attributeSet": a}, st.sampled_from(["full", "basic"])),
    )


class _Lenient:
    """Whether the target has accepted an invalid export in this session: one accepted body proves the server
    lenient (SP-GR-BAD-REQUEST, advisory GR-EXPORT-BAD-REQUEST-4XX); every further generated one would only start
    a job."""

    accepted: str | None = None


@pytest.mark.graph
@pytest.mark.parametrize("case", [*BAD_REQUESTS, "generated invalid bodies", *MEMBER_BAD_REQUESTS])
def test_export_bad_requests(case, request, graph, target, contract, export_runs):
    """An invalid export is answered 4xx in the Graph error envelope, never 2xx or 5xx. The named cases are what the
    rules need and are always sent; the generated bodies stop once one invalid body was accepted (202 starts a job):
    the server is known lenient, and more would only start more jobs on the tenant."""
    if case in MEMBER_BAD_REQUESTS:
        kind = KINDS[case]
        why = not_run(request.config, kind)
        if why:
            pytest.skip(why)
        what, spec = MEMBER_BAD_REQUESTS[case]
        cases = [(kind, what, spec)]
    else:  # the shared machinery's cases go to billed reconciliation: only when the run runs it
        why = not_run(request.config, BILLED_RECONCILIATION)
        if why:
            pytest.skip(why)
        cases = [(BILLED_RECONCILIATION, case, BAD_REQUESTS[case])] if case in BAD_REQUESTS else []
    for kind, what, spec in cases:
        exchange = post_export(export_runs.client_for(kind), kind=kind, **_fill(spec, target.invoice_id))
        if exchange.status == 202:
            _Lenient.accepted = f"{kind.name}: {what}"
        contract.observe("SP-GR-BAD-REQUEST", bad_request_answer(exchange))
        refused_as = bad_content_type_answer(exchange) if what == "Content-Type text/plain" else None
        if refused_as is not None:  # which 4xx refuses a body that is not labelled JSON
            contract.observe("SP-GR-EXPORT-BAD-CONTENT-TYPE", refused_as, exchange)
        contract.check(run_checks(GR_INVALID_EXPORT, exchange, case=f"{kind.name}: {what}"))
    if cases:
        return

    @seed(target.settings.seed)
    @given(body=invalid_export_bodies(target.invoice_id))
    def rejected(body: dict[str, Any]) -> None:
        if _Lenient.accepted:
            return  # known lenient: nothing more to learn, only jobs to start
        exchange = post_export(graph, json=body)
        if exchange.status == 202:
            _Lenient.accepted = f"the body {json.dumps(body)[:80]}"
        contract.observe("SP-GR-BAD-REQUEST", bad_request_answer(exchange))
        contract.check(run_checks(GR_INVALID_EXPORT, exchange, case=f"the body {json.dumps(body)[:160]}"))

    rejected()


# ---------------------------------------------------------------- the long-running operation


def _lifecycle_cases() -> list[Any]:
    cases = [pytest.param(k, "existing", id=f"{k.name}-existing") for k in KINDS.values()]
    return cases + [pytest.param(BILLED_RECONCILIATION, "nonexistent", id="nonexistent-invoice")]


@pytest.mark.graph
@pytest.mark.parametrize(("kind", "invoice"), _lifecycle_cases())
def test_operation_lifecycle(member, invoice, request, target, contract, export_runs):
    """Follow an export to its end: every poll, the state machine, the manifest and every blob.

    ``existing`` is each member's full export (of --invoice-id, or of --currency and --period); ``nonexistent`` one
    export of an invoice that surely does not exist, which may be rejected 4xx or accepted and then fail (the docs'
    code 5000 "No data available").
    """
    if invoice == "nonexistent":
        failing = export_runs.failing_kind
        if failing is None:
            pytest.skip("no billed v1.0 export chosen (--exports): the failed operation is not exercised")
        member = KINDS[failing]
    run = export_runs.get(member, invoice, member.attribute_sets[0] if member.attribute_sets else None)
    client = export_runs.client_for(member)
    assert run.post is not None
    if invoice == "existing":
        found = run_checks(GR_EXPORT, run.post, graph_base_url=client.base_url)
    else:
        found = run_checks(GR_EXPORT_ANY_INVOICE, run.post, graph_base_url=client.base_url)
    found += run_checks(GR_POLLS_TO_THE_END, run.polls, poll_timeout=target.poll_timeout)
    for point, answer in export_answers(run):
        if point == "SP-GR-EMPTY-EXPORT" and invoice != "existing":
            continue  # an invoice that does not exist is no export without data, whatever it ends in
        contract.observe(point, answer, run.polls[-1] if run.polls else run.post)
    if run.succeeded:
        found += _data_findings(run)
    if run.refused_link is not None:  # not followed with the run's credentials: worth knowing, and unproven below
        operation, url = run.refused_link
        found += run_checks(LINK_OFF_ORIGIN, url, api="graph", operation=operation, origin=show_origin(client.origin))
    if run.unproven:
        # the target kept the run from the operation's end or from the data: unproven, not broken, not passed
        past = next((rules for stop, rules in UNPROVEN_PAST.items() if run.stopped.startswith(stop)), None)
        contract.unproven(run.unproven, rules=past)
    contract.check(found)


# What a run could not check when the driver stopped early for the target's behaviour (default: every rule
# of the lifecycle test, e.g. when the Location itself was on another host).
_DATA_RULES = ("GR-MANIFEST-BLOBCOUNT", "GR-BLOB-URL", "GR-BLOB-GZIP-JSONL")
UNPROVEN_PAST = {
    "not terminal after": ("GR-OP-TERMINAL-ABSORBING", "GR-OP-ERROR-IFF-FAILED", "GR-OP-RESOURCE-IFF-SUCCEEDED", *_DATA_RULES),
    "manifest link on another host": ("GR-RESPONSE-SCHEMA", *_DATA_RULES),
}


@pytest.mark.graph
@pytest.mark.parametrize("kind", _kinds())
def test_export_rows(member, contract, export_runs):
    """Every row of every blob of the member's full export (its only export for aggregated usage), judged against the
    member's row schema: columns present and typed, dates, charge period, invoice or currency, casing.

    Findings are aggregated per rule per blob ("312 of 1,000,000 rows"); a blob that could not be read to its end
    for a reason that is not drift (a gzip bomb past the cap, a broken connection) makes the test inconclusive.
    """
    run = export_runs.get(member, "existing", "full")
    if run.unproven:  # the target kept the run from its rows (another host, still running at --poll-timeout)
        raise Unproven(f"the {member.title} export: {run.unproven}")
    if not run.succeeded or run.rows is None:
        pytest.skip(f"the {member.title} export of {run.subject} did not succeed ({run.stopped}); no rows to check")
    problems = unreadable(run.blobs)
    if problems:  # read only in part for reasons that are no drift: what was read is judged, the rest is unproven
        contract.unproven("rows not checked to the end: " + "; ".join(problems)[:600])
    for rule_id, why in run.rows.unjudged():  # what the rows themselves cannot settle (a column null in every row)
        contract.unproven(why, rules=[rule_id])
    found = run_checks(GR_EXPORT_ROWS, run.rows)
    # how the rows were written (key case, numbers, column style, empty values, empty blobs): no request of their own
    for point, answer in row_answers(run.rows, read_to_the_end=not problems,
                                     reconciliation=member.name.endswith("reconciliation")):
        contract.observe(point, answer)
    if member.attribute_sets:  # a basic export's own judgement belongs to test_attribute_sets
        found = [f for f in found if f.rule not in ("GR-USAGE-BASIC-COLUMNS", "GR-ROW-BASIC-DOCUMENTED")]
    contract.check(found)


@pytest.mark.graph
@pytest.mark.parametrize("kind", _kinds(attribute_sets=True))
def test_attribute_sets(member, contract, export_runs):
    """The attributes of a basic export are a subset of those of a full export of the same data; for usage, whose
    Full/Basic table is documented, a basic export carries none of the full-only attributes."""
    full, basic = export_runs.get(member, "existing", "full"), export_runs.get(member, "existing", "basic")
    for run in (full, basic):
        if run.unproven:
            raise Unproven(f"the {run.attribute_set} {member.title} export: {run.unproven}")
        if not run.succeeded or run.rows is None:
            pytest.skip(f"the {run.attribute_set} {member.title} export of {run.subject} did not succeed "
                        f"({run.stopped}); nothing to compare")
    full_keys, basic_keys = export_columns(full.rows), export_columns(basic.rows)
    for run, keys in ((full, full_keys), (basic, basic_keys)):
        if not keys:
            pytest.skip(f"the {run.attribute_set} {member.title} export of {run.subject} has no readable JSON lines; "
                        "nothing to compare")
    evidence = next((b.exchange for b in basic.blobs if b.exchange is not None and b.exchange.status == 200),
                    basic.manifest_exchange)
    contract.check(run_checks(GR_ATTRIBUTE_SETS, basic_keys, full=full_keys, evidence=evidence) + basic.rows.basic_documented()
                   + basic.rows.basic_columns())


@pytest.mark.graph
def test_unknown_operation_404(graph, contract):
    """GET of an operation id that was never issued is 404 in the Graph error envelope."""
    exchange = graph.request("GET", f"/reports/partners/billing/operations/{uuid.uuid4()}",
                             operation=POLL_OPERATION)
    status = exchange.status
    contract.observe("SP-GR-UNKNOWN-OPERATION", str(status) if status in (200, 400, 403, 404) else f"status-{status}")
    contract.check(run_checks(GR_UNKNOWN_OPERATION, exchange))


# ---------------------------------------------------------------- migration parity (both APIs targeted)


@pytest.mark.graph
@pytest.mark.partner_center
def test_migration_parity(request, pc, lineitems, target, contract, export_runs):  # noqa: ARG001 - pc: needs a PC target
    """The v1 unbilled line items of (--currency, --period) against the Graph unbilled reconciliation export of the
    same currency and billingPeriod (v1 previous is Graph last), matched by key and compared field by field through
    contracts/migration-v1-to-graph.yaml. Differences are advisory MIGRATION-* findings; parity.md holds the table.

    No extra request: the v1 walk is the session's cached default walk, and the export's rows were joined as the
    unbilled reconciliation export streamed them."""
    kind = KINDS[PARITY_EXPORT]
    why = not_run(request.config, kind)
    if why:
        pytest.skip(why)
    run = export_runs.get(kind, "existing", "full")
    if run.unproven:
        raise Unproven(f"the {kind.title} export: {run.unproven}")
    if not run.succeeded or run.stopped != "done":
        pytest.skip(f"the {kind.title} export of {run.subject} did not succeed ({run.stopped}); nothing to compare")
    join = export_runs.parity
    for item in lineitems.all_items():
        join.add_v1(item)
    result = join.finish()
    folder = target.settings.report_dir
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "parity.md").write_text(result.table(), encoding="utf-8")
    (folder / "parity.json").write_text(json.dumps(result.to_dict(), indent=2) + "\n", encoding="utf-8")
    parity = parity_answer(result)
    if parity is not None:
        contract.observe("SP-GR-EXPORT-PARITY", parity)
    contract.check(run_checks(PARITY, result))
