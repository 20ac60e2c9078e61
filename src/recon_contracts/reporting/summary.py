"""The run's result as plain data: what ``summary.json`` holds and ``report.html`` shows."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from .. import __version__
from ..findings import Finding, breaking
from ..redact import REDACTOR
from ..truth.rules import SEVERITIES, catalog

EXIT_MEANINGS = {
    0: "all tests passed",
    1: "tests failed",
    2: "inconclusive: the run could not complete or required checks could not be made because of the target "
       "(unreachable, garbage answers, throttled or unavailable past the retry policy, refused links, an export "
       "still running at --poll-timeout)",
    3: "internal error",
    4: "bad options",
    5: "no tests were collected",
}


@dataclass
class RunResult:
    """Everything the reports say about one run of the contract suite."""

    findings: list[Finding] = field(default_factory=list)
    targets: dict[str, str | None] = field(default_factory=dict)  # partner-center, graph, mock_profile
    seed: int = 0
    derandomized: bool = False
    requests_sent: int = 0
    strict: bool = False
    exit_status: int = 0
    tests: dict[str, int] = field(default_factory=dict)  # passed, failed, skipped, error
    started: float = field(default_factory=time.time)  # epoch seconds
    duration_s: float = 0.0
    recorded: dict[str, Any] | None = None  # recon-contracts check: what the HAR files held and what was ignored
    # checks the target's behaviour kept from being made: {"test", "rules", "reason"}
    unproven: list[dict[str, Any]] = field(default_factory=list)
    observations: dict[str, list[str]] = field(default_factory=dict)  # silent point -> answers seen


VERDICTS = ("pass", "fail", "inconclusive")


def verdict_of(result: RunResult) -> str:
    """pass (exit 0), fail (exit 1: a breaking violation, or additive drift under --strict) or inconclusive
    (exit 2: the run could not complete, or required checks were skipped because of the target's behaviour).

    A breaking finding wins over everything: what was proven broken is broken. Advisory findings never
    count, not even under --strict.
    """
    if breaking(result.findings, strict=result.strict):
        return "fail"
    if result.exit_status == 2 or result.unproven:
        return "inconclusive"
    return "pass" if result.exit_status == 0 else "fail"


def unproven_rules(result: RunResult) -> list[str]:
    """Rule IDs some check could not prove, in catalog order."""
    ids = {str(r) for mark in result.unproven for r in mark.get("rules", [])}
    order = {rule_id: i for i, rule_id in enumerate(catalog())}
    return sorted(ids, key=lambda r: (order.get(r, len(order)), r))


def _rule_info(rule_id: str) -> dict[str, Any]:
    rule = catalog().get(rule_id)
    if rule is None:
        return {"statement": "", "source": "", "spec": None, "tolerance": None}
    return {"statement": rule.statement, "source": rule.source, "spec": rule.spec, "tolerance": rule.tolerance}


def _finding_dict(f: Finding, strict: bool) -> dict[str, Any]:
    extra = dict(f.extra)
    test = extra.pop("test", "")
    occurrences = extra.pop("occurrences", 1)
    return {
        "rule": f.rule,
        "severity": f.severity,
        "fails_gate": bool(breaking([f], strict=strict)),
        "api": f.api,
        "operation": f.operation,
        "message": f.message,
        "expected": f.expected,
        "actual": f.actual,
        "curl": f.curl,
        "url": f.url,
        "test": test,
        "occurrences": occurrences,
        **_rule_info(f.rule),
        "extra": extra,
    }


def _order(f: Finding) -> tuple[int, int, str, str]:
    """Breaking first, then additive, then advisory; within a severity, catalog order, then test."""
    positions = {rule_id: i for i, rule_id in enumerate(catalog())}
    severity = SEVERITIES.index(f.severity) if f.severity in SEVERITIES else len(SEVERITIES)  # type: ignore[arg-type]
    return severity, positions.get(f.rule, len(positions)), str(f.extra.get("test", "")), f.message


def redact_tree(value: Any) -> Any:
    """Every string of a JSON-like structure (keys too) passed through the redactor."""
    if isinstance(value, str):
        return REDACTOR(value)
    if isinstance(value, dict):
        return {redact_tree(str(k)): redact_tree(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [redact_tree(v) for v in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return REDACTOR(str(value))


def summarize(result: RunResult) -> dict[str, Any]:
    """The content of ``summary.json`` (redacted)."""
    findings = sorted(result.findings, key=_order)
    counts = {s: sum(1 for f in findings if f.severity == s) for s in SEVERITIES}
    failing = breaking(findings, strict=result.strict)
    verdict = verdict_of(result)
    unproven = unproven_rules(result)
    reasons = []
    if counts["breaking"]:
        reasons.append(f"{counts['breaking']} breaking violation{'s' if counts['breaking'] != 1 else ''}")
    if result.strict and counts["additive"]:
        reasons.append(f"{counts['additive']} additive drift finding{'s' if counts['additive'] != 1 else ''} under --strict")
    if unproven:
        reasons.append(f"{len(unproven)} rule{'s' if len(unproven) != 1 else ''} unproven because of the target: "
                       + ", ".join(unproven))
    if result.exit_status != 0 and not (result.exit_status == 2 and unproven):
        meaning = EXIT_MEANINGS.get(result.exit_status, "unexpected exit status")
        reasons.append(f"exit status {result.exit_status}: {meaning}")
    if not reasons:
        reasons.append("no breaking violations" + (" and no additive drift (--strict)" if result.strict else ""))
    tests = {k: int(result.tests.get(k, 0)) for k in ("passed", "failed", "skipped", "error")}
    tests.update({k: int(v) for k, v in result.tests.items() if k not in tests})
    summary = {
        "tool": "recon-contracts",
        "version": __version__,
        "verdict": verdict,
        "verdict_reason": "; ".join(reasons),
        "exit_status": int(result.exit_status),
        "strict": bool(result.strict),
        "counts": counts,
        "failing": len(failing),
        "targets": {
            "partner-center": result.targets.get("partner-center"),
            "graph": result.targets.get("graph"),
            "mock_profile": result.targets.get("mock_profile"),
        },
        "seed": int(result.seed),
        "derandomized": bool(result.derandomized),
        "requests_sent": int(result.requests_sent),
        "tests": tests,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(result.started)),
        "duration_s": round(float(result.duration_s), 3),
        "unproven_rules": unproven,
        "unproven": [
            {"test": str(m.get("test", "")), "rules": [str(r) for r in m.get("rules", [])], "reason": str(m.get("reason", ""))}
            for m in result.unproven
        ],
        "observations": {str(k): sorted(str(a) for a in v) for k, v in sorted(result.observations.items())},
        "findings": [_finding_dict(f, result.strict) for f in findings],
    }
    if result.recorded is not None:
        summary["recorded"] = result.recorded
    return redact_tree(summary)


def verdict_line(summary: dict[str, Any], report_dir: str) -> str:
    """The one line printed after a run."""
    counts = summary.get("counts", {})
    shown = ", ".join(f"{counts.get(s, 0)} {s}" for s in SEVERITIES)
    unproven = summary.get("unproven_rules") or []
    if unproven:
        shown += f", {len(unproven)} unproven ({', '.join(unproven[:8])}{', ...' if len(unproven) > 8 else ''})"
    return f"verdict: {summary.get('verdict', 'fail')} — {shown} — reports in {report_dir}"
