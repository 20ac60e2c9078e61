"""Self-verification harness: run the contract suite against every profile of the mock.

A drift profile breaks the rules it declares (``Profile.breaks``), so the suite must fail on it
(exit 1) with a breaking finding for each of them in ``summary.json``. A conforming profile stays
inside what Microsoft's documents show, so the suite must pass on it (exit 0) with no breaking
finding; additive and advisory findings are allowed.

Each profile runs in its own ``python -m pytest tests/contract`` subprocess, so the contract suite
is exercised exactly as a user runs it. Every test writes its result as one small JSON row into a
folder of the current run; the controller (also under pytest-xdist) gathers the rows at the end
and prints the table, writes ``self-verification.json`` and ``self-verification.md`` into the
report dir and states the mutation score and the false-positive count.

Environment:
  RECON_SELF_PROFILES  comma-separated profile names to verify (default: every profile)
  RECON_SELF_TIMEOUT   seconds one suite run may take before it is killed (default 240)
  RECON_REPORT_DIR     report dir (or --report-dir); default "reports"
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from collections.abc import Callable
from typing import Any

import pytest

from recon_contracts.truth.resources import project_root

SELF_DIR = "self-verification"
PROFILES_ENV = "RECON_SELF_PROFILES"
TIMEOUT_ENV = "RECON_SELF_TIMEOUT"
DEFAULT_TIMEOUT = 240.0
EXAMPLES = 4
MOCK_ITEMS = 12
TAIL_LINES = 60

# The embedded mock runs with poll_count=2 and retry_after=1 (see the plugin's ``target`` fixture).
# slow-operation keeps an operation running for 5 more polls, i.e. about 7 polls of ~1 s each, so
# 15 s lets it finish with room to spare; gr-never-finishes never ends, and every lifecycle test
# waits out the whole timeout on it, so that one gets the smallest timeout that still proves the
# rule. Every other profile gets a bound too, so that no run can wait the default 180 s.
POLL_TIMEOUT = {"slow-operation": 15.0, "gr-never-finishes": 4.0, "pc-unavailable-forever": 4.0}
DEFAULT_POLL_TIMEOUT = 15.0

# Run the slowest profiles first, so that under xdist they do not end up last on one worker.
SLOW_FIRST = ("gr-never-finishes", "pc-unavailable-forever", "slow-operation", "throttled", "unavailable-once")

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


def suite_command(profile: str, report_to: Path, root: Path) -> list[str]:
    return [
        sys.executable, "-m", "pytest", "tests/contract",
        "--mock-profile", profile,
        "--report-dir", str(report_to),
        "--examples", str(EXAMPLES),
        "--mock-items", str(MOCK_ITEMS),
        "--poll-timeout", f"{poll_timeout_for(profile):g}",
        "-q", "-p", "no:xdist", "-p", "no:cacheprovider", "-p", "no:randomly",
        "--rootdir", str(root),
    ]


def suite_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in _KEPT or not k.startswith(_SCRUBBED_PREFIXES)}
    env["CI"] = "true"  # derandomized: the same examples every time
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def run_suite(profile: str, report_to: Path, *, timeout: float) -> SuiteRun:
    """Run the contract suite against the embedded mock with ``profile``; never hangs."""
    root = project_root()
    if report_to.exists():
        shutil.rmtree(report_to)  # a stale summary.json must never be read as this run's
    report_to.mkdir(parents=True)
    command = suite_command(profile, report_to, root)
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
    return SuiteRun(profile, command, exit_code, seconds, output, report_to, summary, error)


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
    kind: str  # "drift" | "conforming"
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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def expected_text(breaks: list[str]) -> str:
    return f"fail: {', '.join(breaks)}" if breaks else "pass"


def judge(profile: Any, run: SuiteRun, *, base: Path | None = None) -> Row:
    """Compare a suite run with what the profile declares."""
    breaks = sorted(profile.breaks)
    inconclusive = getattr(profile, "kind", "") == "inconclusive"
    drift = (bool(breaks) or not profile.conforming) and not inconclusive
    found = run.findings()
    breaking_found = sorted({f["rule"] for f in found if f.get("severity") == "breaking"})
    other_found = sorted({f"{f['rule']} ({f.get('severity', '?')})" for f in found if f.get("severity") != "breaking"})
    problems: list[str] = []
    if run.timed_out:
        problems.append(f"the suite did not finish within the timeout ({run.seconds:.0f} s); killed")
    if run.summary_error:
        problems.append(run.summary_error)
    missing = [r for r in breaks if r not in breaking_found]
    unexpected = [r for r in breaking_found if r not in breaks]
    if inconclusive:
        # the target keeps the suite from checking: exit 2, verdict inconclusive, the declared rules unproven
        summary = run.summary or {}
        if run.exit_code != 2:
            problems.append(f"expected exit 2 (inconclusive), got {_exit_text(run.exit_code)}")
        if summary.get("verdict") != "inconclusive":
            problems.append(f"expected verdict inconclusive, got {summary.get('verdict')!r}")
        not_listed = [r for r in profile.unproves if r not in (summary.get("unproven_rules") or [])]
        if not_listed:
            problems.append(f"not reported as unproven: {', '.join(not_listed)}")
        if breaking_found:
            problems.append(f"breaking finding(s) on a target that is only slow or unavailable: {', '.join(breaking_found)}")
    elif drift:
        if run.exit_code != 1:
            problems.append(f"expected exit 1, got {_exit_text(run.exit_code)}")
        if missing:
            problems.append(f"no breaking finding for {', '.join(missing)}")
        if not breaks:
            problems.append("a drift profile that declares no rule")
    else:
        if run.exit_code != 0:
            problems.append(f"expected exit 0, got {_exit_text(run.exit_code)}")
        if breaking_found:
            problems.append(f"breaking finding(s) on a conforming profile: {', '.join(breaking_found)}")
    if run.timed_out:
        got = "timeout"
    elif run.exit_code == 2 and (run.summary or {}).get("verdict") == "inconclusive":
        got = "inconclusive: " + ", ".join((run.summary or {}).get("unproven_rules") or [])
    elif run.exit_code == 0 and not breaking_found:
        got = "pass"
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
        kind="inconclusive" if inconclusive else ("drift" if drift else "conforming"),
        breaks=breaks,
        expected=("inconclusive: " + ", ".join(profile.unproves)) if inconclusive else expected_text(breaks),
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
    )


def _exit_text(code: int | None) -> str:
    return "no exit (killed)" if code is None else f"exit {code}"


def failure_message(row: Row, run: SuiteRun) -> str:
    lines = [
        f"profile {row.profile} ({row.kind}): expected {row.expected}; got {row.got} ({_exit_text(row.exit_code)})",
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
    path = folder / f"{row.profile}.json"
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
    return sorted(rows, key=lambda r: (order.get(r.get("profile"), len(order)), r.get("profile", "")))


def totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    drift = [r for r in rows if r["kind"] == "drift"]
    conforming = [r for r in rows if r["kind"] == "conforming"]
    caught = [r for r in drift if r["ok"]]
    false_positives = [r for r in conforming if not r["ok"]]
    return {
        "profiles": len(rows),
        "drift_profiles": len(drift),
        "drift_caught": len(caught),
        "mutation_score": round(len(caught) / len(drift), 4) if drift else None,
        "conforming_profiles": len(conforming),
        "false_positives": len(false_positives),
        "inconclusive_profiles": len([r for r in rows if r["kind"] == "inconclusive"]),
        "inconclusive_judged_inconclusive": len([r for r in rows if r["kind"] == "inconclusive" and r["ok"]]),
        "misses": [r["profile"] for r in rows if not r["ok"]],
        "suite_seconds_total": round(sum(r["seconds"] for r in rows), 1),
    }


def _score_text(t: dict[str, Any]) -> str:
    pct = f" ({t['mutation_score'] * 100:.0f}%)" if t["mutation_score"] is not None else ""
    return (f"mutation score {t['drift_caught']}/{t['drift_profiles']}{pct} drift profiles caught; "
            f"false positives {t['false_positives']}/{t['conforming_profiles']} conforming profiles")


def render_text(rows: list[dict[str, Any]], t: dict[str, Any]) -> str:
    header = ("PROFILE", "EXPECTED", "GOT", "OK", "TIME")
    body = [(r["profile"], r["expected"], r["got"], "ok" if r["ok"] else "MISS", f"{r['seconds']:.1f}s") for r in rows]
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
            lines.append(f"MISS {r['profile']}: " + "; ".join(r["problems"]) + f" (reports: {r['report_dir']})")
    return "\n".join(lines)


def render_markdown(rows: list[dict[str, Any]], t: dict[str, Any]) -> str:
    lines = [
        "# Self-verification",
        "",
        "The contract suite run against every profile of the mock: a drift profile must fail with a breaking "
        "finding for each rule it breaks; a conforming profile must pass with no breaking finding.",
        "",
        f"**{_score_text(t)}.**",
        "",
        "| profile | kind | expected | got | ok | time (s) | other findings |",
        "|---|---|---|---|---|---:|---|",
    ]
    for r in rows:
        other = ", ".join(r["other_found"]) or "-"
        lines.append(f"| {r['profile']} | {r['kind']} | {r['expected']} | {r['got']} | "
                     f"{'ok' if r['ok'] else '**MISS**'} | {r['seconds']:.1f} | {other} |")
    lines.append("")
    wall = t.get("session_seconds")
    lines.append(f"Suite runs took {t['suite_seconds_total']:.1f} s in total" + (f", {wall:.1f} s of wall time." if wall else "."))
    misses = [r for r in rows if not r["ok"]]
    if misses:
        lines += ["", "## Misses", ""]
        for r in misses:
            lines.append(f"- **{r['profile']}**: " + "; ".join(r["problems"]) + f" (reports: `{r['report_dir']}`)")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------- pytest glue


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One test per profile (RECON_SELF_PROFILES narrows them down), slowest first."""
    if "profile_name" in metafunc.fixturenames:
        metafunc.parametrize("profile_name", selected_profiles())


@pytest.fixture
def verify_profile(request: pytest.FixtureRequest) -> Callable[[str], tuple[Row, str]]:
    """Run the suite against one profile, record its row; returns the row and a failure message."""
    config = request.config

    def verify(name: str) -> tuple[Row, str]:
        profile = all_profiles()[name]
        run = run_suite(name, runs_dir(config) / name, timeout=run_timeout())
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
                             "default_poll_timeout": DEFAULT_POLL_TIMEOUT}}
    (out / "self-verification.json").write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    (out / "self-verification.md").write_text(render_markdown(rows, t), encoding="utf-8")
    terminalreporter.write_sep("=", "self-verification")
    terminalreporter.write_line(render_text(rows, t))
    terminalreporter.write_line(f"written: {out / 'self-verification.md'} and {out / 'self-verification.json'}")
