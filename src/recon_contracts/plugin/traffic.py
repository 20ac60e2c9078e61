"""What a run records besides findings: ``traffic.har`` and ``observed.json``, and the baseline comparison.

Every :class:`~recon_contracts.traffic.client.ApiClient` of the run gets :meth:`RunTraffic.record` as an
observer, so every exchange (retried ones included) goes into this process's HAR part and observed
behaviour. Under pytest-xdist each worker writes its parts into a folder the controller named; the
controller (or the only process) merges them at the end, compares with ``--baseline`` and, with
``--update-baseline``, rewrites the baseline and says what changed.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from ..baselines import compare_or_update
from ..findings import Exchange, Finding
from ..observed import OBSERVED_FILE, Observed, write
from ..reporting.har import HAR_FILE, HarRecorder, merge

PARTS_PREFIX = ".traffic-"


def new_parts_dir(report_dir: Path) -> Path:
    """A folder for this run's parts (absolute: xdist workers may not share the controller's cwd)."""
    return (report_dir / f"{PARTS_PREFIX}{uuid.uuid4().hex[:12]}").resolve()


class RunTraffic:
    """One process's recording: a HAR part and the observed behaviour of what it sent and got."""

    def __init__(self, parts_dir: Path, name: str, *, body_limit: int) -> None:
        self.parts_dir = parts_dir
        self.name = name
        self.observed = Observed()
        self._har = HarRecorder(parts_dir / f"{name}.har", limit=body_limit)

    def record(self, exchange: Exchange) -> None:
        self._har.record(exchange)
        self.observed.add(exchange)

    def close(self) -> None:
        """End this process's parts (the HAR part is complete JSON after this)."""
        self._har.close()
        path = self.parts_dir / f"{self.name}.observed.json"
        path.write_text(json.dumps(self.observed.to_json()), encoding="utf-8")


@dataclass
class Outcome:
    """What the end of a run produced: the merged files, BASELINE-* findings, lines to print."""

    har: Path | None = None
    observed: Path | None = None
    findings: list[Finding] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)


def finish(parts_dir: Path, report_dir: Path, observations: dict[str, set[str]], *, baseline: Path | None,
           update: bool) -> Outcome:
    """Merge every process's parts into traffic.har and observed.json; compare with (or update) the baseline."""
    outcome = Outcome()
    har_parts = sorted(parts_dir.glob("*.har")) if parts_dir.is_dir() else []
    outcome.har = report_dir / HAR_FILE
    merge(har_parts, outcome.har)
    observed = Observed()
    for part in sorted(parts_dir.glob("*.observed.json")) if parts_dir.is_dir() else []:
        try:
            observed.merge(json.loads(part.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    observed.observe(observations)
    data = observed.to_json()
    outcome.observed = report_dir / OBSERVED_FILE
    write(outcome.observed, data)
    shutil.rmtree(parts_dir, ignore_errors=True)
    if baseline is None:
        return outcome
    step = compare_or_update(baseline, data, update=update)
    outcome.findings, outcome.lines = step.findings, step.lines
    return outcome


def worker_name() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main") + f"-{os.getpid()}"
