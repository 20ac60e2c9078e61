"""Exchanges (a request and its response) and findings (a rule an exchange broke).

Check functions are pure: they take exchanges and return findings. Everything else (sending
traffic, pytest, reports) sits around them.
"""

from __future__ import annotations

import shlex
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

from . import jsonpolicy
from .redact import REDACTOR
from .truth.rules import rule

# Request headers whose values never go into a reproduction command; the command names an
# environment variable instead, so a reader can paste it with their own token.
_SECRET_HEADERS = {"authorization": "Authorization: Bearer ${TOKEN}", "ocp-apim-subscription-key": None}


@dataclass(frozen=True)
class Exchange:
    """One HTTP request and the response it got, as plain data."""

    api: str  # "partner-center" | "graph" | "blob"
    operation: str  # e.g. "GET /v1/invoices/{invoice-id}/lineitems"
    method: str
    url: str
    request_headers: dict[str, str] = field(repr=False)  # may hold the bearer token: never in a repr
    request_body: bytes | None = field(repr=False)
    status: int
    response_headers: dict[str, str] = field(repr=False)  # keys lower-cased
    response_body: bytes = field(repr=False)
    elapsed_ms: float = field(default=0.0, repr=False, compare=False)  # request sent to response read (HAR timings)
    # the body's real size when ``response_body`` holds only its first bytes (a streamed blob recorded in part)
    response_size: int | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_response(cls, response: httpx.Response, *, api: str, operation: str, body: bytes | None = None) -> "Exchange":
        """The exchange of a response; ``body`` is the response body when it was read streamed."""
        request = response.request
        sent = request.content if request.content else None
        return cls(
            api=api,
            operation=operation,
            method=request.method,
            url=str(request.url),
            request_headers={k: v for k, v in request.headers.items()},
            request_body=sent,
            status=response.status_code,
            response_headers={k.lower(): v for k, v in response.headers.items()},
            response_body=response.content if body is None else body,
            elapsed_ms=_elapsed_ms(response),
        )

    @classmethod
    def from_head(cls, response: httpx.Response, *, api: str, operation: str) -> "Exchange":
        """The request and the response's status and headers, before (or without) its body."""
        request = response.request
        return cls(api=api, operation=operation, method=request.method, url=str(request.url),
                   request_headers={k: v for k, v in request.headers.items()}, request_body=None,
                   status=response.status_code, response_headers={k.lower(): v for k, v in response.headers.items()},
                   response_body=b"")

    def __repr__(self) -> str:
        # a blob URL carries the SAS signature: the repr shows it masked
        return (f"Exchange(api={self.api!r}, operation={self.operation!r}, method={self.method!r}, "
                f"url={REDACTOR(self.url)!r}, status={self.status!r})")

    def header(self, name: str) -> str | None:
        return self.response_headers.get(name.lower())

    def request_header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.request_headers.items() if k.lower() == name), None)

    def json(self) -> Any:
        """The response body as JSON (:mod:`jsonpolicy`: RFC 8259, no NaN/Infinity); raises ValueError when it is not JSON."""
        return jsonpolicy.loads(self.response_body)

    def curl(self) -> str:
        """A command that repeats the request. Tokens are replaced by ${TOKEN}."""
        parts = ["curl", "-sS", "-i", "-X", self.method]
        for key, value in self.request_headers.items():
            lower = key.lower()
            if lower in {"host", "content-length", "accept-encoding", "connection", "user-agent"}:
                continue
            if lower in _SECRET_HEADERS:
                placeholder = _SECRET_HEADERS[lower]
                if placeholder:
                    parts += ["-H", placeholder]
                continue
            parts += ["-H", f"{key}: {value}"]
        if self.request_body:
            parts += ["--data-binary", self.request_body.decode("utf-8", "replace")]
        parts.append(self.url)
        return " ".join(shlex.quote(p) if "${TOKEN}" not in p else f'"{p}"' for p in parts)

    def summary(self, limit: int = 600) -> str:
        """What came back, short enough for an assertion message."""
        text = self.response_body.decode("utf-8", "replace")
        if len(text) > limit:
            text = text[:limit] + f"... ({len(self.response_body)} bytes)"
        return f"{self.status} {text}".strip()


def _elapsed_ms(response: httpx.Response) -> float:
    try:
        return response.elapsed.total_seconds() * 1000.0
    except RuntimeError:  # a response built by hand (tests) was never sent
        return 0.0


@dataclass
class Finding:
    """A rule that the target broke (or drifted from), with the evidence to reproduce it."""

    rule: str
    severity: str
    api: str
    operation: str
    message: str
    expected: str = ""
    actual: str = ""
    curl: str = ""
    url: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        lines = [f"[{self.rule}] ({self.severity}) {self.operation}: {self.message}"]
        if self.expected:
            lines.append(f"  expected: {self.expected}")
        if self.actual:
            lines.append(f"  got:      {self.actual}")
        if self.curl:
            lines.append(f"  reproduce: {self.curl}")
        return "\n".join(lines)


def finding(
    rule_id: str,
    message: str,
    exchange: Exchange | None = None,
    *,
    expected: str = "",
    actual: str | None = None,
    api: str | None = None,
    operation: str | None = None,
    **extra: Any,
) -> Finding:
    """Build a finding; its severity and API come from the rule catalog."""
    r = rule(rule_id)
    return Finding(
        rule=rule_id,
        severity=r.severity,
        api=api or (exchange.api if exchange else r.api),
        operation=operation or (exchange.operation if exchange else ""),
        message=message,
        expected=expected,
        actual=actual if actual is not None else (exchange.summary() if exchange else ""),
        curl=exchange.curl() if exchange else "",
        url=exchange.url if exchange else "",
        extra=extra,
    )


def breaking(findings: list[Finding], *, strict: bool = False) -> list[Finding]:
    """The findings that fail the gate: breaking ones, and additive ones too under --strict."""
    failing = {"breaking", "additive"} if strict else {"breaking"}
    return [f for f in findings if f.severity in failing]
