"""What a run costs the targets: requests by endpoint, export jobs started, blob rows and bytes downloaded.

Every client of a run hands its exchanges to :data:`COST` (an observer, like traffic.har); the row pool adds the
rows it judged. ``--max-exports`` is kept here too: an export POST past the cap is not sent, and the check that
wanted it is skipped as not exercised (the user asked for it), like ``--max-requests``. One instance per process;
pytest-xdist workers hand theirs to the controller as plain data (:meth:`RunCost.to_dict` / :meth:`add`).
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .findings import Exchange
from .traffic.client import BudgetExhausted


@dataclass
class RunCost:
    requests: Counter = field(default_factory=Counter)  # operation (endpoint template) -> requests sent
    exports_started: int = 0  # export POSTs answered 202: jobs the target runs for us
    exports: Counter = field(default_factory=Counter)  # "attributeSet" -> jobs started
    blobs: int = 0
    rows: int = 0  # rows downloaded and judged
    bytes: int = 0  # blob bytes downloaded (compressed, as sent)
    max_exports: int | None = None
    _in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def observe(self, exchange: Exchange) -> None:
        """Count one exchange (an observer of every client of the run)."""
        with self._lock:
            self.requests[exchange.operation] += 1
            if exchange.method == "POST" and exchange.operation.endswith("export") and exchange.status == 202:
                self.exports_started += 1
                self.exports[_attribute_set(exchange)] += 1

    def take_export(self) -> None:
        """Before an export POST: refuse it once ``--max-exports`` jobs have been started or may be (POSTs in flight
        count until answered: exports start concurrently); :meth:`release_export` once it is answered."""
        with self._lock:
            if self.max_exports is not None and self.exports_started + self._in_flight >= self.max_exports:
                raise BudgetExhausted(f"export budget exhausted: --max-exports {self.max_exports} reached "
                                      f"({self.exports_started} export job(s) started, {self._in_flight} more requested); "
                                      "this check was not exercised")
            self._in_flight += 1

    def release_export(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def add_blobs(self, blobs: int, rows: int, compressed: int) -> None:
        with self._lock:
            self.blobs += blobs
            self.rows += rows
            self.bytes += compressed

    def to_dict(self) -> dict[str, Any]:
        return {"requests": sum(self.requests.values()),
                "requests_by_endpoint": dict(sorted(self.requests.items(), key=lambda kv: (-kv[1], kv[0]))),
                "exports_started": self.exports_started, "exports_by_attribute_set": dict(sorted(self.exports.items())),
                "blobs": self.blobs, "rows": self.rows, "bytes": self.bytes}

    def add(self, data: dict[str, Any]) -> None:
        """Fold in another process's :meth:`to_dict` (pytest-xdist workers)."""
        with self._lock:
            self.requests.update({str(k): int(v) for k, v in (data.get("requests_by_endpoint") or {}).items()})
            self.exports_started += int(data.get("exports_started", 0))
            self.exports.update({str(k): int(v) for k, v in (data.get("exports_by_attribute_set") or {}).items()})
            self.blobs += int(data.get("blobs", 0))
            self.rows += int(data.get("rows", 0))
            self.bytes += int(data.get("bytes", 0))


def _attribute_set(exchange: Exchange) -> str:
    import json

    try:
        body = json.loads(exchange.request_body or b"")
    except (ValueError, UnicodeDecodeError):  # a negative case's body may be anything
        return "other"
    value = body.get("attributeSet", "full") if isinstance(body, dict) else None
    return str(value).casefold() if isinstance(value, str) else "other"


COST = RunCost()


def reset(max_exports: int | None = None) -> RunCost:
    """A fresh count for a new run in this process."""
    global COST
    COST = RunCost(max_exports=max_exports)
    return COST


def current() -> RunCost:
    return COST
