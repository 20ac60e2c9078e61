"""``recon-contracts proxy``: serve the validation proxy until a signal or ``--exit-after N``, then report.

Thin glue: options, the server, and on stop the reports every command writes (summary.json, report.html and
the reference beside it via :func:`reporting.files.write_reports`, junit.xml via the offline checker's
writer, traffic.har via :class:`reporting.har.HarRecorder`), the verdict line and the exit code:
0 pass, 1 a breaking finding, 2 inconclusive (nothing judged, or the upstream kept a check from being made),
4 bad input.
"""

from __future__ import annotations

import argparse
import errno
import json
import signal
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from .. import argtypes
from ..redact import REDACTOR

from ..errors import UsageError as _UsageError
from ..verdict import EXIT_INCONCLUSIVE as EXIT_NOT_RUN, EXIT_OK, EXIT_USAGE
from .base import UsageParser as _Parser

URL_MAP_FILE = "url-map.json"


def _upstream(text: str) -> str:
    parts = urlsplit(text.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"{text!r} is not an http(s) server root (e.g. https://graph.microsoft.com)")
    if parts.query or parts.fragment:
        raise argparse.ArgumentTypeError(f"{text!r}: a server root has no query or fragment")
    try:
        parts.port
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} has a bad port") from None
    return text.strip().rstrip("/")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="recon-contracts proxy", allow_abbrev=False,
                description="A validation reverse proxy: put it between your own client and Partner Center and/or "
                            "Microsoft Graph; every exchange is judged by the suite's rules as it happens.")
    p.add_argument("--pc-upstream", type=_upstream, metavar="URL",
                   help="Partner Center server root (e.g. https://api.partnercenter.microsoft.com), served under /v1")
    p.add_argument("--graph-upstream", type=_upstream, metavar="URL",
                   help="Graph server root (e.g. https://graph.microsoft.com), served under /v1.0 and /beta")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=argtypes.port, default=8081, help="port to listen on; 0 picks a free one (default 8081)")
    p.add_argument("--report-dir", default="reports", metavar="DIR", help="where the reports go (default reports)")
    p.add_argument("--proxy-blobs", action="store_true",
                   help="rewrite manifest blob URLs too, so downloads pass through (and are validated row by row)")
    p.add_argument("--exit-after", type=argtypes.positive_int, metavar="N", help="stop after N exchanges (default: at SIGINT/SIGTERM)")
    p.add_argument("--fail-on-breaking", action="store_true",
                   help="answer an exchange that breaks a breaking rule with 502 problem+json naming the rule")
    return p


def _error(message: str) -> int:
    print(f"recon-contracts proxy: error: {REDACTOR(message)}", file=sys.stderr)
    return EXIT_USAGE


def main(argv: list[str]) -> int:
    parser = build_parser()
    if any(a in ("-h", "--help") for a in argv):
        parser.print_help()
        return EXIT_OK
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        return _error(f"{exc} (see recon-contracts proxy --help)")
    if not args.pc_upstream and not args.graph_upstream:
        return _error("name at least one upstream: --pc-upstream URL and/or --graph-upstream URL")
    report_dir = Path(args.report_dir)
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return _error(f"--report-dir {str(report_dir)!r} cannot be created: {exc.strerror or exc}")
    if not report_dir.is_dir():
        return _error(f"--report-dir {str(report_dir)!r} is not a directory")

    from ..mock.server import QuietServer, bind
    import uvicorn

    try:
        sock = bind(args.host, args.port)
    except OSError as exc:
        reason = "address already in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
        return _error(f"cannot listen on {args.host}:{args.port}: {reason}")
    host, port = sock.getsockname()[:2]
    root = f"http://{f'[{host}]' if ':' in host else host}:{port}"

    from ..reporting.har import HAR_FILE, HarRecorder
    from ..proxy.app import ProxyState, create_app
    from ..proxy.judge import Judge
    from ..proxy.sink import FindingSink
    from ..proxy.urlmap import UrlMap

    sink = FindingSink(report_dir)
    har = HarRecorder(report_dir / HAR_FILE)
    state = ProxyState(urls=UrlMap(root, pc_upstream=args.pc_upstream, graph_upstream=args.graph_upstream,
                                   proxy_blobs=args.proxy_blobs),
                       judge=Judge(sink), fail_on_breaking=args.fail_on_breaking, record=har.record)
    class _Server(QuietServer):
        async def shutdown(self, sockets: object = None) -> None:
            await super().shutdown(sockets)  # type: ignore[arg-type]
            if state.client is not None:  # the upstream connections close on the server's own loop
                await state.client.aclose()

    server = _Server(uvicorn.Config(create_app(state), log_level="warning", access_log=False, lifespan="off",
                                        timeout_keep_alive=30, timeout_graceful_shutdown=10))
    done = [0]
    lock = threading.Lock()

    def counted() -> None:
        with lock:
            done[0] += 1
            if args.exit_after and done[0] >= args.exit_after:
                server.should_exit = True

    state.counted = counted

    def stop(_signum: int, _frame: object) -> None:
        if server.should_exit:
            server.force_exit = True
        server.should_exit = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    started = time.time()
    print(f"recon-contracts proxy: listening on {root}", flush=True)
    if args.pc_upstream:
        print(f"  Partner Center:  {root}/v1  ->  {args.pc_upstream}/v1")
    if args.graph_upstream:
        print(f"  Graph:           {root}/v1.0, {root}/beta  ->  {args.graph_upstream}")
    print(f"  findings:        {sink.path}" + ("; blob downloads pass through" if args.proxy_blobs else ""), flush=True)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sock.close()
    return finish(state, report_dir, started=started, sink=sink, har=har)


def finish(state: "object", report_dir: Path, *, started: float, sink: "object", har: "object") -> int:
    """Judge the session once more as a whole, write the reports, print the verdict; the exit code."""
    from .check import GROUPS, junit_xml
    from ..findings import breaking
    from ..reporting.files import JUNIT_FILE, RunResult
    from .base import finish as finish_reports
    from ..reporting.summary import redact_tree

    judge = state.judge  # type: ignore[attr-defined]
    judge.finish()
    sink.close()  # type: ignore[attr-defined]
    har.close()  # type: ignore[attr-defined]
    har_path = report_dir / "traffic.har"
    text = har_path.read_text(encoding="utf-8", errors="replace") if har_path.is_file() else ""
    if text and REDACTOR(text) != text:
        har_path.write_text(REDACTOR(text), encoding="utf-8")
    (report_dir / URL_MAP_FILE).write_text(
        REDACTOR(json.dumps(redact_tree(state.urls.report()), indent=1)) + "\n", encoding="utf-8")  # type: ignore[attr-defined]

    findings = list(judge.findings)
    nothing = judge.exchanges == 0
    failing = breaking(findings)
    failed_groups = {str(f.extra.get("test", "")) for f in failing}
    duration = time.time() - started
    (report_dir / JUNIT_FILE).write_text(REDACTOR(junit_xml(findings, list(GROUPS), strict=False, duration_s=duration)),
                                         encoding="utf-8")
    flows = judge.flows.all
    urls = state.urls  # type: ignore[attr-defined]
    run = RunResult(
        findings=findings,
        targets={"partner-center": urls.pc, "graph": urls.graph},
        requests_sent=judge.exchanges,
        exit_status=EXIT_NOT_RUN if nothing else 0,
        tests={"passed": len(GROUPS) - len(failed_groups & set(GROUPS)), "failed": len(failed_groups & set(GROUPS))},
        started=started,
        duration_s=duration,
        recorded={"proxy": {"exchanges": judge.exchanges, "blob rows judged": judge.blob_rows,
                            "flows": {kind: sum(1 for f in flows if f.kind == kind) for kind in ("export", "walk", "other")},
                            "url map": URL_MAP_FILE, "findings stream": sink.path.name}},  # type: ignore[attr-defined]
        unproven=list(judge.unproven),
    )
    if nothing:
        print("recon-contracts proxy: no exchange passed through the proxy: nothing was judged", file=sys.stderr)
    print(f"proxied {judge.exchanges} exchange(s) in {len(flows)} flow(s); {len(findings)} finding(s)")
    verdict, _summary = finish_reports(report_dir, run)
    sys.stdout.flush()
    return verdict.exit_code
