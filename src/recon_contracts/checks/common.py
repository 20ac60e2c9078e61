"""Small pure helpers shared by the Partner Center and Graph checks."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from collections.abc import Callable
from typing import Any

from ..findings import Exchange, Finding, finding
from ..truth.spec import load_spec
from .registry import LINK_OFF_ORIGIN, check

_DATETIME = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[T ](?P<time>\d{2}:\d{2}(?::\d{2})?)(?:\.(?P<frac>\d+))?(?P<tz>Z|[+-]\d{2}:?\d{2})?$",
    re.IGNORECASE,
)


def parse_datetime(value: Any) -> datetime | None:
    """Parse the date-times the docs show: 7-digit fractions, 'Z', offsets, and offset-less (read as UTC).

    Returns an aware datetime, or None when the value is not a date-time.
    """
    if not isinstance(value, str):
        return None
    m = _DATETIME.match(value.strip())
    if not m:
        return None
    frac = (m["frac"] or "")[:6].ljust(6, "0")
    tz = m["tz"] or "+00:00"
    if tz.upper() == "Z":
        tz = "+00:00"
    elif ":" not in tz:
        tz = f"{tz[:3]}:{tz[3:]}"
    clock = m["time"] if m["time"].count(":") == 2 else m["time"] + ":00"
    try:
        return datetime.fromisoformat(f"{m['date']}T{clock}.{frac}{tz}").astimezone(timezone.utc)
    except ValueError:
        return None


def abridge(texts: list[str], limit: int, separator: str) -> str:
    """The first ``limit`` texts joined, and how many more there are."""
    more = f" (+{len(texts) - limit} more)" if len(texts) > limit else ""
    return separator.join(texts[:limit]) + more


def is_client_error(status: int) -> bool:
    return 400 <= status < 500


def expect_status(
    exchange: Exchange, rule_id: str, accepted: Callable[[int], bool], *, message: str, expected: str
) -> list[Finding]:
    """No finding when the status is one ``accepted`` allows; else one under ``rule_id``.

    ``message`` is completed with the status that came back.
    """
    if accepted(exchange.status):
        return []
    return [finding(rule_id, f"{message} was answered {exchange.status}", exchange, expected=expected)]


def json_body(exchange: Exchange, rule_id: str, *, what: str = "response") -> tuple[Any, list[Finding]]:
    """The body as JSON, or a finding under ``rule_id`` saying it is not JSON."""
    try:
        return exchange.json(), []
    except (ValueError, UnicodeDecodeError) as exc:
        ctype = exchange.header("content-type") or "no Content-Type"
        return None, [
            finding(
                rule_id,
                f"{what} body is not JSON ({ctype}): {exc}",
                exchange,
                expected="a JSON body",
            )
        ]


def check_schema(
    exchange: Exchange,
    body: Any,
    *,
    spec_name: str,
    schema_name: str,
    rule_id: str,
    undeclared_rule_id: str | None = None,
    where: str = "",
) -> list[Finding]:
    """Validate ``body`` against a component schema of our spec; undeclared properties are drift."""
    spec = load_spec(spec_name)
    found: list[Finding] = []
    label = f"{where} " if where else ""
    errors = spec.validate(body, schema_name)
    if errors:
        shown = abridge(errors, 5, "; ")
        found.append(
            finding(
                rule_id,
                f"{label}body does not match {schema_name} in {spec.path.name}: {shown}",
                exchange,
                expected=f"a {schema_name} as the spec declares it",
                errors=errors[:20],
            )
        )
    if undeclared_rule_id:
        extra = spec.undeclared(body, schema_name)
        if extra:
            shown = abridge(extra, 8, ", ")
            found.append(
                finding(
                    undeclared_rule_id,
                    f"{label}undeclared properties: {shown}",
                    exchange,
                    expected=f"only the properties {schema_name} declares",
                    actual=shown,
                    paths=extra[:50],
                )
            )
    return found


LINK_ORIGIN_RULES = {"partner-center": "PC-LINK-SAME-ORIGIN", "graph": "GR-LINK-SAME-ORIGIN"}


@check(LINK_OFF_ORIGIN, rules=("PC-LINK-SAME-ORIGIN", "GR-LINK-SAME-ORIGIN"))
def check_link_origin(url: str, *, api: str, operation: str, origin: str) -> list[Finding]:
    """PC-/GR-LINK-SAME-ORIGIN: a link the target handed out, which the run must follow, is on another origin.

    The client refuses to send the run's credentials there (``OffOriginLink``); this is the finding
    that says so. ``url`` is already redacted.
    """
    return [
        finding(
            LINK_ORIGIN_RULES[api],
            f"a link the target handed out for {operation} points at another origin; it was not followed with the "
            "run's credentials, so what it leads to was not checked",
            api=api,
            operation=operation,
            expected=f"a link on {origin}, the origin the run was pointed at (relative, or absolute on it)",
            actual=url.split("?", 1)[0],
        )
    ]
