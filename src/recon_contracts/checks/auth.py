"""Checks of rules PC-AUTH-401 and GR-AUTH-401."""

from __future__ import annotations

from ..findings import Exchange, Finding
from .common import expect_status
from .registry import GR_WITHOUT_TOKEN, PC_WITHOUT_TOKEN, check


@check(PC_WITHOUT_TOKEN, GR_WITHOUT_TOKEN, rules=("PC-AUTH-401", "GR-AUTH-401"))
def check_requires_token(exchange: Exchange, rule_id: str) -> list[Finding]:
    """A request sent without Authorization must be answered 401."""
    return expect_status(
        exchange, rule_id, lambda status: status == 401,
        message="a request without a bearer token", expected="401 Unauthorized",
    )
