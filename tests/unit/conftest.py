"""Unit tests: a TargetError that escapes a test fails it.

TargetError is an Inconclusive (a SkipTest), so that a contract run reports a broken target as an
inconclusive check; in a unit test the same exception is a failure, never a silent skip.
"""

from __future__ import annotations

import pytest

from recon_contracts.traffic.client import TargetError


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    raised = call.excinfo.value if call.excinfo is not None else None  # before pytest turns a SkipTest into a skip
    outcome = yield
    if isinstance(raised, TargetError):
        report = outcome.get_result()
        report.outcome = "failed"
        report.longrepr = f"unexpected TargetError (a skip in a contract run, a failure here): {raised}"
