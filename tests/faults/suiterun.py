"""Runs the real ``recon-contracts run`` against a fault server and measures how the run ended.

Each run is a subprocess: its exit code, its output, its wall time (a liveness bound, not a speed
target), its peak memory (the child's own max RSS, from ``os.wait4``) and every report file it wrote.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

LIVENESS_S = 90.0  # the run must end by then; a generous bound on a busy machine, not a speed target
# Known secrets handed to the run; none of them may appear in any output or report file.
TOKEN = "fault-bearer-token-4c1f9e27b8d3"
CLIENT_SECRET = "fault-client-secret-8a2d6f0c13e5"
SAS_SIG = "faultSasSignature0f3b9d27a1c4e6"
SECRETS = (TOKEN, CLIENT_SECRET, SAS_SIG)


@dataclass
class Run:
    """How one run of the suite ended."""

    code: int
    output: str  # stdout and stderr
    seconds: float
    peak_mib: float
    ended: bool  # False when it was killed at the liveness bound
    report_dir: Path

    def report_texts(self) -> dict[str, str]:
        return {p.name: p.read_text(encoding="utf-8", errors="replace")
                for p in sorted(self.report_dir.rglob("*")) if p.is_file()}


def _command() -> list[str]:
    script = Path(sys.executable).with_name("recon-contracts")
    if script.is_file():
        return [str(script)]
    found = shutil.which("recon-contracts")
    return [found] if found else [sys.executable, "-m", "recon_contracts.cli"]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RECON_", "AZURE_", "PYTEST_", "HYPOTHESIS"))}
    env.update(CI="true", AZURE_CLIENT_SECRET=CLIENT_SECRET, PYTHONUNBUFFERED="1")
    return env


def run_suite(tmp_path: Path, *args: str, pytest_args: tuple[str, ...] = ()) -> Run:
    """``recon-contracts run ARGS -- PYTEST_ARGS`` in a child process, killed at the liveness bound."""
    report_dir = tmp_path / "reports"
    out_path = tmp_path / "output.txt"
    command = [*_command(), "run", *args, "--report-dir", str(report_dir), "--examples", "2",
               "--", "-p", "no:randomly", *pytest_args]
    started = time.monotonic()
    with out_path.open("wb") as out:
        child = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 cwd=tmp_path, env=_env())
        killed = threading.Event()

        def kill() -> None:
            killed.set()
            child.kill()

        timer = threading.Timer(LIVENESS_S, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(child.pid, 0)
        finally:
            timer.cancel()
        child.returncode = os.waitstatus_to_exitcode(status)
    return Run(
        code=child.returncode,
        output=out_path.read_text(encoding="utf-8", errors="replace"),
        seconds=time.monotonic() - started,
        peak_mib=usage.ru_maxrss / 1024,  # KiB on Linux
        ended=not killed.is_set(),
        report_dir=report_dir,
    )
