"""The plugin's shape: one entry point wiring declarations, target set-up and outcome mapping, with the run's state
in one object per pytest config and no module global.

That the three parts import none of each other is an import-linter contract (pyproject.toml, test_layers.py).
"""

from __future__ import annotations

import importlib
import inspect
import tomllib
import types
from pathlib import Path

import pytest

from recon_contracts import run_cost
from recon_contracts.findings import finding
from recon_contracts.options import resolve_settings
from recon_contracts.plugin.recording import Recorder
from recon_contracts.plugin.state import RunState
from recon_contracts.traffic.client import RequestBudget
from recon_contracts.truth.resources import project_root

PLUGIN = Path(importlib.import_module("recon_contracts.plugin").__file__).parent
HOOKS = ("pytest_addoption", "pytest_load_initial_conftests", "pytest_configure", "pytest_report_header",
         "pytest_collection_modifyitems", "pytest_runtest_makereport", "pytest_sessionfinish")
FIXTURES = ("target", "pc", "graph", "contract")


def test_the_entry_point_module_exposes_every_hook_and_fixture():
    entry = tomllib.loads((project_root() / "pyproject.toml").read_text(encoding="utf-8"))["project"]["entry-points"]["pytest11"]
    assert entry == {"recon-contracts": "recon_contracts.plugin.hooks"}
    hooks = importlib.import_module(entry["recon-contracts"])
    assert all(callable(getattr(hooks, name, None)) for name in HOOKS)
    for name in FIXTURES:  # pytest finds a fixture by its marker, wherever the function was defined
        value = getattr(hooks, name)
        assert type(value).__name__ == "FixtureFunctionDefinition" or hasattr(value, "_pytestfixturefunction"), name
    assert {m.split(".")[-1] for m in ("declarations", "target", "outcomes", "state")} <= {p.stem for p in PLUGIN.glob("*.py")}


def mutable_globals(module: types.ModuleType) -> list[str]:
    """Module-level values of ``module`` that a run could change: state that belongs in the RunState object."""
    immutable = (str, int, float, bool, bytes, tuple, frozenset, type(None), type, types.FunctionType, types.ModuleType,
                 pytest.StashKey)
    out = []
    for name, value in vars(module).items():
        if name.startswith("__") or inspect.isclass(value) or callable(value):
            continue
        if getattr(value, "__module__", module.__name__) != module.__name__ and not isinstance(value, (dict, list, set)):
            continue  # an imported object (a logger, a redactor), not this module's state
        if not isinstance(value, immutable):
            out.append(f"{module.__name__}.{name}")
    return out


def test_no_plugin_module_keeps_run_state_in_a_global():
    modules = [importlib.import_module(f"recon_contracts.plugin.{p.stem}") for p in PLUGIN.glob("*.py") if p.stem != "__init__"]
    assert [m for module in modules for m in mutable_globals(module)] == []


def test_a_global_holding_run_state_is_caught():
    module = types.ModuleType("recon_contracts.plugin.fake")
    module.RECORDERS = {}  # type: ignore[attr-defined]
    module.LIMIT = 3  # type: ignore[attr-defined]
    assert mutable_globals(module) == ["recon_contracts.plugin.fake.RECORDERS"]


def _state(tmp_path: Path) -> RunState:
    s = resolve_settings(lambda dest: str(tmp_path / "r") if dest == "report_dir" else None)
    return RunState(settings=s, recorder=Recorder(budget=RequestBudget(10)), traffic_dir=tmp_path / "parts",
                    cost=run_cost.RunCost())


class _Report:
    def __init__(self, rule: str) -> None:
        self.nodeid, self.when, self.outcome, self.skipped = "tests/contract/test_x.py::test_y", "call", "failed", False
        self.recon_suite_test = "tests/contract/test_x.py::test_y"
        self.recon_findings = [finding(rule, "drift", None, api="partner-center", operation="GET x").to_dict()]


def test_each_run_keeps_its_own_state(tmp_path):
    one, two = _state(tmp_path / "a"), _state(tmp_path / "b")
    one.pytest_runtest_logreport(_Report("PC-RESPONSE-SCHEMA"))  # type: ignore[arg-type]
    assert [f.rule for f in one.recorder.all()] == ["PC-RESPONSE-SCHEMA"] and two.recorder.all() == []
    assert one.traffic() is one.traffic() and one.traffic() is not two.traffic()
    one.traffic().close()
    two.traffic().close()


def test_the_run_state_is_a_plugin_pluggy_can_hold_in_a_set():
    """pytest keeps registered plugins in sets (e.g. for a nested conftest's hook subset): the state hashes by identity."""
    from recon_contracts.plugin.state import RunState

    fields = {name: None for name in RunState.__dataclass_fields__}
    a, b = RunState(**fields), RunState(**fields)  # type: ignore[arg-type]
    assert len({a, b}) == 2 and a != b
