"""Runs the real ``recon-contracts run`` against a fault server, through the one suite-process runner.

Each run is a child process (``support.suiteproc.run``): its exit code, its output, its wall time (a
liveness bound, not a speed target), its own peak memory (its process tree sampled from ``/proc``, never the
parent's high-water mark) and every report file it wrote.
"""

from __future__ import annotations

from pathlib import Path

from support.suiteproc import Finished, command_of, run, scrubbed_env

LIVENESS_S = 90.0  # the run must end by then; a generous bound on a busy machine, not a speed target
# Known secrets handed to the run; none of them may appear in any output or report file.
TOKEN = "fault-bearer-token-4c1f9e27b8d3"
CLIENT_SECRET = "fault-client-secret-8a2d6f0c13e5"
SAS_SIG = "faultSasSignature0f3b9d27a1c4e6"
SECRETS = (TOKEN, CLIENT_SECRET, SAS_SIG)


def run_suite(tmp_path: Path, *args: str, pytest_args: tuple[str, ...] = ()) -> Finished:
    """``recon-contracts run ARGS -- PYTEST_ARGS`` in a child process, killed at the liveness bound."""
    report_dir = tmp_path / "reports"
    command = [*command_of(), "run", *args, "--report-dir", str(report_dir), "--examples", "2",
               "--", "-p", "no:randomly", *pytest_args]
    return run(command, cwd=tmp_path, timeout=LIVENESS_S, report_dir=report_dir, measure_memory=True,
               env=scrubbed_env(CI="true", AZURE_CLIENT_SECRET=CLIENT_SECRET))
