"""The contract suite catches every drift profile of the mock and passes every conforming one.

One test per profile and Hypothesis seed (``profile_name``, ``seed``: parametrized by ``conftest.py``): it runs
``pytest tests/contract`` against the embedded mock started with that profile, in a subprocess as a
user would run it, and compares the exit code and the findings of ``summary.json`` with what the
profile declares:

- a drift profile: exit 1, and a breaking finding for each rule the profile declares;
- a conforming profile: exit 0, no breaking finding (additive and advisory ones are fine), and no skip the
  data do not explain;
- an inconclusive profile (503 or 429 for the whole run): exit 2 and no breaking finding.

The table of all profiles, the mutation score and the false-positive count are printed at the end
of the session and written to ``self-verification.md`` / ``.json`` in the report dir.
"""

from __future__ import annotations

import pytest


@pytest.mark.self
def test_suite_against_profile(profile_name, seed, verify_profile) -> None:
    row, message = verify_profile(profile_name, seed)
    if not row.ok:
        pytest.fail(message, pytrace=False)
