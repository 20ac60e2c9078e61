"""The pytest plugin of the contract suite (the package's ``pytest11`` entry point): it wires three parts together.

- :mod:`.declarations`: the suite's options and markers, the Hypothesis profile and seed, ``--pyargs`` in a checkout;
- :mod:`.target`: the ``target``, ``pc`` and ``graph`` fixtures (the embedded mock or the given base URLs, tokens,
  the preflight request);
- :mod:`.outcomes`: the ``contract`` fixture and how each test's end becomes its report;

and keeps the run's state in one :class:`~.state.RunState` object per pytest config (no module global), which ends
the session through :func:`recon_contracts.reporting.finish.finish_reports`. It loads wherever recon-contracts is
installed and stays quiet in sessions that do not run the suite. Contract tests drive traffic, hand exchanges to
the checks the registry (:mod:`recon_contracts.checks.registry`) holds for each case and pass the findings to
``contract.check()``, which records them for the reports and fails the test on a breaking one.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

from .. import run_cost
from ..errors import UsageError
from ..options import OPTIONS, Option, Settings, resolve_settings
from ..redact import REDACTOR
from ..traffic.client import RequestBudget
from .declarations import (
    PROFILE,
    SUITE_MODULE,
    declare,
    pytest_addoption,
    pytest_load_initial_conftests,
    runs_contract_suite,
    seed_contract_tests,
)
from .outcomes import contract, pytest_runtest_makereport
from .recording import Contract, ContractViolation, Recorder
from .state import STATE, RunState, run_state
from .target import MOCK_TOKEN, Target, graph, pc, target
from .traffic import new_parts_dir

__all__ = [
    "OPTIONS", "Option", "Settings", "Contract", "ContractViolation", "Recorder", "MOCK_TOKEN", "RunState", "Target",
    "run_state", "SUITE_MODULE",
    # what pytest finds here: hooks and fixtures
    "pytest_addoption", "pytest_load_initial_conftests", "pytest_configure", "pytest_report_header",
    "pytest_collection_modifyitems", "pytest_runtest_makereport", "pytest_sessionfinish", "target", "pc", "graph",
    "contract",
]


def pytest_configure(config: pytest.Config) -> None:
    try:
        s = resolve_settings(config.getoption)
    except UsageError as exc:
        raise pytest.UsageError(str(exc)) from None
    workerinput = getattr(config, "workerinput", {})
    state = RunState(
        settings=s,
        recorder=Recorder(budget=RequestBudget(s.max_requests)),
        traffic_dir=Path(workerinput.get("recon_traffic_dir") or new_parts_dir(s.report_dir)),
        cost=run_cost.reset(s.max_exports),
    )
    config.stash[STATE] = state
    config.pluginmanager.register(state, f"recon-contracts-run-{id(config)}")
    for token in (s.pc_token, s.graph_token):
        REDACTOR.add(token)
    declare(config, s)
    if not runs_contract_suite(config):
        return  # another project's tests in the same environment: their Hypothesis settings stay theirs
    settings.load_profile(PROFILE)
    from .. import progress  # status of long waits (exports, walks, rows); -q keeps it quiet

    progress.configure(progress.terminal_stream(), quiet=config.getoption("verbose", 0) < 0)
    if not hasattr(config, "workerinput"):
        _check_run_settings(s)
        if not getattr(config.option, "xmlpath", None):
            config.option.xmlpath = str(s.report_dir / "junit.xml")


def _check_run_settings(s: Settings) -> None:
    """Options that only matter to a contract run, checked before anything starts."""
    try:
        s.report_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise pytest.UsageError(f"--report-dir {str(s.report_dir)!r} cannot be created: {exc.strerror or exc}") from None
    if s.update_baseline and s.baseline is None:
        raise pytest.UsageError("--update-baseline needs --baseline FILE (the file to write)")
    if s.baseline is not None and not s.update_baseline:
        from ..observed import BaselineError, load

        try:
            load(s.baseline)
        except BaselineError as exc:
            raise pytest.UsageError(f"--baseline: {exc}") from None
    if s.embedded:
        from ..mock import PROFILES

        if s.mock_profile not in PROFILES:
            raise pytest.UsageError(
                f"--mock-profile: unknown profile {s.mock_profile!r}; choose one of: {', '.join(PROFILES)}"
            )


def pytest_report_header(config: pytest.Config) -> list[str]:
    if not runs_contract_suite(config):
        return []  # another project's tests: nothing to say
    s = run_state(config).settings
    where = f"embedded mock ({s.mock_profile})" if s.embedded else f"pc={s.pc_base_url or '-'} graph={s.graph_base_url or '-'}"
    fixed = "fixed under CI, " if s.derandomized else ""
    seeding = f"hypothesis seed={s.seed} ({fixed}repeat with --seed {s.seed})"
    return [f"recon-contracts: target {where}; {seeding}; examples={s.examples}"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    seed_contract_tests(items, run_state(config).settings.seed)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if STATE in config.stash:
        run_state(config).finish(session, exitstatus, contract_run=runs_contract_suite(config))
