"""The full self-verification sweep: every mock profile (or those given) with all five Hypothesis seeds.

Runs ``python -m pytest tests/self -n WORKERS`` with ``RECON_SELF_SEEDS=all`` and prints the wall time and
the totals from ``self-verification.json``: profiles, runs, seeds, mutation score, false positives. It never
asserts a speed; the self-verification tests themselves fail on any miss (and so does this script's exit code).

    python bench/self_verification_sweep.py                      # every profile x 5 seeds
    python bench/self_verification_sweep.py --kind conforming    # the conforming profiles x 5 seeds
    python bench/self_verification_sweep.py --profiles conforming,pc-size-clamped --seeds 2
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", help="comma-separated profile names (default: every profile)")
    parser.add_argument("--kind", choices=("conforming", "drift", "inconclusive"), help="only profiles of this kind")
    parser.add_argument("--seeds", default="all", help="seeds per profile: 1-5, all, or seeds like 3,17 (default all)")
    parser.add_argument("--workers", type=int, default=2, help="pytest-xdist workers (default 2)")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT / "src"))
    from recon_contracts.mock.profiles import PROFILES

    names = [n.strip() for n in args.profiles.split(",")] if args.profiles else list(PROFILES)
    if args.kind:
        names = [n for n in names if n in PROFILES and PROFILES[n].kind == args.kind]
    report_dir = Path(tempfile.mkdtemp(prefix="self-sweep-"))
    env = {**os.environ, "RECON_SELF_PROFILES": ",".join(names), "RECON_SELF_SEEDS": args.seeds}
    command = [sys.executable, "-m", "pytest", "tests/self/test_self_verification.py", "-q", "-p", "no:randomly",
               "-n", str(args.workers), "--report-dir", str(report_dir)]
    started = time.monotonic()
    result = subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.monotonic() - started
    summary = report_dir / "self-verification.json"
    if not summary.is_file():
        print(f"no {summary.name} was written (pytest exit {result.returncode})")
        return result.returncode or 1
    totals = json.loads(summary.read_text(encoding="utf-8"))["totals"]
    print(f"profiles {totals['profiles']}, suite runs {totals['runs']}, seeds {totals['seeds']}")
    print(f"mutation score {totals['drift_caught']}/{totals['drift_profiles']}; "
          f"false positives {totals['false_positives']}/{totals['conforming_profiles']} "
          f"({totals['false_positive_runs']} runs); inconclusive {totals['inconclusive_ok']}/{totals['inconclusive_profiles']}")
    print(f"wall time {wall:.0f} s with {args.workers} workers; suite runs added up {totals['suite_seconds_total']:.0f} s")
    print(f"misses: {', '.join(totals['misses']) or 'none'}; table: {report_dir / 'self-verification.md'}")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
