"""Compare the contract suite with plain Schemathesis on every profile of the mock.

For each profile, the mock is started (``recon_contracts.mock.serve``) and ``schemathesis run`` is
pointed at it with both specs: the Partner Center spec at the mock's base URL, the Graph spec at its
``/v1.0`` base. A drift profile counts as caught by Schemathesis when either run fails (exit 1); a
conforming profile that makes either run fail is a false positive. Our suite's results come from the
self-verification (``reports/self-verification.json``); profiles missing there are verified now by
running ``pytest tests/self`` for them. Schemathesis also fails the conforming profile, so each drift
profile's failures are compared with that baseline: the failures it adds are what points at the drift.

Usage:
    python bench/compare_schemathesis.py              # every profile (~4 minutes on 2 cores)
    python bench/compare_schemathesis.py --small      # a few profiles, for CI
    python bench/compare_schemathesis.py --profiles conforming,pc-no-auth --max-examples 20

Writes ``bench/results/schemathesis-comparison.md`` and ``.json`` (``--out`` to change) and prints the table.
Exit status: 0 when the comparison ran (whatever the tools found), 2 on bad options or a run that
could not be completed.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from recon_contracts.mock import PROFILES, MockConfig, serve  # noqa: E402
from recon_contracts.plugin.hooks import MOCK_TOKEN  # noqa: E402

SPECS = {
    "partner-center": "specs/partner-center-unbilled-lineitems.yaml",
    "graph": "specs/graph-partner-billing-exports.yaml",
}
SMALL = ("numbers-as-strings", "pc-paging-skips-item")  # CI: a conforming alternative and a drift, both APIs' tools run
# The same mock settings as the self-verification's suite runs (--mock-items 12; the plugin's poll settings).
MOCK_ITEMS = 12
TEMP_PATH = re.compile(r"\S*recon-bench-[^/\s]+")


@dataclass
class SchemathesisRun:
    api: str
    exit_code: int | None  # None: killed after the timeout
    seconds: float
    failures: list[str] = field(default_factory=list)  # "CODE title @ operation" from its JSON report
    summary: str = ""  # the last lines of its output


@dataclass
class Row:
    profile: str
    kind: str  # "drift" | "conforming"
    breaks: list[str]
    ours_failed: bool | None  # the suite failed (None: no result)
    ours_ok: bool | None  # the suite did what the profile asks: drift caught with its rule(s), conforming passed
    ours_got: str
    ours_seconds: float | None
    st_failed: bool | None  # either schemathesis run failed (exit 1); None: a run did not complete
    st_new: list[str]  # failures that schemathesis did not also report on the conforming profile
    st_seconds: float
    st_runs: list[SchemathesisRun]

    @property
    def ours_caught(self) -> bool | None:
        """Drift: caught with the profile's rules. Conforming: failed (a false positive)."""
        return self.ours_ok if self.kind == "drift" else self.ours_failed


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Compare the contract suite with plain Schemathesis on every mock profile.")
    parser.add_argument("--small", action="store_true", help=f"only {', '.join(SMALL)} (for CI)")
    parser.add_argument("--profiles", help="comma-separated profile names (default: every profile)")
    parser.add_argument("--max-examples", type=int, default=10, help="schemathesis --max-examples (default 10)")
    parser.add_argument("--checks", default="all", help="schemathesis --checks (default all)")
    parser.add_argument("--continue-on-failure", action="store_true",
                        help="schemathesis --continue-on-failure: keep testing an operation after its first failure")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds one schemathesis run may take (default 300)")
    parser.add_argument("--ours", type=Path, default=None,
                        help="self-verification.json to reuse (default: $RECON_REPORT_DIR or reports/, then run the missing profiles)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results", help="where the results go (default bench/results)")
    parser.add_argument("--workers", default="2", help="pytest-xdist workers for our suite's missing profiles (default 2)")
    args = parser.parse_args(argv)
    if args.max_examples < 1:
        parser.error("--max-examples must be at least 1")
    if args.timeout <= 0:
        parser.error("--timeout must be greater than 0")
    if args.small and args.profiles:
        parser.error("--small and --profiles exclude each other")
    names = list(SMALL) if args.small else [n.strip() for n in (args.profiles or "").split(",") if n.strip()] or list(PROFILES)
    unknown = [n for n in names if n not in PROFILES]
    if unknown:
        parser.error(f"unknown profile(s) {', '.join(unknown)}; known: {', '.join(PROFILES)}")
    args.names = names
    return args


# ---------------------------------------------------------------------------- schemathesis


def schemathesis_command(spec: str, url: str, args: argparse.Namespace, report_dir: Path) -> list[str]:
    exe = shutil.which("schemathesis") or shutil.which("st")
    base = [exe] if exe else [sys.executable, "-m", "schemathesis.cli"]
    return [
        *base, "run", str(ROOT / spec),
        "--url", url,
        "-H", f"Authorization: Bearer {MOCK_TOKEN}",
        "--max-examples", str(args.max_examples),
        "--checks", args.checks,
        "--generation-deterministic",
        "--workers", "1",
        *(["--continue-on-failure"] if args.continue_on_failure else []),
        "--request-timeout", "10",
        "--no-color",
        "--report", "json",
        "--report-json-path", str(report_dir / "report.json"),
    ]


def run_schemathesis(api: str, spec: str, url: str, args: argparse.Namespace, work: Path) -> SchemathesisRun:
    report_dir = work / api
    report_dir.mkdir(parents=True, exist_ok=True)
    command = schemathesis_command(spec, url, args, report_dir)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHEMATHESIS_")}
    env["NO_COLOR"] = "1"
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, start_new_session=True)
    try:
        out, _ = process.communicate(timeout=args.timeout)
        code: int | None = process.returncode
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            process.kill()
        out, _ = process.communicate()
        code = None
    seconds = time.monotonic() - started
    text = (out or b"").decode("utf-8", "replace")
    (report_dir / "output.txt").write_text(text, encoding="utf-8")
    return SchemathesisRun(api=api, exit_code=code, seconds=round(seconds, 1),
                           failures=failures_in(report_dir / "report.json"), summary=scrub(tail(text, 12)))


def failures_in(path: Path) -> list[str]:
    """Each distinct failure of a Schemathesis JSON report, as "CODE title @ METHOD /path"."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    found = []
    for failure in data.get("failures") or []:
        for operation in failure.get("operations") or ["?"]:
            found.append(f"{failure.get('code', '?')} {failure.get('title', '?')} @ {operation}")
    return sorted(set(found))


def failure_codes(failures: list[str]) -> list[str]:
    """"ST202 Schema-valid request rejected @ GET /x" -> "ST202 Schema-valid request rejected"."""
    return sorted({f.split(" @ ", 1)[0] for f in failures})


def scrub(text: str) -> str:
    """No path of this machine goes into the results: the bench's scratch folder and the project folder are named."""
    text = TEMP_PATH.sub("<scratch>", text)
    return text.replace(str(ROOT), ".")


def tail(text: str, lines: int) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def schemathesis_on(profile: str, args: argparse.Namespace, work: Path) -> list[SchemathesisRun]:
    runs = []
    with serve(MockConfig(profile=profile, items=MOCK_ITEMS, poll_count=2, retry_after=1)) as server:
        # Schemathesis sends malformed requests on purpose; the server's log lines about them are noise here.
        logging.getLogger("uvicorn.error").setLevel(logging.ERROR)
        urls = {"partner-center": server.base_url.rstrip("/"), "graph": server.graph_base_url.rstrip("/")}
        for api, spec in SPECS.items():
            runs.append(run_schemathesis(api, spec, urls[api], args, work / profile))
    return runs


# ---------------------------------------------------------------------------- our suite


def default_ours() -> Path:
    return Path(os.environ.get("RECON_REPORT_DIR") or ROOT / "reports") / "self-verification.json"


def read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def load_ours(path: Path) -> dict[str, dict[str, Any]]:
    data = read_json(path)
    return {r["profile"]: r for r in data.get("rows", []) if isinstance(r, dict) and "profile" in r}


def run_ours(names: list[str], args: argparse.Namespace, work: Path) -> dict[str, dict[str, Any]]:
    """Run the self-verification for ``names`` into a report dir of its own; return its rows."""
    report_dir = work / "ours"
    env = dict(os.environ, RECON_SELF_PROFILES=",".join(names), RECON_REPORT_DIR=str(report_dir))
    command = [sys.executable, "-m", "pytest", "tests/self/test_self_verification.py", "-q", "-p", "no:cacheprovider"]
    if args.workers and args.workers != "0" and len(names) > 1:
        command += ["-n", str(args.workers)]
    print(f"running our suite on {len(names)} profile(s): {' '.join(command)}", flush=True)
    subprocess.run(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, check=False, timeout=240 * len(names) + 60)
    return load_ours(report_dir / "self-verification.json")


# ---------------------------------------------------------------------------- the comparison


def compare(args: argparse.Namespace) -> tuple[list[Row], dict[str, Any]]:
    ours_path = args.ours or default_ours()
    ours = load_ours(ours_path)
    reused = [n for n in args.names if n in ours]
    with tempfile.TemporaryDirectory(prefix="recon-bench-") as tmp:
        work = Path(tmp)
        missing = [n for n in args.names if n not in ours]
        if missing:
            ours.update(run_ours(missing, args, work))
        # The conforming profile runs first: its failures are the baseline that tells a drift's
        # failures apart from what Schemathesis reports on every profile.
        order = ["conforming"] + [n for n in args.names if n != "conforming"]
        runs_by_profile: dict[str, list[SchemathesisRun]] = {}
        for i, name in enumerate(order, 1):
            print(f"[{i}/{len(order)}] schemathesis on {name} ...", end="", flush=True)
            runs = schemathesis_on(name, args, work)
            runs_by_profile[name] = runs
            print(f" exit {', '.join(str(r.exit_code) for r in runs)} in {sum(r.seconds for r in runs):.1f} s", flush=True)
    baseline = {f for r in runs_by_profile["conforming"] for f in r.failures}
    rows = [make_row(PROFILES[n], ours.get(n), runs_by_profile[n], baseline) for n in args.names]
    workers = (read_json(ours_path).get("totals") or {}).get("workers") if reused else args.workers
    meta = {"ours_source": _shown(ours_path) if reused else "run now", "ours_reused": reused,
            "ours_workers": int(workers or 0) if str(workers or 0).isdigit() else workers,
            "baseline_failures": sorted(baseline)}
    return rows, meta


def _shown(path: Path) -> str:
    """A path as it may appear in the results: relative to the project, else its name only."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return path.name


def make_row(profile: Any, ours: dict[str, Any] | None, runs: list[SchemathesisRun], baseline: set[str]) -> Row:
    codes = [r.exit_code for r in runs]
    st_failed = None if any(c not in (0, 1) for c in codes) else any(c == 1 for c in codes)
    return Row(
        profile=profile.name,
        kind="conforming" if profile.conforming else "drift",
        breaks=list(profile.breaks),
        ours_failed=None if ours is None else (ours.get("exit_code") == 1 or bool(ours.get("breaking_found"))),
        ours_ok=None if ours is None else bool(ours.get("ok")),
        ours_got="no result" if ours is None else str(ours.get("got", "")),
        ours_seconds=None if ours is None else float(ours.get("seconds", 0.0)),
        st_failed=st_failed,
        st_new=sorted({f for r in runs for f in r.failures} - baseline) if profile.name != "conforming" else [],
        st_seconds=round(sum(r.seconds for r in runs), 1),
        st_runs=runs,
    )


def totals(rows: list[Row]) -> dict[str, Any]:
    drift = [r for r in rows if r.kind == "drift"]
    conforming = [r for r in rows if r.kind == "conforming"]
    return {
        "drift_profiles": len(drift),
        "conforming_profiles": len(conforming),
        "ours_drift_caught": sum(1 for r in drift if r.ours_ok),
        "ours_false_positives": sum(1 for r in conforming if r.ours_failed),
        "ours_seconds": round(sum(r.ours_seconds or 0.0 for r in rows), 1),
        "st_drift_caught": sum(1 for r in drift if r.st_failed),
        "st_false_positives": sum(1 for r in conforming if r.st_failed),
        "st_drift_new_failure": sum(1 for r in drift if r.st_new),
        "st_conforming_new_failure": sum(1 for r in conforming if r.st_new),
        "st_errors": sum(1 for r in rows if r.st_failed is None),
        "st_seconds": round(sum(r.st_seconds for r in rows), 1),
    }


def _yes(value: bool | None) -> str:
    return "n/a" if value is None else ("yes" if value else "no")


def _st_cell(row: Row) -> str:
    if row.st_failed is None:
        return "error (" + ", ".join(f"{r.api} exit {r.exit_code}" for r in row.st_runs) + ")"
    return _yes(row.st_failed)


def render_markdown(rows: list[Row], t: dict[str, Any], meta: dict[str, Any]) -> str:
    d, c = t["drift_profiles"], t["conforming_profiles"]
    lines = [
        "# The contract suite vs. plain Schemathesis",
        "",
        f"Measured {meta['date']} on {meta['cpus']} cores, Schemathesis {meta['schemathesis_version']}, "
        f"mock with {MOCK_ITEMS} line items per data set.",
        "",
        f"- **Schemathesis**: `schemathesis run SPEC --url MOCK -H 'Authorization: Bearer …' --max-examples {meta['max_examples']} "
        f"--checks {meta['checks']} --generation-deterministic --workers 1` on both specs (Partner Center at the mock's base URL, "
        "Graph at its `/v1.0` base). A profile is *caught* when either run fails (exit 1).",
        "- **Ours**: `pytest tests/contract --examples 4 --mock-items 12` (the self-verification). A drift profile is caught when "
        "the suite fails with a breaking finding for the rule the profile breaks.",
        f"- Our times are each suite run's wall time from the self-verification ({_workers_text(meta.get('ours_workers'))}); "
        "Schemathesis' are its two runs one after the other, nothing else running.",
        "- For a conforming profile, *caught* means the tool failed a server that behaves as Microsoft documents: a false positive.",
        "- *new vs conforming*: failures that Schemathesis did not also report on the conforming profile (its baseline), "
        "i.e. the part of its output that points at the drift.",
        "",
        "| totals | ours | schemathesis |",
        "|---|---|---|",
        f"| drift profiles caught | {t['ours_drift_caught']}/{d} | {t['st_drift_caught']}/{d} |",
        f"| drift profiles with a failure not also seen on `conforming` | - | {t['st_drift_new_failure']}/{d} |",
        f"| false positives (conforming profiles failed) | {t['ours_false_positives']}/{c} | {t['st_false_positives']}/{c} |",
        f"| total time (s) | {t['ours_seconds']:.1f} | {t['st_seconds']:.1f} |",
        "",
        "| profile | kind | ours caught? | ours time (s) | schemathesis caught? | schemathesis time (s) | schemathesis: new vs conforming |",
        "|---|---|---|---:|---|---:|---|",
    ]
    for r in rows:
        ours_time = "-" if r.ours_seconds is None else f"{r.ours_seconds:.1f}"
        new = "; ".join(r.st_new) if r.st_new else "-"
        lines.append(f"| {r.profile} | {r.kind} | {_yes(r.ours_caught)} | {ours_time} | {_st_cell(r)} | {r.st_seconds:.1f} | {new} |")
    lines += ["", "Schemathesis failures on the conforming profile (the baseline; a server that behaves as documented gets these):", ""]
    lines += [f"- {f}" for f in meta["baseline_failures"]] or ["- none"]
    if t["st_errors"]:
        lines.append(f"\nSchemathesis could not complete {t['st_errors']} profile(s) (an exit status other than 0 or 1).")
    return "\n".join(lines) + "\n"


def _workers_text(workers: Any) -> str:
    if not workers:
        return "one profile at a time"
    return f"pytest-xdist `-n {workers}`: {workers} suite runs at a time share the cores"


def render_text(rows: list[Row], t: dict[str, Any]) -> str:
    header = ("PROFILE", "KIND", "OURS", "OURS s", "SCHEMATHESIS", "ST s", "ST NEW VS CONFORMING")
    body = [(r.profile, r.kind, _yes(r.ours_caught), "-" if r.ours_seconds is None else f"{r.ours_seconds:.1f}",
             _st_cell(r), f"{r.st_seconds:.1f}", str(len(r.st_new)) if r.st_new else "-") for r in rows]
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(header)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*header)] + [fmt.format(*b) for b in body]
    d, c = t["drift_profiles"], t["conforming_profiles"]
    lines += [
        "",
        f"drift caught:    ours {t['ours_drift_caught']}/{d}, schemathesis {t['st_drift_caught']}/{d} "
        f"({t['st_drift_new_failure']}/{d} with a failure not also seen on conforming)",
        f"false positives: ours {t['ours_false_positives']}/{c}, schemathesis {t['st_false_positives']}/{c}",
        f"total time:      ours {t['ours_seconds']:.1f} s, schemathesis {t['st_seconds']:.1f} s",
    ]
    return "\n".join(lines)


def schemathesis_version() -> str:
    try:
        from importlib.metadata import version

        return version("schemathesis")
    except Exception:  # pragma: no cover - reported, not fatal
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    meta = {
        "schemathesis_version": schemathesis_version(),
        "max_examples": args.max_examples,
        "checks": args.checks,
        "date": time.strftime("%Y-%m-%d"),
        "cpus": os.cpu_count(),
        "profiles": args.names,
        "small": args.small,
    }
    rows, extra = compare(args)
    meta.update(extra)
    t = totals(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = "schemathesis-comparison-small" if args.small else "schemathesis-comparison"
    document = {"meta": meta, "totals": t, "rows": [dict(asdict(r), ours_caught=r.ours_caught) for r in rows]}
    (args.out / f"{stem}.json").write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    (args.out / f"{stem}.md").write_text(render_markdown(rows, t, meta), encoding="utf-8")
    print()
    print(render_text(rows, t))
    print(f"\nwritten: {args.out / (stem + '.md')} and {args.out / (stem + '.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
