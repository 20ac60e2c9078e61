"""Migration parity at scale: `recon-contracts parity` over N line items, its own peak memory and time.

The mock runs in its own process (`recon-contracts mock`), so the figure is the parity command's alone: it is run
as a child and its peak memory sampled from /proc while it runs (the child and its descendants, tests/support's
PeakMemory), never ru_maxrss, which a child inherits from its parent's high-water mark.
Memory must stay flat as N grows: each side is spilled by key hash to disk as it streams, and the join holds one
partition of one side at a time.

    python bench/bench_parity.py            # 20,000 / 100,000 / 300,000 items
    python bench/bench_parity.py --small    # 2,000 / 20,000 items (CI)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from support.suiteproc import PeakMemory  # noqa: E402 - the project's tested sampler of a process tree's own peak

CLI = [sys.executable, "-c", "import sys; from recon_contracts.cli import main; sys.exit(main())"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_up(port: int, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"the mock did not listen on {port} within {timeout:g} s")


def measure(items: int) -> dict:
    port = _free_port()
    mock = subprocess.Popen([*CLI, "mock", "--port", str(port), "--items", str(items),
                             "--poll-count", "0", "--retry-after", "0"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_up(port)
        with tempfile.TemporaryDirectory() as out:
            started = time.monotonic()
            child = subprocess.Popen([*CLI, "parity", "-q",
                                      "--pc-base-url", f"http://127.0.0.1:{port}",
                                      "--graph-base-url", f"http://127.0.0.1:{port}/v1.0",
                                      "--pc-token", "bench", "--graph-token", "bench", "--poll-timeout", "600",
                                      "--request-timeout", "600", "--report-dir", out],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            peak = PeakMemory(child.pid)
            stop = threading.Event()

            def sample() -> None:
                while not stop.is_set():
                    peak.sample()
                    stop.wait(0.05)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            output = child.stdout.read().decode() if child.stdout else ""
            child.wait()
            stop.set()
            sampler.join()
            status = child.returncode
            seconds = time.monotonic() - started
            result = json.loads((Path(out) / "parity.json").read_text()) if (Path(out) / "parity.json").is_file() else {}
    finally:
        mock.terminate()
        mock.wait(timeout=30)
    peak_mib = peak.mib or 0.0
    line = next((l for l in output.splitlines() if l.startswith("parity:")), output.strip()[-300:])
    return {"items": items, "exit": status, "seconds": round(seconds, 1),
            "peak_mib": round(peak_mib, 1), "matched": result.get("matched"), "verdict": re.sub(r" — reports in .*", "", line)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", action="store_true", help="small sizes (CI)")
    parser.add_argument("--items", type=int, nargs="*", help="sizes to measure")
    args = parser.parse_args()
    sizes = args.items or ([2_000, 20_000] if args.small else [20_000, 100_000, 300_000])
    print(f"{'items':>9}  {'exit':>4}  {'seconds':>8}  {'peak MiB (parity child only)':>28}  verdict")
    for n in sizes:
        r = measure(n)
        print(f"{r['items']:>9,}  {r['exit']:>4}  {r['seconds']:>8}  {r['peak_mib']:>28}  {r['verdict']}", flush=True)


if __name__ == "__main__":
    main()
