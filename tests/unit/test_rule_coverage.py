"""Rule coverage: every rule of the catalog in every run's reports, with what the run did with it."""

from __future__ import annotations

from recon_contracts.findings import Finding
from recon_contracts.plugin.recording import Recorder
from recon_contracts.reporting.html import render_html
from recon_contracts.reporting.summary import RULE_STATUSES, RunResult, rule_coverage, summarize
from recon_contracts.truth.rules import catalog

PAGING = "PC-PAGING-NEXT-TOKEN"


def _status(result: RunResult, rule_id: str) -> dict:
    return next(r for r in rule_coverage(result) if r["id"] == rule_id)


def _outcomes(**by_rule: list[tuple[str, str]]) -> dict[str, list[tuple[str, str]]]:
    return {catalog()[rule_id.replace("_", "-")].test: cases for rule_id, cases in by_rule.items()}


def test_every_rule_is_listed_in_catalog_order_with_the_agreed_keys():
    rows = rule_coverage(RunResult())
    assert [r["id"] for r in rows] == list(catalog())
    assert all({"id", "severity", "status", "reason", "test"} <= set(r) for r in rows)
    assert {r["status"] for r in rows} == {"not_exercised"}  # nothing ran: nothing is claimed
    assert all(r["reason"] for r in rows)


def test_passed_failed_skipped_blocked():
    rule = catalog()[PAGING]
    assert _status(RunResult(outcomes={rule.test: [("passed", "")]}), PAGING)["status"] == "passed"
    found = Finding(rule=PAGING, severity="breaking", api="partner-center", operation="GET", message="m")
    failed = _status(RunResult(findings=[found], outcomes={rule.test: [("failed", "")]}), PAGING)
    assert failed["status"] == "failed" and "fails the gate" in failed["reason"] and failed["findings"] == 1
    skipped = _status(RunResult(outcomes={rule.test: [("skipped", "request budget exhausted: --max-requests 3 reached")]}), PAGING)
    assert skipped == {**skipped, "status": "skipped", "reason": "request budget exhausted: --max-requests 3 reached"}
    blocked = _status(RunResult(outcomes={rule.test: [("failed", "")]}), PAGING)
    assert blocked["status"] == "blocked" and "another rule" in blocked["reason"]
    partly = _status(RunResult(outcomes={rule.test: [("passed", ""), ("skipped", "data did not allow it")]}), PAGING)
    assert partly["status"] == "passed" and "1 of 2 cases skipped" in partly["reason"]


def test_a_rule_of_an_api_not_targeted_is_skipped_with_that_reason():
    row = _status(RunResult(apis=["partner-center"]), "GR-OP-TERMINATES")
    assert row["status"] == "skipped" and "only one API targeted" in row["reason"]


def test_additive_and_advisory_findings_say_how_they_gate():
    f = Finding(rule="PC-RESPONSE-UNDECLARED-PROPERTY", severity="additive", api="partner-center", operation="GET", message="m")
    assert "only under --strict" in _status(RunResult(findings=[f]), f.rule)["reason"]
    assert "fails the gate" in _status(RunResult(findings=[f], strict=True), f.rule)["reason"]


def test_recorder_folds_phases_failed_over_skipped_over_passed():
    r = Recorder()
    r.outcome("t", "n1", "setup", "passed")
    r.outcome("t", "n1", "call", "passed")
    r.outcome("t", "n2", "setup", "skipped", "no graph target")
    r.outcome("t", "n3", "call", "passed")
    r.outcome("t", "n3", "teardown", "failed")
    assert sorted(r.outcomes()["t"]) == [("failed", "error in teardown"), ("passed", ""), ("skipped", "no graph target")]


def test_summary_and_html_carry_the_coverage():
    summary = summarize(RunResult(outcomes={catalog()[PAGING].test: [("passed", "")]}))
    assert len(summary["rules"]) == len(catalog()) and set(summary["rule_counts"]) == set(RULE_STATUSES)
    html = render_html(summary)
    assert html.count('<tr id="coverage-') == len(catalog())
    assert f'href="reference/index.html#rule-{PAGING}"' in html
    assert "not exercised" in html


def test_the_run_says_what_it_did_not_prove_in_one_line():
    from recon_contracts.reporting.summary import coverage_line

    rule = catalog()[PAGING]
    summary = summarize(RunResult(outcomes={rule.test: [("skipped", "no walk")]}))
    line = coverage_line(summary)
    assert line.startswith(f"rules: 0 of {len(catalog())} passed;") and "skipped" in line and "not exercised" in line
    assert "not proven by this run" in render_html(summary)
    stopped = _status(RunResult(exit_status=2), PAGING)
    assert stopped["status"] == "not_exercised" and "could not complete" in stopped["reason"]


def test_a_rule_the_target_kept_from_being_checked_is_unproven_with_the_reason():
    rule = catalog()[PAGING]
    mark = {"test": rule.test, "rules": [PAGING], "reason": "throttled past the retry policy"}
    row = _status(RunResult(unproven=[mark], outcomes={rule.test: [("skipped", "Skipped: throttled")]}), PAGING)
    assert row["status"] == "unproven" and row["reason"] == "throttled past the retry policy"
    found = Finding(rule=PAGING, severity="breaking", api="partner-center", operation="GET", message="m")
    assert _status(RunResult(findings=[found], unproven=[mark]), PAGING)["status"] == "failed"  # proven broken wins
