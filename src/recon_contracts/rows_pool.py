"""Export rows on every core: one blob per task, judged in a pool of worker processes, merged in one place.

    parent: the blobs of an export -> BlobTask (URL with its SAS, a file path, or recorded bytes; picklable)
    worker: download (streaming GET with the SAS only) -> gunzip -> parse -> judge -> BlobPart + BlobOutcome
    parent: results merged into one ExportJudge in manifest order (never completion order), so the report is the
            same whatever finishes first; recorded exchanges reach the run's observers in that order too

Workers are forked where this process runs no other thread (they start at once, the rules already compiled:
bench/bench_rows.py measured 212-257k rows/s against 176-232k spawned, and a lower total peak), and spawned
where it does (the embedded mock runs in threads; a fork would copy another thread's held locks). They are kept
for the process's life, so an export pays their start once. An export of one blob is judged in the parent (a pool adds nothing
there); the path and the merge are the same. ``RECON_ROW_WORKERS`` (or ``workers=``) sets the pool size; 1 means
no pool at all.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import progress as status
from .checks.rows import BlobPart, ExportJudge, RowRules, judge_for
from .findings import Exchange
from .redact import REDACTOR
from .traffic.blob_stream import BlobOutcome, FileBlob, HttpBlob, RecordedBlob, StreamLimits, read_blob

from .protocol.graph import BLOB_OPERATION  # the vocabulary lives in protocol/


@dataclass(frozen=True)
class BlobTask:
    """One blob to judge, as a worker needs it: where it is, and what the export asked for."""

    index: int  # position in the manifest (the merge order)
    name: str
    invoice_id: str | None
    attribute_set: str
    kind: str | None = None  # the export family member (truth/exports.py): its row schema; None is billed reconciliation
    currency: str | None = None  # unbilled members: the currency every row must carry
    url: str | None = field(default=None, repr=False)  # carries the SAS: never in a repr
    path: str | None = None
    recorded: Exchange | None = field(default=None, repr=False)
    limits: StreamLimits = StreamLimits()
    timeout: float = 60.0  # total deadline of the request up to its headers
    keep: int = 1024 * 1024  # body bytes kept for traffic.har
    secrets: tuple[str, ...] = field(default=(), repr=False)  # SAS tokens the worker's redactor must know
    base_url: str = "http://blob.invalid"


@dataclass
class BlobResult:
    """What a worker sends back: the judged blob, how the read ended, and the exchange to record."""

    index: int
    part: BlobPart
    outcome: BlobOutcome
    recorded: Exchange | None = None
    seconds: float = 0.0


def judge_blob(task: BlobTask, stream: Callable | None = None) -> BlobResult:
    """Download (or open) and judge one blob; runs in a worker process or, for a single blob, in the parent (then
    with the parent client's ``stream``, which counts the request in the run's budget)."""
    for secret in task.secrets:
        REDACTOR.add_sas(secret)
    started = time.perf_counter()
    judge = judge_for(task.kind, invoice_id=task.invoice_id, attribute_set=task.attribute_set, currency=task.currency)
    blob = judge.blob(task.name)
    recorded: list[Exchange] = []
    if task.url is not None:
        from .traffic.client import ApiClient, RequestBudget  # the parent counted this request in its budget

        client = None
        if stream is None:
            client = ApiClient(api="blob", base_url=task.base_url, token=None, budget=RequestBudget(),
                               timeout=task.timeout)
            stream = client.stream
        try:
            source = HttpBlob(stream=stream, url=task.url, name=task.name, operation=BLOB_OPERATION,
                              record=recorded.append, keep=task.keep)
            outcome = read_blob(source, blob.consume, task.limits)
        finally:
            if client is not None:
                client.close()
    elif task.recorded is not None:
        outcome = read_blob(RecordedBlob(task.recorded, name=task.name), blob.consume, task.limits)
    else:
        outcome = read_blob(FileBlob(Path(str(task.path)), name=task.name), blob.consume, task.limits)
    if outcome.exchange is not None:
        outcome.exchange = replace(outcome.exchange, api="blob")
    blob.exchange = outcome.exchange
    return BlobResult(index=task.index, part=blob.part(), outcome=outcome,
                      recorded=replace(recorded[-1], api="blob") if recorded else None,  # the answer read (retried ones before it)
                      seconds=time.perf_counter() - started)


# ------------------------------------------------------------------ the pool


def workers_wanted() -> int:
    """Pool size: RECON_ROW_WORKERS, else the cores this process may use."""
    raw = os.environ.get("RECON_ROW_WORKERS", "").strip()
    if raw.isdigit() and int(raw) >= 1:
        return int(raw)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


_pools: dict[int, ProcessPoolExecutor] = {}  # by size: exports judged at once (threads) share one, never stop it
_pool_lock = threading.Lock()


def _get_pool(size: int) -> ProcessPoolExecutor:
    with _pool_lock:
        pool = _pools.get(size)
        if pool is None:
            pool = _pools[size] = ProcessPoolExecutor(max_workers=size, initializer=_warm, mp_context=_context())
        return pool


def _context() -> multiprocessing.context.BaseContext:
    """Fork where this process runs no other thread (a worker starts at once, with the rules already compiled);
    spawn where it does (the embedded mock, an HTTP client's threads): a fork copies another thread's held locks."""
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        RowRules.load()  # compiled here once: every forked worker has it
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _warm() -> None:
    RowRules.load()  # the spec, compiled once per worker


def shutdown() -> None:
    """Stop the worker processes (they are reused across exports until then)."""
    with _pool_lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.shutdown(wait=True, cancel_futures=True)


atexit.register(shutdown)


def pool_pids() -> list[int]:
    """The worker processes' ids (for memory figures: each one's own VmHWM)."""
    with _pool_lock:
        return sorted(pid for pool in _pools.values() for pid in (getattr(pool, "_processes", None) or {}))


Progress = Callable[[int, int, int, float], None]  # (blobs done, blobs, rows so far, seconds)


def _status_line(done: int, blobs: int, rows: int, seconds: float) -> None:
    status.update("rows", f"rows: {done} of {blobs} blob(s) judged, {rows:,} rows, "
                          f"{rows / max(seconds, 1e-9):,.0f} rows/s")


def judge_export(tasks: Sequence[BlobTask], judge: ExportJudge, *, workers: int | None = None,
                 stream: Callable | None = None, take: Callable[[], None] | None = None,
                 on_result: Callable[[BlobResult], None] | None = None,
                 progress: Progress | None = None) -> list[BlobOutcome]:
    """Judge every blob of an export, merged into ``judge`` in task order; the outcomes in that order.

    ``stream`` is the parent client's (used when the blobs are judged here); ``take`` counts a worker's request
    in the run's budget before it is sent. ``on_result`` sees each result in task order (e.g. to record its
    exchange); ``progress`` is called as blobs complete, in whatever order they do.
    """
    size = workers or workers_wanted()
    if progress is None:
        progress = _status_line
    results: dict[int, BlobResult] = {}
    started = time.perf_counter()
    rows = 0
    if tasks:
        progress(0, len(tasks), 0, 0.0)
    if size <= 1 or len(tasks) <= 1:
        for task in tasks:
            results[task.index] = result = judge_blob(task, stream)
            rows += result.part.rows
            if progress is not None:
                progress(len(results), len(tasks), rows, time.perf_counter() - started)
    else:
        for task in tasks:
            if task.url is not None and take is not None:
                take()  # --max-requests: raises before anything is sent
        try:
            futures: list[Future] = [_get_pool(size).submit(judge_blob, task) for task in tasks]
            from concurrent.futures import as_completed

            for future in as_completed(futures):
                result = future.result()
                results[result.index] = result
                rows += result.part.rows
                if progress is not None:
                    progress(len(results), len(tasks), rows, time.perf_counter() - started)
        except BrokenProcessPool:  # a worker died (killed, out of memory): judge what is left here
            shutdown()
            for task in tasks:  # their requests were counted already: not through the run's client again
                if task.index not in results:
                    results[task.index] = judge_blob(task)
    from .run_cost import current

    current().add_blobs(len(tasks), sum(r.part.rows for r in results.values()),
                        sum(r.outcome.stats.compressed for r in results.values()))
    status.done("rows")
    outcomes = []
    for task in tasks:
        result = results[task.index]
        judge.merge(result.part)
        if on_result is not None:
            on_result(result)
        outcomes.append(result.outcome)
    return outcomes


class PooledJudge(ExportJudge):
    """An export's row judge that downloads and judges its blobs in the pool (the driver's ``BlobJudge``): one blob
    per worker process, merged here in manifest order. Give it to ``drivers.graph_export.run_export`` as ``sink``."""

    kind: str | None = None

    def judge_blobs(self, client, blobs: list[tuple[str, str]], limits: StreamLimits,  # noqa: ANN001 - ApiClient
                    sas: str | None) -> list[BlobOutcome]:
        tasks = [BlobTask(index=i, name=name, invoice_id=self.invoice_id, attribute_set=self.attribute_set,
                          kind=self.kind, currency=self.currency, url=url, limits=limits, timeout=client.timeout,
                          secrets=(sas,) if sas else (), base_url=client.base_url)
                 for i, (name, url) in enumerate(blobs)]
        return judge_export(tasks, self, stream=client.stream, take=client.budget.take,
                            on_result=lambda r: r.recorded is not None and client.record(r.recorded))


def pooled_judge_for(kind_name: str | None = None, *, invoice_id: str | None = None, attribute_set: str | None = "full",
                     currency: str | None = None) -> PooledJudge:
    """``checks.rows.judge_for``, judged in the pool."""
    plain = judge_for(kind_name, invoice_id=invoice_id, attribute_set=attribute_set, currency=currency)
    judge = PooledJudge(plain.rules, invoice_id=plain.invoice_id, attribute_set=plain.attribute_set,
                        currency=plain.currency)
    judge.kind, judge.currency = kind_name, plain.currency
    return judge
