"""Benchmark of the validation proxy: an export's rows downloaded through ``--proxy-blobs`` and validated.

    python bench/bench_proxy.py                    # 1,000,000 rows
    python bench/bench_proxy.py --rows 200000 --blob-rows 50000
    python bench/bench_proxy.py --small            # 20,000 rows (CI)

The mock (``recon-contracts mock --export-rows N``) and the proxy (``recon-contracts proxy --proxy-blobs``)
run as two subprocesses on loopback. A plain httpx client runs the export (POST, polls, manifest) and
downloads every blob twice: straight from the mock ("direct": bytes only, nothing validated) and through
the proxy (every row validated by the proxy's streaming row engine). The proxy's memory is its own: its
/proc/PID/status (VmRSS sampled every 20 ms, and VmHWM) while it runs, never this process's high-water mark.
Prints the figures; exits 1 when the proxy's peak passes --max-mib or its verdict is not pass.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

AUTH = {"Authorization": "Bearer bench-proxy-token"}
MiB = 1024 * 1024


def start(cmd: list[str], pattern: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        m = re.search(pattern, line)
        if m:
            threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()  # drain
            return proc, m.group(1)
    raise SystemExit(f"{cmd[3]} did not start")


def status_kib(pid: int, field: str) -> int:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    m = re.search(rf"^{field}:\s+(\d+) kB", text, re.M)
    return int(m.group(1)) if m else 0


class Sampler(threading.Thread):
    """The peak resident memory of one process, sampled from its own /proc/PID/status."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_kib, self.hwm_kib, self.stop = pid, 0, 0, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak_kib = max(self.peak_kib, status_kib(self.pid, "VmRSS"))
            self.hwm_kib = max(self.hwm_kib, status_kib(self.pid, "VmHWM"))
            time.sleep(0.02)


def export(client: httpx.Client, base: str) -> dict:
    r = client.post(f"{base}/v1.0/reports/partners/billing/reconciliation/billed/export",
                    json={"invoiceId": "G000000001", "attributeSet": "full"}, headers=AUTH)
    assert r.status_code == 202, r.text
    location = r.headers["location"]
    assert location.startswith(base), f"the Location left {base}: {location}"
    for _ in range(600):
        body = client.get(location, headers=AUTH).json()
        if body.get("status") in ("succeeded", "completed", "failed"):
            break
        time.sleep(0.05)
    manifest = body.get("resourceLocation")
    if not isinstance(manifest, dict):
        manifest = client.get(body["resourceLocation@odata.navigationLink"], headers=AUTH).json()
    return manifest


def download(client: httpx.Client, manifest: dict, keep: list[bytes] | None = None) -> int:
    """Every blob's bytes, counted; ``keep`` receives the first blob (for the engine-alone figure)."""
    size = 0
    sas = manifest.get("sasToken", "").lstrip("?")
    for index, blob in enumerate(manifest["blobs"]):
        with client.stream("GET", f"{manifest['rootDirectory']}/{blob['name']}?{sas}") as r:
            assert r.status_code == 200, r.status_code
            for chunk in r.iter_raw(256 * 1024):
                size += len(chunk)
                if keep is not None and index == 0:
                    keep.append(chunk)
    return size


def engine_alone(chunks: list[bytes]) -> float:
    """Rows/s of the streaming row engine by itself, in this process, on the first blob's bytes."""
    from recon_contracts.checks.rows import ExportJudge, RowRules
    from recon_contracts.traffic.blob_stream import gunzip_lines

    rules = RowRules.load()
    t0 = time.perf_counter()
    judge = ExportJudge(rules, invoice_id="G000000001")
    judge.blob("first").consume(gunzip_lines(iter(chunks)))
    return judge.rows / (time.perf_counter() - t0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--blob-rows", type=int, default=250_000)
    ap.add_argument("--max-mib", type=float, default=200.0)
    ap.add_argument("--small", action="store_true", help="20,000 rows in blobs of 5,000 (CI)")
    args = ap.parse_args()
    if args.small:
        args.rows, args.blob_rows = 20_000, 5_000
    py = [sys.executable, "-m", "recon_contracts.cli"]
    mock, mock_url = start([*py, "mock", "--port", "0", "--export-rows", str(args.rows), "--blob-rows",
                            str(args.blob_rows), "--poll-count", "0", "--retry-after", "0"], r"base URL:\s+(\S+)")
    reports = Path(tempfile.mkdtemp(prefix="bench-proxy-"))
    proxy, proxy_url = start([*py, "proxy", "--port", "0", "--graph-upstream", mock_url, "--proxy-blobs",
                              "--report-dir", str(reports)], r"listening on (\S+)")
    sampler = Sampler(proxy.pid)
    sampler.start()
    try:
        with httpx.Client(timeout=600.0) as client:
            manifest = export(client, mock_url)
            t0 = time.perf_counter()
            first: list[bytes] = []
            direct_bytes = download(client, manifest, first)
            direct_s = time.perf_counter() - t0
            manifest = export(client, proxy_url)
            assert manifest["rootDirectory"].startswith(proxy_url), "--proxy-blobs keeps downloads on the proxy"
            t0 = time.perf_counter()
            proxied_bytes = download(client, manifest)
            proxied_s = time.perf_counter() - t0
        proxy.send_signal(signal.SIGTERM)
        code = proxy.wait(timeout=600)
    finally:
        sampler.stop.set()
        sampler.join()
        for p in (proxy, mock):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=60)
    engine = engine_alone(first)
    summary = json.loads((reports / "summary.json").read_text())
    judged = summary["recorded"]["proxy"]["blob rows judged"]
    peak = max(sampler.peak_kib, sampler.hwm_kib) / 1024
    print(f"rows: {args.rows:,} in {len(manifest['blobs'])} blob(s) of up to {args.blob_rows:,}; "
          f"{direct_bytes / MiB:.1f} MiB compressed")
    print(f"direct (no validation):        {direct_s:7.2f} s  {args.rows / direct_s:>10,.0f} rows/s")
    print(f"through the proxy (validated): {proxied_s:7.2f} s  {args.rows / proxied_s:>10,.0f} rows/s  "
          f"({proxied_s / direct_s:.1f}x the direct time)")
    print(f"row engine alone (one blob, in this process, same machine now): {engine:,.0f} rows/s")
    print(f"rows judged by the proxy: {judged:,}; verdict {summary['verdict']} (exit {code})")
    print(f"proxy peak memory (its own /proc status, VmRSS sampled / VmHWM): {sampler.peak_kib / 1024:.0f} / "
          f"{sampler.hwm_kib / 1024:.0f} MiB (limit {args.max_mib:g} MiB)")
    ok = peak < args.max_mib and summary["verdict"] == "pass" and judged == args.rows and proxied_bytes == direct_bytes
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
