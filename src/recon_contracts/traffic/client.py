"""The one way the suite talks to a target: bounded, budgeted, retrying 429/503, recording exchanges.

Every request passes :meth:`ApiClient.request`, and so every request is bounded here:

- credentials (the bearer token, extra headers) go only to the origin the client was pointed at
  (scheme, host and port of its base URL); a request for another origin that would carry them is
  not sent: :class:`OffOriginLink`, an :class:`Inconclusive`. Requests without credentials (blob
  downloads carrying a SAS) may go elsewhere, but only where :mod:`addresses` allows (http(s) only,
  https when the base is https, no internal address unless the base is one, checked on the address
  actually connected to): else :class:`RefusedBlobUrl`. Redirects are never followed;
- one total deadline per request covers connect, headers and the whole body (see ``deadline.py``);
- a response body is read streamed and never held beyond a cap (``max_response_bytes``; blob
  downloads ``max_blob_bytes``);
- 429 and 503 are waited out within :class:`RetryPolicy`; a Retry-After that cannot be honoured
  ends the waiting with a reason, never a hang.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import email.utils
import math
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import httpx

from . import addresses, deadline
from .auth import TokenProvider
from ..errors import (  # noqa: F401 - importable from here as before
    BudgetExhausted,
    Inconclusive,
    OffOriginLink,
    RefusedBlobUrl,
    ResponseTooLarge,
    StillThrottled,
    TargetError,
    Unproven,
)
from ..findings import Exchange
from ..redact import REDACTOR

RETRY_STATUSES = frozenset({429, 503})
DEFAULT_REQUEST_TIMEOUT_S = 60.0
DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024
DEFAULT_MAX_BLOB_BYTES = 512 * 1024 * 1024  # a blob body read whole (recorded traffic); the live path streams
CREDENTIAL_HEADERS = frozenset({"authorization", "ocp-apim-subscription-key", "cookie"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
Params = Mapping[str, Any] | Sequence[tuple[str, Any]] | None
Origin = tuple[str, str, int]







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
    default_wait_s: float = 1.0  # when Retry-After is absent or cannot be read


@dataclass(frozen=True)
class RetryAfter:
    """A parsed Retry-After: seconds to wait (None when absent or unusable) and why it is unusable."""

    seconds: float | None
    problem: str | None = None


def parse_retry_after(value: str | None, *, now: float | None = None) -> RetryAfter:
    """Retry-After as delta-seconds or an HTTP-date (a date in the past means 0).

    Garbage, a negative or non-finite number and a date that cannot be read give ``seconds=None`` with
    the reason; a huge value is returned as it is, for the policy to refuse.
    """
    if value is None:
        return RetryAfter(None)
    text = value.strip()
    if not text:
        return RetryAfter(None, "it is empty")
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is not None:
        if not math.isfinite(number):
            return RetryAfter(None, "it is not a finite number")
        if number < 0:
            return RetryAfter(None, "it is negative")
        return RetryAfter(number)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return RetryAfter(None, "it is neither delta-seconds nor an HTTP-date")
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.timezone.utc)  # HTTP-dates are GMT
    return RetryAfter(max(0.0, when.timestamp() - (time.time() if now is None else now)))


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds a Retry-After asks to wait; None when absent or unusable (see :func:`parse_retry_after`)."""
    return parse_retry_after(value, now=now).seconds


def origin_of(url: str | httpx.URL) -> Origin:
    """(scheme, host, port) of a URL, the port filled in from the scheme."""
    parsed = httpx.URL(url)
    return parsed.scheme.lower(), parsed.host.lower(), parsed.port or _DEFAULT_PORTS.get(parsed.scheme.lower(), 0)


def show_origin(origin: Origin) -> str:
    scheme, host, port = origin
    return f"{scheme}://{host}" + ("" if _DEFAULT_PORTS.get(scheme) == port else f":{port}")


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
        timeout: float = DEFAULT_REQUEST_TIMEOUT_S,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        max_blob_bytes: int = DEFAULT_MAX_BLOB_BYTES,
        sleep: Callable[[float], None] = time.sleep,
        extra_headers: Mapping[str, str] | None = None,
    ) -> None:
        self.api = api
        self.base_url = base_url.rstrip("/")
        self.origin = origin_of(self.base_url)
        self._token = token
        self.budget = budget
        self.retry = retry
        self.timeout = timeout  # the total deadline of one request, in seconds
        self.max_response_bytes = max_response_bytes
        self.max_blob_bytes = max_blob_bytes
        self._sleep = sleep
        self._extra = dict(extra_headers or {})
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            follow_redirects=False,  # a redirect comes back as the exchange: never followed, with or without credentials
            headers={"User-Agent": "recon-contracts"},
        )
        self.address_guard = addresses.install(self._http, base_url=self.base_url)
        deadline.install(self._http)
        self.retried: list[Exchange] = []  # 429/503 answers that were waited out (not drift)
        # called with every exchange made (retried ones included), e.g. to record traffic.har and observed.json
        self.observers: list[Callable[[Exchange], None]] = []

    @property
    def sleep(self) -> Callable[[float], None]:
        """How this client waits (a retry's Retry-After); blob reads wait the same way."""
        return self._sleep

    def record(self, exchange: Exchange) -> None:
        """Hand an exchange to every observer (requests do it themselves; streams once their body is read)."""
        for observe in self.observers:
            observe(exchange)

    def close(self) -> None:
        self._http.close()

    def url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return urljoin(self.base_url + "/", path_or_url.lstrip("/"))

    def token(self) -> str | None:
        return self._token.token() if self._token else None

    def same_origin(self, url: str | httpx.URL) -> bool:
        """Whether ``url`` is on the origin this client was pointed at (where its credentials may go)."""
        try:
            return origin_of(url) == self.origin
        except (httpx.InvalidURL, ValueError, UnicodeError):
            return False

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
        blob: bool = False,
    ) -> Exchange:
        """Send one request (retrying 429/503 within the policy) and return the final exchange.

        ``auth=False`` sends no credentials (a blob download carries its SAS in the URL); ``blob=True``
        reads the body up to ``max_blob_bytes`` instead of ``max_response_bytes``.
        """
        url = self.url(path_or_url)
        waited = 0.0
        for attempt in range(self.retry.max_retries + 1):
            exchange = self._send(method, url, operation=operation, params=params, headers=headers,
                                  content=content, json=json, auth=auth, blob=blob)
            self.record(exchange)
            if not retry or exchange.status not in RETRY_STATUSES:
                return exchange
            wait, why = self._wait_for(exchange, attempt=attempt, waited=waited, operation=operation)
            if why:
                raise StillThrottled(why)
            self.retried.append(exchange)
            self._sleep(wait)
            waited += wait
        raise AssertionError("unreachable")  # pragma: no cover - the loop always returns or raises

    @contextlib.contextmanager
    def stream(self, method: str, path_or_url: str, *, operation: str, headers: Mapping[str, str] | None = None,
               auth: bool = True) -> Iterator[tuple[Exchange, httpx.Response]]:
        """Send one request and yield its response unread (for bodies too big to hold), with an Exchange of the head.

        The origin guard and the total deadline cover the request up to its headers; the body is the caller's to
        read (and to bound: the blob reader has its own caps and deadline). No retry: the caller decides what a
        429/503 means, and hands the exchange to :meth:`record` once it knows what to keep of the body.
        """
        url = self.url(path_or_url)
        where = f"{method} {REDACTOR(_strip_query(url))}"
        self._check_scheme(url, where)
        try:
            request = self._http.build_request(method, url, headers=self._headers(
                url, operation=operation, method=method, headers=headers, auth=auth))
        except (httpx.InvalidURL, UnicodeError, ValueError) as exc:
            raise TargetError(f"{self.api} target URL is not usable: {where}: {REDACTOR(str(exc)) or type(exc).__name__}") from None
        self.budget.take()
        try:
            with deadline.deadline(self.timeout):
                response = self._http.send(request, stream=True)
        except httpx.LocalProtocolError:
            raise
        except httpx.HTTPError as exc:
            raise self._target_error(exc, where, url) from None
        try:
            yield Exchange.from_head(response, api=self.api, operation=operation), response
        finally:
            response.close()

    def _wait_for(self, exchange: Exchange, *, attempt: int, waited: float, operation: str) -> tuple[float, str]:
        """How long to wait before retrying a 429/503, or why not to retry at all."""
        raw = exchange.header("retry-after")
        asked = parse_retry_after(raw)
        wait = self.retry.default_wait_s if asked.seconds is None else asked.seconds
        said = "" if raw is None else f"Retry-After: {raw.strip()[:60]!r}"
        if asked.problem:
            said += f" cannot be honoured ({asked.problem}), so {wait:g} s was assumed"
        head = f"{self.api} target answered {exchange.status} to {operation}" + (f" ({said})" if said else "")
        tail = "; throttling is not drift, but this check could not be made (unproven)"
        if attempt == self.retry.max_retries:
            return wait, f"{head} after {attempt} retries and {waited:.0f} s of waits{tail}"
        if wait > self.retry.max_wait_s:
            return wait, f"{head}: a wait of {wait:.0f} s is longer than the longest wait honoured ({self.retry.max_wait_s:g} s){tail}"
        if waited + wait > self.retry.total_wait_s:
            return wait, (f"{head}: {waited:.0f} s waited already, and {wait:.0f} s more would pass the total of "
                          f"{self.retry.total_wait_s:g} s honoured per request{tail}")
        return wait, ""

    def _send(self, method: str, url: str, *, operation: str, params: Params, headers: Mapping[str, str] | None,
              content: bytes | str | None, json: Any, auth: bool, blob: bool) -> Exchange:
        """One request on the wire, bounded in time and size; the one place an :class:`Exchange` is made."""
        where = f"{method} {REDACTOR(_strip_query(url))}"
        self._check_scheme(url, where)
        try:
            request = self._http.build_request(method, url, params=params, content=content, json=json,
                                               headers=self._headers(url, operation=operation, method=method,
                                                                     headers=headers, auth=auth))
        except (httpx.InvalidURL, UnicodeError, ValueError) as exc:  # e.g. a bad port, or a host IDNA cannot encode
            raise TargetError(f"{self.api} target URL is not usable: {where}: {REDACTOR(str(exc)) or type(exc).__name__}") from None
        self.budget.take()
        try:
            with deadline.deadline(self.timeout):
                response = self._http.send(request, stream=True)
                try:
                    body = self._read(response, where=where, blob=blob)
                finally:
                    response.close()
        except httpx.LocalProtocolError:
            raise  # a request we built wrongly: a bug of ours, not the target's
        except httpx.HTTPError as exc:
            raise self._target_error(exc, where, url) from None
        return Exchange.from_response(response, api=self.api, operation=operation, body=body)

    def _check_scheme(self, url: str, where: str) -> None:
        """A URL on another origin is fetched only over http(s), and only over https when the base is https."""
        if self.same_origin(url):
            return
        problem = addresses.scheme_problem(url, base_scheme=self.origin[0])
        if problem:
            raise RefusedBlobUrl(f"{self.api} target handed out {where}, which the runner does not fetch: {problem}; "
                                 "nothing was sent, and what it leads to is unproven", url=url)

    def _target_error(self, exc: httpx.HTTPError, where: str, url: str = "") -> TargetError:
        """What went wrong on the wire, in one clear sentence naming the request (secrets redacted)."""
        refused = exc.__cause__ if isinstance(exc.__cause__, addresses.RefusedAddress) else None
        if refused is not None:
            return RefusedBlobUrl(f"{self.api} target handed out {where}, which the runner does not fetch: {refused}; "
                                  "no connection was made, and what it leads to is unproven", url=url)
        said = REDACTOR(str(exc)) or type(exc).__name__
        if isinstance(exc, httpx.TimeoutException):
            phase = {"ConnectTimeout": "connecting", "WriteTimeout": "sending the request",
                     "PoolTimeout": "waiting for a connection"}.get(type(exc).__name__, "waiting for the answer")
            return TargetError(f"{self.api} target did not answer {where} completely within --request-timeout "
                               f"{self.timeout:g} s (still {phase})")
        if isinstance(exc, httpx.ConnectError):
            return TargetError(f"{self.api} target unreachable: {where}: {said}")
        if isinstance(exc, httpx.RemoteProtocolError):
            return TargetError(f"{self.api} target broke off or garbled its answer to {where}: {said}")
        if isinstance(exc, (httpx.ReadError, httpx.WriteError)):  # e.g. a reset connection
            return TargetError(f"{self.api} target broke the connection during {where}: {said}")
        if isinstance(exc, httpx.DecodingError):
            return TargetError(f"{self.api} target sent a body that cannot be decoded for {where}: {said[:200]}")
        return TargetError(f"{self.api} target connection failed: {where}: {said}")

    def _headers(self, url: str, *, operation: str, method: str, headers: Mapping[str, str] | None,
                 auth: bool) -> dict[str, str]:
        """The request's headers: credentials only for this client's origin (else :class:`OffOriginLink`)."""
        request_headers = {"Accept": "application/json", **(headers or {})}
        given = {k.lower() for k in request_headers}
        wants_token = auth and self._token is not None and "authorization" not in given
        if not self.same_origin(url):
            if wants_token or self._extra or given & CREDENTIAL_HEADERS:
                raise OffOriginLink(api=self.api, operation=operation, method=method, url=url,
                                    origin=show_origin(self.origin))
            return request_headers
        request_headers = {**self._extra, **request_headers}
        if wants_token:
            request_headers["Authorization"] = f"Bearer {self._token.token()}"
        return request_headers

    def _read(self, response: httpx.Response, *, where: str, blob: bool) -> bytes:
        """The whole (decoded) body, read streamed; past the cap reading stops with :class:`ResponseTooLarge`."""
        cap = self.max_blob_bytes if blob else self.max_response_bytes
        option = "the blob download cap" if blob else "--max-response-bytes"
        declared = response.headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > cap:
            raise ResponseTooLarge(f"{self.api} target's answer to {where} declares {int(declared)} bytes, more than "
                                   f"{option} {cap}; it was not read")
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > cap:
                raise ResponseTooLarge(f"{self.api} target's answer to {where} is larger than {option} {cap} bytes; "
                                       "it was not read further")
            chunks.append(chunk)
        return b"".join(chunks)


def _strip_query(url: str) -> str:
    return url.split("?", 1)[0]


def new_request_ids() -> dict[str, str]:
    """Fresh MS-RequestId / MS-CorrelationId, as Partner Center's headers doc asks for every call."""
    return {"MS-RequestId": str(uuid.uuid4()), "MS-CorrelationId": str(uuid.uuid4())}
