"""``recon-contracts parity``: does the Graph unbilled reconciliation export give the same data as the v1 line items?

Walks the Partner Center v1 unbilled line items of (--currency, --period) and runs the Graph unbilled
reconciliation export of the same currency and billingPeriod (v1 ``previous`` is Graph ``last``), joins the two by
key as they stream (``recon_contracts.parity``) and writes the parity table (parity.md), the counts and differences
(parity.json) and prints the table. Without base URLs it starts the embedded mock, which serves both APIs from one
data set (``--mock-profile parity-*`` serves the documented kinds of disagreement).

Exit codes: 0 the comparison was made (differences are advisory MIGRATION-* findings: no Microsoft document says
the two must agree), 1 differences under --fail-on-differences, 2 a side could not be read (unreachable, the export
failed or did not finish), 4 bad options.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .. import argtypes

USAGE_EXIT = 4
MOCK_TOKEN = "recon-contracts-mock-token"
_PC_PATH = "/v1/invoices/unbilled/lineitems"
_PC_OPERATION = "GET /v1/invoices/{invoice-id}/lineitems"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # noqa: D401 - argparse's hook
        self.print_usage(sys.stderr)
        print(f"recon-contracts parity: error: {message}", file=sys.stderr)
        raise SystemExit(USAGE_EXIT)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="recon-contracts parity", description=__doc__.split("\n\n")[0])
    env = os.environ.get
    p.add_argument("--pc-base-url", default=env("RECON_PC_BASE_URL"), help="Partner Center base URL")
    p.add_argument("--graph-base-url", default=env("RECON_GRAPH_BASE_URL"), help="Graph base URL with version")
    p.add_argument("--pc-token", default=env("RECON_PC_TOKEN"), help="Partner Center bearer token (else AZURE_*)")
    p.add_argument("--graph-token", default=env("RECON_GRAPH_TOKEN"), help="Graph bearer token (else AZURE_*)")
    p.add_argument("--currency", default=env("RECON_CURRENCY") or "USD", help="currency code (default USD)")
    p.add_argument("--period", default=env("RECON_PERIOD") or "current", help="v1 period: current or previous")
    p.add_argument("--report-dir", default=env("RECON_REPORT_DIR") or "reports", help="where parity.md/json go")
    p.add_argument("--poll-timeout", type=argtypes.positive_seconds, default=None, help="longest wait for the export, in seconds")
    p.add_argument("--page-budget", type=argtypes.positive_int, default=1000, help="most line-item pages to walk (default 1000)")
    p.add_argument("--request-timeout", type=argtypes.positive_seconds, default=60.0, help="total deadline of one request, seconds")
    p.add_argument("--mock-profile", default=env("RECON_MOCK_PROFILE") or "conforming",
                   help="profile of the embedded mock (no base URL given)")
    p.add_argument("--mock-items", type=argtypes.non_negative_int, default=40, help="line items in the embedded mock (default 40)")
    p.add_argument("--fail-on-differences", action="store_true", help="exit 1 when the two APIs differ")
    p.add_argument("-q", "--quiet", action="store_true", help="print only the verdict line")
    return p


def _check(args: argparse.Namespace) -> str | None:
    if not re.fullmatch(r"[A-Za-z]{3}", args.currency or ""):
        return f"--currency must be a three-letter code such as USD, got {args.currency!r}"
    if args.period.lower() not in ("current", "previous"):
        return f"--period must be current or previous (v1's words; previous is Graph's last), got {args.period!r}"
    if bool(args.pc_base_url) != bool(args.graph_base_url):
        return "give both --pc-base-url and --graph-base-url (parity compares the two APIs), or neither for the mock"
    if args.graph_base_url and not re.search(r"/(v1\.0|beta)/?$", args.graph_base_url):
        return f"--graph-base-url must end with the API version (/v1.0 or /beta), got {args.graph_base_url!r}"
    for name in ("poll_timeout", "request_timeout"):
        value = getattr(args, name)
        if value is not None and not (value > 0 and value < float("inf")):
            return f"--{name.replace('_', '-')} must be a positive number of seconds"
    if args.page_budget < 1 or args.mock_items < 0:
        return "--page-budget must be at least 1 and --mock-items at least 0"
    return None


@contextlib.contextmanager
def _targets(args: argparse.Namespace) -> Iterator[tuple[str, str, Any, Any]]:
    """(pc base, graph base, pc token, graph token): the given ones, or the embedded mock's."""
    from ..traffic.auth import GRAPH_SCOPE, PARTNER_CENTER_SCOPE, ClientCredentialsToken, StaticToken

    if args.pc_base_url:
        def token(explicit: str | None, scope: str) -> Any:
            return StaticToken(explicit) if explicit else ClientCredentialsToken(scope)
        yield (args.pc_base_url.rstrip("/"), args.graph_base_url.rstrip("/"),
               token(args.pc_token, PARTNER_CENTER_SCOPE), token(args.graph_token, GRAPH_SCOPE))
        return
    from ..mock import MockConfig, serve

    with serve(MockConfig(profile=args.mock_profile, items=args.mock_items, retry_after=0, poll_count=1)) as server:
        yield server.pc_base_url, server.graph_base_url, StaticToken(MOCK_TOKEN), StaticToken(MOCK_TOKEN)


def walk_v1(client: Any, currency: str, period: str, budget: int, sink: Any) -> str | None:
    """Feed every v1 unbilled line item of (currency, period) to ``sink``, page by page; why it stopped early, or None."""
    from ..checks.paging import body_of, next_request, page_items
    from ..traffic.client import new_request_ids

    params: Any = [("provider", "onetime"), ("invoicelineitemtype", "billinglineitems"),
                   ("currencycode", currency), ("period", period), ("size", "2000")]
    url, headers, tokens = _PC_PATH, None, set()
    for _ in range(budget):
        exchange = client.request("GET", url, operation=_PC_OPERATION, params=params,
                                  headers={**new_request_ids(), **(headers or {})})
        body = body_of(exchange)
        if exchange.status != 200 or not isinstance(body, dict):
            return f"the line items answered {exchange.status}: {exchange.summary(200)}"
        for item in page_items(body):
            sink(item)
        step = next_request(body, client.base_url)
        if step is None:
            return None
        if step.token in tokens:
            return "the walk repeated a continuation token"
        if not client.same_origin(step.url):
            return "links.next points at another host; not followed"
        tokens.add(step.token)
        url, headers, params = step.url, step.headers, None
    return f"the walk did not end within --page-budget {budget} pages"


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a bad option (4, said on stderr)
        return int(exc.code or 0)
    problem = _check(args)
    if problem:
        print(f"recon-contracts parity: error: {problem}", file=sys.stderr)
        return USAGE_EXIT
    from ..truth.exports import KINDS
    from ..mock import PROFILES
    from ..checks.parity import ParityJoin
    from ..traffic.auth import AuthError
    from ..traffic.client import ApiClient, Inconclusive, RequestBudget
    from ..drivers.graph_export import run_export

    if not args.pc_base_url and args.mock_profile not in PROFILES:
        print(f"recon-contracts parity: error: unknown --mock-profile {args.mock_profile!r}", file=sys.stderr)
        return USAGE_EXIT
    currency, period = args.currency.upper(), args.period.lower()
    report_dir = Path(args.report_dir)
    started = time.monotonic()
    join = ParityJoin(currency=currency, period=period)
    why: str | None = None
    try:
        with _targets(args) as (pc_base, graph_base, pc_token, graph_token):
            budget = RequestBudget()
            pc = ApiClient(api="partner-center", base_url=pc_base, token=pc_token, budget=budget, timeout=args.request_timeout)
            graph = ApiClient(api="graph", base_url=graph_base, token=graph_token, budget=budget, timeout=args.request_timeout)
            try:
                why = walk_v1(pc, currency, period, args.page_budget, join.add_v1)
                if why is None:
                    poll = args.poll_timeout or (900.0 if args.pc_base_url else 30.0)
                    run = run_export(graph, None, "full", kind=KINDS["unbilled-reconciliation"], currency=currency,
                                     period=period, poll_timeout=poll, row_sink=join.add_graph_line)
                    if not run.succeeded or run.stopped != "done":
                        why = f"the Graph unbilled reconciliation export did not deliver its rows ({run.stopped})"
            finally:
                pc.close()
                graph.close()
    except (Inconclusive, AuthError, OSError, RuntimeError) as exc:
        why = str(exc)
    if why:
        join.close()
        print(f"parity: inconclusive — {why}")
        return 2
    result = join.finish()
    report_dir.mkdir(parents=True, exist_ok=True)
    findings = result.findings()
    data = {**result.to_dict(), "seconds": round(time.monotonic() - started, 2),
            "findings": [{"rule": f.rule, "severity": f.severity, "message": f.message} for f in findings]}
    (report_dir / "parity.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    (report_dir / "parity.md").write_text(result.table(), encoding="utf-8")
    if not args.quiet:
        print(result.table())
        for f in findings:
            print(f"[{f.rule}] (advisory) {f.message}\n")
    counts = (f"{result.v1_items:,} v1 items, {result.graph_rows:,} Graph rows: {result.matched:,} matched, "
              f"{result.only_v1:,} only in v1, {result.only_graph:,} only in Graph, "
              f"{result.items_differing:,} with differences")
    verdict = "agree" if result.agrees else "differ (advisory MIGRATION-* findings)"
    print(f"parity: {verdict} — {counts} — reports in {report_dir}")
    return 1 if args.fail_on_differences and not result.agrees else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
