"""Token providers: static tokens and client credentials (cached, refreshed before expiry, redacted)."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from recon_contracts.traffic.auth import GRAPH_SCOPE, AuthError, ClientCredentialsToken, StaticToken
from recon_contracts.redact import REDACTOR


class FakeCredential:
    """Stands in for azure.identity.ClientSecretCredential: hands out numbered tokens."""

    def __init__(self, lifetime_s: float) -> None:
        self.lifetime_s = lifetime_s
        self.calls: list[str] = []

    def get_token(self, scope: str):
        self.calls.append(scope)
        return SimpleNamespace(token=f"issued-token-number-{len(self.calls)}", expires_on=time.time() + self.lifetime_s)


def test_client_credentials_token_is_cached_while_valid():
    credential = FakeCredential(lifetime_s=3600)
    provider = ClientCredentialsToken(GRAPH_SCOPE, credential=credential)
    assert provider.token() == provider.token() == "issued-token-number-1"
    assert credential.calls == [GRAPH_SCOPE]


def test_client_credentials_token_is_refreshed_near_expiry():
    credential = FakeCredential(lifetime_s=60)  # inside the five-minute refresh margin
    provider = ClientCredentialsToken(GRAPH_SCOPE, credential=credential)
    assert provider.token() == "issued-token-number-1"
    assert provider.token() == "issued-token-number-2"


def test_issued_tokens_are_registered_for_redaction():
    provider = ClientCredentialsToken(GRAPH_SCOPE, credential=FakeCredential(lifetime_s=3600))
    token = provider.token()
    assert token not in REDACTOR(f"Authorization: Bearer {token} and again {token}")


def test_credential_failure_is_one_clear_error_without_the_secret(monkeypatch):
    class Failing:
        def get_token(self, scope):
            raise RuntimeError("AADSTS7000215: Invalid client secret provided. secret=hunter2-very-secret\nmore lines")

    REDACTOR.add("hunter2-very-secret")
    with pytest.raises(AuthError) as info:
        ClientCredentialsToken(GRAPH_SCOPE, credential=Failing()).token()
    assert "AADSTS7000215" in str(info.value) and "hunter2-very-secret" not in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_client_credentials_name_the_variables(monkeypatch):
    for name in ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    assert not ClientCredentialsToken.configured()
    with pytest.raises(AuthError, match="AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET"):
        ClientCredentialsToken(GRAPH_SCOPE).token()


def test_static_token_never_shows_in_its_repr():
    token = StaticToken("static-token-value-abcdef")
    assert token.token() == "static-token-value-abcdef"
    assert "static-token-value" not in repr(token)
