"""Benchmark: thousands of generated conforming export blobs judged by the suite's row reader; figures, no asserts.

Each seed samples N servers from ``tests/generated/servers.py`` (every RFC 8259 spelling, every RFC 1952 stream shape,
reads cut anywhere; see ``tests/generated/freedoms.py``) and judges each with the suite's reader and row checks.
It prints servers tried, seeds, false alarms (a breaking finding, an unproven read or a row lost on a conforming
server), generated drift tried and missed, and the rate. The first false alarm is printed with the freedoms and the
mock command line that reproduce it (Hypothesis shrinks it first).

    python bench/bench_generated.py                 # 5 seeds x 500 servers
    python bench/bench_generated.py --small         # 2 seeds x 50 servers (CI)
    python bench/bench_generated.py --seeds 0 1 2 --servers 1000
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "generated"))

from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from servers import blob_servers, judge  # noqa: E402


def sample(seed_value: int, servers: int, max_rows: int) -> dict[str, object]:
    tried = [0]
    alarms: list[str] = []

    @seed(seed_value)
    @settings(max_examples=servers, deadline=None, database=None, phases=[Phase.generate, Phase.shrink],
              suppress_health_check=list(HealthCheck))
    @given(server=blob_servers(max_rows=max_rows))
    def run(server):
        tried[0] += 1
        verdict = judge(server)
        ok = verdict.inconclusive is None and not verdict.breaking and verdict.rows == server.rows
        if not ok:
            alarms.append(f"{verdict} / reproduce: {server.command()}")
        assert ok

    try:
        run()
    except (AssertionError, ExceptionGroup):
        pass
    return {"seed": seed_value, "tried": tried[0], "false_alarms": len(alarms), "first": alarms[-1] if alarms else None}


def drift(seed_value: int, servers: int) -> tuple[int, int]:
    """Generated drift (a line that is not JSON, a bare NaN) on generated conforming blobs: (tried, missed)."""
    import gzip

    from freedoms import gzip_stream, network_reads

    counts = [0, 0]

    @seed(seed_value)
    @settings(max_examples=servers, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(server=blob_servers(), kind=st.sampled_from(["garbage", "nan"]), data=st.data())
    def run(server, kind, data):
        text = gzip.decompress(b"".join(server.reads)).decode("utf-8", "surrogatepass")
        text = text.replace("}", "} x", 1) if kind == "garbage" else text.replace(":", ": NaN, \"n\":", 1)
        server.reads = data.draw(network_reads(data.draw(gzip_stream(text.encode("utf-8", "surrogatepass")))))
        counts[0] += 1
        if not any(b.startswith("GR-BLOB-GZIP-JSONL") for b in judge(server).breaking):
            counts[1] += 1

    run()
    return counts[0], counts[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="2 seeds x 50 servers (CI)")
    parser.add_argument("--seeds", type=int, nargs="*", default=None)
    parser.add_argument("--servers", type=int, default=None, help="servers per seed")
    parser.add_argument("--max-rows", type=int, default=20)
    args = parser.parse_args()
    seeds = args.seeds if args.seeds is not None else ([0, 1] if args.small else [0, 1, 2, 3, 4])
    servers = args.servers or (50 if args.small else 500)
    started = time.monotonic()
    results = [sample(s, servers, args.max_rows) for s in seeds]
    elapsed = time.monotonic() - started
    tried = sum(int(r["tried"]) for r in results)
    alarms = sum(int(r["false_alarms"]) for r in results)
    drift_tried = drift_missed = 0
    for s in seeds:
        t, m = drift(s, max(10, servers // 5))
        drift_tried, drift_missed = drift_tried + t, drift_missed + m
    print(f"generated conforming export blobs: {tried} servers over seeds {seeds} ({servers} per seed, up to "
          f"{args.max_rows} rows each), false alarms {alarms}, {elapsed:.1f} s ({tried / elapsed:.0f} servers/s)")
    print(f"generated drift on generated conforming blobs: {drift_tried} tried, {drift_missed} missed")
    for r in results:
        if r["first"]:
            print(f"  seed {r['seed']}: first false alarm (shrunk): {r['first']}")


if __name__ == "__main__":
    main()
