"""The Graph billed-reconciliation export: request, long-running operation, manifest and blobs.

Rules GR-EXPORT-202-LOCATION, GR-EXPORT-QUALIFIED-NAME, GR-EXPORT-BAD-REQUEST-4XX, GR-RESPONSE-SCHEMA,
GR-RESPONSE-UNDECLARED-PROPERTY, GR-OP-*, GR-MANIFEST-BLOBCOUNT, GR-BLOB-URL, GR-BLOB-GZIP-JSONL and
GR-EXPORT-BASIC-SUBSET, and the row rules GR-ROW-*. Blobs are streamed (gunzip and judge as they arrive), never
held whole. The tests drive traffic through ``recon_contracts.drivers.graph_export`` and hand the
exchanges to the pure checks; the exports they follow are run once per session, side by side.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest
from hypothesis import given, seed
from hypothesis import strategies as st

from recon_contracts.checks.observations import export_answers
from recon_contracts.checks.blobs import check_basic_subset, check_blobs, check_manifest, check_manifest_response, unreadable
from recon_contracts.checks.rows import ExportJudge, RowRules, export_columns
from recon_contracts.checks.graph_export import (
    bad_request_answer,
    check_export_accepted,
    check_export_of_unknown_invoice,
    check_export_rejected,
    check_export_spelling,
    check_unknown_operation,
    location_form,
)
from recon_contracts.checks.common import check_link_origin
from recon_contracts.traffic.client import Unproven, show_origin
from recon_contracts.checks.operations import check_polls
from recon_contracts.drivers.graph_export import EXPORT_PATHS, POLL_OPERATION, ExportRun, post_export, run_export

NONEXISTENT_INVOICE = "recon-contracts-no-such-invoice"
VALID_ATTRIBUTE_SETS = {"full", "basic", "unknownfuturevalue"}
# the exports the tests follow: (invoice, attributeSet); all start together the first time one is needed
EXPORTS = (("existing", "full"), ("nonexistent", "full"), ("existing", "basic"))


class ExportRuns:
    """Runs each needed export once per session, concurrently, and hands out the finished runs."""

    def __init__(self, graph, target) -> None:  # noqa: ANN001 - the plugin's ApiClient and Target
        self._graph, self._target = graph, target
        self._pool = ThreadPoolExecutor(max_workers=len(EXPORTS), thread_name_prefix="graph-export")
        self._futures: dict[tuple[str, str], Future[ExportRun]] = {}
        self._lock = threading.Lock()

    def _start(self, invoice: str, attribute_set: str) -> Future[ExportRun]:
        invoice_id = self._target.invoice_id if invoice == "existing" else NONEXISTENT_INVOICE
        return self._pool.submit(run_export, self._graph, invoice_id, attribute_set,
                                 poll_timeout=self._target.poll_timeout, spelling="short",
                                 sink=ExportJudge(RowRules.load(), invoice_id=invoice_id, attribute_set=attribute_set))

    def get(self, invoice: str, attribute_set: str) -> ExportRun:
        with self._lock:
            if not self._futures:
                self._futures = {key: self._start(*key) for key in EXPORTS}
            future = self._futures.get((invoice, attribute_set))
            if future is None:
                future = self._futures[(invoice, attribute_set)] = self._start(invoice, attribute_set)
        return future.result()  # TargetError / BudgetExhausted surface here, as for any request

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="session")
def export_runs(graph, target) -> Iterator[ExportRuns]:  # noqa: ANN001
    runs = ExportRuns(graph, target)
    try:
        yield runs
    finally:
        runs.close()


def _data_findings(run: ExportRun) -> list[Any]:
    """Manifest and blob rules of a succeeded run."""
    if run.manifest_exchange is None:
        return []  # no resourceLocation at all: GR-OP-RESOURCE-IFF-SUCCEEDED reports it
    if run.manifest_exchange in run.polls:  # inline resourceLocation: the Operation schema covered its shape
        found = check_manifest(run.manifest_exchange, run.manifest, schema=False)
    else:
        found = check_manifest_response(run.manifest_exchange)
    if isinstance(run.manifest, dict):
        found += check_blobs(run.manifest_exchange, run.manifest, run.blobs)
    return found


# ---------------------------------------------------------------- the export request


@pytest.mark.graph
def test_export_accepted(graph, target, contract):
    """Both URL spellings answer 202 with an absolute Location on the target's API version."""
    found = []
    for spelling in EXPORT_PATHS:
        exchange = post_export(graph, spelling=spelling, json={"invoiceId": target.invoice_id, "attributeSet": "full"})
        found += check_export_spelling(exchange, spelling=spelling, graph_base_url=graph.base_url)
        if exchange.status == 202:
            contract.observe("SP-GR-LOCATION-FORM", location_form(exchange, graph_base_url=graph.base_url))
    contract.check(found)


BAD_REQUESTS = {
    "a missing invoiceId": {"json": {"attributeSet": "full"}},
    'an unknown attributeSet "everything"': {"json": {"invoiceId": "{invoice}", "attributeSet": "everything"}},
    "a body that is not JSON": {"content": b'{"invoiceId": "G0', "headers": {"Content-Type": "application/json"}},
    "Content-Type text/plain": {"content": '{"invoiceId": "{invoice}", "attributeSet": "full"}',
                                "headers": {"Content-Type": "text/plain"}},
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


@pytest.mark.graph
@pytest.mark.parametrize("case", [*BAD_REQUESTS, "generated invalid bodies"])
def test_export_bad_requests(case, graph, target, contract):
    """An invalid export is answered 4xx in the Graph error envelope, never 2xx or 5xx."""
    if case in BAD_REQUESTS:
        exchange = post_export(graph, **_fill(BAD_REQUESTS[case], target.invoice_id))
        contract.observe("SP-GR-BAD-REQUEST", bad_request_answer(exchange))
        contract.check(check_export_rejected(exchange, case=case))
        return

    @seed(target.settings.seed)
    @given(body=invalid_export_bodies(target.invoice_id))
    def rejected(body: dict[str, Any]) -> None:
        exchange = post_export(graph, json=body)
        contract.observe("SP-GR-BAD-REQUEST", bad_request_answer(exchange))
        contract.check(check_export_rejected(exchange, case=f"the body {json.dumps(body)[:160]}"))

    rejected()


# ---------------------------------------------------------------- the long-running operation


@pytest.mark.graph
@pytest.mark.parametrize("invoice", ["existing", "nonexistent"])
def test_operation_lifecycle(invoice, graph, target, contract, export_runs):
    """Follow an export to its end: every poll, the state machine, the manifest and every blob.

    ``existing`` exports --invoice-id; ``nonexistent`` an invoice that surely does not exist, which may be
    rejected 4xx or accepted and then fail (the docs' code 5000 "No data available").
    """
    run = export_runs.get(invoice, "full")
    assert run.post is not None
    if invoice == "existing":
        found = check_export_accepted(run.post, graph_base_url=graph.base_url)
    else:
        found = check_export_of_unknown_invoice(run.post, graph_base_url=graph.base_url)
    found += check_polls(run.polls, poll_timeout=target.poll_timeout)
    for point, answer in export_answers(run):
        contract.observe(point, answer)
    if run.succeeded:
        found += _data_findings(run)
    if run.refused_link is not None:  # not followed with the run's credentials: worth knowing, and unproven below
        operation, url = run.refused_link
        found += check_link_origin(api="graph", operation=operation, url=url, origin=show_origin(graph.origin))
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
def test_export_rows(target, contract, export_runs):
    """Every row of every blob of the full export: columns present and typed, dates, charge period, invoice, casing.

    Findings are aggregated per rule per blob ("312 of 1,000,000 rows"); a blob that could not be read to its end
    for a reason that is not drift (a gzip bomb past the cap, a broken connection) makes the test inconclusive.
    """
    run = export_runs.get("existing", "full")
    if run.unproven:  # the target kept the run from its rows (another host, still running at --poll-timeout)
        raise Unproven(f"the full export: {run.unproven}")
    if not run.succeeded or run.rows is None:
        pytest.skip(f"the full export of {run.invoice_id} did not succeed ({run.stopped}); no rows to check")
    problems = unreadable(run.blobs)
    if problems:  # read only in part for reasons that are no drift: what was read is judged, the rest is unproven
        contract.unproven("rows not checked to the end: " + "; ".join(problems)[:600])
    contract.check(run.rows.findings())


@pytest.mark.graph
def test_attribute_sets(graph, target, contract, export_runs):
    """The attributes of a basic export are a strict subset of those of a full export of the same invoice."""
    full, basic = export_runs.get("existing", "full"), export_runs.get("existing", "basic")
    for run in (full, basic):
        if run.unproven:
            raise Unproven(f"the {run.attribute_set} export: {run.unproven}")
        if not run.succeeded or run.rows is None:
            pytest.skip(f"the {run.attribute_set} export of {run.invoice_id} did not succeed ({run.stopped}); "
                        "nothing to compare")
    full_keys, basic_keys = export_columns(full.rows), export_columns(basic.rows)
    for run, keys in ((full, full_keys), (basic, basic_keys)):
        if not keys:
            pytest.skip(f"the {run.attribute_set} export of {run.invoice_id} has no readable JSON lines; nothing to compare")
    evidence = next((b.exchange for b in basic.blobs if b.exchange is not None and b.exchange.status == 200),
                    basic.manifest_exchange)
    contract.check(check_basic_subset(basic_keys, full_keys, evidence=evidence) + basic.rows.basic_documented())


@pytest.mark.graph
def test_unknown_operation_404(graph, contract):
    """GET of an operation id that was never issued is 404 in the Graph error envelope."""
    exchange = graph.request("GET", f"/reports/partners/billing/operations/{uuid.uuid4()}",
                             operation=POLL_OPERATION)
    status = exchange.status
    contract.observe("SP-GR-UNKNOWN-OPERATION", str(status) if status in (200, 400, 403, 404) else f"status-{status}")
    contract.check(check_unknown_operation(exchange))
