"""Every breaking rule of the catalog has a drift profile of the mock that breaks it.

Without one, the self-verification could not show that the suite catches a violation of that rule.
Pure and fast: it reads ``contracts/rules.yaml`` and the mock's profile table, and runs nothing.
"""

from __future__ import annotations

import pytest

from recon_contracts.mock import PROFILES
from recon_contracts.truth.rules import catalog

BREAKING = sorted(r.id for r in catalog().values() if r.severity == "breaking")
DRIFT = sorted(name for name, p in PROFILES.items() if p.kind == "drift")
INCONCLUSIVE = sorted(name for name, p in PROFILES.items() if p.kind == "inconclusive")
CONFORMING = sorted(name for name, p in PROFILES.items() if p.conforming)


@pytest.mark.parametrize("rule_id", BREAKING)
def test_every_breaking_rule_has_a_drift_profile(rule_id: str) -> None:
    declaring = [name for name, p in PROFILES.items() if rule_id in p.breaks]
    assert declaring, (
        f"breaking rule {rule_id} is declared by no mock profile: the self-verification cannot show that the suite "
        f"catches it; add a drift profile whose breaks include {rule_id}"
    )


@pytest.mark.parametrize("name", DRIFT)
def test_drift_profile_declares_breaking_catalog_rules(name: str) -> None:
    profile = PROFILES[name]
    assert profile.breaks, f"drift profile {name} declares no rule it breaks"
    rules = catalog()
    unknown = [r for r in profile.breaks if r not in rules]
    assert not unknown, f"drift profile {name} declares {', '.join(unknown)}, not in contracts/rules.yaml"
    not_breaking = [f"{r} ({rules[r].severity})" for r in profile.breaks if rules[r].severity != "breaking"]
    assert not not_breaking, (
        f"drift profile {name} declares {', '.join(not_breaking)}: only breaking rules fail the gate, so the "
        "suite could never be shown to catch it"
    )
    assert len(set(profile.breaks)) == len(profile.breaks), f"drift profile {name} declares a rule twice: {profile.breaks}"


@pytest.mark.parametrize("name", CONFORMING)
def test_conforming_profile_declares_no_rule(name: str) -> None:
    profile = PROFILES[name]
    assert profile.breaks == (), f"conforming profile {name} declares broken rules {profile.breaks}"


def test_profile_names_match_their_keys() -> None:
    mismatched = {key: p.name for key, p in PROFILES.items() if key != p.name}
    assert not mismatched, f"profiles registered under another name: {mismatched}"


def test_both_kinds_present() -> None:
    assert DRIFT, "the mock has no drift profile"
    assert "conforming" in PROFILES and PROFILES["conforming"].conforming, "the mock has no 'conforming' profile"


@pytest.mark.parametrize("name", INCONCLUSIVE)
def test_inconclusive_profile_declares_catalog_rules_and_breaks_none(name: str) -> None:
    """A target that keeps the suite from checking (503 forever, never finishing) is neither drift nor conforming:
    a run against it must end inconclusive (exit 2), naming the rules it declares as unproven."""
    profile = PROFILES[name]
    assert profile.unproves and not profile.breaks and not profile.conforming
    unknown = [r for r in profile.unproves if r not in catalog()]
    assert not unknown, f"inconclusive profile {name} declares {unknown}, not in contracts/rules.yaml"
