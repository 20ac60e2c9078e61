"""The verdict of the self-verification on one suite run, and the headline figures over all of them.

Pure functions: what a profile declares (:class:`Declared`) and what a run did (:class:`Observed`) in, one row
of the table (:class:`Row`) out; :func:`totals` turns the rows into the mutation score, the false positives and
the inconclusive count. Reading the run's files (summary.json, junit.xml, traffic.har) is the harness's job
(tests/self/conftest.py); nothing here touches a file or a process, so every rule of the verdict has a unit
test on made-up runs (tests/unit/test_judge.py).

A profile says what the suite must conclude:

- drift (``fail``): exit 1 with a breaking finding for each rule it declares and none for any other rule (``also``
  lists the rules its drift necessarily breaks as well);
- conforming (``pass``): exit 0, no breaking finding, and no skip the data do not explain (a pass that rests on
  skips proves nothing);
- inconclusive: exit 2, verdict inconclusive, every rule it declares listed as unproven, no breaking finding.

A conforming or inconclusive profile also serves an answer at every silent point (its knobs): where the run
observed a point (observed.json), the answer it observed must be the one the profile served, and no answer may
fall outside the register (the advisory REGISTER-ANSWER-UNLISTED): the register describes the mock.

Whatever the profile, the run's own traffic checked offline must agree with the live run: a drift profile's
recording shows every declared rule that needs no new request, and the recording shows nothing the live run did
not find.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

# Skips the data explain (too few or too many items for a comparison, no data to export): they keep a
# pass. Any other skip on a conforming profile means the suite passed without checking. (pattern, the
# data volume the skip needs, or None for any)
DATA_SKIPS: tuple[tuple[str, str | None], ...] = (
    (r"more than 2000 line items", None),
    (r"at most one line item", None),
    (r"did not succeed|no readable JSON lines|no blobs", "none"),  # only when the tenant has no data
)

# drift that a recording cannot show, though its rule is checked offline otherwise
OFFLINE_BLIND = {
    "pc-endless-paging": "an endless walk shows only as the page budget reached, and a recording may stop anywhere",
}


@dataclass(frozen=True)
class Declared:
    """What a mock profile declares the suite must conclude."""

    name: str
    expect: str  # "pass" | "fail" | "inconclusive"
    breaks: tuple[str, ...] = ()
    also: tuple[str, ...] = ()  # rules its drift breaks as a consequence
    unproves: tuple[str, ...] = ()  # inconclusive: rules the run must list as unproven
    data_volume: str | None = None  # the mock's data volume knob ("none": no data at all)
    # (point ID, the answers a run may observe there) for every silent point the profile's knobs answer
    served: tuple[tuple[str, tuple[str, ...]], ...] = ()


# Where the suite observes a point in other words than the knob's: knob value -> the answers it may observe
OBSERVED_AS: dict[str, dict[str, tuple[str, ...]]] = {
    "SP-PC-DATA-VOLUME": {"configured": ("one-page", "many-pages"), "none": ("none",), "thousands": ("many-pages",)},
}
UNLISTED_RULE = "REGISTER-ANSWER-UNLISTED"


def served_answers(knobs: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(point ID, the answers the suite may observe) for every silent point whose knob ``knobs`` sets to one of the
    point's answers; a point whose answer the suite cannot name (not in its ``observe`` list) is left out."""
    from recon_contracts.truth.silent_points import silent_points

    out = []
    for point in silent_points().values():
        value = getattr(knobs, point.knob, None)
        if value not in point.answers:
            continue
        expected = OBSERVED_AS.get(point.id, {}).get(value, (value,))
        expected = tuple(a for a in expected if a in point.observe)
        if expected:
            out.append((point.id, expected))
    return tuple(out)


def silent_point_problems(profile: Declared, run: "Observed") -> list[str]:
    """A conforming run's observations that contradict what the profile served, or that the register does not list."""
    problems = []
    seen = run.silent_points or {}
    for point, expected in profile.served:
        answers = seen.get(point)
        if answers and not set(answers) & set(expected):
            problems.append(f"{point}: the profile served {' or '.join(expected)}, the suite observed {', '.join(answers)}")
    unlisted = [f for f in (findings_in(run.summary) if run.summary is not None else []) if f.get("rule") == UNLISTED_RULE]
    if unlisted:
        problems.append("answers outside the register on a profile the register describes: "
                        + "; ".join(sorted({str(f.get("message", ""))[:160] for f in unlisted})))
    return problems


def declared(profile: Any) -> Declared:
    """The declaration of a mock profile (``recon_contracts.mock.profiles.Profile``)."""
    breaks = tuple(profile.breaks)
    expect = getattr(profile, "expect", "") or ("pass" if profile.conforming and not breaks else "fail")
    knobs = getattr(profile, "knobs", None)
    return Declared(name=profile.name, expect=expect, breaks=breaks, also=tuple(getattr(profile, "also", ())),
                    unproves=tuple(getattr(profile, "unproves", ())),
                    data_volume=getattr(knobs, "data_volume", None),
                    served=served_answers(knobs) if knobs is not None and expect != "fail" and not breaks else ())


@dataclass(frozen=True)
class Observed:
    """What one suite run did, read from its files by the harness."""

    exit_code: int | None  # None: killed at the timeout
    summary: dict[str, Any] | None  # summary.json
    summary_error: str | None = None  # why summary.json could not be read
    skips: tuple[str, ...] = ()  # "test: reason" of every skipped test (junit.xml)
    offline_found: tuple[str, ...] | None = None  # breaking rules the offline check finds in traffic.har; None: no HAR
    seconds: float = 0.0
    seed: int = 0
    report_dir: str = ""
    silent_points: dict[str, list[str]] | None = None  # observed.json's silent_points; None: not read

    @property
    def timed_out(self) -> bool:
        return self.exit_code is None


@dataclass
class Row:
    """One line of the self-verification table."""

    profile: str
    kind: str  # "drift" | "conforming" | "inconclusive"
    breaks: list[str]
    expected: str
    got: str
    ok: bool
    seconds: float
    exit_code: int | None
    breaking_found: list[str] = field(default_factory=list)
    other_found: list[str] = field(default_factory=list)  # "RULE (severity)"
    missing: list[str] = field(default_factory=list)  # declared rules without a breaking finding
    unexpected: list[str] = field(default_factory=list)  # breaking rules the profile does not declare
    problems: list[str] = field(default_factory=list)
    tests: dict[str, Any] = field(default_factory=dict)
    poll_timeout: float = 0.0
    report_dir: str = ""
    seed: int = 0
    verdict: str = ""  # summary.json's verdict
    skips: list[str] = field(default_factory=list)  # "test: reason" of every skip
    unexplained_skips: list[str] = field(default_factory=list)  # skips the data do not explain
    offline_found: list[str] | None = None  # breaking rules `recon-contracts check` finds in the run's traffic.har

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def findings_in(summary: Any) -> list[dict[str, Any]]:
    """The findings of a summary.json: its ``findings`` list (or any nested {rule, severity} dicts)."""
    if isinstance(summary, dict) and isinstance(summary.get("findings"), list):
        return [f for f in summary["findings"] if isinstance(f, dict) and "rule" in f]
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("rule"), str) and isinstance(node.get("severity"), str):
                found.append(node)
                return
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(summary)
    return found


def expected_text(breaks: Iterable[str], expect: str = "") -> str:
    if expect == "inconclusive":
        return "inconclusive"
    breaks = list(breaks)
    return f"fail: {', '.join(breaks)}" if breaks else "pass"


def unexplained(skips: Iterable[str], data_volume: str | None) -> list[str]:
    """The skips the data do not explain (see DATA_SKIPS)."""
    return [skip for skip in skips
            if not any(re.search(pattern, skip) and (needs is None or needs == data_volume) for pattern, needs in DATA_SKIPS)]


def exit_text(code: int | None) -> str:
    return "no exit (killed)" if code is None else f"exit {code}"


def judge_offline(profile: Declared, run: Observed, live: Collection[str], needs_new_request: Collection[str]) -> list[str]:
    """The problems of the offline check of the run's traffic.har against the live run and the declaration."""
    if profile.expect == "inconclusive" or run.timed_out:
        return []
    if run.offline_found is None:
        return ["the run wrote no readable traffic.har"]
    found = run.offline_found
    problems = []
    wanted = [] if profile.name in OFFLINE_BLIND else [r for r in profile.breaks if r not in needs_new_request]
    missed = [r for r in wanted if r not in found]
    if missed:
        problems.append(f"offline check of traffic.har missed {', '.join(missed)}")
    extra = [r for r in found if r not in live and r not in profile.breaks and r not in profile.also]
    if extra:
        problems.append(f"offline check of traffic.har found what the live run did not: {', '.join(extra)}")
    return problems


def _judge_inconclusive(profile: Declared, run: Observed, breaking_found: list[str]) -> list[str]:
    """The target keeps the suite from checking: exit 2, verdict inconclusive, the declared rules unproven."""
    summary = run.summary or {}
    problems = []
    if run.exit_code != 2:
        problems.append(f"expected exit 2 (inconclusive), got {exit_text(run.exit_code)}")
    if summary.get("verdict") != "inconclusive":
        problems.append(f"expected verdict inconclusive, got {summary.get('verdict')!r}")
    not_listed = [r for r in profile.unproves if r not in (summary.get("unproven_rules") or [])]
    if not_listed:
        problems.append(f"not reported as unproven: {', '.join(not_listed)}")
    if breaking_found:
        problems.append(f"breaking finding(s) on a target that is only slow or unavailable: {', '.join(breaking_found)}")
    return problems


def _judge_drift(profile: Declared, run: Observed, missing: list[str], unexpected: list[str]) -> list[str]:
    problems = []
    if run.exit_code != 1:
        problems.append(f"expected exit 1, got {exit_text(run.exit_code)}")
    if missing:
        problems.append(f"no breaking finding for {', '.join(missing)}")
    if unexpected:
        problems.append(f"breaking finding(s) for rules the profile does not break: {', '.join(unexpected)}")
    if not profile.breaks:
        problems.append("a drift profile that declares no rule")
    return problems


def _judge_conforming(run: Observed, breaking_found: list[str], unexplained_skips: list[str]) -> list[str]:
    problems = []
    if run.exit_code != 0:
        problems.append(f"expected exit 0, got {exit_text(run.exit_code)}")
    if breaking_found:
        problems.append(f"breaking finding(s) on a conforming profile: {', '.join(breaking_found)}")
    if unexplained_skips:
        problems.append(f"passed by skipping {len(unexplained_skips)} check(s) the data do not explain: "
                        + "; ".join(unexplained_skips))
    return problems


def _got(run: Observed, breaking_found: list[str]) -> str:
    summary = run.summary or {}
    if run.timed_out:
        return "timeout"
    if run.exit_code == 2 and summary.get("verdict") == "inconclusive":
        return "inconclusive: " + ", ".join(summary.get("unproven_rules") or [])
    if run.exit_code == 0 and not breaking_found:
        return f"pass ({len(run.skips)} skipped)" if run.skips else "pass"
    if run.exit_code in (0, 1):
        return f"fail: {', '.join(breaking_found)}" if breaking_found else f"fail ({exit_text(run.exit_code)}, no breaking finding)"
    return f"error ({exit_text(run.exit_code)})"


def judge(profile: Declared, run: Observed, *, needs_new_request: Collection[str], poll_timeout: float = 0.0) -> Row:
    """Compare a suite run with what the profile declares.

    ``needs_new_request``: the rules a recording cannot show (``recon_contracts.checks.recorded.NEEDS_NEW_REQUEST``).
    """
    breaks = sorted(profile.breaks)
    inconclusive = profile.expect == "inconclusive"
    drift = profile.expect == "fail" or bool(breaks)
    found = findings_in(run.summary) if run.summary is not None else []
    breaking_found = sorted({f["rule"] for f in found if f.get("severity") == "breaking"})
    other_found = sorted({f"{f['rule']} ({f.get('severity', '?')})" for f in found if f.get("severity") != "breaking"})
    missing = [r for r in breaks if r not in breaking_found]
    unexpected = [r for r in breaking_found if r not in breaks and r not in profile.also]
    unexplained_skips = unexplained(run.skips, profile.data_volume)
    problems: list[str] = []
    if run.timed_out:
        problems.append(f"the suite did not finish within the timeout ({run.seconds:.0f} s); killed")
    if run.summary_error:
        problems.append(run.summary_error)
    if inconclusive:
        problems += _judge_inconclusive(profile, run, breaking_found)
    elif drift:
        problems += _judge_drift(profile, run, missing, unexpected)
    else:
        problems += _judge_conforming(run, breaking_found, unexplained_skips)
    if not drift:
        problems += silent_point_problems(profile, run)
    problems += judge_offline(profile, run, breaking_found, needs_new_request)
    offline_found = None if inconclusive or run.timed_out or run.offline_found is None else list(run.offline_found)
    return Row(
        profile=profile.name,
        kind="drift" if drift else "inconclusive" if inconclusive else "conforming",
        breaks=breaks,
        expected=("inconclusive: " + ", ".join(profile.unproves)) if inconclusive and profile.unproves
        else expected_text(breaks, profile.expect),
        got=_got(run, breaking_found),
        ok=not problems,
        seconds=round(run.seconds, 1),
        exit_code=run.exit_code,
        breaking_found=breaking_found,
        other_found=other_found,
        missing=missing,
        unexpected=unexpected,
        problems=problems,
        tests=dict((run.summary or {}).get("tests") or {}),
        poll_timeout=poll_timeout,
        report_dir=run.report_dir,
        seed=run.seed,
        verdict=str((run.summary or {}).get("verdict", "")),
        skips=list(run.skips),
        unexplained_skips=unexplained_skips,
        offline_found=offline_found,
    )


def totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The headline figures over the rows. A profile counts as ok only when every seed it ran with was ok."""
    by_profile: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_profile.setdefault(r["profile"], []).append(r)

    def profiles(kind: str) -> dict[str, bool]:
        return {name: all(r["ok"] for r in runs) for name, runs in by_profile.items() if runs[0]["kind"] == kind}

    drift, conforming, inconclusive = profiles("drift"), profiles("conforming"), profiles("inconclusive")
    seeds = sorted({r.get("seed", 0) for r in rows})
    per_profile = sorted({len(runs) for runs in by_profile.values()})
    return {
        "profiles": len(by_profile),
        "runs": len(rows),
        "seeds": seeds,
        "seeds_per_profile": per_profile,
        "drift_profiles": len(drift),
        "drift_caught": sum(drift.values()),
        "mutation_score": round(sum(drift.values()) / len(drift), 4) if drift else None,
        "conforming_profiles": len(conforming),
        "false_positives": sum(not ok for ok in conforming.values()),
        "false_positive_runs": sum(1 for r in rows if r["kind"] == "conforming" and not r["ok"]),
        "inconclusive_profiles": len(inconclusive),
        "inconclusive_ok": sum(inconclusive.values()),
        "misses": sorted({r["profile"] for r in rows if not r["ok"]}),
        "suite_seconds_total": round(sum(r["seconds"] for r in rows), 1),
    }
