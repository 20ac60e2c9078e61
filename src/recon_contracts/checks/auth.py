"""Checks of rules PC-AUTH-401 and GR-AUTH-401."""

from __future__ import annotations

from ..findings import Exchange, Finding, finding


def check_requires_token(exchange: Exchange, rule_id: str) -> list[Finding]:
    """A request sent without Authorization must be answered 401."""
    if exchange.status == 401:
        return []
    return [
        finding(
            rule_id,
            f"a request without a bearer token was answered {exchange.status}, not 401",
            exchange,
            expected="401 Unauthorized",
        )
    ]
