"""Benchmark: validating every row of a large billed reconciliation export, end to end over loopback.

One run (default 1,000,000 rows; ``--small`` 50,000) does, each path in its own process so that peak RSS is its own:

1. **mock alone**: the mock serves the export and a client only drains the bytes (the mock's own rate; it must be
   faster than the engine, or the engine's figure would be the mock's);
2. **engine**: the suite's path (drivers/graph_export.py): POST, poll, manifest, then every blob streamed through
   incremental gunzip → orjson → the compiled per-column check (checks/rows.py), findings worded by jsonschema;
3. **naive**: whole download, ``gzip.decompress``, ``json.loads`` and ``jsonschema`` (the spec's ExportRow) per row,
   on ``--naive-rows`` rows (default 100,000: at a million it would hold gigabytes), its memory extrapolated;
4. **hot-path choices** on 20,000 rows in memory: json vs orjson (vs msgspec if installed) for parsing, jsonschema
   vs the compiled check (vs fastjsonschema if installed) for validating, zlib vs ISA-L for inflating.

It prints figures and asserts nothing about speed. Goal: >= 100,000 rows/s and < 200 MiB peak for the engine.

    python bench/bench_rows.py             # 1,000,000 rows
    python bench/bench_rows.py --small     # 50,000 rows (CI)
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INVOICE = "G016907411"
MiB = 1024 * 1024


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def start_mock(rows: int, blob_rows: int) -> tuple[subprocess.Popen, str]:
    cmd = [sys.executable, "-m", "recon_contracts.cli", "mock", "--port", "0", "--export-rows", str(rows),
           "--blob-rows", str(blob_rows), "--poll-count", "0", "--retry-after", "0"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if "base URL:" in line:
            return proc, line.split("base URL:", 1)[1].strip()
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise SystemExit("the mock did not start")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def _export(base: str) -> dict:
    import httpx

    auth = {"Authorization": "Bearer bench"}
    r = httpx.post(f"{base}/v1.0/reports/partners/billing/reconciliation/billed/export",
                   json={"invoiceId": INVOICE, "attributeSet": "full"}, headers=auth)
    op = httpx.get(r.headers["location"], headers=auth).json()
    return op["resourceLocation"]


# ------------------------------------------------------------------ the paths (each run in a child process)


def path_mock(base: str, _rows: int) -> dict:
    import httpx

    manifest = _export(base)
    started = time.perf_counter()
    compressed = 0
    with httpx.Client(timeout=60) as client:
        for blob in manifest["blobs"]:
            url = f"{manifest['rootDirectory']}/{blob['name']}?{manifest['sasToken']}"
            with client.stream("GET", url) as response:
                for chunk in response.iter_raw(256 * 1024):
                    compressed += len(chunk)
    return {"seconds": time.perf_counter() - started, "compressed": compressed}


def path_engine(base: str, _rows: int) -> dict:
    from recon_contracts.traffic.auth import StaticToken
    from recon_contracts.traffic.client import ApiClient, RequestBudget
    from recon_contracts.checks.rows import ExportJudge, RowRules
    from recon_contracts.drivers.graph_export import run_export

    client = ApiClient(api="graph", base_url=f"{base}/v1.0", token=StaticToken("bench"), budget=RequestBudget())
    started = time.perf_counter()
    judge = ExportJudge(RowRules.load(), invoice_id=INVOICE, attribute_set="full")
    run = run_export(client, INVOICE, "full", poll_timeout=60, sleep=lambda s: None, sink=judge)
    seconds = time.perf_counter() - started
    assert run.rows is not None, run.stopped
    findings = run.rows.findings()
    return {"seconds": seconds, "rows": run.rows.rows, "findings": len(findings), "stopped": run.stopped,
            "inflated": sum(b.stats.inflated for b in run.blobs), "compressed": sum(b.stats.compressed for b in run.blobs)}


def path_naive(base: str, _rows: int) -> dict:
    import httpx

    from recon_contracts.truth.spec import load_spec

    validator = load_spec("graph").validator("ExportRow")
    started = time.perf_counter()
    manifest = _export(base)
    rows = invalid = 0
    with httpx.Client(timeout=60) as client:
        for blob in manifest["blobs"]:
            data = client.get(f"{manifest['rootDirectory']}/{blob['name']}?{manifest['sasToken']}").content
            for line in gzip.decompress(data).decode().splitlines():
                if line.strip():
                    rows += 1
                    invalid += not validator.is_valid(json.loads(line))
    return {"seconds": time.perf_counter() - started, "rows": rows, "invalid": invalid}


def path_choices(_base: str, n: int) -> dict:
    from recon_contracts.checks.rows import ExportJudge, RowRules
    from recon_contracts.mock.data import export_row, line_item
    from recon_contracts.truth.spec import load_spec

    lines = [json.dumps(export_row(line_item(0, INVOICE, i, "USD"), "full"), separators=(",", ":")).encode()
             for i in range(n)]
    out: dict = {}

    def timed(name: str, fn) -> None:  # noqa: ANN001
        t = time.process_time()  # CPU time: on a shared machine the clock measures the neighbours
        fn()
        out[name] = n / max(time.process_time() - t, 1e-9)

    compressed = gzip.compress(b"\n".join(lines), 6)

    def inflate(lib) -> None:  # noqa: ANN001
        d, data = lib.decompressobj(31), compressed
        while data:
            d.decompress(data, 4 * MiB)
            data = d.unconsumed_tail

    import zlib

    timed("inflate zlib", lambda: inflate(zlib))
    try:
        from isal import isal_zlib

        timed("inflate isal (ISA-L)", lambda: inflate(isal_zlib))
    except ImportError:
        pass
    timed("parse json.loads", lambda: [json.loads(x) for x in lines])
    try:
        import orjson

        timed("parse orjson.loads", lambda: [orjson.loads(x) for x in lines])
    except ImportError:
        pass
    try:
        import msgspec

        decoder = msgspec.json.Decoder()
        timed("parse msgspec (untyped)", lambda: [decoder.decode(x) for x in lines])
    except ImportError:
        pass
    parsed = [json.loads(x) for x in lines]
    validator = load_spec("graph").validator("ExportRow")
    timed("validate jsonschema is_valid", lambda: [validator.is_valid(r) for r in parsed[: n // 4]])
    out["validate jsonschema is_valid"] /= 4
    try:
        import fastjsonschema

        compiled = fastjsonschema.compile(load_spec("graph").schema("ExportRow"))

        def run_fast() -> None:
            for r in parsed:
                compiled(r)

        timed("validate fastjsonschema", run_fast)
    except ImportError:
        pass
    except Exception as exc:  # noqa: BLE001 - a compile failure is a figure too
        out["validate fastjsonschema"] = f"not usable: {type(exc).__name__}"

    def judge() -> None:
        j = ExportJudge(RowRules.load(), invoice_id=INVOICE)
        j.blob("b").consume(enumerate(lines, 1))

    timed("parse+judge engine (orjson + compiled check)", judge)
    return out


PATHS = {"mock": path_mock, "engine": path_engine, "naive": path_naive, "choices": path_choices}


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(path: str, base: str, rows: int) -> None:
    before = cpu_seconds()
    result = PATHS[path](base, rows)
    result["cpu_seconds"] = cpu_seconds() - before  # this process only: what the path costs one core
    result["peak_rss_mib"] = peak_rss_mib()
    print("RESULT " + json.dumps(result), flush=True)


def run_child(path: str, base: str, rows: int) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", path, "--base", base, "--rows", str(rows)],
                          capture_output=True, text=True, cwd=ROOT, timeout=3600)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise SystemExit(f"{path} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--blob-rows", type=int, default=250_000)
    p.add_argument("--naive-rows", type=int, default=100_000)
    p.add_argument("--small", action="store_true", help="50,000 rows (naive 20,000): what CI runs")
    p.add_argument("--child", choices=sorted(PATHS), help=argparse.SUPPRESS)
    p.add_argument("--base", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args.child, args.base, args.rows)
        return 0
    if args.small:
        args.rows, args.blob_rows, args.naive_rows = 50_000, 12_500, 20_000
    naive_rows = min(args.naive_rows, args.rows)
    print(f"export-row benchmark: {args.rows:,} rows in blobs of {args.blob_rows:,} over loopback; "
          f"{os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.1f}", flush=True)

    mock, base = start_mock(args.rows, args.blob_rows)
    try:
        m = run_child("mock", base, args.rows)
        e = run_child("engine", base, args.rows)
    finally:
        stop(mock)
    mock, base = start_mock(naive_rows, min(args.blob_rows, naive_rows))
    try:
        n = run_child("naive", base, naive_rows)
    finally:
        stop(mock)
    c = run_child("choices", "", 20_000 if not args.small else 5_000)

    mock_rate = args.rows / m["seconds"]
    engine_rate = e["rows"] / e["seconds"]
    naive_rate = n["rows"] / n["seconds"]
    engine_cpu_rate = e["rows"] / e["cpu_seconds"]
    naive_cpu_rate = n["rows"] / n["cpu_seconds"]
    naive_mem_at_n = n["peak_rss_mib"] + (n["peak_rss_mib"] - 60) * (args.rows / naive_rows - 1)
    print(f"\nmock alone:   {mock_rate:>12,.0f} rows/s served ({m['compressed'] / MiB:,.1f} MiB gzip in "
          f"{m['seconds']:.1f} s)")
    print(f"engine:       {engine_rate:>12,.0f} rows/s end to end ({e['rows']:,} rows in {e['seconds']:.1f} s; "
          f"{e['inflated'] / MiB:,.0f} MiB inflated from {e['compressed'] / MiB:,.0f} MiB), peak RSS "
          f"{e['peak_rss_mib']:.0f} MiB, {e['findings']} finding(s)")
    print(f"              {engine_cpu_rate:>12,.0f} rows per CPU-second of the suite's process "
          f"({e['cpu_seconds']:.1f} s CPU: what one idle core gives)")
    print(f"naive:        {naive_rate:>12,.0f} rows/s ({n['rows']:,} rows in {n['seconds']:.1f} s), peak RSS "
          f"{n['peak_rss_mib']:.0f} MiB at {naive_rows:,} rows (about {naive_mem_at_n:,.0f} MiB at {args.rows:,}, "
          "extrapolated linearly)")
    print(f"              {naive_cpu_rate:>12,.0f} rows per CPU-second ({n['cpu_seconds']:.1f} s CPU)")
    print(f"ratio:        engine / naive = {engine_rate / naive_rate:,.1f}x faster by the clock, "
          f"{engine_cpu_rate / naive_cpu_rate:,.1f}x by CPU time; "
          f"mock / engine = {mock_rate / engine_rate:,.1f}x (> 1: the mock is not the bottleneck)")
    print("goal:         >= 100,000 rows/s: " + ("met" if engine_rate >= 100_000 else "NOT met")
          + f" by the clock (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs), "
          + ("met" if engine_cpu_rate >= 100_000 else "NOT met") + " per CPU-second"
          + f"; < 200 MiB peak: " + ("met" if e["peak_rss_mib"] < 200 else "NOT met"))
    print("\nhot-path choices (rows per CPU-second, in memory):")
    for name, value in c.items():
        if name not in ("peak_rss_mib", "cpu_seconds"):
            print(f"  {name:<46} {value:>12,.0f}" if isinstance(value, float) else f"  {name:<46} {value}")
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    name = "rows-small.json" if args.small else "rows.json"
    (results / name).write_text(json.dumps({"rows": args.rows, "mock": m, "engine": e, "naive": n, "choices": c,
                                            "naive_rows": naive_rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
