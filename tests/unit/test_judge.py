"""The self-verification's judge (tests/support/judge.py) on made-up runs.

The judge turns every self-verification run into a row of the table and the rows into the headline figures
(drift caught, false positives, inconclusive). If it stopped seeing a problem, every row would pass silently:
each case here is a run the judge must refuse, next to the run it must accept.
"""

from __future__ import annotations

from typing import Any

import pytest

from support.judge import Declared, Observed, declared, judge, served_answers, totals

NEEDS_NEW_REQUEST = frozenset({"PC-AUTH-401"})  # made up: a rule that a recording cannot show

DRIFT = Declared(name="pc-dates-reversed", expect="fail", breaks=("PC-DATES-ORDERED",))
CONFORMING = Declared(name="conforming", expect="pass")
EMPTY = Declared(name="empty", expect="pass", data_volume="none")
INCONCLUSIVE = Declared(name="pc-unavailable-forever", expect="inconclusive",
                        unproves=("PC-PAGING-NEXT-TOKEN", "PC-ITEMS-SCHEMA"))


def finding(rule: str, severity: str = "breaking") -> dict[str, Any]:
    return {"rule": rule, "severity": severity, "expected": "...", "got": "..."}


def summary(verdict: str, *findings: dict[str, Any], unproven: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"verdict": verdict, "findings": list(findings), "unproven_rules": list(unproven),
            "tests": {"passed": 20, "failed": 1 if verdict == "fail" else 0}}


def observed(code: int | None, doc: dict[str, Any] | None, *, skips: tuple[str, ...] = (),
             offline: tuple[str, ...] | None = ()) -> Observed:
    return Observed(exit_code=code, summary=doc, skips=skips, offline_found=offline, seconds=3.2)


def verdict(profile: Declared, run: Observed):
    return judge(profile, run, needs_new_request=NEEDS_NEW_REQUEST)


# ------------------------------------------------------------------ drift


def test_drift_caught_by_its_declared_rule_is_ok():
    row = verdict(DRIFT, observed(1, summary("fail", finding("PC-DATES-ORDERED"), finding("PC-X", "additive")),
                                  offline=("PC-DATES-ORDERED",)))
    assert row.ok, row.problems
    assert row.kind == "drift" and row.breaking_found == ["PC-DATES-ORDERED"] and row.got == "fail: PC-DATES-ORDERED"
    assert row.other_found == ["PC-X (additive)"]


def test_drift_missed_is_a_miss():
    """Exit 0 and no finding on a drift profile: the suite did not catch it."""
    row = verdict(DRIFT, observed(0, summary("pass")))
    assert not row.ok
    assert row.missing == ["PC-DATES-ORDERED"]
    assert "expected exit 1, got exit 0" in row.problems
    assert "no breaking finding for PC-DATES-ORDERED" in row.problems


def test_drift_failing_for_another_rule_only_is_a_miss():
    """Exit 1 is not enough: the failure must be the declared rule's."""
    row = verdict(DRIFT, observed(1, summary("fail", finding("PC-CURRENCY-MATCHES")), offline=()))
    assert not row.ok
    assert row.missing == ["PC-DATES-ORDERED"] and row.unexpected == ["PC-CURRENCY-MATCHES"]


def test_an_extra_breaking_rule_on_a_drift_profile_is_a_miss():
    row = verdict(DRIFT, observed(1, summary("fail", finding("PC-DATES-ORDERED"), finding("PC-CURRENCY-MATCHES")),
                                  offline=("PC-DATES-ORDERED",)))
    assert not row.ok
    assert row.unexpected == ["PC-CURRENCY-MATCHES"]
    assert "breaking finding(s) for rules the profile does not break: PC-CURRENCY-MATCHES" in row.problems


def test_an_extra_rule_the_profile_declares_in_also_is_fine():
    profile = Declared(name="d", expect="fail", breaks=("PC-DATES-ORDERED",), also=("PC-CURRENCY-MATCHES",))
    row = verdict(profile, observed(1, summary("fail", finding("PC-DATES-ORDERED"), finding("PC-CURRENCY-MATCHES")),
                                    offline=("PC-DATES-ORDERED",)))
    assert row.ok, row.problems


def test_an_extra_breaking_rule_on_a_conforming_profile_is_a_false_positive():
    row = verdict(CONFORMING, observed(1, summary("fail", finding("PC-DATES-ORDERED")), offline=("PC-DATES-ORDERED",)))
    assert not row.ok and row.kind == "conforming"
    assert "breaking finding(s) on a conforming profile: PC-DATES-ORDERED" in row.problems


def test_a_drift_profile_without_a_rule_is_a_miss():
    row = verdict(Declared(name="d", expect="fail"), observed(1, summary("fail")))
    assert not row.ok and "a drift profile that declares no rule" in row.problems


# ------------------------------------------------------------------ conforming


def test_conforming_pass_is_ok():
    row = verdict(CONFORMING, observed(0, summary("pass")))
    assert row.ok, row.problems
    assert row.got == "pass" and row.expected == "pass"


def test_a_pass_that_rests_on_skips_is_a_miss():
    skips = ("test_pages_match_single_page: the target answered 404", "test_walk_to_the_end: no items")
    row = verdict(CONFORMING, observed(0, summary("pass"), skips=skips))
    assert not row.ok
    assert row.unexplained_skips == list(skips)
    assert any(p.startswith("passed by skipping 2 check(s) the data do not explain") for p in row.problems)


def test_skips_the_data_explain_keep_the_pass():
    skips = ("test_pages_match_single_page: at most one line item, nothing to compare",)
    assert verdict(CONFORMING, observed(0, summary("pass"), skips=skips)).ok
    # an export that did not succeed is explained only when the tenant has no data
    no_data = ("test_export_rows: the export did not succeed",)
    assert verdict(EMPTY, observed(0, summary("pass"), skips=no_data)).ok
    assert not verdict(CONFORMING, observed(0, summary("pass"), skips=no_data)).ok


def test_a_conforming_run_that_ended_inconclusive_is_a_miss():
    row = verdict(CONFORMING, observed(2, summary("inconclusive", unproven=("PC-ITEMS-SCHEMA",))))
    assert not row.ok and "expected exit 0, got exit 2" in row.problems


# ------------------------------------------------------------------ inconclusive


def test_inconclusive_with_every_declared_rule_unproven_is_ok():
    run = observed(2, summary("inconclusive", unproven=("PC-ITEMS-SCHEMA", "PC-PAGING-NEXT-TOKEN", "PC-OTHER")), offline=None)
    row = verdict(INCONCLUSIVE, run)
    assert row.ok, row.problems
    assert row.kind == "inconclusive" and row.got.startswith("inconclusive: ")


@pytest.mark.parametrize("left_off", INCONCLUSIVE.unproves)
def test_inconclusive_leaving_a_required_rule_off_its_unproven_list_is_a_miss(left_off):
    listed = tuple(r for r in INCONCLUSIVE.unproves if r != left_off) + ("PC-OTHER",)
    row = verdict(INCONCLUSIVE, observed(2, summary("inconclusive", unproven=listed)))
    assert not row.ok
    assert row.problems == [f"not reported as unproven: {left_off}"]


def test_inconclusive_profile_that_passes_is_a_miss():
    row = verdict(INCONCLUSIVE, observed(0, summary("pass")))
    assert not row.ok
    assert "expected exit 2 (inconclusive), got exit 0" in row.problems
    assert "expected verdict inconclusive, got 'pass'" in row.problems


def test_inconclusive_profile_with_a_breaking_finding_is_a_miss():
    run = observed(2, summary("inconclusive", finding("PC-ITEMS-SCHEMA"), unproven=INCONCLUSIVE.unproves))
    row = verdict(INCONCLUSIVE, run)
    assert not row.ok
    assert any(p.startswith("breaking finding(s) on a target that is only slow or unavailable") for p in row.problems)


# ------------------------------------------------------------------ the recording checked offline


def test_har_verdict_finding_what_the_live_run_did_not_is_a_miss():
    row = verdict(CONFORMING, observed(0, summary("pass"), offline=("PC-DATES-ORDERED",)))
    assert not row.ok
    assert "offline check of traffic.har found what the live run did not: PC-DATES-ORDERED" in row.problems
    assert row.offline_found == ["PC-DATES-ORDERED"]


def test_har_verdict_missing_the_declared_drift_is_a_miss():
    row = verdict(DRIFT, observed(1, summary("fail", finding("PC-DATES-ORDERED")), offline=()))
    assert not row.ok
    assert "offline check of traffic.har missed PC-DATES-ORDERED" in row.problems


def test_har_verdict_is_not_asked_for_what_a_recording_cannot_show():
    profile = Declared(name="pc-no-auth", expect="fail", breaks=("PC-AUTH-401",))
    assert verdict(profile, observed(1, summary("fail", finding("PC-AUTH-401")), offline=())).ok
    blind = Declared(name="pc-endless-paging", expect="fail", breaks=("PC-PAGING-ENDS",))
    assert verdict(blind, observed(1, summary("fail", finding("PC-PAGING-ENDS")), offline=())).ok


def test_a_run_without_a_readable_har_is_a_miss():
    row = verdict(CONFORMING, observed(0, summary("pass"), offline=None))
    assert not row.ok and "the run wrote no readable traffic.har" in row.problems


# ------------------------------------------------------------------ runs that did not end well


def test_a_run_killed_at_the_timeout_is_a_miss_whatever_the_profile():
    for profile in (DRIFT, CONFORMING, INCONCLUSIVE):
        row = verdict(profile, observed(None, None, offline=None))
        assert not row.ok and row.got == "timeout"
        assert any(p.startswith("the suite did not finish within the timeout") for p in row.problems)


def test_an_unreadable_summary_is_a_miss():
    run = Observed(exit_code=0, summary=None, summary_error="no summary.json was written", offline_found=())
    row = verdict(CONFORMING, run)
    assert not row.ok and "no summary.json was written" in row.problems


# ------------------------------------------------------------------ the headline figures


def test_totals_count_misses_per_profile_over_its_seeds():
    rows = [
        verdict(DRIFT, observed(1, summary("fail", finding("PC-DATES-ORDERED")), offline=("PC-DATES-ORDERED",))),
        verdict(Declared(name="pc-no-auth", expect="fail", breaks=("PC-AUTH-401",)), observed(0, summary("pass"))),
        verdict(CONFORMING, observed(0, summary("pass"))),
        verdict(CONFORMING, observed(1, summary("fail", finding("PC-X")), offline=("PC-X",))),  # another seed
        verdict(EMPTY, observed(0, summary("pass"))),
        verdict(INCONCLUSIVE, observed(2, summary("inconclusive", unproven=INCONCLUSIVE.unproves), offline=None)),
    ]
    t = totals([r.to_dict() for r in rows])
    assert (t["drift_profiles"], t["drift_caught"], t["mutation_score"]) == (2, 1, 0.5)
    assert (t["conforming_profiles"], t["false_positives"], t["false_positive_runs"]) == (2, 1, 1)
    assert (t["inconclusive_profiles"], t["inconclusive_ok"]) == (1, 1)
    assert t["misses"] == ["conforming", "pc-no-auth"] and t["runs"] == 6 and t["profiles"] == 5


def test_declared_reads_a_mock_profile():
    from recon_contracts.mock import PROFILES

    drift = next(p for p in PROFILES.values() if p.kind == "drift")
    assert declared(drift).expect == "fail" and declared(drift).breaks == tuple(drift.breaks)
    conforming = declared(PROFILES["conforming"])
    assert conforming == Declared(name="conforming", expect="pass", data_volume=PROFILES["conforming"].knobs.data_volume,
                                  served=conforming.served)



# ------------------------------------------------------------------ what the profile served at the silent points


def test_declared_reads_the_answers_a_profile_serves():
    from recon_contracts.mock import PROFILES

    served = dict(declared(PROFILES["pc-query-first-wins"]).served)
    assert served["SP-PC-REPEATED-PARAM"] == ("first-wins",) and served["SP-PC-UNKNOWN-PARAM"] == ("rejected-4xx",)
    assert dict(declared(PROFILES["transport-variants"]).served)["SP-PC-CONNECTION"] == ("close",)
    assert dict(declared(PROFILES["conforming"]).served)["SP-PC-DATA-VOLUME"] == ("one-page", "many-pages")
    assert dict(declared(PROFILES["empty"]).served)["SP-PC-DATA-VOLUME"] == ("none",)
    drift = next(p for p in PROFILES.values() if p.kind == "drift")
    assert declared(drift).served == ()  # drift may change what is observed: not compared
    assert served_answers(PROFILES["conforming"].knobs) == declared(PROFILES["conforming"]).served


SERVES = Declared(name="pc-query-first-wins", expect="pass", served=(("SP-PC-REPEATED-PARAM", ("first-wins",)),
                                                                     ("SP-PC-CONNECTION", ("keep-alive",))))


def _run_observing(points: dict[str, list[str]], *findings: dict[str, Any]) -> Observed:
    return Observed(exit_code=0, summary=summary("pass", *findings), offline_found=(), seconds=1.0, silent_points=points)


def test_the_answer_served_is_the_answer_observed():
    assert verdict(SERVES, _run_observing({"SP-PC-REPEATED-PARAM": ["first-wins"]})).ok
    assert verdict(SERVES, _run_observing({})).ok  # a point the run did not reach is not compared


def test_an_observation_other_than_the_answer_served_is_a_miss():
    row = verdict(SERVES, _run_observing({"SP-PC-REPEATED-PARAM": ["last-wins"], "SP-PC-CONNECTION": ["keep-alive"]}))
    assert not row.ok
    assert row.problems == ["SP-PC-REPEATED-PARAM: the profile served first-wins, the suite observed last-wins"]


def test_an_answer_outside_the_register_on_a_described_profile_is_a_miss():
    unlisted = {**finding("REGISTER-ANSWER-UNLISTED", "advisory"), "message": "SP-PC-CONTENT-TYPE with 'other'"}
    row = verdict(SERVES, _run_observing({"SP-PC-CONTENT-TYPE": ["other"]}, unlisted))
    assert not row.ok and "outside the register" in row.problems[0]
    drift = Declared(name="d", expect="fail", breaks=("PC-DATES-ORDERED",))
    run = Observed(exit_code=1, summary=summary("fail", finding("PC-DATES-ORDERED"), unlisted), offline_found=("PC-DATES-ORDERED",),
                   seconds=1.0, silent_points={"SP-PC-CONTENT-TYPE": ["other"]})
    assert verdict(drift, run).ok  # drift may give any answer
