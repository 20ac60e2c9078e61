"""Reading exported blobs as a stream: bytes in, numbered JSON lines out, memory flat whatever the size.

    HTTP (httpx streaming, SAS only) or a local file -> chunks -> incremental gunzip (ISA-L's or zlib's
    decompressobj, bounded output per step) -> lines -> the caller (the row judge in checks/rows.py)

Nothing here judges a row. What can go wrong while reading is told apart:

* the blob's own bytes are wrong (not gzip, bad gzip, a gzip stream cut off before its end, a line far too
  long): :class:`BlobFormatError`, which the checks report as GR-BLOB-GZIP-JSONL;
* the blob inflates past the cap (a gzip bomb, or a blob bigger than this run allows), or the transport broke
  (connection closed mid-body, a read timed out, the per-blob deadline passed): :class:`BlobUnreadable`, which
  makes the check inconclusive: that is no evidence about the contract.
"""

from __future__ import annotations

import contextlib
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import httpx

from ..errors import BlobFormatError, BlobUnreadable
from ..findings import Exchange
from ..redact import REDACTOR
from .client import RefusedBlobUrl, TargetError, retry_after_seconds

try:  # ISA-L inflates gzip about twice as fast as zlib (bench/bench_rows.py); same API, same results
    from isal import isal_zlib as _inflate_lib

    _INFLATE_ERRORS: tuple[type[Exception], ...] = (zlib.error, _inflate_lib.error)
except ImportError:  # pragma: no cover - zlib is always there
    _inflate_lib = zlib  # type: ignore[assignment]
    _INFLATE_ERRORS = (zlib.error,)

GZIP_MAGIC = b"\x1f\x8b"
# blob answers retried (Azure Storage: 503 ServerBusy and 500 are retryable; 429 as on the APIs)
BLOB_RETRY_STATUSES = frozenset({429, 500, 503})
_BOM = b"\xef\xbb\xbf"
MiB = 1024 * 1024
GiB = 1024 * MiB


@dataclass(frozen=True)
class StreamLimits:
    """Bounds on reading one blob. Every one of them ends the read with a clear message."""

    max_inflated: int = 16 * GiB  # decompressed bytes of one blob
    max_ratio: float = 1000.0  # inflated/compressed, checked once ``ratio_after`` bytes are inflated (gzip bombs)
    ratio_after: int = 8 * MiB
    max_line: int = 16 * MiB  # one JSON line
    step: int = 4 * MiB  # most bytes inflated per zlib call: one compressed chunk never becomes a huge buffer
    chunk: int = 256 * 1024  # bytes asked of the transport per read
    deadline_s: float | None = None  # wall-clock bound of one blob's download (None: the transport's own timeouts)


@dataclass
class ReadStats:
    compressed: int = 0
    inflated: int = 0
    lines: int = 0


def _header_length(buf: bytes) -> int | None:
    """The length of the gzip member header at the start of ``buf`` (RFC 1952 §2.3), or None while it is incomplete."""
    if len(buf) < 10:
        return None
    flags, pos = buf[3], 10
    if flags & 0x04:  # FEXTRA
        if len(buf) < pos + 2:
            return None
        pos += 2 + int.from_bytes(buf[pos:pos + 2], "little")
    for flag in (0x08, 0x10):  # FNAME, FCOMMENT: zero-terminated
        if flags & flag:
            end = buf.find(b"\x00", pos)
            if end < 0:
                return None
            pos = end + 1
    if flags & 0x02:  # FHCRC
        pos += 2
    return pos if len(buf) >= pos else None


class GzipLines:
    """The numbered lines of gzip JSON Lines arriving in chunks: iterate for ``(line number, line)`` pairs (blank
    lines skipped, their numbers still counted), or take :meth:`batches`, the lines of each inflate step at once.

    A consumer that judges many lines per call (the row engine's batch path) takes the batches; any other just
    iterates. Both read the same stream once, with the same errors at the same places.
    """

    def __init__(self, chunks: Iterable[bytes], limits: StreamLimits = StreamLimits(),
                 stats: ReadStats | None = None) -> None:
        self._chunks, self._limits = chunks, limits
        self.stats = stats if stats is not None else ReadStats()

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        for first, lines in self.batches():
            for number, line in enumerate(lines, first):
                if line and not line.isspace():
                    yield number, line

    def batches(self) -> Iterator[tuple[int, list[bytes]]]:
        """``(number of the first line, lines)`` per inflate step, blank lines included (they are numbered)."""
        return _gunzip_batches(self._chunks, self._limits, self.stats)


def gunzip_lines(chunks: Iterable[bytes], limits: StreamLimits = StreamLimits(), stats: ReadStats | None = None
                 ) -> GzipLines:
    """``(line number, line)`` of gzip JSON Lines arriving in chunks; blank lines are skipped, numbers still count.

    Concatenated gzip members are read as one stream (RFC 1952 allows them); zero padding after the last one is
    ignored. Raises :class:`BlobFormatError` or :class:`BlobUnreadable` (see the module docstring) where reading
    cannot go on; the lines before that point have been yielded. The result also gives the lines in batches
    (:class:`GzipLines`).
    """
    return GzipLines(chunks, limits, stats)


def _gunzip_batches(chunks: Iterable[bytes], limits: StreamLimits, stats: ReadStats
                    ) -> Iterator[tuple[int, list[bytes]]]:
    inflater: Any = None
    head = pending = b""
    number = 0
    done = False  # the last gzip member ended and no other has begun
    max_line, step = limits.max_line, limits.step
    for chunk in chunks:
        if not chunk:
            continue
        stats.compressed += len(chunk)
        data = chunk
        while data:
            if inflater is None:
                # the start of a member (the first, or one after another ended): its whole header is gathered first,
                # whatever reads it arrives in (ISA-L misreads a header with FHCRC or FEXTRA split across calls)
                head, data = head + data, b""
                if done and not head.strip(b"\x00"):
                    head = b""  # zero padding after the last member is ignored
                    break
                if len(head) < 2 or (len(head) < 10 and head.startswith(GZIP_MAGIC)):
                    break
                if not head.startswith(GZIP_MAGIC):
                    if done:
                        raise BlobFormatError(f"bytes that are not gzip follow the end of the gzip stream ({head[:16]!r})",
                                              line=number + 1)
                    raise BlobFormatError(f"the blob is not gzip: it starts with {head[:16]!r}, not 1f 8b")
                if _header_length(head) is None:
                    if len(head) > max_line:
                        raise BlobFormatError(f"a gzip member header is longer than {max_line:,} bytes", line=number + 1)
                    break
                inflater, data, head, done = _inflate_lib.decompressobj(16 + zlib.MAX_WBITS), head, b"", False
            try:
                out = inflater.decompress(data, step)
            except _INFLATE_ERRORS as exc:
                raise BlobFormatError(f"the blob is not valid gzip after {stats.inflated:,} inflated bytes: {exc}",
                                      line=number + 1) from None
            data = inflater.unconsumed_tail
            if inflater.eof:
                data, done, inflater = inflater.unused_data + data, True, None
            if not out:
                continue
            stats.inflated += len(out)
            if stats.inflated > limits.max_inflated:
                raise BlobUnreadable(f"the blob inflates past {limits.max_inflated:,} bytes (the cap of this run); "
                                     "reading stopped")
            consumed = max(stats.compressed - len(data), 1)  # compressed bytes inflated so far
            if stats.inflated > limits.ratio_after and stats.inflated > limits.max_ratio * consumed:
                raise BlobUnreadable(
                    f"the blob inflates more than {limits.max_ratio:g} times ({consumed:,} bytes became "
                    f"{stats.inflated:,}): a gzip bomb; reading stopped")
            pieces = out.split(b"\n")
            if pending:
                pieces[0] = pending + pieces[0]  # not pending + out: a copy of the whole step
            pending = pieces.pop()
            if len(pending) > max_line:
                raise BlobFormatError(f"line {number + len(pieces) + 1} is longer than {max_line:,} bytes",
                                      line=number + len(pieces) + 1)
            if not pieces:
                continue
            if number == 0 and pieces[0].startswith(_BOM):
                pieces[0] = pieces[0][3:]
            first, number = number + 1, number + len(pieces)
            stats.lines = number
            yield first, pieces
    if inflater is None and not done:
        if head.startswith(GZIP_MAGIC):
            raise BlobFormatError(f"the gzip stream is truncated in its first header ({len(head)} bytes)", line=1)
        if head:
            raise BlobFormatError(f"the blob is not gzip: it is {len(head)} byte(s) long ({head!r})")
        raise BlobFormatError("the blob is empty (0 bytes), not even an empty gzip stream")
    if head:
        raise BlobFormatError(f"the gzip stream is truncated: {len(head)} byte(s) of a member header end it "
                              f"({head[:16]!r})", line=number + 1)
    if not done:
        raise BlobFormatError(
            f"the gzip stream is truncated: it ends after {stats.compressed:,} compressed bytes and {number:,} line(s), "
            "before the gzip trailer", line=number + 1)
    if pending.strip():
        if number == 0 and pending.startswith(_BOM):
            pending = pending[3:]
        number += 1
        stats.lines = number
        yield number, [pending]
    stats.lines = number


# ------------------------------------------------------------------ sources


class BlobSource(Protocol):
    """One blob to read: a name for findings, and a way to open it as chunks."""

    name: str

    def open(self, limits: StreamLimits) -> contextlib.AbstractContextManager[tuple[Exchange | None, Iterator[bytes]]]:
        ...


@dataclass
class FileBlob:
    """A blob already downloaded to a local file."""

    path: Path
    name: str = ""

    def __post_init__(self) -> None:
        self.name = self.name or self.path.name

    @contextlib.contextmanager
    def open(self, limits: StreamLimits) -> Iterator[tuple[Exchange | None, Iterator[bytes]]]:
        try:
            handle = self.path.open("rb")
        except OSError as exc:
            raise BlobUnreadable(f"cannot open {self.path}: {exc.strerror or exc}") from None
        with handle:
            yield None, iter(lambda: handle.read(limits.chunk), b"")


@dataclass
class RecordedBlob:
    """A blob whose download was recorded whole (a HAR entry): its exchange, body included."""

    exchange: Exchange
    name: str = ""

    def __post_init__(self) -> None:
        self.name = self.name or self.exchange.url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]

    @contextlib.contextmanager
    def open(self, limits: StreamLimits) -> Iterator[tuple[Exchange | None, Iterator[bytes]]]:
        body = self.exchange.response_body
        yield self.exchange, (body[i:i + limits.chunk] for i in range(0, len(body), limits.chunk))


@dataclass
class HttpBlob:
    """A blob at ``rootDirectory/name?sasToken``, read with a streaming GET that carries the SAS only.

    ``record`` (if given) receives the exchange once the read ends, with the body when it was at most ``keep``
    bytes (the run's traffic.har then holds it, and ``recon-contracts check`` can judge it), else with its first
    ``keep`` bytes and its real size (recorded as cut).

    A 429, 500 or 503 is retried up to ``retries`` times, after its Retry-After (or ``default_wait_s``; at most
    ``max_wait_s``): Azure Storage documents 503 ServerBusy and 500 (OperationTimedOut, InternalError) as
    retryable. Each answer waited out is recorded too.
    """

    stream: Callable[..., contextlib.AbstractContextManager[tuple[Exchange, httpx.Response]]]
    url: str = field(repr=False)
    name: str = ""
    operation: str = "GET {rootDirectory}/{blob-name}?{sasToken}"
    record: Callable[[Exchange], None] | None = field(default=None, repr=False)
    keep: int = 1024 * 1024
    retries: int = 4
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    default_wait_s: float = 1.0
    max_wait_s: float = 60.0

    @contextlib.contextmanager
    def open(self, limits: StreamLimits) -> Iterator[tuple[Exchange | None, Iterator[bytes]]]:
        attempt = 0
        while True:
            with self.stream("GET", self.url, operation=self.operation, auth=False,
                             headers={"Accept": "*/*"}) as (head, response):
                wait = self._retry_wait(head, attempt)
                if wait is None:
                    yield from self._read(head, response, limits)
                    return
                if self.record is not None:
                    self.record(replace(head, response_body=response.read()[: self.keep]))
            self.sleep(wait)
            attempt += 1

    def _retry_wait(self, head: Exchange, attempt: int) -> float | None:
        """Seconds to wait before retrying this answer, or None: it is the answer to read."""
        if head.status not in BLOB_RETRY_STATUSES or attempt >= self.retries:
            return None
        wait = retry_after_seconds(head.header("retry-after"))
        wait = self.default_wait_s if wait is None else wait
        return wait if wait <= self.max_wait_s else None

    def _read(self, head: Exchange, response: httpx.Response,
              limits: StreamLimits) -> Iterator[tuple[Exchange | None, Iterator[bytes]]]:
        kept = bytearray()
        size = [0]
        try:
            if head.status != 200:
                kept += response.read()[: self.keep]
                size[0] = len(kept)
                yield head, iter(())
                return
            # raw bytes: a Content-Encoding the storage may declare must not be undone behind the reader's back
            chunks = iter((response.content,)) if response.is_stream_consumed else response.iter_raw(limits.chunk)
            yield head, self._tee(_guarded(chunks, self.url, limits.deadline_s), kept, size)
        finally:
            if self.record is not None:
                whole = size[0] <= self.keep
                self.record(replace(head, response_body=bytes(kept), response_size=None if whole else size[0]))

    def _tee(self, chunks: Iterator[bytes], kept: bytearray, size: list[int]) -> Iterator[bytes]:
        for chunk in chunks:
            size[0] += len(chunk)
            if len(kept) < self.keep:
                kept += chunk[: self.keep - len(kept)]
            yield chunk


def _guarded(chunks: Iterator[bytes], url: str, deadline_s: float | None) -> Iterator[bytes]:
    """Transport failures mid-body become :class:`BlobUnreadable` (inconclusive), and so does the deadline."""
    end = None if deadline_s is None else time.monotonic() + deadline_s
    where = REDACTOR(url.split("?", 1)[0])
    try:
        for chunk in chunks:
            yield chunk
            if end is not None and time.monotonic() > end:
                raise BlobUnreadable(f"the download of {where} took longer than {deadline_s:g} s; reading stopped")
    except httpx.TimeoutException as exc:
        raise BlobUnreadable(f"the download of {where} timed out mid-body ({type(exc).__name__})") from None
    except httpx.HTTPError as exc:
        raise BlobUnreadable(f"the download of {where} broke off: {REDACTOR(str(exc)) or type(exc).__name__}") from None


# ------------------------------------------------------------------ one blob, start to end


@dataclass
class BlobOutcome:
    """What reading one blob came to. ``exchange`` is the response head (no body) for an HTTP blob."""

    name: str
    exchange: Exchange | None = None
    problem: str | None = None  # GR-BLOB-GZIP-JSONL
    problem_line: int = 0
    inconclusive: str | None = None
    refused: str | None = None  # why the runner would not fetch the blob's URL (GR-BLOB-URL-SAFE; then also inconclusive)
    stats: ReadStats = field(default_factory=ReadStats)

    @property
    def downloaded(self) -> bool:
        return self.exchange is None or self.exchange.status == 200


def read_blob(source: BlobSource, consume: Callable[[Iterator[tuple[int, bytes]]], None],
              limits: StreamLimits = StreamLimits()) -> BlobOutcome:
    """Open ``source`` and hand its lines to ``consume``; the outcome says how far it got and why it stopped."""
    outcome = BlobOutcome(name=source.name)
    try:
        with source.open(limits) as (head, chunks):
            outcome.exchange = head
            if head is not None and head.status in (429, 503):
                outcome.inconclusive = (f"the blob download was answered {head.status} (throttled or busy); "
                                        "that is no drift, so its rows could not be checked")
                return outcome
            if head is not None and head.status != 200:
                return outcome
            consume(gunzip_lines(chunks, limits, outcome.stats))
    except BlobFormatError as exc:
        outcome.problem, outcome.problem_line = str(exc), exc.line
    except RefusedBlobUrl as exc:
        outcome.inconclusive = outcome.refused = str(exc)
    except (BlobUnreadable, TargetError) as exc:
        outcome.inconclusive = str(exc)
    return outcome
