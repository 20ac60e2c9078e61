"""Self-verification harness: run the contract suite against every profile of the mock, with several seeds.

A profile says what the suite must conclude (``Profile.expect``): a drift profile fails with a breaking
finding for each rule it declares and none for another, a conforming profile passes without a skip the data
do not explain, an inconclusive one ends exit 2. The verdict on one run and the headline figures are pure
functions of tests/support/judge.py (unit-tested in tests/unit/test_judge.py); this harness starts the runs
(tests/support/suiteproc.py), reads their files and writes the table.

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
import shutil
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from recon_contracts.truth.resources import project_root
from support.judge import Declared, Observed, Row, declared, exit_text, judge, totals
from support.suiteproc import Finished, argv_of_pytest, run, scrubbed_env

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
    return argv_of_pytest(
        "tests/contract",
        *api_marker(all_profiles()[profile]),
        "--mock-profile", profile,
        "--seed", str(seed),
        "--report-dir", str(report_to),
        "--examples", str(EXAMPLES),
        "--mock-items", str(MOCK_ITEMS),
        # an export's running polls ask for no wait: what the runs prove is the same, the sleeps go
        # (Retry-After's forms and honouring are the register's and the fault suite's own cases)
        "--mock-retry-after", "0",
        "--page-budget", str(PAGE_BUDGET),
        "--poll-timeout", f"{poll_timeout_for(profile):g}",
        "-q", "-p", "no:xdist", "-p", "no:cacheprovider", "-p", "no:randomly",
        "--rootdir", str(root),
    )


def suite_env() -> dict[str, str]:
    # CI: derandomized, the same examples every time. These runs are read through summary.json: rules link to a
    # published reference instead of a copy written beside every run's reports (about 0.8 s of CPU a run).
    return scrubbed_env(CI="true", RECON_DOCS_URL="https://example.invalid/recon-contracts/reference/index.html")


def run_suite(profile: str, report_to: Path, *, timeout: float, seed: int = 0) -> Finished:
    """Run the contract suite against the embedded mock with ``profile`` and Hypothesis ``seed``; never hangs."""
    root = project_root()
    if report_to.exists():
        shutil.rmtree(report_to)  # a stale summary.json must never be read as this run's
    report_to.mkdir(parents=True)
    return run(suite_command(profile, report_to, root, seed), cwd=root, timeout=timeout, env=suite_env(),
               report_dir=report_to, output_file=report_to / "output.txt")


def offline_breaking(report_to: Path) -> tuple[str, ...] | None:
    """The breaking rules the offline check (``recon-contracts check``) finds in the run's own traffic.har."""
    from recon_contracts.checks.recorded import check_recorded
    from recon_contracts.traffic.har import HarError, read_har

    har = report_to / "traffic.har"
    if not har.is_file():
        return None
    try:
        recorded = read_har([har])
    except HarError:
        return None
    return tuple(sorted({f.rule for f in check_recorded(recorded.exchanges).findings if f.severity == "breaking"}))


def observe(profile: Declared, finished: Finished, seed: int, base: Path | None = None) -> Observed:
    """What the run did, read from its report dir (the offline check only where the judge reads it)."""
    assert finished.report_dir is not None
    where = finished.report_dir
    if base is not None and where.is_relative_to(base):
        where = where.relative_to(base)
    offline = None
    if profile.expect != "inconclusive" and finished.ended:
        offline = offline_breaking(finished.report_dir)
    return Observed(exit_code=finished.code, summary=finished.summary, summary_error=finished.summary_error,
                    skips=tuple(skips_in(finished.report_dir / "junit.xml")), offline_found=offline,
                    seconds=finished.seconds, seed=seed, report_dir=str(where),
                    silent_points=_silent_points(finished.report_dir / "observed.json"))


def _silent_points(path: Path) -> dict[str, list[str]] | None:
    """The answers observed at each silent point (observed.json), or None when the run wrote none."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    points = data.get("silent_points") if isinstance(data, dict) else None
    return {str(k): [str(a) for a in v] for k, v in points.items()} if isinstance(points, dict) else None


def failure_message(row: Row, run: Finished) -> str:
    lines = [
        f"profile {row.profile} ({row.kind}, seed {row.seed}): expected {row.expected}; got {row.got} "
        f"({exit_text(row.exit_code)})",
        *[f"  - {p}" for p in row.problems],
        f"  breaking rules found: {', '.join(row.breaking_found) or 'none'}",
        f"  other findings: {', '.join(row.other_found) or 'none'}",
        f"  reports: {run.report_dir} (summary.json, output.txt)",
        f"  command: {' '.join(run.command)}",
        f"  last {TAIL_LINES} lines of the run:",
        run.tail(TAIL_LINES),
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
        from recon_contracts.checks.recorded import NOT_IN_RECORDINGS

        profile = declared(all_profiles()[name])
        finished = run_suite(name, runs_dir(config) / name / f"seed-{seed}", timeout=run_timeout(), seed=seed)
        row = judge(profile, observe(profile, finished, seed, report_dir(config)), needs_new_request=NOT_IN_RECORDINGS,
                    poll_timeout=poll_timeout_for(name))
        write_row(config, row)
        return row, failure_message(row, finished)

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
