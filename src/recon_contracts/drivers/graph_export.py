"""Drives one export of the Graph billing family end to end and keeps every exchange for the checks.

One driver for every member (``recon_contracts.truth.exports``): only the request body and the row schema differ.
``jobs_started()`` counts the exports a target accepted (202) in this process: each may be a job of minutes on a
live tenant, so the run reports it (and keeps it to one per export kind and attribute set).

POST the export, poll the Location honouring Retry-After (each wait and the total bounded), poll once
more after the terminal state, resolve the manifest (inline or through its navigation link), then
stream every blob from rootDirectory/name?sasToken (the SAS only, never Authorization) through the
gunzip reader into the row sink it is given (the suite gives the row judge of checks/rows.py), so memory
stays flat whatever the export's size. The driver never judges by itself and never raises on drift: when it cannot go on it stops and
returns what it has, saying why. A Location or manifest link on another origin is refused by the client
(``OffOriginLink``: credentials go only to the run's origin); the driver stops there and marks the rest unproven.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urljoin

from ..truth.exports import BILLED_RECONCILIATION, ExportKind
from .. import progress, run_cost
from ..findings import Exchange
from ..protocol.graph import (  # noqa: F401 - EXPORT_PATHS and export_operation are the driver's public names too
    BLOB_OPERATION,
    EXPORT_PATHS,
    MANIFEST_OPERATION,
    NAV_LINK,
    POLL_OPERATION,
    blob_url,
    export_operation,
    is_success,
    is_terminal,
    manifest_blobs,
    operation_body,
    status_of,
)
from ..redact import REDACTOR
from ..traffic.blob_stream import BlobOutcome, HttpBlob, StreamLimits, read_blob
from ..traffic.client import ApiClient, retry_after_seconds

_UNSET: Any = object()
_JOBS: Counter[str] = Counter()  # export kind -> exports accepted (202) in this process
_POSTS: Counter[str] = Counter()  # export kind -> export POSTs sent
_LOCK = threading.Lock()


def jobs_started() -> int:
    """How many export jobs this process has started: POSTs of an export the target answered 202."""
    with _LOCK:
        return sum(_JOBS.values())


def jobs_by_kind() -> dict[str, int]:
    """Export jobs started, per export kind (``billed-reconciliation`` …)."""
    with _LOCK:
        return dict(_JOBS)


def export_posts() -> dict[str, int]:
    """Export POSTs sent, per export kind (accepted or not)."""
    with _LOCK:
        return dict(_POSTS)


class BlobRows(Protocol):
    """Where one blob's lines go: ``consume`` takes (line number, raw line) pairs; ``exchange`` is set after."""

    exchange: Exchange | None

    def consume(self, lines: Iterable[tuple[int, bytes]]) -> None: ...


class RowSink(Protocol):
    """What the driver hands each blob to (``checks.rows.ExportJudge`` in the suite)."""

    def blob(self, name: str) -> BlobRows: ...


@runtime_checkable
class BlobJudge(Protocol):
    """A sink that downloads and judges the blobs itself, given (name, URL) pairs in manifest order (the row pool,
    ``checks.pool.PooledJudge``: one blob per worker process); it returns how each read ended, in that order."""

    def blob(self, name: str) -> BlobRows: ...

    def judge_blobs(self, client: ApiClient, blobs: list[tuple[str, str]], limits: StreamLimits,
                    sas: str | None) -> list[BlobOutcome]: ...


@dataclass
class ExportRun:
    """Everything one export produced, in order; ``stopped`` says why the driver stopped."""

    invoice_id: str | None
    attribute_set: str | None
    spelling: str
    kind: ExportKind = BILLED_RECONCILIATION
    body: dict[str, Any] = field(default_factory=dict)
    post: Exchange | None = None
    polls: list[Exchange] = field(default_factory=list)
    manifest_exchange: Exchange | None = None  # the terminal poll (inline manifest) or the GET of the link
    manifest: Any = field(default=None, repr=False)  # holds the sasToken: never in a repr
    blobs: list[BlobOutcome] = field(default_factory=list)
    rows: Any = field(default=None, repr=False)  # the RowSink fed by every blob, once streaming began
    stopped: str = ""
    waited_s: float = 0.0
    # why the target's behaviour kept the run from reaching the data (a link on another host not followed,
    # still running at --poll-timeout): the rules past that point are unproven, not broken
    unproven: str = ""
    # (operation, redacted URL) of a link on another origin the run did not follow (PC-/GR-LINK-SAME-ORIGIN)
    refused_link: tuple[str, str] | None = None

    @property
    def subject(self) -> str:
        """What was exported: the invoice, or the currency and billing period."""
        if self.kind.billed:
            return str(self.invoice_id)
        return f"{self.body.get('currencyCode')} {self.body.get('billingPeriod')}"

    @property
    def accepted(self) -> bool:
        return self.post is not None and self.post.status == 202

    @property
    def status(self) -> str | None:
        """The first terminal status reached, or the last status seen."""
        statuses = [status_of(p) for p in self.polls]
        return next((s for s in statuses if is_terminal(s)), statuses[-1] if statuses else None)

    @property
    def succeeded(self) -> bool:
        return is_success(self.status)

    @property
    def exchanges(self) -> list[Exchange]:
        out = [self.post] if self.post else []
        out += self.polls
        if self.manifest_exchange is not None and self.manifest_exchange not in self.polls:
            out.append(self.manifest_exchange)
        return out + [b.exchange for b in self.blobs if b.exchange is not None]


def post_export(
    client: ApiClient,
    *,
    spelling: str = "short",
    json: Any = _UNSET,
    content: bytes | str | None = None,
    headers: dict[str, str] | None = None,
    kind: ExportKind = BILLED_RECONCILIATION,
) -> Exchange:
    """POST an export of ``kind`` on one of the two URL spellings with a JSON body or raw content.

    ``--max-exports`` is honoured here: the run's cost account refuses the POST (before it is sent) past the cap."""
    from ..run_cost import current

    cost = current()
    cost.take_export()  # --max-exports: raises before the POST
    kwargs: dict[str, Any] = {"content": content, "headers": headers}
    if json is not _UNSET:
        kwargs["json"] = json
    try:
        exchange = client.request("POST", kind.path(spelling), operation=kind.operation(spelling), **kwargs)
    finally:
        cost.release_export()
    with _LOCK:
        _POSTS[kind.name] += 1
        if exchange.status == 202:
            _JOBS[kind.name] += 1
    return exchange


def run_export(
    client: ApiClient,
    invoice_id: str | None,
    attribute_set: str | None = "full",
    *,
    poll_timeout: float,
    kind: ExportKind = BILLED_RECONCILIATION,
    currency: str = "USD",
    period: str = "current",
    spelling: str = "short",
    max_sleep: float = 10.0,
    min_sleep: float = 0.1,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    limits: StreamLimits = StreamLimits(),
    sink: RowSink | None = None,
    row_sink: Callable[[int, bytes], None] | None = None,
) -> ExportRun:
    """Run one export of ``kind`` as far as the target lets it go (see the module docstring); blobs' rows go to
    ``sink``, and every line also to ``row_sink`` when given (migration parity joins rows as they stream). Billed
    members take ``invoice_id``; unbilled ones ``currency`` and ``period`` (``previous`` is sent as Graph's ``last``)."""
    body = kind.body(invoice_id=invoice_id, currency=currency, period=period, attribute_set=attribute_set)
    run = ExportRun(invoice_id=invoice_id if kind.billed else None,
                    attribute_set=attribute_set if kind.attribute_sets else None, spelling=spelling, kind=kind, body=body)
    run.post = post_export(client, spelling=spelling, json=body, kind=kind)
    if run.post.status != 202:
        run.stopped = f"export answered {run.post.status}"
        return run
    location = (run.post.header("location") or "").strip()
    if not location:
        run.stopped = "export 202 without Location"
        return run
    location = urljoin(run.post.url, location)
    if not client.same_origin(location):  # the client would refuse it (OffOriginLink): stop here, say so
        run.stopped = f"Location on another host: {REDACTOR(location)}"
        run.refused_link = (POLL_OPERATION, REDACTOR(location))
        run.unproven = (f"the export's Location is on another host ({REDACTOR(location)}); it was not followed, "
                        "so that the bearer token stays with the target")
        return run

    deadline = clock() + poll_timeout
    backoff = 1.0
    started, key = clock(), f"export {id(run)}"
    first_wait = retry_after_seconds(run.post.header("retry-after"))
    if first_wait:
        run.waited_s += _wait(first_wait, deadline, clock, sleep, max_sleep, min_sleep)
    try:
        _poll(client, run, location, deadline, poll_timeout, backoff, clock, sleep, max_sleep, min_sleep, started, key)
    finally:
        progress.done(key)
    if run.stopped:
        return run
    terminal = next(p for p in reversed(run.polls) if is_terminal(status_of(p)))
    # one more poll: a terminal state must be absorbing (GR-OP-TERMINAL-ABSORBING)
    run.polls.append(client.request("GET", location, operation=POLL_OPERATION))
    if not run.succeeded:
        run.stopped = f"operation {run.status}"
        return run
    _resolve_manifest(client, run, terminal)
    if not isinstance(run.manifest, dict):
        return run
    REDACTOR.add_sas(run.manifest.get("sasToken") if isinstance(run.manifest.get("sasToken"), str) else None)
    stream_blobs(client, run, limits, sink if sink is not None else _Discard(), row_sink)
    return run


class _Discard:
    """The sink of a caller that wants the exchanges and not the rows: each line is read and dropped."""

    def blob(self, name: str) -> BlobRows:
        return _DiscardBlob()


class _DiscardBlob:
    exchange: Exchange | None = None

    def consume(self, lines: Iterable[tuple[int, bytes]]) -> None:
        for _ in lines:
            pass


def stream_blobs(client: ApiClient, run: ExportRun, limits: StreamLimits, sink: RowSink,
                 row_sink: Callable[[int, bytes], None] | None = None) -> None:
    """Read every blob the manifest lists, one after the other, into ``sink`` (kept as ``run.rows``); ``row_sink``
    also sees every line (migration parity joins the rows as they stream: one download serves both)."""
    run.rows = sink
    if row_sink is None and isinstance(sink, BlobJudge):  # the sink downloads and judges blobs itself (a pool)
        named = []
        for blob in manifest_blobs(run.manifest):
            url = blob_url(run.manifest, blob)
            if not url.startswith(("http://", "https://")):
                run.stopped = f"blob URL is not absolute: {REDACTOR(url)[:200]}"
                break
            named.append((str(blob.get("name") or ""), url))
        sas = run.manifest.get("sasToken") if isinstance(run.manifest.get("sasToken"), str) else None
        run.blobs += sink.judge_blobs(client, named, limits, sas)
        if not run.stopped:
            run.stopped = "done"
        return
    for blob in manifest_blobs(run.manifest):
        url = blob_url(run.manifest, blob)
        if not url.startswith(("http://", "https://")):
            run.stopped = f"blob URL is not absolute: {REDACTOR(url)[:200]}"
            # not unproven: Microsoft's sample builds new Uri(rootDirectory/name), which needs an absolute URL,
            # so GR-BLOB-URL reports the blobs that could not be requested
            return
        name = str(blob.get("name") or "")
        judge = run.rows.blob(name)
        source = HttpBlob(stream=client.stream, url=url, name=name, sleep=client.sleep,
                          record=lambda exchange: client.record(replace(exchange, api="blob")))
        outcome = read_blob(source, judge.consume if row_sink is None else _tee(judge.consume, row_sink), limits)
        if outcome.exchange is not None:
            outcome.exchange = replace(outcome.exchange, api="blob")
        judge.exchange = outcome.exchange
        run.blobs.append(outcome)
        # the run's cost counts this blob as the pool counts its own (rows_pool.judge_export)
        run_cost.current().add_blobs(1, getattr(judge, "rows", outcome.stats.lines), outcome.stats.compressed)
    run.stopped = "done"



def _poll(client: ApiClient, run: ExportRun, location: str, deadline: float, poll_timeout: float, backoff: float,
          clock: Callable[[], float], sleep: Callable[[float], None], max_sleep: float, min_sleep: float,
          started: float, key: str) -> None:
    """Poll until a terminal state (``run.stopped`` stays empty) or a reason to stop (``run.stopped`` says it)."""
    while True:
        poll = client.request("GET", location, operation=POLL_OPERATION)
        run.polls.append(poll)
        if operation_body(poll) is None:
            run.stopped = f"poll answered {poll.status} without an operation"
            return
        if is_terminal(status_of(poll)):
            return
        if clock() >= deadline:
            run.stopped = f"not terminal after {poll_timeout:g} s"
            run.unproven = (f"the {run.kind.title} export of {run.subject} was still {status_of(poll)} after --poll-timeout "
                            f"{poll_timeout:g} s; "
                            "slow is not broken: raise --poll-timeout (exports of large invoices can take many minutes)")
            return
        delay = retry_after_seconds(poll.header("retry-after"))
        if delay is None:
            delay, backoff = backoff, min(backoff * 2, max_sleep)
        next_in = min(max(delay, min_sleep), max_sleep, max(0.0, deadline - clock()))
        progress.update(key, f"{run.kind.name} export {run.subject} ({run.attribute_set}): {status_of(poll)}, "
                             f"{progress.seconds(clock() - started)}, {len(run.polls)} poll(s), next poll in "
                             f"{progress.seconds(next_in)}")
        run.waited_s += _wait(delay, deadline, clock, sleep, max_sleep, min_sleep)


def _tee(consume: Callable[[Any], None], sink: Callable[[int, bytes], None]) -> Callable[[Any], None]:
    def both(lines: Any) -> None:
        def passing() -> Any:
            for number, line in lines:
                sink(number, line)
                yield number, line
        consume(passing())
    return both


def _wait(delay: float, deadline: float, clock: Callable[[], float], sleep: Callable[[float], None],
          max_sleep: float, min_sleep: float) -> float:
    """Sleep for ``delay`` seconds, at least ``min_sleep``, at most ``max_sleep`` and never past ``deadline``."""
    seconds = min(max(delay, min_sleep), max_sleep, max(0.0, deadline - clock()))
    if seconds > 0:
        sleep(seconds)
    return seconds


def _resolve_manifest(client: ApiClient, run: ExportRun, terminal: Exchange) -> None:
    body = operation_body(terminal) or {}
    inline = body.get("resourceLocation")
    if isinstance(inline, dict) and inline:
        run.manifest_exchange, run.manifest = terminal, inline
        return
    link = body.get(NAV_LINK)
    if not isinstance(link, str) or not link.strip():
        run.stopped = "succeeded without resourceLocation"
        return
    url = urljoin(terminal.url, link.strip())
    if not client.same_origin(url):  # the client would refuse it (OffOriginLink): stop here, say so
        run.stopped = f"manifest link on another host: {REDACTOR(url)}"
        run.refused_link = (MANIFEST_OPERATION, REDACTOR(url))
        run.unproven = (f"the manifest navigation link is on another host ({REDACTOR(url)}); it was not followed, so that "
                        "the bearer token stays with the target, and the manifest and blobs were not checked")
        return
    run.manifest_exchange = client.request("GET", url, operation=MANIFEST_OPERATION)
    if run.manifest_exchange.status != 200:
        run.stopped = f"manifest answered {run.manifest_exchange.status}"
        return
    try:
        run.manifest = run.manifest_exchange.json()
    except (ValueError, UnicodeDecodeError):
        run.stopped = "manifest is not JSON"
