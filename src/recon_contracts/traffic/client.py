"""The one way the suite talks to a target: bounded, budgeted, retrying 429/503, recording exchanges."""

from __future__ import annotations

import email.utils
import threading
import time
import unittest
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import httpx

from .auth import TokenProvider
from ..findings import Exchange
from ..redact import REDACTOR

RETRY_STATUSES = frozenset({429, 503})
Params = Mapping[str, Any] | Sequence[tuple[str, Any]] | None


class TargetError(RuntimeError):
    """The target could not be reached or timed out; the message says which and where."""


class Inconclusive(unittest.SkipTest):
    """A check could not be carried out for a reason that is not drift; the test is skipped.

    A SkipTest, so that Hypothesis re-raises it at once instead of shrinking a "failure" that is
    only a spent budget or a busy target, and any test runner reports a skip.
    """


class BudgetExhausted(Inconclusive):
    """--max-requests was reached; the remaining checks are skipped (the user asked for it: a pass stays a pass)."""


class Unproven(Inconclusive):
    """The target's behaviour kept a check from being made (throttled or unavailable past the retry policy,
    a refused link, an unreadable page): the rules of the check stay unproven and the run is inconclusive
    (exit 2), never a silent pass."""


class StillThrottled(Unproven):
    """The target kept answering 429/503 beyond the retry policy; throttling is not drift, but nothing was proven."""


@dataclass
class RequestBudget:
    """A cap on requests sent to a target (shared by every client of a run)."""

    limit: int | None = None
    sent: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def take(self) -> None:
        with self._lock:
            if self.limit is not None and self.sent >= self.limit:
                raise BudgetExhausted(f"request budget exhausted: --max-requests {self.limit} reached")
            self.sent += 1


@dataclass(frozen=True)
class RetryPolicy:
    """How 429 and 503 are waited out: Retry-After honoured, each wait and the total bounded."""

    max_retries: int = 5
    max_wait_s: float = 90.0  # Partner Center's own throttling example says Retry-After: 57
    total_wait_s: float = 300.0
    default_wait_s: float = 1.0


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """Parse Retry-After: delta-seconds or an HTTP-date. None when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class ApiClient:
    """Sends requests to one API of one target and returns :class:`Exchange` records."""

    def __init__(
        self,
        *,
        api: str,
        base_url: str,
        token: TokenProvider | None,
        budget: RequestBudget,
        retry: RetryPolicy = RetryPolicy(),
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        extra_headers: Mapping[str, str] | None = None,
    ) -> None:
        self.api = api
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.budget = budget
        self.retry = retry
        self._sleep = sleep
        self._extra = dict(extra_headers or {})
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            follow_redirects=False,
            headers={"User-Agent": "recon-contracts"},
        )
        self.retried: list[Exchange] = []  # 429/503 answers that were waited out (not drift)

    def close(self) -> None:
        self._http.close()

    def url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return urljoin(self.base_url + "/", path_or_url.lstrip("/"))

    def token(self) -> str | None:
        return self._token.token() if self._token else None

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        operation: str,
        params: Params = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | str | None = None,
        json: Any = None,
        auth: bool = True,
        retry: bool = True,
    ) -> Exchange:
        """Send one request (retrying 429/503 within the policy) and return the final exchange."""
        url = self.url(path_or_url)
        waited = 0.0
        for attempt in range(self.retry.max_retries + 1):
            response = self._send(method, url, params=params, headers=headers, content=content, json=json, auth=auth)
            exchange = Exchange.from_response(response, api=self.api, operation=operation)
            if not retry or response.status_code not in RETRY_STATUSES:
                return exchange
            wait = retry_after_seconds(response.headers.get("retry-after"))
            wait = self.retry.default_wait_s if wait is None else wait
            if attempt == self.retry.max_retries or wait > self.retry.max_wait_s or waited + wait > self.retry.total_wait_s:
                raise StillThrottled(
                    f"{self.api} target still answered {response.status_code} to {operation} after {attempt} "
                    f"retries and {waited:.0f} s of Retry-After waits (next wait asked: {wait:.0f} s); "
                    "throttling is not drift, but this check could not be made (unproven)"
                )
            self.retried.append(exchange)
            self._sleep(wait)
            waited += wait
        raise AssertionError("unreachable")  # pragma: no cover - the loop always returns or raises

    def _send(self, method: str, url: str, *, params: Params, headers, content, json, auth: bool) -> httpx.Response:
        self.budget.take()
        request_headers = {"Accept": "application/json", **self._extra, **(headers or {})}
        if auth and self._token is not None and not any(k.lower() == "authorization" for k in request_headers):
            request_headers["Authorization"] = f"Bearer {self._token.token()}"
        try:
            return self._http.request(method, url, params=params, headers=request_headers, content=content, json=json)
        except httpx.LocalProtocolError:
            raise  # a request we built wrongly: a bug of ours, not the target's
        except (httpx.InvalidURL, UnicodeError) as exc:  # e.g. a bad port, or a host name IDNA cannot encode
            raise TargetError(
                f"{self.api} target URL is not usable: {method} {REDACTOR(_strip_query(url))}: {REDACTOR(str(exc)) or type(exc).__name__}"
            ) from None
        except httpx.TimeoutException as exc:
            raise TargetError(f"{self.api} target timed out: {method} {REDACTOR(_strip_query(url))} ({type(exc).__name__})") from None
        except httpx.HTTPError as exc:
            raise TargetError(
                f"{self.api} target unreachable: {method} {REDACTOR(_strip_query(url))}: {REDACTOR(str(exc)) or type(exc).__name__}"
            ) from None


def _strip_query(url: str) -> str:
    return url.split("?", 1)[0]


def new_request_ids() -> dict[str, str]:
    """Fresh MS-RequestId / MS-CorrelationId, as Partner Center's headers doc asks for every call."""
    return {"MS-RequestId": str(uuid.uuid4()), "MS-CorrelationId": str(uuid.uuid4())}
