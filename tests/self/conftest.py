"""Self-verification harness: run the contract suite against every profile of the mock, with several seeds.

A profile says what the suite must conclude (``Profile.expect``):

- drift (``fail``): it breaks the rules it declares (``Profile.breaks``), so the suite must fail (exit 1)
  with a breaking finding for each of them, and no breaking finding for any other rule (``Profile.also``
  lists the rules its drift necessarily breaks as well);
- conforming (``pass``): it stays inside what Microsoft's documents allow (the register's alternatives
  included), so the suite must pass (exit 0) with no breaking finding, and without skipping a check the
  data do not explain (a pass that rests on skips proves nothing);
- inconclusive: the target keeps the suite from checking (503 or 429 for the whole run), so the suite must
  end inconclusive (exit 2) with no breaking finding, never pass.

Each run covers the APIs the profile changes (``apis_of``: a Partner Center profile runs the Partner
Center tests). Seeds: every profile is run with one Hypothesis seed by default, picked from ``SEEDS`` so
that the profiles spread over all of them (``RECON_SELF_SEED_OFFSET`` rotates the pick, e.g. per CI run);
``RECON_SELF_SEEDS=all`` runs every profile with every seed (the full sweep, marked ``slow``).

Each profile runs in its own ``python -m pytest tests/contract`` subprocess, so the contract suite
is exercised exactly as a user runs it. Every test writes its result as one small JSON row into a
folder of the current run; the controller (also under pytest-xdist) gathers the rows at the end
and prints the table, writes ``self-verification.json`` and ``self-verification.md`` into the
report dir and states the mutation score and the false-positive count.

Environment:
  RECON_SELF_PROFILES  comma-separated profile names to verify (default: every profile)
  RECON_SELF_SEEDS     seeds per profile: a number from 1 to 5 (default 1), "all" (= 5), or a comma-separated
                       list of seeds to run every profile with
  RECON_SELF_SEED_OFFSET  rotates which seed a profile gets when fewer than all run (default 0)
  RECON_SELF_TIMEOUT   seconds one suite run may take before it is killed (default 240)
  RECON_REPORT_DIR     report dir (or --report-dir); default "reports"
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path
from collections.abc import Callable
from typing import Any

import pytest

from recon_contracts.truth.resources import project_root

SELF_DIR = "self-verification"
PROFILES_ENV = "RECON_SELF_PROFILES"
SEEDS_ENV = "RECON_SELF_SEEDS"
OFFSET_ENV = "RECON_SELF_SEED_OFFSET"
TIMEOUT_ENV = "RECON_SELF_TIMEOUT"
# Five spread-out Hypothesis seeds; a full sweep runs every profile with all of them.
SEEDS = (0, 7919, 104729, 1299709, 15485863)
DEFAULT_TIMEOUT = 240.0
EXAMPLES = 4
MOCK_ITEMS = 12
# Walks follow empty pages that still link on (no document forbids them), so an endless walk ends only at
# the page budget: a small one keeps pc-endless-paging quick. Walk sizes adapt to fit it.
PAGE_BUDGET = 20
TAIL_LINES = 60

# The embedded mock runs with poll_count=2 and retry_after=1 (see the plugin's ``target`` fixture).
# slow-operation keeps an operation running for 5 more polls, i.e. about 7 polls of ~1 s each, so
# 15 s lets it finish with room to spare; gr-never-finishes never ends, and every lifecycle test
# waits out the whole timeout on it, so that one gets the smallest timeout that still proves the
# rule. Every other profile gets a bound too, so that no run can wait the default 180 s.
POLL_TIMEOUT = {"slow-operation": 15.0, "gr-never-finishes": 4.0, "pc-unavailable-forever": 4.0, "throttled-forever": 4.0,
                "unavailable-after-start": 4.0, "throttled-after-start": 4.0}
DEFAULT_POLL_TIMEOUT = 15.0

# Run the slowest profiles first, so that under xdist they do not end up last on one worker.
SLOW_FIRST = ("gr-never-finishes", "unavailable-after-start", "throttled-after-start", "slow-operation", "throttled",
              "transport-variants", "pc-thousands", "pc-refund-among-thousands", "unavailable-once")

# Skips the data explain (too few or too many items for a comparison, no data to export): they keep a
# pass. Any other skip on a conforming profile means the suite passed without checking.
DATA_SKIPS = (
    (r"more than 2000 line items", None),
    (r"at most one line item", None),
    (r"did not succeed|no readable JSON lines|no blobs", "none"),  # only when the tenant has no data
)

# Environment that would point the subprocess away from the embedded mock, change its gate or
# its pytest options: the self-verification always tests the mock, with fixed options.
_SCRUBBED_PREFIXES = ("RECON_", "PYTEST_")
_KEPT = {"RECON_CONTRACTS_HOME"}

_RUN_ID = pytest.StashKey[str]()
_STARTED = pytest.StashKey[float]()


# ---------------------------------------------------------------------------- which profiles


def all_profiles() -> dict[str, Any]:
    from recon_contracts.mock import PROFILES

    return dict(PROFILES)


def selected_profiles() -> list[str]:
    """Profile names to verify, slowest first: RECON_SELF_PROFILES, or every profile."""
    profiles = all_profiles()
    raw = os.environ.get(PROFILES_ENV, "").strip()
    if raw:
        names = [n.strip() for n in raw.split(",") if n.strip()]
        unknown = [n for n in names if n not in profiles]
        if unknown:
            raise pytest.UsageError(f"{PROFILES_ENV}: unknown profile(s) {', '.join(unknown)}; known: {', '.join(profiles)}")
    else:
        names = list(profiles)
    return sorted(names, key=lambda n: (SLOW_FIRST.index(n) if n in SLOW_FIRST else len(SLOW_FIRST)))


def seed_plan() -> tuple[int, ...] | int:
    """RECON_SELF_SEEDS: how many seeds per profile (an int), or an explicit tuple of seeds."""
    raw = os.environ.get(SEEDS_ENV, "").strip().lower()
    if not raw:
        return 1
    if raw == "all":
        return len(SEEDS)
    if "," in raw or (raw.isdigit() and int(raw) > len(SEEDS)):
        try:
            seeds = tuple(int(part) for part in raw.split(",") if part.strip())
        except ValueError:
            raise pytest.UsageError(f"{SEEDS_ENV}: expected 1-{len(SEEDS)}, 'all' or seeds like 3,17; got {raw!r}") from None
        if not seeds or any(s < 0 for s in seeds):
            raise pytest.UsageError(f"{SEEDS_ENV}: seeds must be 0 or more; got {raw!r}")
        return seeds
    if not raw.isdigit() or int(raw) < 1:
        raise pytest.UsageError(f"{SEEDS_ENV}: expected 1-{len(SEEDS)}, 'all' or seeds like 3,17; got {raw!r}")
    return int(raw)


def seed_offset() -> int:
    raw = os.environ.get(OFFSET_ENV, "").strip()
    if not raw:
        return 0
    if not raw.isdigit():
        raise pytest.UsageError(f"{OFFSET_ENV} expects a whole number, got {raw!r}")
    return int(raw)


def seeds_for(name: str) -> list[tuple[int, bool]]:
    """(seed, extra) pairs for a profile: its own seed first, then (extra=True) the rest of the sweep."""
    plan = seed_plan()
    if isinstance(plan, tuple):
        return [(seed, i > 0) for i, seed in enumerate(plan)]
    index = list(all_profiles()).index(name)
    start = (index + seed_offset()) % len(SEEDS)
    rotated = SEEDS[start:] + SEEDS[:start]
    return [(seed, i > 0) for i, seed in enumerate(rotated[:plan])]


def poll_timeout_for(name: str) -> float:
    return POLL_TIMEOUT.get(name, DEFAULT_POLL_TIMEOUT)


def run_timeout() -> float:
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        raise pytest.UsageError(f"{TIMEOUT_ENV} expects seconds, got {raw!r}") from None
    if not value > 0 or value == float("inf"):  # nan and inf are no bound on a suite run
        raise pytest.UsageError(f"{TIMEOUT_ENV} must be greater than 0 and finite, got {raw!r}")
    return value


# ---------------------------------------------------------------------------- where things go


def report_dir(config: pytest.Config) -> Path:
    """The report dir of this run (--report-dir, RECON_REPORT_DIR or "reports"), absolute."""
    raw = config.getoption("recon_report_dir", default=None) or os.environ.get("RECON_REPORT_DIR") or "reports"
    path = Path(raw)
    return path if path.is_absolute() else (config.invocation_params.dir / path).resolve()


def rows_root(config: pytest.Config) -> Path:
    return report_dir(config) / SELF_DIR / "rows"


def rows_dir(config: pytest.Config) -> Path:
    return rows_root(config) / config.stash[_RUN_ID]


def runs_dir(config: pytest.Config) -> Path:
    """Each profile's own report dir (summary.json, junit.xml, output.txt) lives below this one."""
    return report_dir(config) / SELF_DIR / "runs"


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get(PROFILES_ENV, "").strip():
        selected_profiles()  # a misspelt profile name is a usage error before anything runs
    run_timeout()
    seed_plan()
    seed_offset()
    if _is_worker(config):
        workerinput = config.workerinput  # type: ignore[attr-defined]
        config.stash[_RUN_ID] = workerinput.get("recon_self_run_id") or workerinput.get("testrun_uid") or "local"
        return
    config.stash[_RUN_ID] = time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
    config.stash[_STARTED] = time.time()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist: hand the controller's run id to each worker, so every row lands in one folder."""
    node.workerinput["recon_self_run_id"] = node.config.stash[_RUN_ID]


def _clear_old_rows(config: pytest.Config) -> None:
    root = rows_root(config)
    if root.is_dir():
        for child in root.iterdir():
            if child.name != config.stash[_RUN_ID]:
                shutil.rmtree(child, ignore_errors=True)


def pytest_sessionstart(session: pytest.Session) -> None:
    if not _is_worker(session.config):
        _clear_old_rows(session.config)


# ---------------------------------------------------------------------------- one suite run


@dataclass
class SuiteRun:
    """What one ``pytest tests/contract`` subprocess did."""

    profile: str
    seed: int
    command: list[str]
    exit_code: int | None  # None: killed after the timeout
    seconds: float
    output: str
    report_dir: Path
    summary: dict[str, Any] | None
    summary_error: str | None = None

    @property
    def timed_out(self) -> bool:
        return self.exit_code is None

    def findings(self) -> list[dict[str, Any]]:
        return findings_in(self.summary) if self.summary is not None else []

    def tail(self, lines: int = TAIL_LINES) -> str:
        return "\n".join(self.output.rstrip().splitlines()[-lines:])

    def skips(self) -> list[str]:
        """``test: reason`` of every skipped test of the run (from its junit.xml)."""
        return skips_in(self.report_dir / "junit.xml")


def skips_in(junit: Path) -> list[str]:
    if not junit.is_file():
        return []
    try:
        root = ET.parse(junit).getroot()
    except (ET.ParseError, OSError):
        return ["(junit.xml is not readable)"]
    out = []
    for case in root.iter("testcase"):
        skipped = case.find("skipped")
        if skipped is not None:
            reason = skipped.get("message") or (skipped.text or "").strip() or "no reason given"
            out.append(f"{case.get('name')}: {reason}")
    return out

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


def api_marker(profile: Any) -> list[str]:
    """``-m partner_center`` or ``-m graph`` when the profile changes one API only (the other is conforming)."""
    from recon_contracts.mock.profiles import apis_of

    apis = apis_of(profile)
    if apis == {"partner-center"}:
        return ["-m", "partner_center"]
    if apis == {"graph"}:
        return ["-m", "graph"]
    return []


def suite_command(profile: str, report_to: Path, root: Path, seed: int = 0) -> list[str]:
    return [
        sys.executable, "-m", "pytest", "tests/contract",
        *api_marker(all_profiles()[profile]),
        "--mock-profile", profile,
        "--seed", str(seed),
        "--report-dir", str(report_to),
        "--examples", str(EXAMPLES),
        "--mock-items", str(MOCK_ITEMS),
        "--page-budget", str(PAGE_BUDGET),
        "--poll-timeout", f"{poll_timeout_for(profile):g}",
        "-q", "-p", "no:xdist", "-p", "no:cacheprovider", "-p", "no:randomly",
        "--rootdir", str(root),
    ]


def suite_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in _KEPT or not k.startswith(_SCRUBBED_PREFIXES)}
    env["CI"] = "true"  # derandomized: the same examples every time
    # these runs are read through summary.json: link rules to a published reference instead of writing a copy
    # of it beside every run's reports (about 0.8 s of CPU a run)
    env["RECON_DOCS_URL"] = "https://example.invalid/recon-contracts/reference/index.html"
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def run_suite(profile: str, report_to: Path, *, timeout: float, seed: int = 0) -> SuiteRun:
    """Run the contract suite against the embedded mock with ``profile`` and Hypothesis ``seed``; never hangs."""
    root = project_root()
    if report_to.exists():
        shutil.rmtree(report_to)  # a stale summary.json must never be read as this run's
    report_to.mkdir(parents=True)
    command = suite_command(profile, report_to, root, seed)
    started = time.monotonic()
    process = subprocess.Popen(
        command, cwd=root, env=suite_env(), stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        out, _ = process.communicate(timeout=timeout)
        exit_code: int | None = process.returncode
    except subprocess.TimeoutExpired:
        _kill_group(process)
        out, _ = process.communicate()
        exit_code = None
        out = (out or b"") + f"\n[self-verification] killed after {timeout:g} s\n".encode()
    seconds = time.monotonic() - started
    output = (out or b"").decode("utf-8", "replace")
    (report_to / "output.txt").write_text(output, encoding="utf-8")
    summary, error = _read_summary(report_to / "summary.json")
    return SuiteRun(profile, seed, command, exit_code, seconds, output, report_to, summary, error)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()


def _read_summary(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    if not path.is_file():
        return None, f"no {path.name} was written"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return None, f"{path.name} is not readable JSON: {exc}"
    if not isinstance(data, dict):
        return None, f"{path.name} is not a JSON object"
    return data, None


# ---------------------------------------------------------------------------- the verdict on a run


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


def expected_text(breaks: list[str], expect: str = "") -> str:
    if expect == "inconclusive":
        return "inconclusive"
    return f"fail: {', '.join(breaks)}" if breaks else "pass"


def unexplained(skips: list[str], profile: Any) -> list[str]:
    """The skips the data do not explain (see DATA_SKIPS)."""
    volume = getattr(getattr(profile, "knobs", None), "data_volume", None)
    out = []
    for skip in skips:
        if not any(re.search(pattern, skip) and (needs is None or needs == volume) for pattern, needs in DATA_SKIPS):
            out.append(skip)
    return out


def offline_breaking(run: SuiteRun) -> list[str] | None:
    """The breaking rules the offline check (``recon-contracts check``) finds in the run's own traffic.har."""
    from recon_contracts.checks.recorded import check_recorded
    from recon_contracts.traffic.har import HarError, read_har

    har = run.report_dir / "traffic.har"
    if not har.is_file():
        return None
    try:
        recorded = read_har([har])
    except HarError:
        return None
    return sorted({f.rule for f in check_recorded(recorded.exchanges).findings if f.severity == "breaking"})


# drift that a recording cannot show, though its rule is checked offline otherwise
OFFLINE_BLIND = {
    "pc-endless-paging": "an endless walk shows only as the page budget reached, and a recording may stop anywhere",
}


def judge_offline(profile: Any, run: SuiteRun, live: list[str]) -> tuple[list[str] | None, list[str]]:
    """The same traffic checked offline must agree with the live run: a conforming profile's HAR passes, a drift
    profile's HAR shows every declared rule that needs no new request, and nothing the live run did not find."""
    from recon_contracts.checks.recorded import NEEDS_NEW_REQUEST

    if getattr(profile, "expect", "") == "inconclusive" or run.timed_out:
        return None, []
    found = offline_breaking(run)
    if found is None:
        return None, ["the run wrote no readable traffic.har"]
    problems = []
    wanted = [] if profile.name in OFFLINE_BLIND else [r for r in profile.breaks if r not in NEEDS_NEW_REQUEST]
    missed = [r for r in wanted if r not in found]
    if missed:
        problems.append(f"offline check of traffic.har missed {', '.join(missed)}")
    extra = [r for r in found if r not in live and r not in profile.breaks and r not in getattr(profile, "also", ())]
    if extra:
        problems.append(f"offline check of traffic.har found what the live run did not: {', '.join(extra)}")
    return found, problems


def judge(profile: Any, run: SuiteRun, *, base: Path | None = None) -> Row:
    """Compare a suite run with what the profile declares."""
    breaks = sorted(profile.breaks)
    expect = getattr(profile, "expect", "pass" if profile.conforming and not breaks else "fail")
    drift = expect == "fail" or bool(breaks)
    inconclusive = expect == "inconclusive"
    found = run.findings()
    breaking_found = sorted({f["rule"] for f in found if f.get("severity") == "breaking"})
    other_found = sorted({f"{f['rule']} ({f.get('severity', '?')})" for f in found if f.get("severity") != "breaking"})
    problems: list[str] = []
    if run.timed_out:
        problems.append(f"the suite did not finish within the timeout ({run.seconds:.0f} s); killed")
    if run.summary_error:
        problems.append(run.summary_error)
    missing = [r for r in breaks if r not in breaking_found]
    also = set(getattr(profile, "also", ()))
    unexpected = [r for r in breaking_found if r not in breaks and r not in also]
    skips = run.skips()
    unexplained_skips = unexplained(skips, profile)
    verdict = str((run.summary or {}).get("verdict", ""))
    if inconclusive:
        # the target keeps the suite from checking: exit 2, verdict inconclusive, the declared rules unproven
        summary = run.summary or {}
        if run.exit_code != 2:
            problems.append(f"expected exit 2 (inconclusive), got {_exit_text(run.exit_code)}")
        if summary.get("verdict") != "inconclusive":
            problems.append(f"expected verdict inconclusive, got {summary.get('verdict')!r}")
        not_listed = [r for r in getattr(profile, "unproves", ()) if r not in (summary.get("unproven_rules") or [])]
        if not_listed:
            problems.append(f"not reported as unproven: {', '.join(not_listed)}")
        if breaking_found:
            problems.append(f"breaking finding(s) on a target that is only slow or unavailable: {', '.join(breaking_found)}")
    elif drift:
        if run.exit_code != 1:
            problems.append(f"expected exit 1, got {_exit_text(run.exit_code)}")
        if missing:
            problems.append(f"no breaking finding for {', '.join(missing)}")
        if unexpected:
            problems.append(f"breaking finding(s) for rules the profile does not break: {', '.join(unexpected)}")
        if not breaks:
            problems.append("a drift profile that declares no rule")
    else:
        if run.exit_code != 0:
            problems.append(f"expected exit 0, got {_exit_text(run.exit_code)}")
        if breaking_found:
            problems.append(f"breaking finding(s) on a conforming profile: {', '.join(breaking_found)}")
        if unexplained_skips:
            problems.append(f"passed by skipping {len(unexplained_skips)} check(s) the data do not explain: "
                            + "; ".join(unexplained_skips))
    offline_found, offline_problems = judge_offline(profile, run, breaking_found)
    problems += offline_problems
    if run.timed_out:
        got = "timeout"
    elif run.exit_code == 2 and (run.summary or {}).get("verdict") == "inconclusive":
        got = "inconclusive: " + ", ".join((run.summary or {}).get("unproven_rules") or [])
    elif run.exit_code == 0 and not breaking_found:
        got = f"pass ({len(skips)} skipped)" if skips else "pass"
    elif run.exit_code in (0, 1):
        got = f"fail: {', '.join(breaking_found)}" if breaking_found else f"fail ({_exit_text(run.exit_code)}, no breaking finding)"
    else:
        got = f"error ({_exit_text(run.exit_code)})"
    where = run.report_dir
    if base is not None:
        try:
            where = run.report_dir.relative_to(base)
        except ValueError:
            pass
    return Row(
        profile=profile.name,
        kind="drift" if drift else "inconclusive" if inconclusive else "conforming",
        breaks=breaks,
        expected=("inconclusive: " + ", ".join(profile.unproves)) if inconclusive and getattr(profile, "unproves", ())
        else expected_text(breaks, expect),
        got=got,
        ok=not problems,
        seconds=round(run.seconds, 1),
        exit_code=run.exit_code,
        breaking_found=breaking_found,
        other_found=other_found,
        missing=missing,
        unexpected=unexpected,
        problems=problems,
        tests=dict((run.summary or {}).get("tests") or {}),
        poll_timeout=poll_timeout_for(profile.name),
        report_dir=str(where),
        seed=run.seed,
        verdict=verdict,
        skips=skips,
        unexplained_skips=unexplained_skips,
        offline_found=offline_found,
    )


def _exit_text(code: int | None) -> str:
    return "no exit (killed)" if code is None else f"exit {code}"


def failure_message(row: Row, run: SuiteRun) -> str:
    lines = [
        f"profile {row.profile} ({row.kind}, seed {row.seed}): expected {row.expected}; got {row.got} "
        f"({_exit_text(row.exit_code)})",
        *[f"  - {p}" for p in row.problems],
        f"  breaking rules found: {', '.join(row.breaking_found) or 'none'}",
        f"  other findings: {', '.join(row.other_found) or 'none'}",
        f"  reports: {run.report_dir} (summary.json, output.txt)",
        f"  command: {' '.join(run.command)}",
        f"  last {TAIL_LINES} lines of the run:",
        run.tail(),
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------------------- rows and the table


def write_row(config: pytest.Config, row: Row) -> Path:
    folder = rows_dir(config)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{row.profile}@{row.seed}.json"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(row.to_dict(), indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def load_rows(folder: Path) -> list[dict[str, Any]]:
    rows = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            rows.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    try:
        order = {name: i for i, name in enumerate(all_profiles())}
    except ImportError:
        order = {}
    return sorted(rows, key=lambda r: (order.get(r.get("profile"), len(order)), r.get("profile", ""), r.get("seed", 0)))


def totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per profile: ok only when every seed it ran with was ok."""
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


def _seeds_text(t: dict[str, Any]) -> str:
    per = t.get("seeds_per_profile") or [1]
    per_text = str(per[0]) if len(per) == 1 else f"{per[0]}-{per[-1]}"
    return (f"{t['profiles']} profiles x {per_text} Hypothesis seed(s) each = {t.get('runs', t['profiles'])} suite runs "
            f"(seeds used: {', '.join(map(str, t.get('seeds', [])))})")


def _score_text(t: dict[str, Any]) -> str:
    pct = f" ({t['mutation_score'] * 100:.0f}%)" if t["mutation_score"] is not None else ""
    text = (f"mutation score {t['drift_caught']}/{t['drift_profiles']}{pct} drift profiles caught; "
            f"false positives {t['false_positives']}/{t['conforming_profiles']} conforming profiles")
    if t.get("inconclusive_profiles"):
        text += f"; inconclusive {t['inconclusive_ok']}/{t['inconclusive_profiles']} unproven profiles ended exit 2"
    return text + f"; over {_seeds_text(t)}"


def render_text(rows: list[dict[str, Any]], t: dict[str, Any]) -> str:
    header = ("PROFILE", "SEED", "EXPECTED", "GOT", "OK", "TIME")
    def cell(text: str, width: int = 48) -> str:  # long lists of unproven rules stay readable: the .md has them whole
        return text if len(text) <= width else text[: width - 3] + "..."

    body = [(r["profile"], str(r.get("seed", 0)), cell(r["expected"]), cell(r["got"]), "ok" if r["ok"] else "MISS",
             f"{r['seconds']:.1f}s") for r in rows]
    widths = [max(len(h), *(len(line[i]) for line in body)) for i, h in enumerate(header)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*header), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*line) for line in body]
    lines.append("")
    lines.append(_score_text(t))
    wall = t.get("session_seconds")
    lines.append(f"suite runs: {t['suite_seconds_total']:.1f} s in total" + (f"; wall time {wall:.1f} s" if wall else ""))
    for r in rows:
        if not r["ok"]:
            lines.append(f"MISS {r['profile']} (seed {r.get('seed', 0)}): " + "; ".join(r["problems"])
                         + f" (reports: {r['report_dir']})")
    return "\n".join(lines)


def render_markdown(rows: list[dict[str, Any]], t: dict[str, Any]) -> str:
    lines = [
        "# Self-verification",
        "",
        "The contract suite run against every profile of the mock: a drift profile must fail with a breaking "
        "finding for each rule it breaks and none for another; a conforming profile (the silent-point register's "
        "alternatives included) must pass with no breaking finding and no skip the data do not explain; an "
        "inconclusive profile (a target that only asks to retry later) must end inconclusive (exit 2).",
        "",
        f"**{_score_text(t)}.**",
        "",
        "| profile | kind | seed | expected | got | ok | skips | time (s) | other findings |",
        "|---|---|---:|---|---|---|---:|---:|---|",
    ]
    for r in rows:
        other = ", ".join(r["other_found"]) or "-"
        lines.append(f"| {r['profile']} | {r['kind']} | {r.get('seed', 0)} | {r['expected']} | {r['got']} | "
                     f"{'ok' if r['ok'] else '**MISS**'} | {len(r.get('skips', []))} | {r['seconds']:.1f} | {other} |")
    lines.append("")
    wall = t.get("session_seconds")
    lines.append(f"Suite runs took {t['suite_seconds_total']:.1f} s in total" + (f", {wall:.1f} s of wall time." if wall else "."))
    misses = [r for r in rows if not r["ok"]]
    if misses:
        lines += ["", "## Misses", ""]
        for r in misses:
            lines.append(f"- **{r['profile']}** (seed {r.get('seed', 0)}): " + "; ".join(r["problems"])
                         + f" (reports: `{r['report_dir']}`)")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------- pytest glue


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One test per profile and seed (RECON_SELF_PROFILES, RECON_SELF_SEEDS), slowest first; extra seeds are slow."""
    if "profile_name" in metafunc.fixturenames and "seed" in metafunc.fixturenames:
        params = []
        for name in selected_profiles():
            for seed, extra in seeds_for(name):
                marks = [pytest.mark.slow] if extra else []
                params.append(pytest.param(name, seed, id=f"{name}-seed{seed}", marks=marks))
        metafunc.parametrize(("profile_name", "seed"), params)
    elif "profile_name" in metafunc.fixturenames:
        metafunc.parametrize("profile_name", selected_profiles())


@pytest.fixture
def verify_profile(request: pytest.FixtureRequest) -> Callable[..., tuple[Row, str]]:
    """Run the suite against one profile with one seed, record its row; returns the row and a failure message."""
    config = request.config

    def verify(name: str, seed: int = 0) -> tuple[Row, str]:
        profile = all_profiles()[name]
        run = run_suite(name, runs_dir(config) / name / f"seed-{seed}", timeout=run_timeout(), seed=seed)
        row = judge(profile, run, base=report_dir(config))
        write_row(config, row)
        return row, failure_message(row, run)

    return verify


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if _is_worker(config) or _RUN_ID not in config.stash:
        return
    rows = load_rows(rows_dir(config))
    if not rows:
        return
    t = totals(rows)
    if _STARTED in config.stash:
        t["session_seconds"] = round(time.time() - config.stash[_STARTED], 1)
    t["workers"] = getattr(config.option, "numprocesses", None) or 0
    out = report_dir(config)
    out.mkdir(parents=True, exist_ok=True)
    document = {"run_id": config.stash[_RUN_ID], "totals": t, "rows": rows,
                "settings": {"examples": EXAMPLES, "mock_items": MOCK_ITEMS, "poll_timeout": POLL_TIMEOUT,
                             "default_poll_timeout": DEFAULT_POLL_TIMEOUT, "seeds": list(SEEDS),
                             "seed_plan": os.environ.get(SEEDS_ENV, "1"), "seed_offset": seed_offset()}}
    (out / "self-verification.json").write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    (out / "self-verification.md").write_text(render_markdown(rows, t), encoding="utf-8")
    terminalreporter.write_sep("=", "self-verification")
    terminalreporter.write_line(render_text(rows, t))
    terminalreporter.write_line(f"written: {out / 'self-verification.md'} and {out / 'self-verification.json'}")
