"""Benchmark: validating every row of a large billed reconciliation export, end to end over loopback.

One run (default 1,000,000 rows; ``--small`` 50,000) does, each path in its own process so that peak RSS is its own:

1. **mock alone**: the mock serves the export and a client only drains the bytes (the mock's own rate; it must be
   faster than the engine, or the engine's figure would be the mock's);
2. **single**: the suite's path (drivers/graph_export.py) in one process (RECON_ROW_WORKERS=1): POST, poll,
   manifest, then every blob streamed through incremental gunzip → orjson → the compiled per-column check
   (checks/rows.py), findings worded by jsonschema;
3. **pool**: the same path with one worker process per core (rows_pool.py: one blob per task, download and judge
   in the worker, findings merged in the parent in manifest order);
4. **naive**: whole download, ``gzip.decompress``, ``json.loads`` and ``jsonschema`` (the spec's ExportRow) per row,
   on ``--naive-rows`` rows (default 100,000: at a million it would hold gigabytes), its memory extrapolated;
5. **hot-path choices** on 20,000 rows in memory: json vs orjson vs msgspec (untyped, and typed decoding into a
   Struct built from the spec, which validates while it decodes) for parsing, jsonschema vs the compiled check
   (vs fastjsonschema if installed) for validating, zlib vs ISA-L for inflating.

Memory is each process's own high-water mark (VmHWM in /proc/PID/status), summed over the process and every
process it started (workers, the resource tracker), read before they exit; never ru_maxrss of children, which
inherits the parent's. It prints figures and asserts nothing about speed. Goal: >= 250,000 rows/s end to end on
2 cores and < 200 MiB total peak for the pool.

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


def vm_hwm_mib(pid: int | str = "self") -> float:
    """A process's own peak resident memory (VmHWM), in MiB; 0 when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def descendants(pid: int | str = "self") -> list[int]:
    """Every process this one started, recursively (from /proc/PID/task/*/children)."""
    out: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return out
    for task in tasks:
        try:
            kids = [int(x) for x in (task / "children").read_text().split()]
        except OSError:
            continue
        for kid in kids:
            out += [kid, *descendants(kid)]
    return out


def peak_rss_mib() -> float:
    return vm_hwm_mib()


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


def path_single(base: str, rows: int) -> dict:
    os.environ["RECON_ROW_WORKERS"] = "1"
    return path_engine(base, rows)


def path_pool(base: str, rows: int) -> dict:
    os.environ["RECON_ROW_WORKERS"] = str(len(os.sched_getaffinity(0)))
    return path_engine(base, rows)


def path_engine(base: str, _rows: int) -> dict:
    from recon_contracts import rows_pool
    from recon_contracts.traffic.auth import StaticToken
    from recon_contracts.traffic.client import ApiClient, RequestBudget
    from recon_contracts.drivers.graph_export import run_export

    client = ApiClient(api="graph", base_url=f"{base}/v1.0", token=StaticToken("bench"), budget=RequestBudget())
    started = time.perf_counter()
    judge = rows_pool.pooled_judge_for(invoice_id=INVOICE, attribute_set="full")
    run = run_export(client, INVOICE, "full", poll_timeout=60, sleep=lambda s: None, sink=judge)
    seconds = time.perf_counter() - started
    assert run.rows is not None, run.stopped
    findings = run.rows.findings()
    kids = {pid: vm_hwm_mib(pid) for pid in descendants()}  # before the pool stops: each worker's own peak
    rows_pool.shutdown()
    return {"seconds": seconds, "rows": run.rows.rows, "findings": len(findings), "stopped": run.stopped,
            "inflated": sum(b.stats.inflated for b in run.blobs), "compressed": sum(b.stats.compressed for b in run.blobs),
            "workers": rows_pool.workers_wanted(), "children_hwm_mib": sorted(kids.values(), reverse=True),
            "children_cpu_seconds": _children_cpu()}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # CPU time only: reaped children (the pool, once shut down)
    return usage.ru_utime + usage.ru_stime


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
        best = float("inf")
        for _ in range(3):  # best of 3, in CPU time: on a shared machine the clock measures the neighbours
            t = time.process_time()
            fn()
            best = min(best, time.process_time() - t)
        out[name] = n / max(best, 1e-9)

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
        typed = msgspec.json.Decoder(_row_struct(msgspec, json.loads(lines[0])))
        timed("parse msgspec typed Struct (validates types)", lambda: [typed.decode(x) for x in lines])
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

    timed("parse+judge engine (msgspec typed, orjson fallback)", judge)
    from recon_contracts.checks import rows as rows_module

    typed_lib, rows_module._msgspec = rows_module._msgspec, None
    try:
        timed("parse+judge engine without msgspec (orjson only)", judge)
    finally:
        rows_module._msgspec = typed_lib
    return out


def _row_struct(msgspec, row: dict):  # noqa: ANN001, ANN202
    """A msgspec Struct of the spec's ExportRow column kinds for these keys (typed decoding validates as it parses)."""
    from typing import Optional, Union

    from recon_contracts.checks.rows import RowRules

    rules = RowRules.load()
    kinds = {"S": Optional[str], "K": str, "N": Optional[Union[float, str]], "M": Optional[Union[int, str]],
             "D": Optional[str], "Q": Optional[Union[list[str], str]]}
    fields = []
    for key in row:
        canonical = rules.by_folded.get(key.casefold())
        fields.append((key, kinds[rules.kinds[canonical]] if canonical else msgspec.Raw, msgspec.field(default=None)))
    return msgspec.defstruct("Row", fields)


PATHS = {"mock": path_mock, "single": path_single, "pool": path_pool, "naive": path_naive, "choices": path_choices}


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(path: str, base: str, rows: int) -> None:
    before = cpu_seconds()
    result = PATHS[path](base, rows)
    result["cpu_seconds"] = cpu_seconds() - before  # this process only: what the path costs one core
    result["peak_rss_mib"] = peak_rss_mib()
    result["total_peak_mib"] = result["peak_rss_mib"] + sum(result.get("children_hwm_mib", ()))
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
    p.add_argument("--small", action="store_true", help="50,000 rows (naive 3,000, choices 2,000): what CI runs")
    p.add_argument("--child", choices=sorted(PATHS), help=argparse.SUPPRESS)
    p.add_argument("--base", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args.child, args.base, args.rows)
        return 0
    if args.small:
        args.rows, args.blob_rows, args.naive_rows = 50_000, 12_500, 3_000
    naive_rows = min(args.naive_rows, args.rows)
    print(f"export-row benchmark: {args.rows:,} rows in blobs of {args.blob_rows:,} over loopback; "
          f"{os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.1f}", flush=True)

    mock, base = start_mock(args.rows, args.blob_rows)
    try:
        m = run_child("mock", base, args.rows)
        e = run_child("single", base, args.rows)
        pl = run_child("pool", base, args.rows)
    finally:
        stop(mock)
    mock, base = start_mock(naive_rows, min(args.blob_rows, naive_rows))
    try:
        n = run_child("naive", base, naive_rows)
    finally:
        stop(mock)
    c = run_child("choices", "", 20_000 if not args.small else 2_000)

    mock_rate = args.rows / m["seconds"]
    engine_rate = e["rows"] / e["seconds"]
    pool_rate = pl["rows"] / pl["seconds"]
    naive_rate = n["rows"] / n["seconds"]
    engine_cpu_rate = e["rows"] / e["cpu_seconds"]
    pool_cpu = pl["cpu_seconds"] + pl["children_cpu_seconds"]
    naive_cpu_rate = n["rows"] / n["cpu_seconds"]
    naive_mem_at_n = n["peak_rss_mib"] + (n["peak_rss_mib"] - 60) * (args.rows / naive_rows - 1)
    load = os.getloadavg()
    print(f"\n{'path':<8} {'rows/s':>10} {'rows':>11} {'seconds':>8} {'CPU-s':>7} {'rows/CPU-s':>11} {'peak MiB (all processes)':>26}")
    print(f"{'mock':<8} {mock_rate:>10,.0f} {args.rows:>11,} {m['seconds']:>8.1f} {m['cpu_seconds']:>7.1f} "
          f"{'':>11} {m['peak_rss_mib']:>26.0f}   (drains {m['compressed'] / MiB:,.1f} MiB gzip; serving only)")
    print(f"{'single':<8} {engine_rate:>10,.0f} {e['rows']:>11,} {e['seconds']:>8.1f} {e['cpu_seconds']:>7.1f} "
          f"{engine_cpu_rate:>11,.0f} {e['total_peak_mib']:>26.0f}   (1 process; {e['findings']} finding(s))")
    print(f"{'pool':<8} {pool_rate:>10,.0f} {pl['rows']:>11,} {pl['seconds']:>8.1f} {pool_cpu:>7.1f} "
          f"{pl['rows'] / pool_cpu:>11,.0f} {pl['total_peak_mib']:>26.0f}   ({pl['workers']} workers; parent "
          f"{pl['peak_rss_mib']:.0f} + " + " + ".join(f"{x:.0f}" for x in pl["children_hwm_mib"])
          + f" MiB; {pl['findings']} finding(s))")
    print(f"{'naive':<8} {naive_rate:>10,.0f} {n['rows']:>11,} {n['seconds']:>8.1f} {n['cpu_seconds']:>7.1f} "
          f"{naive_cpu_rate:>11,.0f} {n['peak_rss_mib']:>26.0f}   (at {naive_rows:,} rows; about "
          f"{naive_mem_at_n:,.0f} MiB at {args.rows:,}, extrapolated)")
    print(f"\nratio: pool / single = {pool_rate / engine_rate:,.2f}x; pool / naive = {pool_rate / naive_rate:,.0f}x by the "
          f"clock; mock / pool = {mock_rate / pool_rate:,.1f}x (> 1: the mock is not the bottleneck)")
    print(f"goal:  pool >= 250,000 rows/s: {'met' if pool_rate >= 250_000 else 'NOT met'} (load average "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs); total peak < 200 MiB: "
          + ("met" if pl["total_peak_mib"] < 200 else "NOT met"))
    print("\nhot-path choices (rows per CPU-second, in memory):")
    for name, value in c.items():
        if name not in ("peak_rss_mib", "cpu_seconds", "total_peak_mib"):
            print(f"  {name:<46} {value:>12,.0f}" if isinstance(value, float) else f"  {name:<46} {value}")
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    name = "rows-small.json" if args.small else "rows.json"
    (results / name).write_text(json.dumps({"rows": args.rows, "load_average": load, "mock": m, "single": e,
                                            "pool": pl, "naive": n, "choices": c, "naive_rows": naive_rows},
                                           indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
