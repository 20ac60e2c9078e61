"""Bearer tokens: a static token, or client credentials through azure-identity (cached, refreshed)."""

from __future__ import annotations

import os
import threading
import time
from typing import Protocol

from ..errors import AuthError  # noqa: F401 - importable from here as before
from ..redact import REDACTOR

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
PARTNER_CENTER_SCOPE = "https://api.partnercenter.microsoft.com/.default"
_AZURE_VARS = ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET")
_REFRESH_MARGIN_S = 300


class TokenProvider(Protocol):
    def token(self) -> str: ...


class StaticToken:
    def __init__(self, value: str) -> None:
        REDACTOR.add(value)
        self._value = value

    def token(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "StaticToken(***)"


class ClientCredentialsToken:
    """App-only token for one scope from AZURE_TENANT_ID / AZURE_CLIENT_ID / AZURE_CLIENT_SECRET.

    The token is cached and fetched again five minutes before it expires.
    """

    def __init__(self, scope: str, *, credential: object | None = None) -> None:
        self.scope = scope
        self._credential = credential
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_on = 0.0

    @staticmethod
    def configured() -> bool:
        return all(os.environ.get(v) for v in _AZURE_VARS)

    def _get_credential(self) -> object:
        if self._credential is None:
            missing = [v for v in _AZURE_VARS if not os.environ.get(v)]
            if missing:
                raise AuthError(f"no token given and client credentials incomplete: set {', '.join(missing)}")
            from azure.identity import ClientSecretCredential

            REDACTOR.add(os.environ["AZURE_CLIENT_SECRET"])
            self._credential = ClientSecretCredential(
                os.environ["AZURE_TENANT_ID"], os.environ["AZURE_CLIENT_ID"], os.environ["AZURE_CLIENT_SECRET"]
            )
        return self._credential

    def token(self) -> str:
        with self._lock:
            if self._token is None or time.time() > self._expires_on - _REFRESH_MARGIN_S:
                try:
                    access = self._get_credential().get_token(self.scope)  # type: ignore[attr-defined]
                except AuthError:
                    raise
                except Exception as exc:  # azure-identity raises several types; the message is what matters
                    raise AuthError(f"could not get a token for {self.scope}: {REDACTOR((str(exc).strip().splitlines() or [type(exc).__name__])[0])}") from None
                REDACTOR.add(access.token)
                self._token, self._expires_on = access.token, float(access.expires_on)
            return self._token

    def __repr__(self) -> str:
        return f"ClientCredentialsToken({self.scope!r})"
