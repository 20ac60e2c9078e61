"""Fixtures of the fault-injection suite (the helpers live in suiterun.py and faultserver.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from suiterun import Run, run_suite


@pytest.fixture
def suite(tmp_path: Path):
    """Run ``recon-contracts run`` with the given options in a child process; returns the :class:`Run`."""

    def run(*args: str, pytest_args: tuple[str, ...] = ()) -> Run:
        return run_suite(tmp_path, *args, pytest_args=tuple(pytest_args))

    return run
