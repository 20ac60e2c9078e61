"""The client: Retry-After parsing, the request budget, and clean errors for unreachable targets."""

from __future__ import annotations

import email.utils
import socket

import pytest

from recon_contracts.auth import StaticToken
from recon_contracts.client import ApiClient, BudgetExhausted, RequestBudget, RetryPolicy, TargetError, retry_after_seconds


@pytest.mark.parametrize(
    "value, expected",
    [("57", 57.0), (" 3 ", 3.0), ("0", 0.0), ("1.5", 1.5), (None, None), ("soon", None), ("", None)],
)
def test_retry_after_delta_seconds(value, expected):
    assert retry_after_seconds(value) == expected


def test_retry_after_http_date():
    now = 1_700_000_000.0
    value = email.utils.formatdate(now + 30, usegmt=True)
    assert retry_after_seconds(value, now=now) == pytest.approx(30, abs=1)
    assert retry_after_seconds(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0.0


def test_budget_caps_requests():
    budget = RequestBudget(limit=2)
    budget.take()
    budget.take()
    with pytest.raises(BudgetExhausted, match="--max-requests 2"):
        budget.take()
    assert budget.sent == 2


def test_unbounded_budget_counts():
    budget = RequestBudget()
    for _ in range(5):
        budget.take()
    assert budget.sent == 5


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_target_is_one_clear_error_without_the_token():
    secret = "very-secret-token-value-0123456789"
    client = ApiClient(
        api="partner-center",
        base_url=f"http://127.0.0.1:{_closed_port()}",
        token=StaticToken(secret),
        budget=RequestBudget(),
        retry=RetryPolicy(max_retries=0),
        timeout=2.0,
    )
    with pytest.raises(TargetError) as info:
        client.request("GET", "/v1/invoices/unbilled/lineitems?sig=abcdef123456", operation="GET lineitems")
    message = str(info.value)
    assert "unreachable" in message and "127.0.0.1" in message
    assert secret not in message and "abcdef123456" not in message
    client.close()


def test_url_joins_paths_and_keeps_absolute_urls():
    client = ApiClient(api="graph", base_url="http://127.0.0.1:1/v1.0/", token=None, budget=RequestBudget())
    assert client.url("/reports/x") == "http://127.0.0.1:1/v1.0/reports/x"
    assert client.url("reports/x") == "http://127.0.0.1:1/v1.0/reports/x"
    assert client.url("https://example.invalid/a?b=1") == "https://example.invalid/a?b=1"
    client.close()
