"""Checks of the Graph export request: 202 + Location, the error envelope, unknown operations.

Rules GR-EXPORT-202-LOCATION, GR-EXPORT-QUALIFIED-NAME, GR-EXPORT-BAD-REQUEST-4XX, GR-OP-UNKNOWN-404.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from ..findings import Exchange, Finding, finding
from ..redact import REDACTOR
from .common import check_schema, json_body
from .registry import GR_EXPORT, GR_EXPORT_ANY_INVOICE, GR_EXPORT_SPELLING, GR_INVALID_EXPORT, GR_UNKNOWN_OPERATION, check

GRAPH_SPEC = "graph"
_VERSION = re.compile(r"/(v1\.0|beta)(?=/|$)", re.IGNORECASE)


def api_version(url: str) -> str | None:
    """The Graph API version segment of a URL ("v1.0" or "beta"), or None."""
    m = _VERSION.search(urlsplit(url).path)
    return m.group(1).lower() if m else None


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


@check(GR_EXPORT, rules=("GR-EXPORT-202-LOCATION", "GR-EXPORT-LOCATION-FORM"))
def check_export_accepted(
    exchange: Exchange, *, graph_base_url: str, rule_id: str = "GR-EXPORT-202-LOCATION"
) -> list[Finding]:
    """GR-EXPORT-202-LOCATION: an export answers 202 with a non-empty Location; its form (absolute, host,
    version) is GR-EXPORT-LOCATION-FORM, advisory.

    A body or a Content-Type on the 202 is tolerated and ignored (the unbilled-usage doc example sends
    Content-Type with no body). ``rule_id`` is GR-EXPORT-QUALIFIED-NAME for the qualified spelling.
    """
    if exchange.status != 202:
        return [
            finding(
                rule_id,
                f"the export request was answered {exchange.status}, not 202 Accepted",
                exchange,
                expected="202 Accepted with a Location header",
            )
        ]
    location = exchange.header("location")
    if not location or not location.strip():
        return [
            finding(
                rule_id,
                "the export 202 has no Location header, so the operation cannot be polled",
                exchange,
                expected="Location: <graph base URL>/reports/partners/billing/operations/{id}",
                actual="202 without Location",
            )
        ]
    return check_location_form(exchange, graph_base_url=graph_base_url)


def location_form(exchange: Exchange, *, graph_base_url: str) -> str:
    """How the export's Location is written (silent point SP-GR-LOCATION-FORM): absolute-same-version,
    absolute-other-version, other-host, relative or absent."""
    location = (exchange.header("location") or "").strip()
    if not location:
        return "absent"
    scheme, netloc = _origin(location)
    if scheme not in ("http", "https") or not netloc:
        return "relative"
    if (scheme, netloc) != _origin(graph_base_url):
        return "other-host"
    return "absolute-same-version" if api_version(location) == api_version(graph_base_url) else "absolute-other-version"


def check_location_form(exchange: Exchange, *, graph_base_url: str) -> list[Finding]:
    """GR-EXPORT-LOCATION-FORM (advisory): the Location is absolute, on the target's host and API version.

    The docs' examples show absolute URLs, but Microsoft's own v1.0 page answers with a beta Location,
    and a relative reference still leads to the operation (it is resolved against the request).
    """
    rule_id = "GR-EXPORT-LOCATION-FORM"
    location = (exchange.header("location") or "").strip()
    if not location:
        return []
    shown = REDACTOR(location)
    scheme, netloc = _origin(location)
    if scheme not in ("http", "https") or not netloc:
        return [
            finding(
                rule_id,
                f"the export 202 Location is not an absolute URL: {shown}",
                exchange,
                expected="an absolute http(s) URL",
                actual=f"Location: {shown}",
            )
        ]
    found: list[Finding] = []
    if (scheme, netloc) != _origin(graph_base_url):
        found.append(
            finding(
                rule_id,
                f"the export 202 Location points at another host: {shown}",
                exchange,
                expected=f"a Location on {'://'.join(_origin(graph_base_url))}",
                actual=f"Location: {shown}",
            )
        )
    want, got = api_version(graph_base_url), api_version(location)
    if want and got != want:
        found.append(
            finding(
                rule_id,
                f"the export 202 Location is on API version {got or '(none)'}, the request was on {want}: {shown}",
                exchange,
                expected=f"a Location under /{want}/",
                actual=f"Location: {shown}",
            )
        )
    return found


def envelope_problem(body: Any) -> str | None:
    """Why ``body`` is not the Graph error envelope {"error": {"code", "message"}}; None when it is."""
    if not isinstance(body, dict):
        return f"the body is a JSON {type(body).__name__}, not an object"
    error = body.get("error")
    if not isinstance(error, dict):
        return "there is no 'error' object"
    missing = [k for k in ("code", "message") if not isinstance(error.get(k), str)]
    if missing:
        return "error." + " and error.".join(missing) + (" is" if len(missing) == 1 else " are") + " not a string"
    return None


def check_error_envelope(exchange: Exchange, *, rule_id: str, what: str) -> list[Finding]:
    """The body is JSON in the Graph error envelope and validates against ODataError."""
    body, found = json_body(exchange, rule_id, what=what)
    if found:
        return found
    problem = envelope_problem(body)
    if problem:
        return [
            finding(
                rule_id,
                f"{what} body is not the Graph error envelope: {problem}",
                exchange,
                expected='{"error": {"code": "...", "message": "..."}}',
            )
        ]
    return check_schema(exchange, body, spec_name=GRAPH_SPEC, schema_name="ODataError", rule_id=rule_id, where=what)


@check(GR_INVALID_EXPORT, rules=("GR-EXPORT-BAD-REQUEST-4XX", "GR-EXPORT-BAD-REQUEST-NO-5XX"))
def check_export_rejected(exchange: Exchange, *, case: str) -> list[Finding]:
    """An invalid export request: never 5xx (GR-EXPORT-BAD-REQUEST-NO-5XX); refused 4xx in the Graph error
    envelope rather than accepted (GR-EXPORT-BAD-REQUEST-4XX, advisory: no document says which)."""
    if exchange.status >= 500:
        return [
            finding(
                "GR-EXPORT-BAD-REQUEST-NO-5XX",
                f"an export with {case} was answered {exchange.status}",
                exchange,
                expected="a 4xx in the Graph error envelope, or 202 (the operation then fails); never a 5xx",
                case=case,
            )
        ]
    if not 400 <= exchange.status < 500:
        return [
            finding(
                "GR-EXPORT-BAD-REQUEST-4XX",
                f"an export with {case} was answered {exchange.status}, not 4xx",
                exchange,
                expected="a 4xx in the Graph error envelope (advisory: the docs do not say)",
                case=case,
            )
        ]
    return check_error_envelope(exchange, rule_id="GR-EXPORT-BAD-REQUEST-4XX", what=f"{case}: the {exchange.status} response")


def bad_request_answer(exchange: Exchange) -> str:
    """The target's answer to an invalid export, for the silent point SP-GR-BAD-REQUEST."""
    if 400 <= exchange.status < 500:
        return "rejected-4xx"
    if exchange.status == 202:
        return "accepted"
    return f"status-{exchange.status}"


@check(GR_EXPORT_ANY_INVOICE, rules=("GR-EXPORT-BAD-REQUEST-4XX", "GR-EXPORT-BAD-REQUEST-NO-5XX", "GR-EXPORT-202-LOCATION", "GR-EXPORT-LOCATION-FORM"))
def check_export_of_unknown_invoice(exchange: Exchange, *, graph_base_url: str) -> list[Finding]:
    """An export of an invoice that does not exist is either accepted (202) or rejected 4xx; never 5xx."""
    if 400 <= exchange.status < 500:
        return check_error_envelope(
            exchange, rule_id="GR-EXPORT-BAD-REQUEST-4XX", what=f"unknown invoice: the {exchange.status} response"
        )
    if exchange.status == 202:
        return check_export_accepted(exchange, graph_base_url=graph_base_url)
    if exchange.status >= 500:
        return check_export_rejected(exchange, case="an invoice that does not exist")
    return [
        finding(
            "GR-EXPORT-202-LOCATION",
            f"an export of an unknown invoice was answered {exchange.status}",
            exchange,
            expected="202 Accepted (the operation then fails) or a 4xx in the Graph error envelope",
        )
    ]


@check(GR_UNKNOWN_OPERATION, rules=("GR-OP-UNKNOWN-404",))
def check_unknown_operation(exchange: Exchange, rule_id: str = "GR-OP-UNKNOWN-404") -> list[Finding]:
    """GET of an operation id that was never issued is answered 404 in the Graph error envelope."""
    if exchange.status != 404:
        return [
            finding(
                rule_id,
                f"an operation id that was never issued was answered {exchange.status}, not 404",
                exchange,
                expected="404 in the Graph error envelope",
            )
        ]
    return check_error_envelope(exchange, rule_id=rule_id, what="unknown operation: the 404 response")


@check(GR_EXPORT_SPELLING, rules=("GR-EXPORT-QUALIFIED-NAME", "GR-EXPORT-202-LOCATION", "GR-EXPORT-LOCATION-FORM"))
def check_export_spelling(exchange: Exchange, *, spelling: str, graph_base_url: str) -> list[Finding]:
    """The short spelling answers 202 + Location; the qualified one is accepted like it.

    A qualified-spelling request that is not accepted (404, 400...) breaks GR-EXPORT-QUALIFIED-NAME; once it is
    accepted, what its Location looks like is GR-EXPORT-202-LOCATION, as for the short spelling.
    """
    rule_id = "GR-EXPORT-QUALIFIED-NAME" if spelling == "qualified" and exchange.status != 202 else "GR-EXPORT-202-LOCATION"
    return check_export_accepted(exchange, graph_base_url=graph_base_url, rule_id=rule_id)
