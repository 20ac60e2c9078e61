"""Against the mock: baselines of one profile compared with another, and HAR files checked offline.

- A baseline recorded on the conforming profile, compared with a run on another profile, gives exactly
  the BASELINE-* differences between the two (and none against itself).
- A run's traffic.har checked offline (``recon-contracts check``) agrees with the live run: that is judged
  for every profile and seed by the self-verification itself (``judge_offline`` in conftest.py), on the
  traffic of its own runs, so no profile is run twice.

Each run is ``pytest tests/contract`` in a subprocess, small (a dozen line items, 2 examples, fixed
seed). Drift profiles run the tests of their rule's API; runs are shared between the tests of a process.
Part of the self-verification (slow): RECON_SELF_PROFILES narrows the profiles down, as for the rest
of tests/self. tests/unit/test_baseline.py and tests/unit/test_har.py hold the fast tests.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path

import pytest

from recon_contracts.checks.baseline import check_against_baseline
from recon_contracts.mock import PROFILES
from recon_contracts.observed import load
from recon_contracts.checks.recorded import NOT_IN_RECORDINGS, offline_rules
from recon_contracts.truth.resources import project_root
from recon_contracts.truth.rules import catalog
from support.suiteproc import Finished, argv_of_pytest, run, scrubbed_env

ROOT = project_root()
SMALL = ["--mock-items", "12", "--examples", "2", "--seed", "0", "--poll-timeout", "15"]
TIMEOUT = 300

_CHOSEN = {n.strip() for n in os.environ.get("RECON_SELF_PROFILES", "").split(",") if n.strip()} or set(PROFILES)
pytestmark = pytest.mark.self
# the BASELINE-* differences between the conforming profile and another, as the profiles describe them
EXPECTED_BASELINE = {
    "conforming": set(),
    # numeric line-item fields become strings (and SP-PC-NUMBER-ENCODING is answered "string")
    "numbers-as-strings": {"BASELINE-PROPERTY-RETYPED", "BASELINE-SILENT-POINT-CHANGED"},
    # new, cancel, renew...: values never seen (and SP-PC-CHARGETYPE-CASE is answered "lower")
    "lowercase-charge-types": {"BASELINE-ENUM-NEW", "BASELINE-SILENT-POINT-CHANGED"},
    # items, operations, manifests, blobs (and SP-PC-EXTRA-PROPERTIES is answered "present")
    "undeclared-properties": {"BASELINE-PROPERTY-NEW", "BASELINE-COLUMN-NEW", "BASELINE-SILENT-POINT-CHANGED"},
    # resourceLocation@odata.navigationLink instead of inline (SP-GR-OP-RESOURCE-LOCATION changes)
    "manifest-by-link": {"BASELINE-PROPERTY-NEW", "BASELINE-SILENT-POINT-CHANGED"},
    "pc-item-missing-field": {"BASELINE-PROPERTY-REMOVED"},  # subscriptionId gone from every item
    "gr-basic-not-subset": {"BASELINE-COLUMN-NEW"},  # RowVersion in basic rows
    "pc-bad-token-500": {"BASELINE-STATUS-NEW", "BASELINE-SILENT-POINT-CHANGED"},  # 500 (SP-PC-BAD-TOKEN changes)
}

_LOCK = threading.Lock()
_RUNS: dict[tuple[str, ...], tuple[Path, Finished]] = {}


def record(tmp_root: Path, profile: str, *nodes: str) -> tuple[Path, Finished]:
    """The report dir of a run of ``nodes`` (default: the whole suite) against ``profile`` (one run per key)."""
    key = (profile, *nodes)
    with _LOCK:
        if key in _RUNS:
            return _RUNS[key]
    reports = tmp_root / f"{profile}-{len(_RUNS)}-{abs(hash(key)) % 10**8}"
    args = argv_of_pytest(*(nodes or ["tests/contract"]), "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                          "--mock-profile", profile, *SMALL, "--report-dir", str(reports))
    proc = run(args, cwd=ROOT, env=scrubbed_env(CI="true"), timeout=TIMEOUT, merge_stderr=False)
    with _LOCK:
        _RUNS[key] = (reports, proc)
    return reports, proc


def check(har: Path, reports: Path, *extra: str) -> Finished:
    return run([sys.executable, "-m", "recon_contracts.cli", "check", str(har), "--report-dir", str(reports), *extra],
               cwd=ROOT, env=scrubbed_env(CI="true"), timeout=TIMEOUT, merge_stderr=False)


def findings(reports: Path) -> list[dict]:
    return json.loads((reports / "summary.json").read_text(encoding="utf-8"))["findings"]


@pytest.fixture(scope="session")
def runs_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("recorded")


def test_every_rule_is_either_checked_offline_or_says_why_not():
    rules = set(catalog())
    assert set(NOT_IN_RECORDINGS) <= rules
    assert all(len(why) > 20 for why in NOT_IN_RECORDINGS.values())
    baseline = {r for r in rules if r.startswith("BASELINE-")}
    assert set(offline_rules()) == rules - set(NOT_IN_RECORDINGS) - baseline


@pytest.mark.parametrize("profile", sorted(p for p in EXPECTED_BASELINE if p in _CHOSEN))
def test_baseline_against_profile(profile, runs_root):
    """A baseline of the conforming profile, and a run on ``profile``: exactly the expected differences.

    The live run's observed.json is compared with the pure function that ``--baseline`` uses (the live
    path itself: tests/unit/test_baseline.py), and its traffic.har with ``recon-contracts check --baseline``.
    """
    base_dir, base_proc = record(runs_root, "conforming")
    assert base_proc.returncode == 0, base_proc.stdout[-3000:]
    baseline = base_dir / "observed.json"
    reports, proc = record(runs_root, profile)
    assert (reports / "observed.json").is_file(), proc.stdout[-3000:]
    found = check_against_baseline(load(baseline), load(reports / "observed.json"))
    assert {f.rule for f in found} == EXPECTED_BASELINE[profile], "\n".join(str(f) for f in found)
    offline = check(reports / "traffic.har", reports / "offline-baseline", "--baseline", str(baseline))
    got_offline = {f["rule"] for f in findings(reports / "offline-baseline") if f["rule"].startswith("BASELINE-")}
    # silent-point answers come from the live suite's probes (contract.observe); a recording holds none of them
    assert got_offline == EXPECTED_BASELINE[profile] - {"BASELINE-SILENT-POINT-CHANGED"}, offline.stdout[-3000:]


def test_update_baseline_rewrites_the_file_and_prints_the_diff(runs_root, tmp_path):
    base_dir, _ = record(runs_root, "conforming")
    baseline = tmp_path / "observed-baseline.json"
    baseline.write_text((base_dir / "observed.json").read_text(encoding="utf-8"), encoding="utf-8")
    reports, _ = record(runs_root, "lowercase-charge-types")
    proc = check(reports / "traffic.har", tmp_path / "r", "--baseline", str(baseline), "--update-baseline")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "updated" in proc.stdout and "+ [BASELINE-ENUM-NEW]" in proc.stdout
    assert json.loads(baseline.read_text(encoding="utf-8")) == json.loads((tmp_path / "r" / "observed.json").read_text(encoding="utf-8"))
    again = check(reports / "traffic.har", tmp_path / "r2", "--baseline", str(baseline))
    assert again.returncode == 0 and not [f for f in findings(tmp_path / "r2") if f["rule"].startswith("BASELINE-")]
