"""What a run records besides findings: ``traffic.har`` and ``observed.json``, and the baseline comparison.

Every :class:`~recon_contracts.traffic.client.ApiClient` of the run gets :meth:`RunTraffic.record` as an
observer, so every exchange (retried ones included) goes into this process's HAR part and observed
behaviour. Under pytest-xdist each worker writes its parts into a folder the controller named; the
controller (or the only process) merges them at the end with every other report
(:func:`recon_contracts.reporting.finish.merge_traffic`).
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

from ..findings import Exchange
from ..observed import Observed
from ..reporting.har import HarRecorder

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


def worker_name() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main") + f"-{os.getpid()}"
