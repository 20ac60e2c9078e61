"""The silent-points register is sound data, every answer in it is served by the mock, and its doc is current.

Pure and fast: reads ``contracts/silent-points.yaml``, the mock's knobs and profiles, and the docs.
"""

from __future__ import annotations

import copy
import re
from dataclasses import fields

import pytest
import yaml

from recon_contracts.mock.knobs import CHOICES, DEFAULT, Knobs
from recon_contracts.mock.profiles import PROFILES
from recon_contracts.docsite.register_doc import (MOCK_DOC, REGISTER_DOC, render_register, serving_profiles,
                                                    with_profile_table)
from recon_contracts.truth.resources import contracts_dir, project_root
from recon_contracts.truth.silent_points import problems, silent_points

POINTS = silent_points()
BRIEF_IDS = ("SP-PC-TOKEN-QUERY-BINDING", "SP-PC-EMPTY-PARAM", "SP-PC-SIZE-MAX", "SP-PC-CONTINUATION-TOKEN-FIELD")


def _raw() -> dict:
    return yaml.safe_load((contracts_dir() / "silent-points.yaml").read_text(encoding="utf-8"))


def test_register_validates_against_its_schema() -> None:
    assert problems(_raw()) == []


def test_register_holds_the_shared_ids_with_their_answers() -> None:
    expected = {
        "SP-PC-TOKEN-QUERY-BINDING": {"rejected-4xx", "accepted"},
        "SP-PC-EMPTY-PARAM": {"rejected-4xx", "ignored"},
        "SP-PC-SIZE-MAX": {"rejected-4xx", "clamped", "served"},
        "SP-PC-CONTINUATION-TOKEN-FIELD": {"absent", "null", "empty", "string"},
    }
    for point_id, answers in expected.items():
        assert set(POINTS[point_id].answers) == answers, point_id
        assert answers <= set(POINTS[point_id].observe), point_id


def _break(mutate):
    data = _raw()
    mutate(data["points"][0])
    return data


@pytest.mark.parametrize("mutate, expected", [
    (lambda p: p.pop("question"), "'question' is a required property"),
    (lambda p: p.update(id="PC-SIZE-MAX"), "does not match"),
    (lambda p: p.update(alternatives=p["alternatives"][:1]), "too short"),
    (lambda p: p.update(docs={"status": "disagree", "evidence": [{"quote": "one", "source": "[PCDOC x]"}]}),
     "too short"),
    (lambda p: p.update(docs={"status": "silent"}), "'note' is a required property"),
    (lambda p: p.update(default="never-listed"), "is not one of its alternatives"),
    (lambda p: p.update(api="graph"), "the ID says partner-center"),
    (lambda p: p["docs"]["evidence"][0].update(source="a blog"), "does not match"),
])
def test_schema_and_consistency_reject_a_broken_point(mutate, expected) -> None:
    found = problems(_break(mutate))
    assert any(expected in f for f in found), found


def test_duplicate_ids_rejected() -> None:
    data = _raw()
    data["points"].append(copy.deepcopy(data["points"][0]))
    assert any("used twice" in f for f in problems(data))


def test_knobs_and_choices_agree() -> None:
    assert [f.name for f in fields(Knobs)] == list(CHOICES)
    for f in fields(Knobs):
        assert f.default == CHOICES[f.name][0], f"knob {f.name}: its default must be the first of its choices"


@pytest.mark.parametrize("point_id", list(POINTS))
def test_point_is_served_by_its_knob(point_id: str) -> None:
    point = POINTS[point_id]
    assert point.knob in CHOICES, f"{point_id}: knob {point.knob} is not in mock/knobs.py"
    unknown = set(point.answers) - set(CHOICES[point.knob])
    assert not unknown, f"{point_id}: answers {sorted(unknown)} are no value of knob {point.knob}"
    assert point.default == getattr(DEFAULT, point.knob), (
        f"{point_id}: the register's default {point.default!r} is not the mock's ({getattr(DEFAULT, point.knob)!r})")


def test_every_knob_value_is_a_registered_answer() -> None:
    registered: dict[str, set[str]] = {}
    for point in POINTS.values():
        registered.setdefault(point.knob, set()).update(point.answers)
    missing = {k: sorted(set(v) - registered.get(k, set())) for k, v in CHOICES.items()
               if set(v) - registered.get(k, set())}
    assert not missing, f"knob values no silent point lists as an answer: {missing}"


@pytest.mark.parametrize("point_id", list(POINTS))
def test_every_answer_is_served_by_a_profile_that_must_not_fail(point_id: str) -> None:
    point = POINTS[point_id]
    unserved = [a for a in point.answers if not serving_profiles(point, a)]
    assert not unserved, (f"{point_id}: no conforming (or inconclusive) profile serves {unserved}; "
                          f"add one to mock/profiles.py with {point.knob}=...")


@pytest.mark.parametrize("name", [n for n, p in PROFILES.items() if p.expect != "fail"])
def test_conforming_profile_knobs_are_in_the_register(name: str) -> None:
    answers = {(p.knob, a) for p in POINTS.values() for a in p.answers}
    outside = [f"{k}={v}" for k, v in PROFILES[name].knobs.changed().items() if (k, v) not in answers]
    assert not outside, f"profile {name} sets knobs the register does not list as an answer: {outside}"


@pytest.mark.parametrize("name", [n for n, p in PROFILES.items() if p.expect != "fail" and n != "conforming"])
def test_every_other_conforming_profile_takes_a_register_answer(name: str) -> None:
    """A conforming or inconclusive profile is described by the register: it sets at least one knob."""
    assert PROFILES[name].knobs.changed(), (
        f"profile {name} sets no knob: add the silent point it answers to contracts/silent-points.yaml and a knob "
        "to mock/knobs.py, or make it a drift profile")


@pytest.mark.parametrize("name", [n for n, p in PROFILES.items() if p.expect == "inconclusive"])
def test_inconclusive_profiles_serve_a_forever_answer(name: str) -> None:
    changed = PROFILES[name].knobs.changed()
    assert {"forever", "after-first", "never"} & set(changed.values()), f"{name}: an inconclusive profile should keep the target from answering"


def test_register_doc_is_current() -> None:
    committed = (project_root() / REGISTER_DOC).read_text(encoding="utf-8")
    assert committed == render_register(), (
        f"{REGISTER_DOC} is stale: run python -m recon_contracts.docsite.register_doc and commit it")


def test_mock_doc_profile_table_is_current() -> None:
    committed = (project_root() / MOCK_DOC).read_text(encoding="utf-8")
    assert committed == with_profile_table(committed), (
        f"the profile table of {MOCK_DOC} is stale: run python -m recon_contracts.docsite.register_doc")


_OBSERVE = re.compile(r"""\.observe\(\s*["'](SP-[A-Z0-9-]+)["']\s*,\s*(?:["']([^"']+)["'])?""")
_POINT_LITERAL = re.compile(r"""\(\s*["'](SP-(?:PC|GR)-[A-Z0-9-]+)["']\s*,""")


def test_observations_in_the_suite_use_registered_points_and_answers() -> None:
    """Every contract.observe("SP-...", ...) in tests/contract names a registered point, and a literal answer is
    one of the point's observed answers; so does every ("SP-...", answer) pair a helper builds."""
    bad = []
    for path in sorted((project_root() / "tests" / "contract").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        for point_id, answer in _OBSERVE.findall(text):
            if point_id not in POINTS:
                bad.append(f"{path.name}: {point_id} is not in the register")
            elif answer and answer not in POINTS[point_id].observe:
                bad.append(f"{path.name}: {point_id} has no observed answer {answer!r}")
        for point_id in _POINT_LITERAL.findall(text):
            if point_id not in POINTS:
                bad.append(f"{path.name}: {point_id} is not in the register")
    assert not bad, bad


# Points the suite does not observe yet, each with why; the list may only shrink (the test below fails for a point
# listed here that the suite observes, and for one neither observed nor listed).
NOT_YET_OBSERVED = {
    "SP-GR-ATTRIBUTESET-FUTURE": "needs an export with attributeSet unknownFutureValue, which starts a job on the tenant where accepted",
    "SP-GR-EXPORT-BODY-CASE": "needs an export whose body keys or values are cased otherwise, which starts a job where accepted",
    "SP-GR-OP-DURATION": "seconds and slow differ by the mock's configured poll count, which a run cannot see",
    "SP-GR-ROW-FINAL-NEWLINE": "the blob reader (traffic/blob_stream.gunzip_lines) does not tell whether the last line ended with a newline",
    "SP-PC-HEADER-CASE": "exchanges keep response header names lower-cased (findings.Exchange), so their spelling is gone",
    "SP-PC-NEXT-LINK-QUERY": "the walks send the documented spelling, which may be the canonical one: the two answers look alike",
    "SP-PC-THROTTLING": "whether a target throttles varies from run to run; observing it would make the baseline comparison flap",
    "SP-PC-TRANSIENT-5XX": "whether a target answers 503 varies from run to run; observing it would make the baseline comparison flap",
}
OBSERVERS = ("tests/contract", "src/recon_contracts/checks/observations.py")


def _observed_in_suite() -> set[str]:
    """Point IDs the suite observes: named in a contract test, or in the observation helpers the tests call."""
    root = project_root()
    paths = [*sorted((root / "tests" / "contract").glob("*.py")), root / OBSERVERS[1]]
    text = "\n".join(p.read_text(encoding="utf-8") for p in paths)
    return {point_id for point_id in POINTS if re.search(rf"""["']{re.escape(point_id)}["']""", text)}


def test_every_served_point_is_observed_by_the_suite() -> None:
    """Every point with answers to observe (all of them: `observe` is required) is observed by the suite, so that an
    answer lands in observed.json, in the baseline comparison and, outside the register, in an advisory finding."""
    observed = _observed_in_suite()
    served = {p.id for p in POINTS.values() if p.observe and p.knob}
    unobserved = sorted(served - observed - set(NOT_YET_OBSERVED))
    assert not unobserved, f"silent points served by the mock but never observed by the suite: {unobserved}"
    stale = sorted(set(NOT_YET_OBSERVED) & observed)
    assert not stale, f"observed now: take {stale} off NOT_YET_OBSERVED"
    assert set(NOT_YET_OBSERVED) <= set(POINTS)
