"""The package's layers (pyproject.toml [tool.importlinter]) hold, and the plugin's outcome table has no dead entry."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from recon_contracts.truth.resources import project_root


def _lint_imports() -> list[str]:
    found = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail("lint-imports is not installed: pip install -e '.[dev]'")
    return [found]


def test_the_layer_contracts_are_kept():
    done = subprocess.run([*_lint_imports(), "--no-cache"], cwd=project_root(), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, f"lint-imports found an import against the layers:\n{done.stdout}{done.stderr}"
    assert "0 broken" in done.stdout


def test_no_entry_of_the_outcome_table_is_shadowed():
    from recon_contracts.errors import TargetError, Unproven
    from recon_contracts.plugin.outcomes import OUTCOMES, shadowed

    assert shadowed() == []
    # the old mapping listed TargetError after Unproven, where it could never be reached: the check sees that
    assert shadowed(((Unproven, None), (TargetError, None))) == ["TargetError (after Unproven)"]
    assert all(isinstance(kind, type) for kind, _ in OUTCOMES)


def test_every_exception_is_drawn_in_the_errors_docstring():
    import recon_contracts.errors as errors

    classes = [name for name, value in vars(errors).items()
               if isinstance(value, type) and issubclass(value, BaseException) and value.__module__ == errors.__name__]
    assert len(classes) >= 14
    missing = [name for name in classes if name not in (errors.__doc__ or "")]
    assert missing == [], f"errors.py's tree does not draw {missing}"


def test_the_protocol_and_the_checks_are_type_checked_strictly():
    """mypy (in CI) checks the protocol and the checks under strict rules; dropping either from its list fails here."""
    import tomllib

    config = tomllib.loads((project_root() / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert config.get("strict") is True
    assert {"src/recon_contracts/protocol", "src/recon_contracts/checks"} <= set(config["files"])
    assert not any(o.get("ignore_errors") for o in config.get("overrides", [])
                   if any(str(m).startswith(("recon_contracts.checks", "recon_contracts.protocol")) for m in o.get("module", [])))
