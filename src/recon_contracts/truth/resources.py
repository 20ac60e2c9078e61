"""Where the specs, the rule catalog and the contract suite live.

A checkout (or an editable install) uses the repository's own folders; a wheel carries the same files:
``specs/`` and ``contracts/`` under ``recon_contracts/_data``, ``tests/contract`` as ``recon_contracts/suite``.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[1]  # the recon_contracts package


@cache
def project_root() -> Path:
    """The folder holding ``specs/`` and ``contracts/``.

    A checkout (or an editable install) uses the repository's own folders; a wheel carries copies
    under ``recon_contracts/_data``. ``RECON_CONTRACTS_HOME`` overrides both.
    """
    override = os.environ.get("RECON_CONTRACTS_HOME")
    candidates = [Path(override)] if override else []
    candidates += [_PACKAGE.parents[1], _PACKAGE / "_data"]
    for candidate in candidates:
        if (candidate / "specs").is_dir() and (candidate / "contracts").is_dir():
            return candidate
    raise FileNotFoundError("cannot find specs/ and contracts/; set RECON_CONTRACTS_HOME to the project folder")


def specs_dir() -> Path:
    return project_root() / "specs"


def contracts_dir() -> Path:
    return project_root() / "contracts"


def _checkout_suite() -> Path | None:
    override = os.environ.get("RECON_CONTRACTS_HOME")
    for root in ([Path(override)] if override else []) + [_PACKAGE.parents[1]]:
        suite = root / "tests" / "contract"
        if (suite / "conftest.py").is_file():
            return suite
    return None


@cache
def suite_dir() -> Path:
    """The contract suite: ``tests/contract`` of a checkout, else the copy the wheel carries (``recon_contracts.suite``)."""
    suite = _checkout_suite() or _PACKAGE / "suite"
    if not (suite / "conftest.py").is_file():
        raise FileNotFoundError(f"the contract suite is missing from this installation (no {suite}); reinstall recon-contracts")
    return suite


def suite_rootdir() -> Path:
    """The pytest rootdir for a run of the suite: the checkout (node ids ``tests/contract/...``) or the
    installed package (node ids ``suite/...``)."""
    suite = suite_dir()
    return suite.parents[1] if suite.parent.name == "tests" else suite.parent


def suite_test_id(path: str | Path, name: str) -> str | None:
    """A test's ID as the rule catalog writes it (``tests/contract/test_x.py::test_y``), wherever the suite runs from;
    None for a test outside the suite. ``name`` is the test's name without parameters."""
    try:
        relative = Path(path).resolve().relative_to(suite_dir().resolve())
    except ValueError:
        return None
    return f"tests/contract/{relative.as_posix()}::{name}"
