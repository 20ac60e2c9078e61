"""Outcome mapping: what a contract test recorded, and how the exception that ended it becomes its report.

The ``contract`` fixture records a test's findings; :func:`pytest_runtest_makereport` puts them on the report as
plain data (so they cross pytest-xdist) and shapes the report by one table, first match wins. Every entry is
reachable: no entry sits below a broader one (``shadowed()`` says which would be, and a unit test keeps it
empty). ``TargetError`` is an ``Unproven`` (see ``errors.py``), so it is handled as one.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import pytest

from ..errors import AuthError, ContractViolation, Inconclusive, OffOriginLink, Unproven
from ..redact import REDACTOR
from .recording import Contract, suite_test
from .state import run_state

ITEM_CONTRACT = pytest.StashKey[Contract]()


@pytest.fixture
def contract(request: pytest.FixtureRequest) -> Contract:
    """Records a test's findings and fails it on a breaking one."""
    recorded = Contract(request.node.nodeid, run_state(request.config).settings.strict)
    request.node.stash[ITEM_CONTRACT] = recorded
    return recorded


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    # pytest's unittest support turns a unittest.SkipTest (our Inconclusive) into its own Skipped exception
    # while the report is made: keep the original to tell an unproven check from a skip the user asked for
    excinfo = call.excinfo
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    test_id = suite_test(item)
    if test_id is not None:
        setattr(report, "recon_suite_test", test_id)  # plain data: crosses pytest-xdist with the report
    recorded = item.stash.get(ITEM_CONTRACT, None)
    if recorded is not None and call.when == "call":
        # plain data, so that it crosses pytest-xdist with the report; redacted here, where the secrets
        # this process obtained (tokens from azure-identity, SAS signatures) are known
        from ..reporting.summary import redact_tree

        setattr(report, "recon_findings", [redact_tree(f.to_dict()) for f in recorded.latest()])
        setattr(report, "recon_observations", [list(o) for o in recorded.observations])
        if recorded.unproven_marks:
            setattr(report, "recon_unproven", [redact_tree(m) for m in recorded.unproven_marks])
    if excinfo is not None and isinstance(excinfo.value, OffOriginLink):
        # not drift in itself, but worth knowing: the link is reported, and the check it blocked is unproven
        from ..checks.registry import LINK_OFF_ORIGIN, run
        from ..reporting.summary import redact_tree

        raised = excinfo.value
        setattr(report, "recon_findings", getattr(report, "recon_findings", []) + [
            redact_tree(f.to_dict()) for f in run(LINK_OFF_ORIGIN, raised.url, api=raised.api, operation=raised.operation,
                                                  origin=raised.origin)])
    if excinfo is None:
        return
    apply(item, report, excinfo.value)


def _unproven(item: pytest.Item, report: pytest.TestReport, error: BaseException) -> None:
    """The target kept the test from checking its rules: a skip that does not pass (verdict inconclusive)."""
    from ..reporting.summary import redact_tree
    from ..truth.rules import rules_enforced_by

    reason = REDACTOR(str(error))
    marks = list(getattr(report, "recon_unproven", []))
    marks.append({"test": item.nodeid, "rules": rules_enforced_by(item.nodeid), "reason": reason})
    report.recon_unproven = [redact_tree(m) for m in marks]  # type: ignore[attr-defined]
    report.outcome = "skipped"
    report.longrepr = (str(item.path), item.location[1] or 0, f"Skipped (unproven): {reason}")


def _skipped(item: pytest.Item, report: pytest.TestReport, error: BaseException) -> None:
    """A check not carried out for a reason the user chose (--max-requests): a plain skip."""
    report.outcome = "skipped"
    report.longrepr = (str(item.path), item.location[1] or 0, f"Skipped: {error}")


def _explained(item: pytest.Item, report: pytest.TestReport, error: BaseException) -> None:
    """The run's own trouble (no token): an error whose message says why, without a traceback."""
    report.longrepr = f"recon-contracts: {REDACTOR(str(error))}"


def _violation(item: pytest.Item, report: pytest.TestReport, error: BaseException) -> None:
    """A breaking finding: the failure is its message (expected, got, how to reproduce)."""
    report.longrepr = REDACTOR(str(error))


Handler = Callable[[pytest.Item, pytest.TestReport, BaseException], None]

OUTCOMES: tuple[tuple[type[BaseException], Handler], ...] = (
    (Unproven, _unproven),
    (Inconclusive, _skipped),
    (AuthError, _explained),
    (ContractViolation, _violation),
)


def shadowed(table: tuple[tuple[type[BaseException], Any], ...] = OUTCOMES) -> list[str]:
    """Entries that can never be chosen because an earlier entry catches every one of their exceptions."""
    return [f"{kind.__name__} (after {earlier.__name__})"
            for i, (kind, _) in enumerate(table) for earlier, _h in table[:i] if issubclass(kind, earlier)]


def apply(item: pytest.Item, report: pytest.TestReport, error: BaseException | None) -> None:
    """Shape ``report`` by the first entry of the table that matches ``error``; any other failure is redacted."""
    if error is not None:
        for kind, handler in OUTCOMES:
            if isinstance(error, kind):
                handler(item, report, error)
                return
    if report.failed and report.longrepr is not None:
        report.longrepr = REDACTOR(str(report.longrepr))
