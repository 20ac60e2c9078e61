"""What the plugin declares to pytest: the suite's options and markers, the Hypothesis profile, the seed of every
contract test, ``--pyargs recon_contracts.suite`` in a checkout, and which tests are the contract suite's.

Nothing here starts a target or judges an answer (``target.py`` and ``outcomes.py`` do); the options themselves
are the pytest-free table of :mod:`recon_contracts.options` that every command reads.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.utils.conventions import not_set

from ..options import OPTIONS, Settings, dest
from ..truth.resources import suite_dir
from .recording import suite_test

SUITE_MODULE = "recon_contracts.suite"
MARKERS = ("partner_center: needs a Partner Center target", "graph: needs a Graph target")
PROFILE = "recon-contracts"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("recon-contracts", "recon-contracts contract suite")
    for opt in OPTIONS:
        env = f" [env {opt.env}]" if opt.env else ""
        default = f" (default {opt.default})" if opt.default not in (None, False) else ""
        if opt.flag:
            group.addoption(opt.name, action="store_true", default=None, dest=dest(opt), help=opt.help + env)
        else:
            group.addoption(opt.name, action="store", default=None, dest=dest(opt), help=opt.help + default + env)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    """``pytest --pyargs recon_contracts.suite`` in a checkout too.

    The wheel carries ``tests/contract`` as the package ``recon_contracts.suite``; a checkout (an editable
    install) has no such package, only the folder it is built from. There the name, or a module of it,
    is read as that folder, so one command runs the one suite everywhere.
    """
    if "--pyargs" not in args or importlib.util.find_spec(SUITE_MODULE) is not None:
        return
    try:
        suite = suite_dir()
    except FileNotFoundError:
        return
    for i, arg in enumerate(args):
        name, sep, node = arg.partition("::")
        if name == SUITE_MODULE or name.startswith(SUITE_MODULE + "."):
            module = name[len(SUITE_MODULE) + 1 :]
            path = suite / (module.replace(".", "/") + ".py") if module else suite
            args[i] = str(path) + sep + node


def declare(config: pytest.Config, s: Settings) -> None:
    """The markers, and the Hypothesis profile of a contract run (loaded only when the session runs the suite)."""
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    settings.register_profile(
        PROFILE,
        max_examples=s.examples,
        deadline=None,
        derandomize=False,  # every test gets the printed seed instead (see pytest_collection_modifyitems)
        database=None if s.derandomized or _seed_given(config) else not_set,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        print_blob=True,
    )


def _seed_given(config: pytest.Config) -> bool:
    return config.getoption("recon_seed") is not None or bool(os.environ.get("RECON_SEED"))


def runs_contract_suite(config: pytest.Config) -> bool:
    """Whether the command line names the contract suite, or a file or node in it: ``tests/contract`` of a
    checkout, the installed copy by path, or ``--pyargs recon_contracts.suite[.test_x]``."""
    try:
        suites = {suite_dir().resolve()}
    except FileNotFoundError:
        suites = set()
    suites.add((Path(str(config.rootpath)) / "tests" / "contract").resolve())
    for arg in config.args:
        name = str(arg).split("::", 1)[0]
        if getattr(config.option, "pyargs", False) and (name == SUITE_MODULE or name.startswith(SUITE_MODULE + ".")):
            return True
        path = Path(name)
        path = (path if path.is_absolute() else Path(config.invocation_params.dir) / path).resolve()
        if any(path == suite or suite in path.parents for suite in suites):
            return True
    return False


def seed_contract_tests(items: list[pytest.Item], seed: int) -> None:
    """Every contract test that is a Hypothesis test gets the run's printed seed (one seed repeats the run)."""
    for item in items:
        if suite_test(item) is None:
            continue  # not a contract test: left as it is
        function = getattr(item, "obj", None)
        if getattr(function, "hypothesis", None) is not None:
            # the same as @hypothesis.seed(seed)
            function._hypothesis_internal_use_seed = seed  # type: ignore[union-attr]
