"""Target set-up: the ``target`` of the run (given base URLs, or the embedded mock), the API clients with their tokens,
and the one preflight request that ends a run against an unreachable or alien target before any test.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from ..options import Settings
from ..redact import REDACTOR
from ..traffic.auth import GRAPH_SCOPE, PARTNER_CENTER_SCOPE, AuthError, ClientCredentialsToken, StaticToken, TokenProvider
from ..traffic.client import ApiClient, BudgetExhausted, RetryPolicy, TargetError
from .state import run_state

MOCK_TOKEN = "recon-contracts-mock-token"


@dataclass
class Target:
    """Where the suite points, and what it asks for."""

    settings: Settings
    pc_base_url: str | None
    graph_base_url: str | None
    mock: Any = None  # the embedded mock server, when one was started

    @property
    def invoice_id(self) -> str:
        return self.settings.invoice_id

    @property
    def currency(self) -> str:
        return self.settings.currency

    @property
    def period(self) -> str:
        return self.settings.period

    @property
    def poll_timeout(self) -> float:
        return self.settings.poll_timeout

    @property
    def page_budget(self) -> int | None:
        return self.settings.page_budget


def _token(explicit: str | None, scope: str, api: str, base_url: str) -> TokenProvider:
    if explicit:
        return StaticToken(explicit)
    if ClientCredentialsToken.configured():
        return ClientCredentialsToken(scope)
    flag = "--pc-token" if api == "partner-center" else "--graph-token"
    raise AuthError(f"no {api} token for {base_url}: pass {flag} or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET")


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    """The target of the run: the given base URLs, or the embedded mock started for the session."""
    state = run_state(request.config)
    s, recorder = state.settings, state.recorder
    if s.embedded:
        from ..mock import PROFILES, MockConfig, serve

        if s.mock_profile not in PROFILES:
            pytest.exit(f"--mock-profile: unknown profile {s.mock_profile!r}; see recon-contracts mock --list-profiles", returncode=4)
        mock = serve(MockConfig(profile=s.mock_profile, items=s.mock_items, retry_after=s.mock_retry_after, poll_count=2))
        try:
            server = mock.__enter__()
        except (OSError, RuntimeError, TimeoutError) as exc:
            pytest.exit(f"recon-contracts: the embedded mock did not start: {exc}", returncode=2)
        try:
            recorder.targets.update({"partner-center": server.pc_base_url, "graph": server.graph_base_url, "mock_profile": s.mock_profile})
            yield Target(s, server.pc_base_url, server.graph_base_url, mock=server)
        finally:
            mock.__exit__(None, None, None)
        return
    recorder.targets.update({"partner-center": s.pc_base_url, "graph": s.graph_base_url})
    yield Target(s, s.pc_base_url, s.graph_base_url)


def _client(request: pytest.FixtureRequest, target: Target, api: str) -> Iterator[ApiClient]:
    s = target.settings
    state = run_state(request.config)
    base = target.pc_base_url if api == "partner-center" else target.graph_base_url
    if not base:
        given = "--graph-base-url" if api == "partner-center" else "--pc-base-url"
        missing = "--pc-base-url" if api == "partner-center" else "--graph-base-url"
        pytest.skip(f"{api} tests skipped: only {given} was given (pass {missing} to test {api} too)")
    try:
        if target.mock is not None:
            token: TokenProvider = StaticToken(MOCK_TOKEN)
        elif api == "partner-center":
            token = _token(s.pc_token, PARTNER_CENTER_SCOPE, api, base)
        else:
            token = _token(s.graph_token, GRAPH_SCOPE, api, base)
    except AuthError as exc:
        pytest.exit(f"recon-contracts: {exc}", returncode=4)
    client = ApiClient(api=api, base_url=base, token=token, budget=state.recorder.budget, retry=RetryPolicy(),
                       timeout=s.request_timeout, max_response_bytes=s.max_response_bytes)
    client.observers.append(state.traffic().record)
    client.observers.append(state.cost.observe)
    try:
        preflight(client, target)
        yield client
    finally:
        client.close()


def preflight(client: ApiClient, target: Target) -> None:
    """One request before any test: an unreachable target or one that answers garbage ends the run."""
    if client.api == "partner-center":
        path = "/v1/invoices/unbilled/lineitems"
        params: dict[str, Any] | None = {"provider": "onetime", "invoicelineitemtype": "billinglineitems",
                                         "currencycode": target.currency, "period": target.period, "size": 1}
    else:
        path, params = "/reports/partners/billing/operations/recon-contracts-preflight", None
    try:
        exchange = client.request("GET", path, operation=f"preflight {client.api}", params=params)
    except TargetError as exc:
        pytest.exit(f"recon-contracts: {exc}", returncode=2)
    except AuthError as exc:  # the identity platform refused the client credentials
        pytest.exit(f"recon-contracts: {exc}", returncode=2)
    except BudgetExhausted as exc:  # --max-requests spent before the first test: nothing can be checked
        pytest.exit(f"recon-contracts: {exc}", returncode=2)
    # Unproven (throttled or unavailable past the retry policy) propagates: every test of this API is
    # skipped as unproven, the other API's tests still run, and the run ends inconclusive.
    if 300 <= exchange.status < 400:
        where = exchange.header("location")
        to = f" to {REDACTOR(where.split('?', 1)[0])[:200]}" if where else ""
        pytest.exit(
            f"recon-contracts: {client.api} target {client.base_url} answered GET {path} with a redirect "
            f"({exchange.status}{to}); redirects are never followed (credentials stay on the origin the run was "
            "pointed at): point the base URL at the API itself", returncode=2)
    if exchange.status in (401, 403) and target.mock is None:
        pytest.exit(
            f"recon-contracts: {client.api} target {client.base_url} refused our credentials "
            f"({exchange.status}); check the token or the app's permissions", returncode=2)
    try:
        exchange.json()
    except ValueError as exc:  # not JSON, not UTF-8, or nested too deep to read
        ctype = exchange.header("content-type") or "no Content-Type"
        pytest.exit(
            f"recon-contracts: {client.api} target {client.base_url} does not answer like the {client.api} API: "
            f"GET {path} gave {exchange.status} with {ctype}, not JSON ({REDACTOR(str(exc))[:160]}): "
            f"{REDACTOR(exchange.summary(160))!r}",
            returncode=2,
        )


@pytest.fixture(scope="session")
def pc(request: pytest.FixtureRequest, target: Target) -> Iterator[ApiClient]:
    """Client of the Partner Center target (skips when none is configured)."""
    yield from _client(request, target, "partner-center")


@pytest.fixture(scope="session")
def graph(request: pytest.FixtureRequest, target: Target) -> Iterator[ApiClient]:
    """Client of the Graph target (skips when none is configured)."""
    yield from _client(request, target, "graph")
