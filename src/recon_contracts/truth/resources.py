"""Where the specs and the rule catalog live: the single source of truth for every check."""

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
