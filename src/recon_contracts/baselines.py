"""Baseline compare or update, written once for every command: the live run (plugin) and ``check`` call it.

With ``update``: the run's observed behaviour becomes the baseline file, and the lines say what changed.
Without: the differences are BASELINE-* findings. A baseline that cannot be read is bad input (``BaselineError``),
unless it is about to be written anew.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .checks.baseline import check_against_baseline, diff_lines
from .errors import BaselineError
from .findings import Finding
from .observed import load, write


@dataclass
class BaselineStep:
    findings: list[Finding] = field(default_factory=list)  # BASELINE-* differences (compare only)
    lines: list[str] = field(default_factory=list)  # what to print (update only)


def read_baseline(baseline: Path, *, update: bool) -> dict[str, Any] | None:
    """The baseline's data; None when it is to be written anew. Raises ``BaselineError`` when it cannot be used."""
    try:
        return load(baseline)
    except BaselineError:
        if not update:
            raise
        return None


def compare_or_update(baseline: Path, data: dict[str, Any], *, update: bool,
                      previous: dict[str, Any] | None = None, loaded: bool = False) -> BaselineStep:
    """Compare ``data`` (an observed.json) with the baseline, or write it as the new baseline."""
    if not loaded:
        previous = read_baseline(baseline, update=update)
    step = BaselineStep()
    differences = check_against_baseline(previous, data) if previous is not None else []
    if update:
        write(baseline, data)
        if previous is None:
            step.lines.append(f"baseline {baseline} written (new): {len(data['operations'])} operations observed")
        else:
            step.lines.append(f"baseline {baseline} updated: {len(differences)} difference(s) from the previous one")
            step.lines += diff_lines(differences)
        return step
    step.findings = differences
    return step
