"""Benchmark: thousands of generated conforming servers (export blobs; HTTP, paging and transient freedoms) judged
by the suite's own code; figures, no asserts.

Each seed samples N servers from ``tests/generated/servers.py`` (every RFC 8259 spelling, every RFC 1952 stream shape,
reads cut anywhere; see ``tests/generated/freedoms.py``) and judges each with the suite's reader and row checks.
It prints servers tried, seeds, false alarms (a breaking finding, an unproven read or a row lost on a conforming
server), generated drift tried and missed, and the rate. The first false alarm is printed with the freedoms and the
mock command line that reproduce it (Hypothesis shrinks it first).

The HTTP part samples ``tests/generated/http_servers.py`` (every register alternative combined, chunked or
Content-Length, keep-alive or close, header-name case, unknown header fields, gzip Content-Encoding, relative or
absolute links, any page size at or below ``size``, tokens of any length and alphabet, 429/503 with or without
Retry-After at every step and 500 on blobs): one mock serves every configuration in turn, the suite's walk and
export drive it, the offline checker judges the exchanges. A false alarm is shrunk freedom by freedom and printed
as the mock command line that reproduces it; generated drift layered on generated servers is counted as caught
or missed.

    python bench/bench_generated.py                 # 5 seeds x 500 servers of each kind
    python bench/bench_generated.py --small         # 2 seeds x 50 servers (CI)
    python bench/bench_generated.py --seeds 0 1 2 --servers 1000
    python bench/bench_generated.py --only http     # the HTTP/paging/transient servers only
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


def http_sample(seed_value: int, servers: int) -> dict[str, object]:
    """``servers`` generated HTTP/paging/transient servers from ``seed_value``: tried, false alarms, the first shrunk."""
    import http_servers as hs
    from recon_contracts.mock import MockConfig, serve

    tried = [0]
    alarms: list[object] = []
    known = [0]
    with serve(MockConfig()) as mock:
        @seed(seed_value)
        @settings(max_examples=servers, deadline=None, database=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(server=hs.http_servers())
        def run(server):
            tried[0] += 1
            verdict = hs.judge(mock, server)
            known[0] += bool(verdict.known)
            if not verdict.ok:
                alarms.append((server, verdict))

        run()
        first = None
        if alarms:
            server, verdict = alarms[0]
            what = (verdict.breaking + verdict.unproven + verdict.lost)[0]
            small = hs.shrink(server, lambda s: not hs.judge(mock, s).ok, budget_s=30)
            first = f"{what[:240]}\n    reproduce (shrunk): {small.command()}"
        kinds: dict[str, int] = {}
        for _, verdict in alarms:
            key = (verdict.breaking + verdict.unproven + verdict.lost)[0].split(":")[0][:60]
            kinds[key] = kinds.get(key, 0) + 1
    return {"seed": seed_value, "tried": tried[0], "false_alarms": len(alarms), "first": first, "kinds": kinds,
            "known": known[0]}


def http_drift(seed_value: int, servers: int) -> tuple[int, int, list[str]]:
    """Generated drift (tests/generated/test_generated_http.py REACHABLE) on generated HTTP servers: (tried, missed,
    the first misses' command lines)."""
    import http_servers as hs
    from test_generated_http import REACHABLE, drifted
    from recon_contracts.mock import PROFILES, MockConfig, serve

    counts = [0, 0]
    missed: list[str] = []
    with serve(MockConfig()) as mock:
        @seed(seed_value)
        @settings(max_examples=servers, deadline=None, database=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(server=hs.http_servers(), drift=st.sampled_from(REACHABLE))
        def run(server, drift):
            bad = drifted(server, drift)
            counts[0] += 1
            rule = PROFILES[drift].breaks[0]
            if not any(b.startswith(rule) for b in hs.judge(mock, bad).breaking):
                counts[1] += 1
                missed.append(f"{drift} ({rule}): {bad.command()}")

        run()
    return counts[0], counts[1], missed[:3]


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
    parser.add_argument("--only", choices=["blobs", "http"], default=None, help="one kind of generated server")
    args = parser.parse_args()
    seeds = args.seeds if args.seeds is not None else ([0, 1] if args.small else [0, 1, 2, 3, 4])
    servers = args.servers or (50 if args.small else 500)
    if args.only != "http":
        blobs(seeds, servers, args.max_rows)
    if args.only != "blobs":
        http(seeds, servers)


def blobs(seeds: list[int], servers: int, max_rows: int) -> None:
    started = time.monotonic()
    results = [sample(s, servers, max_rows) for s in seeds]
    elapsed = time.monotonic() - started
    tried = sum(int(r["tried"]) for r in results)
    alarms = sum(int(r["false_alarms"]) for r in results)
    drift_tried = drift_missed = 0
    for s in seeds:
        t, m = drift(s, max(10, servers // 5))
        drift_tried, drift_missed = drift_tried + t, drift_missed + m
    print(f"generated conforming export blobs: {tried} servers over seeds {seeds} ({servers} per seed, up to "
          f"{max_rows} rows each), false alarms {alarms}, {elapsed:.1f} s ({tried / elapsed:.0f} servers/s)")
    print(f"generated drift on generated conforming blobs: {drift_tried} tried, {drift_missed} missed")
    for r in results:
        if r["first"]:
            print(f"  seed {r['seed']}: first false alarm (shrunk): {r['first']}")


def http(seeds: list[int], servers: int) -> None:
    from http_servers import KNOWN_FALSE_ALARMS as KNOWN

    started = time.monotonic()
    results = [http_sample(s, servers) for s in seeds]
    elapsed = time.monotonic() - started
    tried = sum(int(str(r["tried"])) for r in results)
    alarms = sum(int(str(r["false_alarms"])) for r in results)
    known = sum(int(str(r["known"])) for r in results)
    print(f"generated conforming HTTP/paging/transient servers: {tried} servers over seeds {seeds} ({servers} per "
          f"seed), false alarms {alarms} (+{known} of the known false alarm"
          f"{'s' if len(KNOWN) > 1 else ''} {', '.join(KNOWN)}), {elapsed:.1f} s ({tried / elapsed:.1f} servers/s, "
          "one mock process)")
    for r in results:
        if r["false_alarms"]:
            print(f"  seed {r['seed']}: {r['false_alarms']} false alarm(s) by first finding: {r['kinds']}")
            print(f"    first: {r['first']}")
    drift_tried = drift_missed = 0
    for s in seeds:
        t, m, missed = http_drift(s, max(10, servers // 5))
        drift_tried, drift_missed = drift_tried + t, drift_missed + m
        for line in missed:
            print(f"  seed {s}: drift missed: {line}")
    print(f"generated drift on generated conforming HTTP servers: {drift_tried} tried, {drift_missed} missed")


if __name__ == "__main__":
    main()
