"""The client: Retry-After parsing, the request budget, and clean errors for unreachable targets."""

from __future__ import annotations

import email.utils
import socket
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from recon_contracts.traffic.auth import StaticToken
from recon_contracts.traffic.client import (
    ApiClient,
    BudgetExhausted,
    Inconclusive,
    RequestBudget,
    RetryPolicy,
    StillThrottled,
    TargetError,
    retry_after_seconds,
)


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


class _AlwaysBusy(BaseHTTPRequestHandler):
    """A real loopback server that answers every request 429 with Retry-After: 0."""

    def do_GET(self):  # noqa: N802 - the stdlib's name
        body = b'{"statusCode": 429, "message": "Rate limit is exceeded. Try again in 0 seconds."}'
        self.send_response(429)
        self.send_header("Retry-After", "0")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def busy_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _AlwaysBusy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_throttling_beyond_the_policy_is_inconclusive_not_drift(busy_server):
    budget = RequestBudget()
    client = ApiClient(api="partner-center", base_url=busy_server, token=None, budget=budget,
                       retry=RetryPolicy(max_retries=3), timeout=5.0)
    with pytest.raises(StillThrottled, match="answered 429 .* after 3 retries") as info:
        client.request("GET", "/v1/invoices/unbilled/lineitems", operation="GET lineitems")
    assert isinstance(info.value, Inconclusive) and isinstance(info.value, unittest.SkipTest)
    assert budget.sent == 4 and len(client.retried) == 3
    client.close()


def test_without_retry_the_429_itself_comes_back(busy_server):
    client = ApiClient(api="graph", base_url=busy_server, token=None, budget=RequestBudget(), timeout=5.0)
    exchange = client.request("GET", "/x", operation="GET x", retry=False)
    assert exchange.status == 429 and client.retried == []
    client.close()
