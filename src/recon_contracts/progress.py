"""What a run is waiting for: a live status line on a terminal, a plain line at most every 30 s in CI logs.

The long waits of a run (an export operation polled for minutes, a line-items walk of many pages, blobs of
millions of rows) call :func:`update` with a key (which wait) and a short text; :func:`done` ends that wait.
Where the output goes is set once by whoever owns the terminal (the pytest plugin, ``validate-export``):

* a terminal: one line, rewritten in place (``\\r`` and erase-line), cleared when no wait is left; it starts on a
  line of its own so that nothing already printed is overwritten;
* not a terminal (CI logs): one plain line with every current wait, at most every ``every`` seconds (30), and
  none for a wait shorter than that;
* quiet (``-q``) or not configured (library use, unit tests): nothing.

Concurrent waits (the suite's exports run in threads) share the one line. No terminal library is used: a
refreshing live display (rich's Live) redraws over pytest's own progress output; in-place rewrites of a line
that only this module writes do not.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable
from typing import IO

PLAIN_EVERY_S = 30.0
LIVE_EVERY_S = 0.1  # a fast walk updates per page: the line is rewritten at most this often


class Status:
    def __init__(self, stream: IO[str] | None = None, *, live: bool = False, every: float = PLAIN_EVERY_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.live = live
        self.every = every
        self.clock = clock
        self.waits: dict[str, str] = {}
        self._lock = threading.Lock()
        self._last = clock()  # plain lines: none before the first wait has lasted ``every`` seconds
        self._shown = False  # live: the status line is on screen

    def update(self, key: str, text: str) -> None:
        if self.stream is None:
            return
        with self._lock:
            self.waits[key] = text
            now = self.clock()
            if self.live:
                if now - self._last >= LIVE_EVERY_S or not self._shown:
                    self._draw()
                    self._last = now
            elif now - self._last >= self.every:
                self._write("recon-contracts: " + "; ".join(self.waits.values()) + "\n")
                self._last = now

    def done(self, key: str) -> None:
        if self.stream is None:
            return
        with self._lock:
            self.waits.pop(key, None)
            if self.live and self._shown:
                if self.waits:
                    self._draw()
                else:
                    self._write("\r\x1b[2K")
                    self._shown = False

    def _draw(self) -> None:
        width = max(20, shutil.get_terminal_size((100, 20)).columns - 1)
        line = "recon-contracts: " + " | ".join(self.waits.values())
        if len(line) > width:
            line = line[: width - 1] + "…"
        self._write(("" if self._shown else "\n") + "\r\x1b[2K" + line)
        self._shown = True

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)  # type: ignore[union-attr]
            self.stream.flush()  # type: ignore[union-attr]
        except (OSError, ValueError):  # the terminal went away: stay quiet
            self.stream = None


STATUS = Status()  # quiet until configured


def configure(stream: IO[str] | None, *, quiet: bool = False) -> Status:
    """Send status to ``stream`` (live when it is a terminal); ``quiet`` or None: nothing."""
    global STATUS
    if quiet or stream is None:
        STATUS = Status()
    else:
        try:
            live = stream.isatty() and os.environ.get("TERM") != "dumb"
        except (OSError, ValueError):
            live = False
        STATUS = Status(stream, live=live)
    return STATUS


def terminal_stream() -> IO[str] | None:
    """A handle on the process's stderr as it is now (before pytest captures it), for status lines."""
    try:
        return os.fdopen(os.dup(2), "w", buffering=1, encoding="utf-8", errors="replace")
    except OSError:
        return None


def update(key: str, text: str) -> None:
    STATUS.update(key, text)


def done(key: str) -> None:
    STATUS.done(key)


def seconds(value: float) -> str:
    value = max(0.0, value)
    return f"{value:.0f} s" if value < 120 else f"{value // 60:.0f} min {value % 60:02.0f} s"
