"""Benchmark of the reference mock: line items served per second and the server's peak memory.

    python bench/bench_mock.py                 # 1,000,000 items, every 2000-item page
    python bench/bench_mock.py --items 200000
    python bench/bench_mock.py --small         # a quick run (CI)

The mock runs as ``recon-contracts mock`` in a subprocess; its peak memory is the child's own resident
high-water mark (``VmHWM`` of /proc/PID/status, read after the walk, before it stops). Not ``ru_maxrss`` of
RUSAGE_CHILDREN: on Linux a child's maxrss starts at its parent's high-water mark, so it would report this
process's size whenever that is larger. A second, small server (1,000 items) is measured first for
comparison: lazy data keeps the two alike.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import subprocess
import sys
import time

import httpx

QUERY = "provider=onetime&invoicelineitemtype=billinglineitems&currencycode=usd&period=current&size=2000"
AUTH = {"Authorization": "Bearer bench"}


def start(items: int) -> tuple[subprocess.Popen, str]:
    cmd = [sys.executable, "-m", "recon_contracts.cli", "mock", "--port", "0", "--items", str(items)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in proc.stdout:
        m = re.search(r"base URL:\s+(\S+)", line)
        if m:
            return proc, m.group(1)
    raise SystemExit(f"the mock did not start: {proc.stderr.read()}")


def vm_hwm_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def page_summary(r: httpx.Response, full_parse: bool) -> dict:
    """totalCount and links of a page; without full_parse only the small tail after the items is parsed,
    so that the figure measures the mock rather than the client's JSON decoder."""
    if full_parse:
        return r.json()
    text = r.text
    head = json.loads(text[: text.index(', "items"')] + "}")
    tail = json.loads("{" + text[text.rindex('"links": '):])
    return {**head, **tail}


def walk(base: str, full_parse: bool = False) -> tuple[int, int, float]:
    """(items, pages, seconds) walking every page of 2000 items."""
    items = pages = 0
    with httpx.Client(timeout=60, headers=AUTH) as http:
        started = time.perf_counter()
        r = http.get(f"{base}/v1/invoices/unbilled/lineitems?{QUERY}")
        while True:
            r.raise_for_status()
            body = page_summary(r, full_parse)
            items += body["totalCount"]
            pages += 1
            nxt = body["links"].get("next")
            if not nxt:
                break
            r = http.get(base + "/v1" + nxt["uri"], headers={"MS-ContinuationToken": nxt["headers"][0]["value"]})
        return items, pages, time.perf_counter() - started


def run(items: int, full_parse: bool = False) -> tuple[int, int, float, int]:
    proc, base = start(items)
    try:
        served, pages, seconds = walk(base, full_parse)
        hwm = vm_hwm_kib(proc.pid)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    if served != items:
        raise SystemExit(f"walked {served} items, expected {items}")
    return served, pages, seconds, hwm


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000, help="line items to serve (default 1,000,000)")
    parser.add_argument("--small", action="store_true", help="quick run: 20,000 items")
    parser.add_argument("--full-parse", action="store_true", help="decode every page completely on the client side")
    args = parser.parse_args(argv)
    items = 20_000 if args.small else args.items

    _, _, _, small_hwm = run(1_000)
    served, pages, seconds, hwm = run(items, args.full_parse)
    print(f"items served:        {served:,} in {pages:,} pages of up to 2000 ({seconds:.1f} s)")
    print(f"throughput:          {served / seconds:,.0f} line items/s ({pages / seconds:.1f} pages/s)")
    print(f"server peak memory:  {hwm / 1024:.1f} MiB (VmHWM of the mock subprocess, its own)")
    print(f"for comparison:      {small_hwm / 1024:.1f} MiB peak with 1,000 items, "
          f"{hwm / 1024:.1f} MiB with {items:,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
