"""Unit tests: an Inconclusive that escapes a test fails it.

Inconclusive (TargetError, OffOriginLink, StillThrottled, ...) is a SkipTest, so that a contract run
reports a check the target kept from running as inconclusive; in a unit test the same exception is a
failure, never a silent skip (tests expecting one use pytest.raises).
"""

from __future__ import annotations

import pytest

from recon_contracts.traffic.client import Inconclusive


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    raised = call.excinfo.value if call.excinfo is not None else None  # before pytest turns a SkipTest into a skip
    outcome = yield
    if isinstance(raised, Inconclusive):
        report = outcome.get_result()
        report.outcome = "failed"
        report.longrepr = f"unexpected {type(raised).__name__} (a skip in a contract run, a failure here): {raised}"
