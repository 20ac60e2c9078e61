"""Drives one Graph billed-reconciliation export end to end and keeps every exchange for the checks.

POST the export, poll the Location honouring Retry-After (each wait and the total bounded), poll once
more after the terminal state, resolve the manifest (inline or through its navigation link), then
stream every blob from rootDirectory/name?sasToken (the SAS only, never Authorization) through the
gunzip reader into a row judge (checks/rows.py), so memory stays flat whatever the export's size.
The driver never judges by itself and never raises on drift: when it cannot go on it stops and
returns what it has, saying why. A Location or manifest link on another origin is refused by the client
(``OffOriginLink``: credentials go only to the run's origin); the driver stops there and marks the rest unproven.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from ..checks.blobs import blob_url, manifest_blobs
from ..checks.rows import ExportJudge, RowRules
from .blob_stream import BlobOutcome, StreamLimits
from ..checks.operations import NAV_LINK, is_terminal, operation_body, status_of
from .client import ApiClient, retry_after_seconds
from ..findings import Exchange
from .. import progress
from ..redact import REDACTOR

EXPORT_PATHS = {
    "short": "/reports/partners/billing/reconciliation/billed/export",
    "qualified": "/reports/partners/billing/reconciliation/billed/microsoft.graph.partners.billing.export",
}
POLL_OPERATION = "GET /reports/partners/billing/operations/{operation-id}"
MANIFEST_OPERATION = "GET /reports/partners/billing/manifests/{manifest-id}"
BLOB_OPERATION = "GET {rootDirectory}/{blob-name}?{sasToken}"
_UNSET: Any = object()


@dataclass
class ExportRun:
    """Everything one export produced, in order; ``stopped`` says why the driver stopped."""

    invoice_id: str
    attribute_set: str
    spelling: str
    post: Exchange | None = None
    polls: list[Exchange] = field(default_factory=list)
    manifest_exchange: Exchange | None = None  # the terminal poll (inline manifest) or the GET of the link
    manifest: Any = field(default=None, repr=False)  # holds the sasToken: never in a repr
    blobs: list[BlobOutcome] = field(default_factory=list)
    rows: ExportJudge | None = field(default=None, repr=False)  # the row judge fed by every blob
    stopped: str = ""
    waited_s: float = 0.0
    # why the target's behaviour kept the run from reaching the data (a link on another host not followed,
    # still running at --poll-timeout): the rules past that point are unproven, not broken
    unproven: str = ""
    # (operation, redacted URL) of a link on another origin the run did not follow (PC-/GR-LINK-SAME-ORIGIN)
    refused_link: tuple[str, str] | None = None

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
        return self.status in ("succeeded", "completed")

    @property
    def exchanges(self) -> list[Exchange]:
        out = [self.post] if self.post else []
        out += self.polls
        if self.manifest_exchange is not None and self.manifest_exchange not in self.polls:
            out.append(self.manifest_exchange)
        return out + [b.exchange for b in self.blobs if b.exchange is not None]


def export_operation(spelling: str) -> str:
    return f"POST {EXPORT_PATHS[spelling]}"


def post_export(
    client: ApiClient,
    *,
    spelling: str = "short",
    json: Any = _UNSET,
    content: bytes | str | None = None,
    headers: dict[str, str] | None = None,
) -> Exchange:
    """POST an export on one of the two URL spellings with a JSON body or raw content."""
    from ..run_cost import current

    cost = current()
    cost.take_export()  # --max-exports: raises before the POST
    kwargs: dict[str, Any] = {"content": content, "headers": headers}
    if json is not _UNSET:
        kwargs["json"] = json
    try:
        return client.request("POST", EXPORT_PATHS[spelling], operation=export_operation(spelling), **kwargs)
    finally:
        cost.release_export()


def run_export(
    client: ApiClient,
    invoice_id: str,
    attribute_set: str = "full",
    *,
    poll_timeout: float,
    spelling: str = "short",
    max_sleep: float = 10.0,
    min_sleep: float = 0.1,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    limits: StreamLimits = StreamLimits(),
) -> ExportRun:
    """Run one export as far as the target lets it go (see the module docstring)."""
    run = ExportRun(invoice_id=invoice_id, attribute_set=attribute_set, spelling=spelling)
    run.post = post_export(client, spelling=spelling, json={"invoiceId": invoice_id, "attributeSet": attribute_set})
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
    stream_blobs(client, run, limits)
    return run


def _poll(client: ApiClient, run: ExportRun, location: str, deadline: float, poll_timeout: float, backoff: float,
          clock: Callable[[], float], sleep: Callable[[float], None], max_sleep: float, min_sleep: float,
          started: float, key: str) -> None:
    """Poll until a terminal state (``run.stopped`` stays empty) or a reason to stop (``run.stopped`` says it)."""
    invoice_id = run.invoice_id
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
            run.unproven = (f"the export of {invoice_id} was still {status_of(poll)} after --poll-timeout {poll_timeout:g} s; "
                            "slow is not broken: raise --poll-timeout (exports of large invoices can take many minutes)")
            return
        delay = retry_after_seconds(poll.header("retry-after"))
        if delay is None:
            delay, backoff = backoff, min(backoff * 2, max_sleep)
        next_in = min(max(delay, min_sleep), max_sleep, max(0.0, deadline - clock()))
        progress.update(key, f"export {invoice_id} ({run.attribute_set}): {status_of(poll)}, "
                             f"{progress.seconds(clock() - started)}, {len(run.polls)} poll(s), next poll in "
                             f"{progress.seconds(next_in)}")
        run.waited_s += _wait(delay, deadline, clock, sleep, max_sleep, min_sleep)


def stream_blobs(client: ApiClient, run: ExportRun, limits: StreamLimits = StreamLimits()) -> None:
    """Read every blob the manifest lists into a fresh row judge (``run.rows``): one blob per worker process
    (rows_pool.py), merged in manifest order."""
    from ..rows_pool import BlobTask, judge_export

    run.rows = ExportJudge(RowRules.load(), invoice_id=run.invoice_id, attribute_set=run.attribute_set)
    sas = run.manifest.get("sasToken") if isinstance(run.manifest.get("sasToken"), str) else None
    tasks = []
    for blob in manifest_blobs(run.manifest):
        url = blob_url(run.manifest, blob)
        if not url.startswith(("http://", "https://")):
            run.stopped = f"blob URL is not absolute: {REDACTOR(url)[:200]}"
            # not unproven: Microsoft's sample builds new Uri(rootDirectory/name), which needs an absolute URL,
            # so GR-BLOB-URL reports the blobs that could not be requested
            break
        tasks.append(BlobTask(index=len(tasks), name=str(blob.get("name") or ""), invoice_id=run.invoice_id,
                              attribute_set=run.attribute_set, url=url, limits=limits, timeout=client.timeout,
                              secrets=(sas,) if sas else (), base_url=client.base_url))
    run.blobs += judge_export(tasks, run.rows, stream=client.stream, take=client.budget.take,
                              on_result=lambda r: r.recorded is not None and client.record(r.recorded))
    if not run.stopped:
        run.stopped = "done"


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
