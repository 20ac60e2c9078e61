"""Partner Center fixtures for tests/contract/test_pc_*.py: the live walk (``drivers/partner_center.py``) per session.

Only Partner Center fixtures live here (``lineitems``); the Graph tests do not use them.
"""

from __future__ import annotations

from typing import Any

import pytest

from recon_contracts.checks.registry import LINK_OFF_ORIGIN, run
from recon_contracts.drivers import partner_center as driver
from recon_contracts.protocol.partner_center import LINEITEMS_OPERATION, LINEITEMS_PATH, Query, base_query, body_of
from recon_contracts.redact import REDACTOR
from recon_contracts.traffic.client import ApiClient, show_origin
from recon_contracts.traffic.pages import PageStore

PC_LINEITEMS = LINEITEMS_PATH
PC_OPERATION = LINEITEMS_OPERATION
__all__ = ["PC_LINEITEMS", "PC_OPERATION", "Query", "base_query", "LineItems", "lineitems"]


class LineItems(driver.LineItems):
    """The driver, plus what a test needs when the walk did not get far enough to prove anything."""

    def first_page_ok(self, pages: PageStore, contract: Any = None) -> PageStore:
        """``pages``, after failing the test plainly when the documented query itself was not served.

        With ``contract``: a walk cut short by a refused link marks the test's rules unproven (not silent).
        """
        refused = self.refused(pages)
        if refused and contract is not None:
            reason, url = refused
            if url is not None:
                contract.check(run(LINK_OFF_ORIGIN, REDACTOR(url), api="partner-center", operation=PC_OPERATION,
                                                 origin=show_origin(self.client.origin)))  # advisory: reported, never failing
            contract.unproven(reason)
        first = pages[0]
        if first.status != 200 or not isinstance(body_of(first), dict):
            pytest.fail(f"the documented query was not served, so nothing could be checked: {first.method} {first.url} "
                        f"answered {first.summary(300)}", pytrace=False)
        return pages


@pytest.fixture(scope="session")
def lineitems(pc: ApiClient, target: Any) -> LineItems:
    """The Partner Center line-items endpoint of the target, with a per-session cache of walks."""
    return LineItems(pc, target)
