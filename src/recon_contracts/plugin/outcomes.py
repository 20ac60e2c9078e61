"""How an exception that ended a contract test becomes its report: one table, first match wins.

Every entry is reachable: no entry sits below a broader one (``shadowed()`` says which would be, and a unit
test keeps it empty). ``TargetError`` is an ``Unproven`` (see ``errors.py``), so it is handled as one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ..errors import AuthError, ContractViolation, Inconclusive, Unproven
from ..redact import REDACTOR


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
