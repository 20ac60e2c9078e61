"""The end of every run, in one place: every report written, then the verdict line.

Whatever judged the target ends here: the pytest plugin at the end of a contract session (``recon-contracts run``
and ``pytest --pyargs recon_contracts.suite``), and through :func:`recon_contracts.commands.base.finish` the
``check``, ``validate-export`` and ``proxy`` commands.

- :func:`merge_traffic`: ``traffic.har`` and ``observed.json`` from every process's parts, and the ``--baseline``
  comparison (the BASELINE-* findings then join the run's result);
- :func:`finish_reports`: ``summary.json``, ``report.html``, ``report.sarif``, ``$GITHUB_STEP_SUMMARY``, the
  reference beside the report and ``junit.xml`` redacted in place (:func:`~.files.write_reports`), then the
  verdict line;
- :func:`announce`: the verdict line (and, after a contract run, the coverage line), the one printer of both.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..baselines import compare_or_update
from ..findings import Finding
from ..observed import OBSERVED_FILE, Observed, write
from ..verdict import Verdict
from .files import write_reports
from .har import HAR_FILE, merge
from .summary import RunResult, coverage_line, verdict_line

Printer = Callable[[str], object]


@dataclass
class TrafficOutcome:
    """What merging a run's traffic produced: the merged files, BASELINE-* findings, lines to print."""

    har: Path | None = None
    observed: Path | None = None
    findings: list[Finding] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Finished:
    """A finished run: its verdict (the exit code is ``verdict.exit_code``), summary.json's data, the files written."""

    verdict: Verdict
    summary: dict[str, Any]
    paths: dict[str, Path]


def merge_traffic(parts_dir: Path, report_dir: Path, observations: dict[str, set[str]], *, baseline: Path | None,
                  update: bool) -> TrafficOutcome:
    """Merge every process's parts into traffic.har and observed.json; compare with (or update) the baseline."""
    outcome = TrafficOutcome()
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


def finish_reports(report_dir: str | Path, result: RunResult, *, printer: Printer | None = print) -> Finished:
    """Write every report of ``result`` into ``report_dir``; print the verdict line with ``printer`` (None: print
    nothing, the caller announces later). ``OSError`` when ``report_dir`` cannot be written."""
    paths = write_reports(report_dir, result)
    summary = json.loads(paths["summary"].read_text(encoding="utf-8"))
    if printer is not None:
        announce(summary, str(report_dir), printer=printer)
    return Finished(Verdict(summary["verdict"]), summary, paths)


def announce(summary: dict[str, Any], report_dir: str, *, printer: Printer = print, coverage: bool = False) -> None:
    """The verdict line of a run (and with ``coverage`` the line of rules proved and not)."""
    printer(verdict_line(summary, report_dir))
    if coverage:
        printer(coverage_line(summary))
