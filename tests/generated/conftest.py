"""The generated-server suite (see sample.py for the seed and the sample size).

The slow test (thousands of servers) runs with ``RECON_GENERATED_SLOW=1`` (or ``-m slow``); CI runs the small sample.
"""

from __future__ import annotations

import os

import pytest

import sample  # noqa: F401 - registers the "generated" Hypothesis settings profile


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("RECON_GENERATED_SLOW") == "1" or "slow" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="thousands of generated servers: RECON_GENERATED_SLOW=1 (bench/bench_generated.py)")
    for item in items:
        if "slow" in item.keywords and "tests/generated" in str(item.fspath).replace("\\", "/"):
            item.add_marker(skip)
