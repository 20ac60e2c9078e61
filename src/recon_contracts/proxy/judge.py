"""Judging flows live with the offline checker's rules, and blobs row by row as they stream past.

Every API exchange is added to its flow (:mod:`.flows`) and the flow is judged again by
:func:`recon_contracts.checks.recorded.check_recorded`, the function ``recon-contracts check`` runs over HAR
files; findings not seen before are new, and go to the sink at once. Blob bodies never reach that function
(it would need them whole): the tee below hands their chunks to the streaming row engine
(:func:`traffic.blob_stream.gunzip_lines` -> :class:`checks.rows.ExportJudge`) on a worker thread through a
small bounded queue, and judges them with :func:`checks.blobs.check_blob_download` and
:func:`checks.blobs.check_blob_content`, as the live suite does. On finish the whole session is judged once more
(rules across flows: query spellings, a walk against a one-page walk of the same query).
"""

from __future__ import annotations

import queue
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..checks.blobs import check_basic_subset, check_blob_content, check_blob_download
from ..checks.recorded import check_recorded
from ..checks.rows import ExportJudge, RowRules, export_columns
from ..findings import Exchange, Finding
from ..traffic.blob_stream import BlobFormatError, BlobOutcome, BlobUnreadable, StreamLimits, gunzip_lines
from .flows import Flow, Flows

BLOB_GROUP = "recorded: graph manifests and blobs"
_END, _BROKEN = object(), object()


_ALIKE = re.compile(r" \(and \d+ more [^)]*\)$")


def _key(f: Finding) -> tuple[str, str, str]:
    """A finding's identity: a walk's "(and N more page(s) alike)" grows as the walk does, it is one finding."""
    return f.rule, f.operation, _ALIKE.sub("", f.message)


@dataclass
class Judge:
    """The findings of one proxy session, each reported once, as soon as it is known."""

    sink: Callable[..., None]
    flows: Flows = field(default_factory=Flows)
    findings: list[Finding] = field(default_factory=list)
    unproven: list[dict[str, Any]] = field(default_factory=list)
    exchanges: int = 0
    blob_rows: int = 0
    open_tees: set["BlobTee"] = field(default_factory=set)
    _order: list[Exchange] = field(default_factory=list)  # API exchanges in arrival order
    _seen: dict[tuple[str, str, str], int] = field(default_factory=dict)  # key -> index in findings
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _emit(self, found: list[Finding], flow: Flow | None) -> list[Finding]:
        new = []
        with self._lock:
            for f in found:
                key = _key(f)
                if key not in self._seen:
                    self._seen[key] = len(self.findings)
                    self.findings.append(f)
                    new.append(f)
                else:  # the same finding, grown (more pages alike): the reports show its latest wording
                    self.findings[self._seen[key]] = f
        for f in new:
            self.sink(f, flow=flow.id if flow else None)
        return new

    def api_exchange(self, exchange: Exchange) -> list[Finding]:
        """Add an API exchange to its flow and judge the flow; the findings this exchange brought."""
        with self._lock:
            self.exchanges += 1
            self._order.append(exchange)
        flow = self.flows.add(exchange)
        if flow.kind == "other":
            return []
        return self._emit(check_recorded(flow.checked).findings, flow)

    def note_unproven(self, reason: str, rules: list[str]) -> None:
        with self._lock:
            self.unproven.append({"test": "proxy", "rules": rules, "reason": reason})

    def blob(self, head: Exchange, name: str) -> "BlobTee":
        with self._lock:
            self.exchanges += 1
        flow = self.flows.add(head)
        rules = RowRules.load()
        with self._lock:  # blobs of one export may arrive together: one judge for all of them
            if flow.row_judge is None:
                body = flow.request_body or {}
                flow.row_judge = ExportJudge(rules, invoice_id=str(body["invoiceId"]) if body.get("invoiceId") else None,
                                             attribute_set=str(body.get("attributeSet") or "full"))
        return BlobTee(self, flow, head, name)

    def blob_head_only(self, head: Exchange) -> None:
        """A blob download that was not answered 200: GR-BLOB-URL judges it (its body is not rows)."""
        with self._lock:
            self.exchanges += 1
        flow = self.flows.add(head)
        found = check_blob_download(head)
        for f in found:
            f.extra.setdefault("test", BLOB_GROUP)
        self._emit(found, flow)

    def blob_done(self, tee: "BlobTee") -> None:
        with self._lock:
            if tee.settled.is_set():
                return
        outcome = tee.outcome
        found = [*check_blob_content(outcome)]
        for f in found:
            f.extra.setdefault("test", BLOB_GROUP)
        self._emit(found, tee.flow)
        if outcome.inconclusive:
            self.note_unproven(f"blob {outcome.name}: {outcome.inconclusive}",
                               ["GR-BLOB-GZIP-JSONL", "GR-ROW-REQUIRED-COLUMNS", "GR-ROW-COLUMN-TYPES"])
        with self._lock:
            tee.flow.blobs_done += 1
            self.blob_rows += tee.judge.rows
            complete = tee.flow.blobs_listed is not None and tee.flow.blobs_done >= tee.flow.blobs_listed
        if complete:
            self._emit(self._rows(tee.flow), tee.flow)
        with self._lock:
            self.open_tees.discard(tee)
        tee.settled.set()

    @staticmethod
    def _rows(flow: Flow) -> list[Finding]:
        found = flow.row_judge.findings() if flow.row_judge is not None and flow.row_judge.blobs else []
        for f in found:
            f.extra.setdefault("test", BLOB_GROUP)
        return found

    def finish(self, wait_s: float = 60.0) -> None:
        """Rules across flows (the whole session, as ``check`` sees a HAR file), and rows of unfinished exports.

        Blobs still streaming when the server stopped are settled first: waited for (bounded), else judged as
        broken off (inconclusive)."""
        with self._lock:
            pending = list(self.open_tees)
        for tee in pending:
            if not tee.settled.wait(wait_s):
                tee.close(complete=False, timeout=wait_s)
        with self._lock:
            everything = list(self._order)
        self._emit(check_recorded(everything).findings, None)
        for flow in list(self.flows.all):
            self._emit(self._rows(flow), flow)
        self._emit(self._basic_subset(), None)

    def _basic_subset(self) -> list[Finding]:
        """GR-EXPORT-BASIC-SUBSET: a basic export of an invoice against a full one of the same invoice, as
        ``check_recorded`` pairs them (its own pairing needs whole blob bodies, so it is repeated here)."""
        exports: dict[tuple[str, str], ExportJudge] = {}
        for flow in list(self.flows.all):
            judge = flow.row_judge
            if judge is not None and judge.blobs and judge.rows and flow.request_body:
                key = (str(flow.request_body.get("invoiceId")), judge.attribute_set)
                exports.setdefault(key, judge)
        found: list[Finding] = []
        for (invoice, attribute_set), basic in exports.items():
            full = exports.get((invoice, "full"))
            if attribute_set == "basic" and full is not None:
                found += check_basic_subset(export_columns(basic), export_columns(full), evidence=basic.blobs[0].exchange)
        for f in found:
            f.extra.setdefault("test", "recorded: graph attribute sets")
        return found


class BlobTee:
    """Feeds a streamed blob's bytes to the row engine on a worker thread; the stream never waits for more
    than the small queue holds (the engine's speed bounds it, nothing else)."""

    def __init__(self, judge: Judge, flow: Flow, head: Exchange, name: str,
                 limits: StreamLimits = StreamLimits(), depth: int = 16) -> None:
        self.owner, self.flow, self.head = judge, flow, head
        with judge._lock:
            self.judge = flow.row_judge.blob(name, head)
        self.outcome = BlobOutcome(name=name, exchange=head)
        self.limits = limits
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._done = threading.Event()
        self.settled = threading.Event()  # judged and reported (blob_done ran)
        self._thread = threading.Thread(target=self._run, name=f"proxy-blob-{name[:40]}", daemon=True)
        with judge._lock:
            judge.open_tees.add(self)
        self._thread.start()

    def _chunks(self) -> Iterator[bytes]:
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if item is _BROKEN:
                raise BlobUnreadable("the download broke off before its end (client or upstream), so its rows "
                                     "could not all be checked")
            yield item

    def _run(self) -> None:
        try:
            self.judge.consume(gunzip_lines(self._chunks(), self.limits, self.outcome.stats))
        except BlobFormatError as exc:
            self.outcome.problem, self.outcome.problem_line = str(exc), exc.line
        except BlobUnreadable as exc:
            self.outcome.inconclusive = str(exc)
        except Exception as exc:  # noqa: BLE001 - a bug in judging must not break the client's download
            self.outcome.inconclusive = f"the row engine stopped: {type(exc).__name__}: {exc}"
        finally:
            self._done.set()

    @property
    def stopped(self) -> bool:
        return self._done.is_set()

    def offer(self, chunk: bytes) -> bool:
        """Queue a chunk without waiting; False when the queue is full (call :meth:`put` off the event loop)."""
        if self._done.is_set():
            return True
        try:
            self._queue.put_nowait(chunk)
            return True
        except queue.Full:
            return False

    def put(self, item: Any) -> None:
        """Queue an item, waiting while the engine catches up (returns at once once the engine has stopped)."""
        while not self._done.is_set():
            try:
                self._queue.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def close(self, *, complete: bool, timeout: float = 600.0) -> None:
        """End the stream (``complete=False``: it broke off) and wait for the engine; then judge the blob."""
        self.put(_END if complete else _BROKEN)
        self._thread.join(timeout)
        if self._thread.is_alive():
            self.outcome.inconclusive = "the row engine did not finish within the deadline"
        self.owner.blob_done(self)
