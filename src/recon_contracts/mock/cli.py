"""``recon-contracts mock``: serve the reference mock in the foreground."""

from __future__ import annotations

import argparse
import errno
import signal
import sys

from .. import argtypes
from .config import MockConfig
from .knobs import SHORT_PAGE_CAP, knobs_of
from .transients import Transient
from .profiles import PROFILES, profiles_table
from .server import bind, make_server


def _profile(text: str) -> str:
    if text not in PROFILES:
        raise argparse.ArgumentTypeError(f"unknown profile {text!r}; --list-profiles lists them")
    return text


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        """One line, exit 2 (argparse's usage block is left to --help)."""
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="recon-contracts mock",
        description="Serve the reference mock of Partner Center (/v1) and Microsoft Graph (/v1.0, /beta) "
                    "billing reconciliation APIs on one port.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=argtypes.port, default=8080, help="port to listen on; 0 picks a free one (default 8080)")
    p.add_argument("--profile", default="conforming", type=_profile, metavar="NAME",
                   help="behaviour profile (default conforming; see --list-profiles)")
    p.add_argument("--seed", type=argtypes.non_negative_int, default=0, help="seed of the generated data (default 0)")
    p.add_argument("--items", type=argtypes.non_negative_int, default=40,
                   help="line items per data set (default 40)")
    p.add_argument("--poll-count", type=argtypes.non_negative_int, default=2,
                   help="polls answered notStarted/running before the terminal state (default 2)")
    p.add_argument("--retry-after", type=argtypes.seconds, default=1.0,
                   help="Retry-After seconds on running polls, sent rounded up (default 1; 0 allowed)")
    p.add_argument("--poll-seconds", type=argtypes.seconds, default=0.0,
                   help="an operation also stays running until this many seconds have passed (default 0)")
    p.add_argument("--blob-rows", type=argtypes.positive_int, default=5000, help="JSON lines per exported blob (default 5000)")
    p.add_argument("--export-rows", type=argtypes.non_negative_int, default=None, metavar="N",
                   help="rows of every Graph export, generated lazily and streamed over ceil(N/--blob-rows) blobs "
                        "(default: --items)")
    p.add_argument("--knob", action="append", default=[], metavar="NAME=VALUE",
                   help="set a knob on top of the profile's (a register answer: contracts/silent-points.yaml); repeatable")
    p.add_argument("--drift", action="append", default=[], metavar="NAME",
                   help="add a drift on top of the profile's (a drift profile's name); repeatable")
    p.add_argument("--page-cap", type=argtypes.positive_int, default=None, metavar="N",
                   help="with --knob page_fill=short: the most items a page holds (default 5)")
    p.add_argument("--token-filler", default="", metavar="TEXT",
                   help="continuation tokens start with TEXT (any visible ASCII: tokens are opaque)")
    p.add_argument("--transient", action="append", default=[], metavar="STEP:STATUS[:no-retry-after][:xN]",
                   help="answer 429/503 (or 500 on a blob) at a step: pc-first, pc-next, gr-export, gr-poll, "
                        "gr-manifest, blob; repeatable")
    p.add_argument("--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"],
                   help="uvicorn log level (default warning)")
    p.add_argument("--list-profiles", action="store_true", help="list every profile and the rule it breaks, then exit")
    return p


def main(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # bad options: argparse prints one line and exits 2
    if args.list_profiles:
        try:
            print(profiles_table(), flush=True)
        except BrokenPipeError:  # e.g. piped into head
            sys.stderr.close()
        return 0
    try:
        config = MockConfig(profile=args.profile, seed=args.seed, items=args.items, poll_count=args.poll_count,
                            retry_after=args.retry_after, poll_seconds=args.poll_seconds, blob_rows=args.blob_rows,
                            export_rows=args.export_rows, knobs=knobs_of(args.knob), drift=tuple(args.drift),
                            page_cap=args.page_cap or SHORT_PAGE_CAP, token_filler=args.token_filler,
                            transients=tuple(Transient.parse(t) for t in args.transient))
    except ValueError as exc:
        parser.error(str(exc))
    try:
        sock = bind(args.host, args.port)
    except OSError as exc:
        reason = "address already in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
        print(f"recon-contracts mock: cannot listen on {args.host}:{args.port}: {reason}", file=sys.stderr)
        return 1
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    base = f"http://{shown}:{port}"
    server = make_server(config, log_level=args.log_level)

    def stop(signum: int, _frame: object) -> None:
        if server.should_exit:
            server.force_exit = True
        server.should_exit = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    profile = PROFILES[config.profile]
    kind = profile.kind if profile.kind != "drift" else "drift: breaks " + ", ".join(profile.breaks)
    print(f"recon-contracts mock: profile {config.profile} ({kind}), seed {config.seed}, "
          f"{config.items} line items per data set"
          + (f", {config.export_rows:,} rows per export in blobs of {config.blob_rows:,}" if config.export_rows is not None else ""))
    print(f"  base URL:        {base}")
    print(f"  Partner Center:  {base}/v1/invoices/unbilled/lineitems")
    print(f"  Graph v1.0:      {base}/v1.0/reports/partners/billing")
    print(f"  Graph beta:      {base}/beta/reports/partners/billing")
    print("Press Ctrl-C to stop.", flush=True)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # a signal that arrived before the loop started
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sock.close()
    print("recon-contracts mock: stopped.", flush=True)
    return 0
