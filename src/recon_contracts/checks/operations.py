"""Checks of a Graph long-running export operation: each poll's shape, and the state machine over polls.

Rules GR-RESPONSE-SCHEMA, GR-RESPONSE-UNDECLARED-PROPERTY, GR-OP-ODATA-TYPE, GR-OP-STATUS-MONOTONIC,
GR-OP-TERMINAL-ABSORBING, GR-OP-ERROR-IFF-FAILED, GR-OP-RESOURCE-IFF-SUCCEEDED, GR-OP-TIMESTAMPS,
GR-OP-TERMINATES, GR-OP-RETRY-AFTER. The states come from ``contracts/operation-states.yaml``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..findings import Exchange, Finding, finding
from ..protocol.graph import NAV_LINK, is_success, is_terminal, operation_body, status_of  # noqa: F401
from ..truth.rules import operation_states
from .blobs import redacted
from .common import check_schema, parse_datetime
from .registry import GR_POLL, GR_POLLS, GR_POLLS_TO_THE_END, check

GRAPH_SPEC = "graph"
# the rules of one poll (check_operation)
POLL_RULES = (
    "GR-RESPONSE-SCHEMA", "GR-RESPONSE-UNDECLARED-PROPERTY", "GR-OP-ODATA-TYPE", "GR-OP-ERROR-IFF-FAILED",
    "GR-OP-ERROR-ONLY-IF-FAILED", "GR-OP-RESOURCE-IFF-SUCCEEDED", "GR-OP-RESOURCE-ONLY-IF-SUCCEEDED", "GR-OP-TIMESTAMPS",
    "GR-OP-RETRY-AFTER",
)


def _same_state(a: str | None, b: str | None) -> bool:
    """Equal statuses; 'completed' (resource prose) and 'succeeded' (examples) are one state."""
    return a == b or (is_success(a) and is_success(b))


def normalise_odata_type(value: Any) -> str | None:
    """@odata.type compared as the SDK does: case-insensitively, with or without the leading '#'."""
    return value.strip().lstrip("#").casefold() if isinstance(value, str) else None


def canonical_odata_type(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` with @odata.type spelled as the spec's discriminator when it matches one case-insensitively.

    The spec's discriminator values are exact; operation-states.yaml tolerates any case and a missing '#', as the
    SDK does (casefold). The tolerance wins, so the schema check sees the canonical spelling.
    """
    got = normalise_odata_type(body.get("@odata.type"))
    for canonical in operation_states().odata_type.values():
        if got == normalise_odata_type(canonical) and body["@odata.type"] != canonical:
            return {**body, "@odata.type": canonical}
    return body


def _present(body: dict[str, Any], key: str) -> bool:
    value = body.get(key)
    return value is not None and value != "" and value != {}


# ------------------------------------------------------------------ one poll


def check_poll_response(exchange: Exchange) -> list[Finding]:
    """A poll is answered 200 with a JSON Operation that validates against the spec."""
    if exchange.status != 200:
        return [
            finding(
                "GR-RESPONSE-SCHEMA",
                f"polling the operation was answered {exchange.status}, not 200",
                exchange,
                expected="200 with an Operation (running, succeeded or failed)",
            )
        ]
    body = operation_body(exchange)
    if body is None:
        ctype = exchange.header("content-type") or "no Content-Type"
        return [
            finding(
                "GR-RESPONSE-SCHEMA",
                f"the operation poll body is not a JSON object ({ctype})",
                exchange,
                expected="a JSON Operation object",
            )
        ]
    return check_schema(
        exchange,
        canonical_odata_type(body),
        spec_name=GRAPH_SPEC,
        schema_name="Operation",
        rule_id="GR-RESPONSE-SCHEMA",
        undeclared_rule_id="GR-RESPONSE-UNDECLARED-PROPERTY",
        where="operation",
    )


def check_odata_type(exchange: Exchange, body: dict[str, Any]) -> list[Finding]:
    """@odata.type agrees with status (runningOperation / exportSuccessOperation / failedOperation)."""
    status = body.get("status")
    expected = operation_states().odata_type.get(status) if isinstance(status, str) else None
    if expected is None or "@odata.type" not in body:
        return []  # unknown status or no @odata.type: the schema check reports those
    got = body.get("@odata.type")
    if normalise_odata_type(got) == normalise_odata_type(expected):
        return []
    return [
        finding(
            "GR-OP-ODATA-TYPE",
            f"an operation with status {status!r} is labelled @odata.type {got!r}",
            exchange,
            expected=f"@odata.type {expected} for status {status}",
            actual=f"@odata.type {got!r}, status {status!r}",
        )
    ]


def check_error_iff_failed(exchange: Exchange, body: dict[str, Any]) -> list[Finding]:
    """error (with a code or a message) is present if and only if the status is failed."""
    status = body.get("status")
    error = body.get("error")
    if status == "failed":
        if isinstance(error, dict) and any(isinstance(error.get(k), str) and error[k] for k in ("code", "message")):
            return []
        return [
            finding(
                "GR-OP-ERROR-IFF-FAILED",
                "a failed operation does not say why: no error with a code or a message",
                exchange,
                expected='"error": {"code": "...", "message": "..."} on a failed operation',
                actual=f"error: {error!r}",
            )
        ]
    if _present(body, "error"):
        return [
            finding(
                "GR-OP-ERROR-ONLY-IF-FAILED",
                f"an operation with status {status!r} carries an error",
                exchange,
                expected="error only on a failed operation",
                actual=f"status {status!r}, error {error!r}",
            )
        ]
    return []


def check_resource_iff_succeeded(exchange: Exchange, body: dict[str, Any]) -> list[Finding]:
    """resourceLocation (inline manifest or navigation link) is present if and only if the status is succeeded."""
    status = body.get("status")
    inline = isinstance(body.get("resourceLocation"), dict) and bool(body["resourceLocation"])
    link = isinstance(body.get(NAV_LINK), str) and bool(body[NAV_LINK].strip())
    if is_success(status):
        if inline or link:
            return []
        return [
            finding(
                "GR-OP-RESOURCE-IFF-SUCCEEDED",
                "a succeeded operation does not say where its manifest is: no resourceLocation and no "
                "resourceLocation@odata.navigationLink",
                exchange,
                expected="an inline resourceLocation manifest or resourceLocation@odata.navigationLink",
            )
        ]
    if _present(body, "resourceLocation") or _present(body, NAV_LINK):
        return [
            finding(
                "GR-OP-RESOURCE-ONLY-IF-SUCCEEDED",
                f"an operation with status {status!r} carries a resourceLocation",
                exchange,
                expected="resourceLocation only on a succeeded operation",
                actual=f"status {status!r} with {'resourceLocation' if 'resourceLocation' in body else NAV_LINK}",
            )
        ]
    return []


def check_timestamps(exchange: Exchange, body: dict[str, Any]) -> list[Finding]:
    """lastActionDateTime is not before createdDateTime (an offset-less value is read as UTC)."""
    created = parse_datetime(body.get("createdDateTime"))
    last = parse_datetime(body.get("lastActionDateTime"))
    if created is None or last is None or last >= created:
        return []  # missing or malformed values are the schema check's
    return [
        finding(
            "GR-OP-TIMESTAMPS",
            f"lastActionDateTime is {created - last} before createdDateTime",
            exchange,
            expected="lastActionDateTime >= createdDateTime",
            actual=f"createdDateTime {body.get('createdDateTime')}, lastActionDateTime {body.get('lastActionDateTime')}",
        )
    ]


def check_retry_after(exchange: Exchange, body: dict[str, Any]) -> list[Finding]:
    """A poll that is not terminal yet carries Retry-After (advisory)."""
    status = body.get("status")
    if not isinstance(status, str) or is_terminal(status) or status not in operation_states().rank:
        return []
    if (exchange.header("retry-after") or "").strip():
        return []
    return [
        finding(
            "GR-OP-RETRY-AFTER",
            f"a {status} poll has no Retry-After header, so the client has to guess when to poll again",
            exchange,
            expected="Retry-After on a poll that is not terminal",
            actual=f"status {status!r} without Retry-After",
        )
    ]


@check(GR_POLL, rules=POLL_RULES)
def check_operation(exchange: Exchange) -> list[Finding]:
    """Every single-poll rule: shape, @odata.type, error/resource presence, timestamps, Retry-After."""
    found = check_poll_response(exchange)
    body = operation_body(exchange)
    if body is None:
        return found
    for rule_check in (check_odata_type, check_error_iff_failed, check_resource_iff_succeeded, check_timestamps,
                       check_retry_after):
        found += rule_check(exchange, body)
    return found


# ------------------------------------------------------------------ the sequence of polls


def _first_terminal(polls: Sequence[Exchange]) -> int | None:
    return next((i for i, p in enumerate(polls) if is_terminal(status_of(p))), None)


@check(GR_POLLS, rules=("GR-OP-STATUS-MONOTONIC",))
def check_status_monotonic(polls: Sequence[Exchange]) -> list[Finding]:
    """Up to the first terminal poll, each status stays put or moves forward (operation-states.yaml)."""
    states = operation_states()
    end = _first_terminal(polls)
    window = polls if end is None else polls[: end + 1]
    known = [(p, s) for p, s in ((p, status_of(p)) for p in window) if s is not None and s in states.rank]
    for (_, before), (poll, after) in zip(known, known[1:]):
        if not states.allowed(before, after):
            onward = sorted(states.transitions.get(before, ())) or "nothing"
            return [
                finding(
                    "GR-OP-STATUS-MONOTONIC",
                    f"the operation status moved backwards: {before} -> {after}",
                    poll,
                    expected=f"after {before}: {before} again or one of {onward}",
                    actual=" -> ".join(s for _, s in known),
                )
            ]
    return []


@check(GR_POLLS, rules=("GR-OP-TERMINAL-ABSORBING",))
def check_terminal_absorbing(polls: Sequence[Exchange]) -> list[Finding]:
    """Every poll after the first terminal one returns the same terminal state."""
    end = _first_terminal(polls)
    if end is None:
        return []
    terminal = status_of(polls[end])
    for poll in polls[end + 1 :]:
        later = status_of(poll)
        if not _same_state(terminal, later):
            got = repr(later) if later is not None else f"HTTP {poll.status} without a status"
            return [
                finding(
                    "GR-OP-TERMINAL-ABSORBING",
                    f"the operation left its terminal state {terminal}: the next poll said {got}",
                    poll,
                    expected=f"status {terminal} again",
                    actual=" -> ".join(str(status_of(p)) for p in polls),
                )
            ]
    return []


def still_running(polls: Sequence[Exchange]) -> str | None:
    """The status of an operation whose polls never reached a terminal state (a well-formed, known status), else None."""
    if not polls or _first_terminal(polls) is not None:
        return None
    status = status_of(polls[-1])
    return status if status is not None and status in operation_states().rank else None


def check_terminates(polls: Sequence[Exchange], *, poll_timeout: float) -> list[Finding]:
    """GR-OP-TERMINATES (advisory): polling reached succeeded or failed within the configured wait.

    Slow is not broken (no document bounds an export's duration): the test marks the rules it could
    not check as unproven, which makes the run inconclusive.

    Only a run whose last poll was still a well-formed, non-terminal operation is reported here: a
    poll that broke (500, not JSON) is another rule's finding.
    """
    if not polls or _first_terminal(polls) is not None:
        return []
    last = polls[-1]
    status = status_of(last)
    if status is None or status not in operation_states().rank:
        return []
    return [
        finding(
            "GR-OP-TERMINATES",
            f"the operation was still {status} after {len(polls)} polls and the configured wait of {poll_timeout:g} s",
            last,
            expected=f"succeeded or failed within {poll_timeout:g} s (raise --poll-timeout for large invoices)",
            actual=" -> ".join(str(status_of(p)) for p in polls),
        )
    ]


@check(GR_POLLS_TO_THE_END, rules=(*POLL_RULES, "GR-OP-STATUS-MONOTONIC", "GR-OP-TERMINAL-ABSORBING", "GR-OP-TERMINATES"))
def check_polls(polls: Sequence[Exchange], *, poll_timeout: float) -> list[Finding]:
    """Every rule of the operation over a run's polls (the single-poll ones on each poll)."""
    found: list[Finding] = []
    seen: dict[tuple[str, str], Finding] = {}
    for number, poll in enumerate(polls, start=1):
        for f in check_operation(poll):
            first = seen.get((f.rule, f.message))
            if first is None:  # the same problem on every poll is reported once, with the polls it was seen on
                seen[(f.rule, f.message)] = f
                f.extra["polls"] = [number]
                found.append(f)
            else:
                first.extra["polls"].append(number)
    found += check_status_monotonic(polls)
    found += check_terminal_absorbing(polls)
    found += check_terminates(polls, poll_timeout=poll_timeout)
    return [redacted(f) for f in found]
