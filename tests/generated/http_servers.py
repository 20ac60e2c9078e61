"""Generated conforming servers over the freedoms HTTP, paging and transient errors leave them, and their judge.

A generated server is a mock configuration (``MockConfig``) drawn by Hypothesis from small named parts:

- ``register_answers``: any combination of the register's alternatives (contracts/silent-points.yaml), except
  the answers that keep a run from finishing (``forever``, ``after-first``, ``never``) and the data volume;
- ``wire``: RFC 9110/9112 freedoms, also register knobs: Content-Length or chunked, keep-alive or close,
  header-name case, header fields no document names, Content-Encoding gzip on JSON answers;
- ``links``: relative, /v1-prefixed or absolute links.next; the manifest inline, by navigation link or both;
- ``paging``: pages of ``size`` items, or fewer (any cap at or below size), or a size the server picks per
  page; any number of pages (the data volume and the size the walk asks for decide it);
- ``tokens``: continuation tokens that start with any visible-ASCII text of any length (tokens are opaque);
- ``transient_schedule``: 429 and 503, with or without Retry-After, on the first request, mid-walk, on the
  export, on a poll, on the manifest and on a blob download, and 500 on a blob download (Azure Storage
  documents 503 ServerBusy and 500 as retryable);
- ``data``: the data seed, the number of line items and rows per blob (small: the freedoms matter, not volume).

``judge`` serves the configuration from one running mock (``RunningMock.configure``: no process per server),
drives it with the suite's own code (the Partner Center walk of ``drivers.partner_center``, the export of
``drivers.graph_export``, the client's retries with no real sleeps) and judges every exchange with the offline
checker (``checks.recorded.check_recorded``). A conforming server must give no breaking finding, no unproven
step, and every item and row back.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from recon_contracts.checks.recorded import check_recorded
from recon_contracts.checks.rows import ExportJudge, RowRules
from recon_contracts.drivers.graph_export import run_export
from recon_contracts.drivers.partner_center import LineItems
from recon_contracts.findings import Exchange
from recon_contracts.mock import MockConfig
from recon_contracts.mock.knobs import CHOICES
from recon_contracts.mock.transients import STATUSES, STEPS, Transient
from recon_contracts.redact import REDACTOR
from recon_contracts.traffic.auth import StaticToken
from recon_contracts.traffic.client import ApiClient, RequestBudget, RetryPolicy

INVOICE = "G016907411"
# answers that keep a run from finishing are no freedom of a server that passes (they are inconclusive)
UNFINISHED = {"forever", "after-first", "never"}
# knobs drawn by their own part (wire, links, paging) or kept at the default (data volume: see ``data``)
OWN_PART = {"transfer_coding", "connection", "header_case", "extra_headers", "content_encoding", "link_form",
            "resource_location", "page_fill", "data_volume", "empty_export"}
REGISTER = {knob: tuple(v for v in values[1:] if v not in UNFINISHED) for knob, values in CHOICES.items()
            if knob not in OWN_PART}
REGISTER = {k: v for k, v in REGISTER.items() if v}
VCHAR = "".join(chr(c) for c in range(0x21, 0x7F))


@dataclass
class HttpServer:
    """One generated server: the mock configuration and the page size the walk asks for."""

    config: MockConfig
    size: int
    notes: dict[str, Any] = field(default_factory=dict)

    def freedoms(self) -> dict[str, Any]:
        c = self.config
        out: dict[str, Any] = {"size": self.size, "items": c.items, "seed": c.seed, "blob_rows": c.blob_rows,
                               "poll_count": c.poll_count, **c.knobs}
        if c.knobs.get("page_fill") == "short":
            out["page_cap"] = c.page_cap
        if c.token_filler:
            out["token_filler"] = c.token_filler
        if c.transients:
            out["transients"] = [t.spec() for t in c.transients]
        if c.drift:
            out["drift"] = list(c.drift)
        return out

    def command(self) -> str:
        """The mock command line that serves this configuration (then walk with ``size``, export G016907411)."""
        c = self.config
        parts = ["recon-contracts", "mock", "--port", "0", "--seed", str(c.seed), "--items", str(c.items),
                 "--poll-count", str(c.poll_count), "--retry-after", "0", "--blob-rows", str(c.blob_rows)]
        for name, value in sorted(c.knobs.items()):
            parts += ["--knob", f"{name}={value}"]
        if c.knobs.get("page_fill") == "short":
            parts += ["--page-cap", str(c.page_cap)]
        if c.token_filler:
            parts += ["--token-filler", c.token_filler]
        for t in c.transients:
            parts += ["--transient", t.spec()]
        for d in c.drift:
            parts += ["--drift", d]
        return shlex.join(parts) + f"   # then walk the line items with size={self.size} and export {INVOICE}"


# ------------------------------------------------------------------ the named parts


@st.composite
def register_answers(draw: st.DrawFn) -> dict[str, str]:
    """Any few of the register's alternatives (one value per knob), away from the mock's defaults."""
    knobs = draw(st.lists(st.sampled_from(sorted(REGISTER)), unique=True, max_size=8))
    return {k: draw(st.sampled_from(REGISTER[k])) for k in sorted(knobs)}


@st.composite
def wire(draw: st.DrawFn) -> dict[str, str]:
    """RFC 9110/9112: framing, persistence, header-name case, unknown header fields, content coding."""
    return {k: draw(st.sampled_from(CHOICES[k]))
            for k in ("transfer_coding", "connection", "header_case", "extra_headers", "content_encoding")}


@st.composite
def links(draw: st.DrawFn) -> dict[str, str]:
    """Relative or absolute links where the docs allow either; the manifest inline or by link."""
    return {k: draw(st.sampled_from(CHOICES[k])) for k in ("link_form", "resource_location")}


@st.composite
def paging(draw: st.DrawFn, size: int) -> tuple[dict[str, str], int]:
    """(knobs, page cap): full pages, pages capped at or below ``size``, or a size picked per page."""
    fill = draw(st.sampled_from(CHOICES["page_fill"]))
    cap = draw(st.integers(1, size)) if fill == "short" else 5
    return {"page_fill": fill}, cap


def tokens() -> st.SearchStrategy[str]:
    """What continuation tokens start with: any visible ASCII, any length (the docs' tokens hold / + = ,)."""
    return st.one_of(st.just(""), st.text(alphabet=VCHAR, min_size=1, max_size=64))


@st.composite
def transient(draw: st.DrawFn, step: str) -> Transient:
    return Transient(step, draw(st.sampled_from(STATUSES[step])), draw(st.booleans()))


@st.composite
def transient_schedule(draw: st.DrawFn) -> tuple[Transient, ...]:
    """429/503 (500 on blobs), with or without Retry-After, at a few steps of the flow."""
    steps = draw(st.lists(st.sampled_from(STEPS), unique=True, max_size=3))
    return tuple(draw(transient(step)) for step in sorted(steps, key=STEPS.index))


@st.composite
def data(draw: st.DrawFn) -> dict[str, int]:
    items = draw(st.integers(1, 24))
    return {"seed": draw(st.integers(0, 7)), "items": items, "blob_rows": draw(st.integers(max(1, items // 4), 30)),
            "poll_count": draw(st.integers(0, 2))}


@st.composite
def http_servers(draw: st.DrawFn) -> HttpServer:
    """A conforming server: every part drawn, the defaults left out of the configuration."""
    size = draw(st.integers(1, 12))
    page_knobs, cap = draw(paging(size))
    knobs = {**draw(register_answers()), **draw(wire()), **draw(links()), **page_knobs}
    knobs = {k: v for k, v in knobs.items() if v != CHOICES[k][0]}
    config = MockConfig(profile="conforming", retry_after=0, knobs=knobs, page_cap=cap, token_filler=draw(tokens()),
                        transients=draw(transient_schedule()), **draw(data()))
    return HttpServer(config, size)


# ------------------------------------------------------------------ the judge


# False alarms the generator found in the suite whose fix belongs to another change (the checks): each is named
# with its cause, counted apart (never silently), and reproduced by a strict xfail test in test_generated_http.py,
# which fails as soon as the check is fixed. Any other breaking finding on a conforming server fails at once.
# False alarms the generator found and the suite still gives, by name: (rules, (knob, value), why). Empty: the one
# it found (a column null in every row of an export whose writer drops nulls read as a column dropped) is fixed;
# such rows now leave GR-ROW-REQUIRED-COLUMNS unproven (``Verdict.explained``), see test_generated_http.py.
KNOWN_FALSE_ALARMS: dict[str, tuple[tuple[str, ...], tuple[str, str], str]] = {}


def known_false_alarm(server: HttpServer, finding: str) -> str | None:
    """The name of the known false alarm ``finding`` is on ``server``, or None."""
    for name, (rules, (knob, value), _why) in KNOWN_FALSE_ALARMS.items():
        if finding.startswith(rules) and "appear in none of the" in finding and server.config.knobs.get(knob) == value:
            return name
    return None


@dataclass
class Verdict:
    breaking: list[str]
    unproven: list[str]
    lost: list[str]
    exchanges: int = 0
    known: list[str] = field(default_factory=list)  # findings of KNOWN_FALSE_ALARMS, counted apart
    explained: list[str] = field(default_factory=list)  # rules the data leave unproven, with why (not a false alarm)

    @property
    def ok(self) -> bool:
        return not (self.breaking or self.unproven or self.lost)


@dataclass
class _Target:
    currency: str = "USD"
    period: str = "current"
    page_budget: int | None = None


def _no_sleep(seconds: float) -> None:
    pass


_CLIENTS: dict[tuple[str, str], ApiClient] = {}


def _client(api: str, base_url: str, seen: list[Exchange]) -> ApiClient:
    """The suite's client for ``api`` at ``base_url``, made once per mock (an httpx client costs a TLS context),
    handing this server's exchanges to ``seen``."""
    client = _CLIENTS.get((api, base_url))
    if client is None:
        client = _CLIENTS[(api, base_url)] = ApiClient(
            api=api, base_url=base_url, token=StaticToken("generated"), budget=RequestBudget(),
            retry=RetryPolicy(max_retries=5), timeout=10.0, sleep=_no_sleep)
    client.observers[:] = [seen.append]
    client.retried.clear()
    return client


def judge(mock: Any, server: HttpServer, *, excuse_known: bool = True) -> Verdict:
    """Serve ``server`` from the running ``mock`` and judge it with the suite's drivers and offline checker
    (findings of a known false alarm go to ``known`` unless ``excuse_known`` is False)."""
    mock.configure(server.config)
    REDACTOR.clear()  # each server is a run of its own: its SAS signatures only
    seen: list[Exchange] = []
    pc, graph = _client("partner-center", mock.pc_base_url, seen), _client("graph", mock.graph_base_url, seen)
    unproven: list[str] = []
    explained: list[str] = []
    lost: list[str] = []
    breaking: list[str] = []
    try:
        lines = LineItems(pc, _Target())
        pages = lines.walk(lines.query(size=server.size))
        walked = len(lines.items_of(pages))
        if lines.refused(pages):
            unproven.append(f"walk: {lines.refused(pages)}")
        if walked != server.config.items:
            lost.append(f"the walk read {walked} of {server.config.items} line items")
        rows = ExportJudge(RowRules.load(), invoice_id=INVOICE, attribute_set="full")
        run = run_export(graph, INVOICE, "full", poll_timeout=60, sleep=_no_sleep, max_sleep=0, min_sleep=0, sink=rows)
        if run.unproven:
            unproven.append(f"export: {run.unproven}")
        if not run.succeeded or run.stopped != "done":
            unproven.append(f"export stopped: {run.stopped or run.status}")
        unproven += [f"blob {b.name}: {b.inconclusive}" for b in run.blobs if b.inconclusive]
        breaking += [f"{f.rule}: {f.message}" for f in rows.findings() if f.severity == "breaking"]
        explained += [f"{rule}: {why}" for rule, why in rows.unjudged()]
        breaking += [f"GR-BLOB-GZIP-JSONL: {b.problem}" for b in run.blobs if b.problem]
        if rows.rows != server.config.items and run.succeeded:
            lost.append(f"the export's blobs gave {rows.rows} of {server.config.items} rows")
    except Exception as exc:  # noqa: BLE001 - a conforming server must not stop the run
        unproven.append(f"the run raised {type(exc).__name__}: {str(exc)[:300]}")
    offline = check_recorded(seen)
    breaking += [f"{f.rule}: {f.message}" for f in offline.findings if f.severity == "breaking"]
    known = [b for b in breaking if excuse_known and known_false_alarm(server, b)]
    breaking = [b for b in breaking if b not in known]
    explained += [f"{rule}: {why} (offline)" for rule, why in offline.unproven]
    return Verdict(breaking=breaking, unproven=unproven, lost=lost, exchanges=len(seen), known=known,
                   explained=explained)


# ------------------------------------------------------------------ shrinking by freedom


def _with(server: HttpServer, size: int | None = None, **changes: Any) -> HttpServer:
    c = server.config
    fields = dict(profile=c.profile, seed=c.seed, items=c.items, poll_count=c.poll_count, retry_after=c.retry_after,
                  blob_rows=c.blob_rows, knobs=dict(c.knobs), drift=c.drift, page_cap=c.page_cap,
                  token_filler=c.token_filler, transients=c.transients)
    fields.update(changes)
    size = server.size if size is None else size
    fields["page_cap"] = min(int(fields["page_cap"]), size)
    return HttpServer(MockConfig(**fields), size)


def simpler(server: HttpServer) -> list[HttpServer]:
    """Servers one freedom simpler: a knob back at its default, a transient or the token filler gone, fewer items,
    pages, blobs or polls, seed 0."""
    c = server.config
    out = [_with(server, knobs={k: v for k, v in c.knobs.items() if k != name}) for name in sorted(c.knobs)]
    out += [_with(server, transients=c.transients[:i] + c.transients[i + 1:]) for i in range(len(c.transients))]
    if c.token_filler:
        out.append(_with(server, token_filler=""))
    out += [_with(server, items=n) for n in sorted({1, c.items // 2, c.items - 1}) if 1 <= n < c.items]
    out += [_with(server, size=n) for n in sorted({1, server.size // 2, server.size - 1}) if 1 <= n < server.size]
    if c.blob_rows < c.items:
        out.append(_with(server, blob_rows=c.items))
    if c.knobs.get("page_fill") == "short" and c.page_cap > 1:
        out.append(_with(server, page_cap=1))
    if c.poll_count:
        out.append(_with(server, poll_count=0))
    if c.seed:
        out.append(_with(server, seed=0))
    return out


def shrink(server: HttpServer, fails: Any, budget_s: float = 20.0) -> HttpServer:
    """The smallest server still failing that removing any one freedom makes pass (greedy, within ``budget_s``):
    a server with no freedom to spare, cheap enough for CI where Hypothesis's own shrinker would judge hundreds."""
    import time

    end = time.monotonic() + budget_s
    progress = True
    while progress and time.monotonic() < end:
        progress = False
        for candidate in simpler(server):
            if time.monotonic() >= end:
                break
            if fails(candidate):
                server, progress = candidate, True
                break
    return server
