"""Fixtures of the fault-injection suite (the helpers live in suiterun.py and faultserver.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from suiterun import run_suite

from support.suiteproc import Finished


@pytest.fixture
def suite(tmp_path: Path):
    """Run ``recon-contracts run`` with the given options in a child process; returns how it ended."""

    def run(*args: str, pytest_args: tuple[str, ...] = ()) -> Finished:
        return run_suite(tmp_path, *args, pytest_args=tuple(pytest_args))

    return run
