"""Findings of a run: what each contract test records, and what the reports are written from."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import pytest

from ..traffic.client import RequestBudget
from ..errors import ContractViolation
from ..findings import Exchange, Finding, breaking
from ..redact import REDACTOR
from ..truth.resources import suite_test_id


@dataclass
class Recorder:
    """Every finding of the run, one per (test, rule): the last one seen (a shrunk example's).

    Findings travel with each test's report (so they cross pytest-xdist), and are gathered where the
    reports are logged; request counts and targets come back from xdist workers at their end.
    """

    findings: dict[tuple[str, str], Finding] = field(default_factory=dict)
    budget: RequestBudget = field(default_factory=RequestBudget)
    targets: dict[str, str | None] = field(default_factory=dict)
    started: float = field(default_factory=time.time)
    worker_requests: int = 0
    contract_tests: int = 0
    # the target's answer at each silent point of contracts/silent-points.yaml: point ID -> answers seen
    observations: dict[str, set[str]] = field(default_factory=dict)
    # what became of each contract test: catalog test ID -> node ID (one per parameter set) -> (outcome, reason)
    _outcomes: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)

    def outcome(self, test: str, nodeid: str, when: str, outcome: str, reason: str = "") -> None:
        """Fold one phase's report (setup, call, teardown) into the test's outcome: failed over skipped over passed."""
        nodes = self._outcomes.setdefault(test, {})
        before = nodes.get(nodeid, ("", ""))[0]
        if outcome == "failed":
            nodes[nodeid] = ("failed", "" if when == "call" else f"error in {when}")
        elif outcome == "skipped" and before != "failed":
            nodes[nodeid] = ("skipped", reason)
        elif outcome == "passed" and when == "call" and before == "":
            nodes[nodeid] = ("passed", "")

    def outcomes(self) -> dict[str, list[tuple[str, str]]]:
        """Catalog test ID -> the (outcome, reason) of each of its cases that ran."""
        return {test: [o for o in nodes.values() if o[0]] for test, nodes in self._outcomes.items()}
    # checks the target's behaviour kept from being made: {"test", "rules", "reason"} (the run is inconclusive)
    unproven: list[dict[str, object]] = field(default_factory=list)

    def add(self, findings: Iterable[Finding]) -> None:
        for f in findings:
            self.findings[(str(f.extra.get("test", "")), f.rule)] = f

    def observe(self, observations: Iterable[tuple[str, str]]) -> None:
        for point, answer in observations:
            self.observations.setdefault(point, set()).add(answer)

    def mark_unproven(self, marks: Iterable[dict[str, object]]) -> None:
        for mark in marks:
            self.unproven.append({"test": str(mark.get("test", "")), "rules": [str(r) for r in mark.get("rules") or []],  # type: ignore[union-attr]
                                  "reason": str(mark.get("reason", ""))})

    def all(self) -> list[Finding]:
        return list(self.findings.values())

    @property
    def requests_sent(self) -> int:
        return self.budget.sent + self.worker_requests


class Contract:
    """What a contract test hands its findings to."""

    def __init__(self, nodeid: str, strict: bool) -> None:
        self._nodeid = nodeid
        self.strict = strict
        self.findings: list[Finding] = []
        self.observations: list[tuple[str, str]] = []
        self.unproven_marks: list[dict[str, object]] = []

    def check(self, findings: Iterable[Finding]) -> list[Finding]:
        """Record findings; raise when any of them fails the gate. Returns them for further use."""
        found = list(findings)
        for f in found:
            f.extra.setdefault("test", self._nodeid)
        self.findings.extend(found)
        failing = breaking(found, strict=self.strict)
        if failing:
            raise ContractViolation(REDACTOR("\n\n".join(str(f) for f in failing)))
        return found

    def observe(self, point: str, answer: str, exchange: Exchange | None = None) -> None:
        """Record the target's answer at a silent point (an ID of contracts/silent-points.yaml).

        Not a finding: the docs leave the point open, so any answer the register lists passes; the answers go
        into the run's observed behaviour, where a baseline can compare them with an earlier run's. An answer the
        register does not list (``other``, ``status-NNN``, a word it does not know) is also an advisory finding,
        REGISTER-ANSWER-UNLISTED, never failing the gate; ``exchange`` is the answer that shows it, when one does.
        """
        from ..checks.observations import outside_register

        self.observations.append((point, answer))
        for f in outside_register(point, answer, exchange=exchange):
            f.extra.setdefault("test", self._nodeid)
            if not any(g.rule == f.rule and g.extra.get("point") == point and g.actual == answer for g in self.findings):
                self.findings.append(f)

    def unproven(self, reason: str, rules: Iterable[str] | None = None) -> None:
        """Record that the target's behaviour kept rules from being checked (a refused link, an export still
        running at --poll-timeout...). The test goes on with what it can check; the run ends inconclusive.

        ``rules``: the rule IDs left unproven (by default every rule this test enforces).
        """
        from ..truth.rules import rules_enforced_by

        ids = list(rules) if rules is not None else rules_enforced_by(self._nodeid)
        mark = {"test": self._nodeid, "rules": ids, "reason": reason}
        if mark not in self.unproven_marks:  # Hypothesis examples repeat the same walk
            self.unproven_marks.append(mark)

    def latest(self) -> list[Finding]:
        """One finding per rule, the last seen (for Hypothesis, the shrunk example's), with its count."""
        last: dict[str, Finding] = {}
        counts: dict[str, int] = {}
        for f in self.findings:
            last[f.rule] = f
            counts[f.rule] = counts.get(f.rule, 0) + 1
        for rule_id, f in last.items():
            f.extra["occurrences"] = counts[rule_id]
        return list(last.values())


def suite_test(item: pytest.Item) -> str | None:
    """The catalog's ID of a contract test (``tests/contract/test_x.py::test_y``), None for other tests."""
    name = getattr(item, "originalname", None) or item.name.split("[", 1)[0]
    parent = item.parent
    if isinstance(parent, pytest.Class):
        name = f"{parent.name}::{name}"
    return suite_test_id(item.path, name)
