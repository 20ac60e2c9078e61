"""The run's result as plain data: what ``summary.json`` holds and ``report.html`` shows."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from .. import __version__
from ..findings import Finding, breaking
from ..redact import REDACTOR
from ..truth.rules import SEVERITIES, Rule, catalog
from ..verdict import Verdict

REFERENCE_INDEX = "reference/index.html"  # the reference site written beside the reports, relative to them

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
    # catalog test ID -> (outcome, skip reason) of each of its cases that ran (see Recorder.outcomes)
    outcomes: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    apis: list[str] | None = None  # the APIs this run targeted (None: not known)
    docs_url: str | None = None  # a published reference site; None: the copy written beside the reports
    # checks the target's behaviour kept from being made: {"test", "rules", "reason"}
    unproven: list[dict[str, Any]] = field(default_factory=list)
    observations: dict[str, list[str]] = field(default_factory=dict)  # silent point -> answers seen
    baseline: bool = False  # the run was compared with a --baseline file (BASELINE-* rules were judged)
    cost: dict[str, Any] | None = None  # what the run cost the targets (run_cost.RunCost.to_dict)


VERDICTS = ("pass", "fail", "inconclusive")


def verdict_of(result: RunResult) -> str:
    """pass (exit 0), fail (exit 1: a breaking violation, or additive drift under --strict) or inconclusive
    (exit 2: the run could not complete, or required checks were skipped because of the target's behaviour).

    A breaking finding wins over everything: what was proven broken is broken. Advisory findings never
    count, not even under --strict.
    """
    return Verdict.decide(result.findings, strict=result.strict, unproven=bool(result.unproven),
                          incomplete=result.exit_status == 2, errored=result.exit_status != 0).value


def unproven_rules(result: RunResult) -> list[str]:
    """Rule IDs some check could not prove, in catalog order."""
    ids = {str(r) for mark in result.unproven for r in mark.get("rules", [])}
    order = {rule_id: i for i, rule_id in enumerate(catalog())}
    return sorted(ids, key=lambda r: (order.get(r, len(order)), r))


# What a run did with a rule (summary.json "rules"[].status):
#   failed         findings of this rule (the reason says whether they fail the gate)
#   unproven       the target's behaviour kept it from being checked (throttled or 503 past the retry policy,
#                  a refused link, an export still running at --poll-timeout): the run is inconclusive
#   blocked        its test failed or errored without a finding of this rule (another rule's violation or an
#                  error stopped it before this rule was shown to hold)
#   skipped        its test was skipped (the reason is the skip's: one API targeted, no data for a walk, ...)
#   not_exercised  its test did not run (deselected, not collected, the run ended early)
#   passed         its test ran and passed, no finding
RULE_STATUSES = ("failed", "unproven", "blocked", "skipped", "not_exercised", "passed")


def _findings_reason(rule: Rule, found: list[Finding], strict: bool) -> str:
    n = f"{len(found)} finding{'s' if len(found) != 1 else ''}"
    if breaking(found, strict=strict):
        return f"{n}; fails the gate"
    if rule.severity == "additive":
        return f"{n} of additive drift; reported, fails the gate only under --strict"
    return f"{n}; advisory, never fails the gate"


def _rule_status(rule: Rule, found: list[Finding], cases: list[tuple[str, str]], result: RunResult) -> tuple[str, str]:
    if found:
        return "failed", _findings_reason(rule, found, result.strict)
    if rule.id.startswith("BASELINE-"):  # judged by comparing observed.json with --baseline, not by a test
        if result.baseline:
            return "passed", "compared with the --baseline file: no difference of this kind"
        return "not_exercised", "no --baseline given: the run was not compared with an earlier one"
    marks = [m for m in result.unproven if rule.id in (m.get("rules") or [])]
    if marks:
        return "unproven", str(marks[0].get("reason", "")) or "the target's behaviour kept it from being checked"
    if not cases:
        if result.apis is not None and rule.api not in result.apis:
            return "skipped", f"only one API targeted: no {rule.api} target in this run"
        if result.exit_status == 2:
            return "not_exercised", f"the run could not complete (exit status 2) before its test ran: {rule.test}"
        return "not_exercised", f"its test did not run in this run (deselected, not collected or interrupted): {rule.test}"
    outcomes = [outcome for outcome, _ in cases]
    skips = [reason for outcome, reason in cases if outcome == "skipped"]
    if "failed" in outcomes:
        why = next((reason for outcome, reason in cases if outcome == "failed" and reason), "")
        return "blocked", (f"its test failed ({why}) " if why else "its test failed ") + (
            "without a finding of this rule: another rule's violation or an error stopped it first")
    if "passed" in outcomes:
        if skips:
            return "passed", f"{len(skips)} of {len(cases)} cases skipped: {skips[0]}"
        return "passed", ""
    return "skipped", skips[0] if skips else "skipped"


def rule_coverage(result: RunResult) -> list[dict[str, Any]]:
    """Every rule of the catalog with what this run did with it: status, reason, the enforcing test, findings."""
    by_rule: dict[str, list[Finding]] = {}
    for f in result.findings:
        by_rule.setdefault(f.rule, []).append(f)
    rows = []
    for rule in catalog().values():
        found = by_rule.get(rule.id, [])
        status, reason = _rule_status(rule, found, result.outcomes.get(rule.test, []), result)
        rows.append({"id": rule.id, "severity": rule.severity, "status": status, "reason": reason,
                     "test": rule.test, "findings": len(found)})
    return rows


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
    rules = rule_coverage(result)
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
        "docs": result.docs_url or REFERENCE_INDEX,
        "rules": rules,
        "rule_counts": {status: sum(1 for r in rules if r["status"] == status) for status in RULE_STATUSES},
    }
    if result.recorded is not None:
        summary["recorded"] = result.recorded
    if result.cost is not None:
        summary["cost"] = result.cost
    return redact_tree(summary)


def coverage_line(summary: dict[str, Any]) -> str:
    """The line after the verdict: how many rules the run proved, and how many it did not."""
    counts = summary.get("rule_counts") or {}
    total = sum(counts.values())
    rest = ", ".join(f"{n} {status.replace('_', ' ')}" for status, n in counts.items() if n and status != "passed")
    return f"rules: {counts.get('passed', 0)} of {total} passed" + (f"; {rest} (see Rule coverage in report.html)" if rest else "")


def verdict_line(summary: dict[str, Any], report_dir: str) -> str:
    """The one line printed after a run."""
    counts = summary.get("counts", {})
    shown = ", ".join(f"{counts.get(s, 0)} {s}" for s in SEVERITIES)
    unproven = summary.get("unproven_rules") or []
    if unproven:
        shown += f", {len(unproven)} unproven ({', '.join(unproven[:8])}{', ...' if len(unproven) > 8 else ''})"
    return f"verdict: {summary.get('verdict', 'fail')} — {shown} — reports in {report_dir}"
