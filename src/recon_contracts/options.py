"""The contract suite's options, the one table every command and the plugin read: each has an environment
variable; command line, then environment, then default. Free of pytest (import-linter keeps it so);
``docs/options.md`` is generated from ``OPTIONS``."""

from __future__ import annotations

import math
import os
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

from .errors import UsageError

@dataclass(frozen=True)
class Option:
    name: str
    env: str | None
    help: str
    default: Any = None
    kind: type = str
    flag: bool = False
    cli: str | None = None  # the spelling of `recon-contracts run`, where it differs from pytest's

    @property
    def cli_name(self) -> str:
        return self.cli or self.name


OPTIONS: tuple[Option, ...] = (
    Option("--pc-base-url", "RECON_PC_BASE_URL", "Partner Center base URL, e.g. https://api.partnercenter.microsoft.com"),
    Option("--graph-base-url", "RECON_GRAPH_BASE_URL", "Graph base URL with version, e.g. https://graph.microsoft.com/v1.0"),
    Option("--pc-token", "RECON_PC_TOKEN", "Partner Center bearer token (else client credentials from AZURE_*)"),
    Option("--graph-token", "RECON_GRAPH_TOKEN", "Graph bearer token (else client credentials from AZURE_*)"),
    Option("--invoice-id", "RECON_INVOICE_ID", "invoice to export through Graph", "G016907411"),
    Option("--currency", "RECON_CURRENCY", "currency code for Partner Center line items", "USD"),
    Option("--period", "RECON_PERIOD", "unbilled period for Partner Center line items: current or previous", "current"),
    Option("--report-dir", "RECON_REPORT_DIR", "where junit.xml, summary.json and report.html go", "reports"),
    Option("--strict-drift", "RECON_STRICT", "fail on additive drift (undeclared properties, unknown charge types) too "
           "(`recon-contracts run --strict`; pytest's own --strict is a different option)", False, bool, True, cli="--strict"),
    Option("--max-requests", "RECON_MAX_REQUESTS", "cap on requests sent to the targets; checks past it are skipped", None, int),
    Option("--max-exports", "RECON_MAX_EXPORTS", "cap on export jobs started (export POSTs answered 202); checks that "
           "need another are skipped and their rules reported not exercised", None, int),
    Option("--thorough", "RECON_THOROUGH", "many more hypothesis examples per property", False, bool, True),
    Option("--examples", "RECON_EXAMPLES", "hypothesis examples per property (default 12, 100 with --thorough)", None, int),
    Option("--seed", "RECON_SEED", "hypothesis seed (default: fixed 0 under CI, random otherwise; always printed)", None, int),
    Option("--poll-timeout", "RECON_POLL_TIMEOUT", "longest total wait, in seconds, for an export operation; one still "
           "running then makes the run inconclusive (exit 2), not failed (default 900, 30 against the embedded mock)",
           None, float),
    Option("--page-budget", "RECON_PAGE_BUDGET", "most pages one paging walk may fetch (default: no limit; a walk cut "
           "at the budget leaves its paging rules unproven, exit 2: a large tenant is no drift)", None, int),
    Option("--request-timeout", "RECON_REQUEST_TIMEOUT", "total deadline of one request in seconds: connect, headers "
           "and the whole body (a target that drips its answer is cut off)", 60.0, float),
    Option("--max-response-bytes", "RECON_MAX_RESPONSE_BYTES", "largest API response body read, in bytes; a bigger one "
           "is not read further (blob downloads have their own cap)", 32 * 1024 * 1024, int),
    Option("--mock-profile", "RECON_MOCK_PROFILE", "profile of the embedded mock (no base URL given)", "conforming"),
    Option("--mock-items", "RECON_MOCK_ITEMS", "line items in the embedded mock", 40, int),
    Option("--mock-retry-after", "RECON_MOCK_RETRY_AFTER",
           "seconds the embedded mock asks an export's poller to wait (Retry-After on a running operation; 0 allowed)",
           1.0, float),
    Option("--baseline", "RECON_BASELINE", "compare the run's observed behaviour with this committed observed.json "
           "(BASELINE-* findings: removed or retyped properties and columns fail, new ones are reported)"),
    Option("--update-baseline", "RECON_UPDATE_BASELINE", "write this run's observed behaviour to the --baseline file "
           "and print what changed (no BASELINE-* findings)", False, bool, True),
    Option("--har-body-limit", "RECON_HAR_BODY_LIMIT", "largest body, in bytes, that traffic.har records whole "
           "(larger ones are cut, their size noted)", 1048576, int),
    Option("--exports", "RECON_EXPORTS", "Graph exports to run, comma-separated: billed-reconciliation, "
           "unbilled-reconciliation, billed-usage, unbilled-usage, billed-aggregated-usage (beta only), or all "
           "(default: every v1.0 export, plus the beta one when a beta base is available, as on the embedded mock)"),
    Option("--docs-url", "RECON_DOCS_URL", "URL of a published `recon-contracts docs` site that report.html links rules to "
           "(default: a copy written to REPORT_DIR/reference)"),
)

# No document bounds how long an export runs (Microsoft speaks of data that took hours): the default
# fits real invoices. The embedded mock finishes its operations in a few polls of about a second.
DEFAULT_POLL_TIMEOUT = 900.0
EMBEDDED_POLL_TIMEOUT = 30.0

_CURRENCY = re.compile(r"^[A-Za-z]{3}$")
_PERIODS = {"current", "previous"}


def dest(option: Option) -> str:
    return "recon_" + option.name.lstrip("-").replace("-", "_")


@dataclass
class Settings:
    """The resolved options of a run (command line, then environment, then default)."""

    pc_base_url: str | None
    graph_base_url: str | None
    pc_token: str | None = field(repr=False)  # bearer tokens: never in a repr
    graph_token: str | None = field(repr=False)
    invoice_id: str
    currency: str
    period: str
    report_dir: Path
    strict: bool
    max_requests: int | None
    thorough: bool
    examples: int
    seed: int
    derandomized: bool  # the seed was fixed because the run is under CI (no --seed given)
    poll_timeout: float
    page_budget: int | None
    request_timeout: float
    max_response_bytes: int
    mock_profile: str
    mock_items: int
    mock_retry_after: float = 1.0
    baseline: Path | None = None
    update_baseline: bool = False
    har_body_limit: int = 1048576
    docs_url: str | None = None
    exports: str | None = None  # --exports as given (recon_contracts.truth.exports.parse_exports reads it)
    max_exports: int | None = None

    @property
    def embedded(self) -> bool:
        return not self.pc_base_url and not self.graph_base_url


def _raw(given: Callable[[str], Any], opt: Option) -> Any:
    value = given(dest(opt))
    if value is None and opt.env:
        env = os.environ.get(opt.env)
        if env not in (None, ""):
            value = env.strip().lower() in {"1", "true", "yes", "on"} if opt.flag else env
    return opt.default if value is None else value


def _typed(opt: Option, value: Any) -> Any:
    if value is None or opt.kind in (str, bool):
        return value
    try:
        number = opt.kind(value)
    except (TypeError, ValueError):
        raise UsageError(f"{opt.name} expects a number, got {value!r}") from None
    if not math.isfinite(number):  # nan or inf would make --poll-timeout an endless wait
        raise UsageError(f"{opt.name} expects a finite number, got {value!r}")
    zero_ok = opt.name in ("--seed", "--mock-retry-after")
    if number < 0 or (number == 0 and not zero_ok):
        least = "0 or more" if zero_ok else "greater than 0"
        raise UsageError(f"{opt.name} must be {least}, got {value!r}")
    return number


def _url(opt: Option, value: str | None) -> str | None:
    if not value:
        return None
    if not re.match(r"^https?://[^/\s]+", value):
        raise UsageError(f"{opt.name} must be an http(s) URL, got {value!r}")
    try:
        urlsplit(value).port  # noqa: B018 - raises on a bad port or a broken IPv6 host
        httpx.URL(value)
    except (ValueError, httpx.InvalidURL) as exc:
        raise UsageError(f"{opt.name} is not a usable URL ({exc}), got {value!r}") from None
    return value.rstrip("/")


def resolve_settings(given: Callable[[str], Any]) -> Settings:
    """The run's settings; ``given(dest)`` is the command line's value of an option (None when not given).

    Raises ``UsageError`` (exit 4) on a bad value.
    """
    raw = {opt.name: _typed(opt, _raw(given, opt)) for opt in OPTIONS}
    by = {opt.name: opt for opt in OPTIONS}
    currency = str(raw["--currency"])
    if not _CURRENCY.match(currency):
        raise UsageError(f"--currency must be a three-letter code such as USD, got {currency!r}")
    period = str(raw["--period"])
    if period.lower() not in _PERIODS:
        raise UsageError(f"--period must be current or previous, got {period!r}")
    thorough = bool(raw["--thorough"])
    examples = raw["--examples"] or (100 if thorough else 12)
    ci = os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}
    seed = raw["--seed"]
    derandomized = seed is None and ci
    if seed is None:
        seed = 0 if ci else random.randrange(1, 2**31)
    graph = _url(by["--graph-base-url"], raw["--graph-base-url"])
    if graph and not re.search(r"/(v1\.0|beta)$", graph):
        raise UsageError(f"--graph-base-url must end with the API version (/v1.0 or /beta), got {graph!r}")
    return Settings(
        pc_base_url=_url(by["--pc-base-url"], raw["--pc-base-url"]),
        graph_base_url=graph,
        pc_token=raw["--pc-token"],
        graph_token=raw["--graph-token"],
        invoice_id=str(raw["--invoice-id"]),
        currency=currency,
        period=period,
        report_dir=Path(raw["--report-dir"]),
        strict=bool(raw["--strict-drift"]),
        max_requests=raw["--max-requests"],
        thorough=thorough,
        examples=int(examples),
        seed=int(seed),
        derandomized=derandomized,
        poll_timeout=float(raw["--poll-timeout"]) if raw["--poll-timeout"] is not None else (
            DEFAULT_POLL_TIMEOUT if (raw["--pc-base-url"] or graph) else EMBEDDED_POLL_TIMEOUT),
        page_budget=int(raw["--page-budget"]) if raw["--page-budget"] is not None else None,
        request_timeout=float(raw["--request-timeout"]),
        max_response_bytes=int(raw["--max-response-bytes"]),
        mock_profile=str(raw["--mock-profile"]),
        mock_items=int(raw["--mock-items"]),
        mock_retry_after=float(raw["--mock-retry-after"]),
        baseline=Path(raw["--baseline"]) if raw["--baseline"] else None,
        update_baseline=bool(raw["--update-baseline"]),
        har_body_limit=int(raw["--har-body-limit"]),
        docs_url=str(raw["--docs-url"]) if raw["--docs-url"] else None,
        exports=_exports(raw["--exports"]),
        max_exports=raw["--max-exports"],
    )


def _exports(value: Any) -> str | None:
    from .truth.exports import ExportsError, parse_exports

    if value in (None, ""):
        return None
    try:
        parse_exports(str(value))
    except ExportsError as exc:
        raise UsageError(str(exc)) from None
    return str(value)
