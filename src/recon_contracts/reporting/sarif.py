"""``report.sarif``: the run's findings as SARIF 2.1.0, for code-scanning views.

One result per finding, its ``ruleId`` the rule's ID, its level from the severity (breaking: error, additive:
warning, or error under --strict, advisory: note), and, where the rule names a place in our specs, a location
in that spec file (the line of the schema or operation the rule is about), so the view opens the contract.
Built from summary.json's data, which is redacted already; the file is redacted again as it is written.
"""

from __future__ import annotations

from typing import Any

from .. import __version__
from ..truth.rules import catalog
from .excerpt import spec_line

SARIF_FILE = "report.sarif"
SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


def level_of(finding: dict[str, Any]) -> str:
    """error for what fails the gate, warning for additive drift, note for advice."""
    if finding.get("fails_gate"):
        return "error"
    return {"breaking": "error", "additive": "warning"}.get(str(finding.get("severity")), "note")


def _text(finding: dict[str, Any]) -> str:
    parts = [str(finding.get("message") or finding.get("rule"))]
    if finding.get("expected"):
        parts.append(f"expected: {finding['expected']}")
    if finding.get("actual"):
        parts.append(f"got: {finding['actual']}")
    if finding.get("curl"):
        parts.append(f"reproduce: {finding['curl']}")
    return "\n".join(parts)


def _location(spec: str | None) -> list[dict[str, Any]]:
    where = spec_line(spec)
    if where is None:
        return []
    path, line = where
    return [{"physicalLocation": {"artifactLocation": {"uri": path, "uriBaseId": "%SRCROOT%"},
                                  "region": {"startLine": line}}}]


def render_sarif(summary: dict[str, Any]) -> dict[str, Any]:
    """The SARIF log of one run's summary."""
    findings = summary.get("findings", [])
    used = sorted({str(f["rule"]) for f in findings}, key=lambda r: (r not in catalog(), r))
    rules = catalog()
    descriptors = []
    for rule_id in used:
        rule = rules.get(rule_id)
        descriptor: dict[str, Any] = {"id": rule_id}
        if rule is not None:
            descriptor["shortDescription"] = {"text": rule.statement.split(". ")[0][:300]}
            descriptor["fullDescription"] = {"text": rule.statement}
            descriptor["help"] = {"text": f"{rule.statement}\nSource: {rule.source}"}
            descriptor["properties"] = {"severity": rule.severity, "api": rule.api}
        descriptors.append(descriptor)
    index = {rule_id: i for i, rule_id in enumerate(used)}
    results = []
    for f in findings:
        result: dict[str, Any] = {
            "ruleId": str(f["rule"]),
            "ruleIndex": index[str(f["rule"])],
            "level": level_of(f),
            "message": {"text": _text(f)},
            "properties": {"severity": f.get("severity"), "api": f.get("api"), "operation": f.get("operation"),
                           "test": f.get("test"), "occurrences": f.get("occurrences", 1)},
        }
        locations = _location(f.get("spec"))
        if locations:
            result["locations"] = locations
        results.append(result)
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "recon-contracts", "version": __version__, "rules": descriptors}},
            "results": results,
            "invocations": [{"executionSuccessful": summary.get("verdict") != "inconclusive",
                             "exitCode": int(summary.get("exit_status", 0)),
                             "properties": {"verdict": summary.get("verdict"),
                                            "verdict_reason": summary.get("verdict_reason")}}],
            "properties": {"verdict": summary.get("verdict")},
        }],
    }
