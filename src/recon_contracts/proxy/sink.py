"""Findings as they happen: one console line each, with its rule, and one JSON line in ``findings.jsonl``."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import IO

from ..findings import Finding
from ..redact import REDACTOR
from ..reporting.summary import redact_tree

FINDINGS_FILE = "findings.jsonl"


class FindingSink:
    """Writes each finding once, redacted, flushed at once (a reader tailing the file sees it live)."""

    def __init__(self, report_dir: Path, console: IO[str] | None = None) -> None:
        self.path = report_dir / FINDINGS_FILE
        self._file = self.path.open("w", encoding="utf-8")
        self._console = console if console is not None else sys.stdout
        self._lock = threading.Lock()
        self.count = 0

    def __call__(self, f: Finding, *, flow: int | None = None) -> None:
        line = REDACTOR(f"[{f.rule}] ({f.severity}) {f.operation}: {f.message}")
        record = redact_tree({**f.to_dict(), "flow": flow})
        with self._lock:
            self.count += 1
            if not self._file.closed:
                self._file.write(REDACTOR(json.dumps(record, ensure_ascii=False, default=str)) + "\n")
                self._file.flush()
            print(line, file=self._console, flush=True)

    def close(self) -> None:
        with self._lock:
            self._file.close()
