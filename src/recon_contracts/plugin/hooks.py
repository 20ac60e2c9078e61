"""The pytest side of the contract suite: targets, clients, the contract fixture and the verdict.

Registered through the package's ``pytest11`` entry point, so it loads wherever recon-contracts is
installed; it stays quiet in sessions that do not run the suite. Contract tests ask for the ``target``, ``pc``,
``graph`` and ``contract`` fixtures; they drive traffic, hand exchanges to pure check functions and
pass the findings to ``contract.check()``, which records them for the reports and fails the test on a
breaking one.
"""

from __future__ import annotations

import importlib.util
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.utils.conventions import not_set

from ..traffic.auth import GRAPH_SCOPE, PARTNER_CENTER_SCOPE, AuthError, ClientCredentialsToken, StaticToken, TokenProvider
from ..traffic.client import (ApiClient, BudgetExhausted, OffOriginLink, RequestBudget, RetryPolicy,
                              TargetError)
from ..errors import UsageError
from ..findings import Finding, breaking
from ..options import OPTIONS, Option, Settings, dest, resolve_settings
from .outcomes import apply as apply_outcome
from .recording import Contract, ContractViolation, Recorder
from .traffic import RunTraffic, new_parts_dir, worker_name
from ..redact import REDACTOR
from .. import run_cost
from ..truth.resources import suite_dir, suite_test_id

__all__ = ["OPTIONS", "Option", "Settings", "Contract", "ContractViolation", "Recorder", "MOCK_TOKEN"]

MOCK_TOKEN = "recon-contracts-mock-token"


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


RECORDER = pytest.StashKey[Recorder]()
SETTINGS = pytest.StashKey[Settings]()
ITEM_CONTRACT = pytest.StashKey[Contract]()
TRAFFIC_DIR = pytest.StashKey[Path]()
TRAFFIC = pytest.StashKey[RunTraffic]()



@dataclass
class Target:
    """Where the suite points, and what it asks for."""

    settings: Settings
    pc_base_url: str | None
    graph_base_url: str | None
    mock: Any = None  # the embedded mock server, when one was started

    @property
    def invoice_id(self) -> str:
        return self.settings.invoice_id

    @property
    def currency(self) -> str:
        return self.settings.currency

    @property
    def period(self) -> str:
        return self.settings.period

    @property
    def poll_timeout(self) -> float:
        return self.settings.poll_timeout

    @property
    def page_budget(self) -> int | None:
        return self.settings.page_budget


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "partner_center: needs a Partner Center target")
    config.addinivalue_line("markers", "graph: needs a Graph target")
    try:
        settings_ = resolve_settings(config.getoption)
    except UsageError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[SETTINGS] = settings_
    recorder = Recorder(budget=RequestBudget(settings_.max_requests))
    run_cost.reset(settings_.max_exports)
    config.stash[RECORDER] = recorder
    config.pluginmanager.register(RunState(recorder), f"recon-contracts-run-{id(config)}")
    workerinput = getattr(config, "workerinput", {})
    config.stash[TRAFFIC_DIR] = Path(workerinput.get("recon_traffic_dir") or new_parts_dir(settings_.report_dir))
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_XdistHooks(recorder, config.stash[TRAFFIC_DIR]), "recon-contracts-xdist")
    for token in (settings_.pc_token, settings_.graph_token):
        REDACTOR.add(token)
    settings.register_profile(
        "recon-contracts",
        max_examples=settings_.examples,
        deadline=None,
        derandomize=False,  # every test gets the printed seed instead (see pytest_collection_modifyitems)
        database=None if settings_.derandomized or _seed_given(config) else not_set,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        print_blob=True,
    )
    if not _runs_contract_suite(config):
        return  # another project's tests in the same environment: their Hypothesis settings stay theirs
    settings.load_profile("recon-contracts")
    from .. import progress  # status of long waits (exports, walks, rows); -q keeps it quiet

    progress.configure(progress.terminal_stream(), quiet=config.getoption("verbose", 0) < 0)
    if not hasattr(config, "workerinput"):
        _check_run_settings(config, settings_)
        if not getattr(config.option, "xmlpath", None):
            config.option.xmlpath = str(settings_.report_dir / "junit.xml")


SUITE_MODULE = "recon_contracts.suite"


def _runs_contract_suite(config: pytest.Config) -> bool:
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


def _check_run_settings(config: pytest.Config, s: Settings) -> None:
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


def _seed_given(config: pytest.Config) -> bool:
    return config.getoption("recon_seed") is not None or bool(os.environ.get("RECON_SEED"))


def pytest_report_header(config: pytest.Config) -> list[str]:
    if not _runs_contract_suite(config):
        return []  # another project's tests: nothing to say
    s = config.stash[SETTINGS]
    where = f"embedded mock ({s.mock_profile})" if s.embedded else f"pc={s.pc_base_url or '-'} graph={s.graph_base_url or '-'}"
    fixed = "fixed under CI, " if s.derandomized else ""
    seeding = f"hypothesis seed={s.seed} ({fixed}repeat with --seed {s.seed})"
    return [f"recon-contracts: target {where}; {seeding}; examples={s.examples}"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    seed = config.stash[SETTINGS].seed
    for item in items:
        if _suite_test(item) is None:
            continue  # not a contract test: left as it is
        function = getattr(item, "obj", None)
        inner = getattr(function, "hypothesis", None)
        if inner is not None:
            # the same as @hypothesis.seed(seed): one printed seed repeats the whole run
            function._hypothesis_internal_use_seed = seed


def _token(explicit: str | None, scope: str, api: str, base_url: str) -> TokenProvider:
    if explicit:
        return StaticToken(explicit)
    if ClientCredentialsToken.configured():
        return ClientCredentialsToken(scope)
    flag = "--pc-token" if api == "partner-center" else "--graph-token"
    raise AuthError(f"no {api} token for {base_url}: pass {flag} or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET")


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    """The target of the run: the given base URLs, or the embedded mock started for the session."""
    config = request.config
    s = config.stash[SETTINGS]
    recorder = config.stash[RECORDER]
    if s.embedded:
        from ..mock import PROFILES, MockConfig, serve

        if s.mock_profile not in PROFILES:
            pytest.exit(f"--mock-profile: unknown profile {s.mock_profile!r}; see recon-contracts mock --list-profiles", returncode=4)
        mock = serve(MockConfig(profile=s.mock_profile, items=s.mock_items, retry_after=s.mock_retry_after, poll_count=2))
        try:
            server = mock.__enter__()
        except (OSError, RuntimeError, TimeoutError) as exc:
            pytest.exit(f"recon-contracts: the embedded mock did not start: {exc}", returncode=2)
        try:
            recorder.targets.update({"partner-center": server.pc_base_url, "graph": server.graph_base_url, "mock_profile": s.mock_profile})
            yield Target(s, server.pc_base_url, server.graph_base_url, mock=server)
        finally:
            mock.__exit__(None, None, None)
        return
    recorder.targets.update({"partner-center": s.pc_base_url, "graph": s.graph_base_url})
    yield Target(s, s.pc_base_url, s.graph_base_url)


def _client(request: pytest.FixtureRequest, target: Target, api: str) -> Iterator[ApiClient]:
    s = target.settings
    base = target.pc_base_url if api == "partner-center" else target.graph_base_url
    if not base:
        given = "--graph-base-url" if api == "partner-center" else "--pc-base-url"
        missing = "--pc-base-url" if api == "partner-center" else "--graph-base-url"
        pytest.skip(f"{api} tests skipped: only {given} was given (pass {missing} to test {api} too)")
    try:
        if target.mock is not None:
            token: TokenProvider = StaticToken(MOCK_TOKEN)
        elif api == "partner-center":
            token = _token(s.pc_token, PARTNER_CENTER_SCOPE, api, base)
        else:
            token = _token(s.graph_token, GRAPH_SCOPE, api, base)
    except AuthError as exc:
        pytest.exit(f"recon-contracts: {exc}", returncode=4)
    client = ApiClient(api=api, base_url=base, token=token, budget=request.config.stash[RECORDER].budget, retry=RetryPolicy(),
                       timeout=s.request_timeout, max_response_bytes=s.max_response_bytes)
    client.observers.append(_traffic(request.config).record)
    client.observers.append(run_cost.current().observe)
    try:
        _preflight(client, target)
        yield client
    finally:
        client.close()


def _traffic(config: pytest.Config) -> RunTraffic:
    """This process's recording of the run's traffic (traffic.har, observed.json), started on first use."""
    if TRAFFIC not in config.stash:
        s = config.stash[SETTINGS]
        config.stash[TRAFFIC] = RunTraffic(config.stash[TRAFFIC_DIR], worker_name(), body_limit=s.har_body_limit)
    return config.stash[TRAFFIC]


def _preflight(client: ApiClient, target: Target) -> None:
    """One request before any test: an unreachable target or one that answers garbage ends the run."""
    if client.api == "partner-center":
        path = "/v1/invoices/unbilled/lineitems"
        params = {"provider": "onetime", "invoicelineitemtype": "billinglineitems",
                  "currencycode": target.currency, "period": target.period, "size": 1}
    else:
        path, params = "/reports/partners/billing/operations/recon-contracts-preflight", None
    try:
        exchange = client.request("GET", path, operation=f"preflight {client.api}", params=params)
    except TargetError as exc:
        pytest.exit(f"recon-contracts: {exc}", returncode=2)
    except AuthError as exc:  # the identity platform refused the client credentials
        pytest.exit(f"recon-contracts: {exc}", returncode=2)
    except BudgetExhausted as exc:  # --max-requests spent before the first test: nothing can be checked
        pytest.exit(f"recon-contracts: {exc}", returncode=2)
    # Unproven (throttled or unavailable past the retry policy) propagates: every test of this API is
    # skipped as unproven, the other API's tests still run, and the run ends inconclusive.
    if 300 <= exchange.status < 400:
        where = exchange.header("location")
        to = f" to {REDACTOR(where.split('?', 1)[0])[:200]}" if where else ""
        pytest.exit(
            f"recon-contracts: {client.api} target {client.base_url} answered GET {path} with a redirect "
            f"({exchange.status}{to}); redirects are never followed (credentials stay on the origin the run was "
            "pointed at): point the base URL at the API itself", returncode=2)
    if exchange.status in (401, 403) and target.mock is None:
        pytest.exit(
            f"recon-contracts: {client.api} target {client.base_url} refused our credentials "
            f"({exchange.status}); check the token or the app's permissions", returncode=2)
    try:
        exchange.json()
    except ValueError as exc:  # not JSON, not UTF-8, or nested too deep to read
        ctype = exchange.header("content-type") or "no Content-Type"
        pytest.exit(
            f"recon-contracts: {client.api} target {client.base_url} does not answer like the {client.api} API: "
            f"GET {path} gave {exchange.status} with {ctype}, not JSON ({REDACTOR(str(exc))[:160]}): "
            f"{REDACTOR(exchange.summary(160))!r}",
            returncode=2,
        )


@pytest.fixture(scope="session")
def pc(request: pytest.FixtureRequest, target: Target) -> Iterator[ApiClient]:
    """Client of the Partner Center target (skips when none is configured)."""
    yield from _client(request, target, "partner-center")


@pytest.fixture(scope="session")
def graph(request: pytest.FixtureRequest, target: Target) -> Iterator[ApiClient]:
    """Client of the Graph target (skips when none is configured)."""
    yield from _client(request, target, "graph")


@pytest.fixture
def contract(request: pytest.FixtureRequest) -> Contract:
    """Records a test's findings and fails it on a breaking one."""
    config = request.config
    contract = Contract(request.node.nodeid, config.stash[SETTINGS].strict)
    request.node.stash[ITEM_CONTRACT] = contract
    return contract


def _suite_test(item: pytest.Item) -> str | None:
    """The catalog's ID of a contract test (``tests/contract/test_x.py::test_y``), None for other tests."""
    name = getattr(item, "originalname", None) or item.name.split("[", 1)[0]
    parent = item.parent
    if isinstance(parent, pytest.Class):
        name = f"{parent.name}::{name}"
    return suite_test_id(item.path, name)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    # pytest's unittest support turns a unittest.SkipTest (our Inconclusive) into its own Skipped exception
    # while the report is made: keep the original to tell an unproven check from a skip the user asked for
    excinfo = call.excinfo
    outcome = yield
    report = outcome.get_result()
    suite_test = _suite_test(item)
    if suite_test is not None:
        report.recon_suite_test = suite_test  # plain data: crosses pytest-xdist with the report
    contract = item.stash.get(ITEM_CONTRACT, None)
    if contract is not None and call.when == "call":
        # plain data, so that it crosses pytest-xdist with the report; redacted here, where the secrets
        # this process obtained (tokens from azure-identity, SAS signatures) are known
        from ..reporting.summary import redact_tree

        report.recon_findings = [redact_tree(f.to_dict()) for f in contract.latest()]
        report.recon_observations = [list(o) for o in contract.observations]
        if contract.unproven_marks:
            report.recon_unproven = [redact_tree(m) for m in contract.unproven_marks]
    if excinfo is not None and isinstance(excinfo.value, OffOriginLink):
        # not drift in itself, but worth knowing: the link is reported, and the check it blocked is unproven
        from ..checks.registry import LINK_OFF_ORIGIN, run
        from ..reporting.summary import redact_tree

        raised = excinfo.value
        report.recon_findings = getattr(report, "recon_findings", []) + [
            redact_tree(f.to_dict()) for f in run(LINK_OFF_ORIGIN, raised.url, api=raised.api, operation=raised.operation,
                                                  origin=raised.origin)]
    if excinfo is None:
        return
    apply_outcome(item, report, excinfo.value)


class RunState:
    """The run's state, held by one plugin object registered per pytest config (no module global).

    It takes each test's report (findings, observations, unproven marks, outcomes) into the run's Recorder.
    """

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        recorder = self.recorder
        suite_test = getattr(report, "recon_suite_test", None)
        if suite_test:
            recorder.outcome(suite_test, report.nodeid, report.when, report.outcome, _skip_reason(report) if report.skipped else "")
        recorder.mark_unproven(getattr(report, "recon_unproven", None) or [])
        findings = getattr(report, "recon_findings", None)
        if findings is None:
            return
        recorder.contract_tests += 1
        recorder.add(Finding(**f) for f in findings)
        recorder.observe((str(p), str(a)) for p, a in getattr(report, "recon_observations", []))


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    text = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr or "")
    return REDACTOR(text.removeprefix("Skipped: ").strip())


class _XdistHooks:
    """Request counts and targets from xdist workers (registered only when xdist is present)."""

    def __init__(self, recorder: Recorder, traffic_dir: Path) -> None:
        self.recorder = recorder
        self.traffic_dir = traffic_dir

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput["recon_traffic_dir"] = str(self.traffic_dir)  # workers write their parts there

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        data = getattr(node, "workeroutput", {}).get("recon_contracts")
        if data:
            self.recorder.worker_requests += int(data.get("requests_sent", 0))
            run_cost.current().add(data.get("cost") or {})
            for key, value in data.get("targets", {}).items():
                self.recorder.targets.setdefault(key, value)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if RECORDER not in config.stash:
        return
    s = config.stash[SETTINGS]
    recorder = config.stash[RECORDER]
    if TRAFFIC in config.stash:
        config.stash[TRAFFIC].close()
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand counts to the controller, which writes the reports
        workeroutput["recon_contracts"] = {"requests_sent": recorder.budget.sent, "targets": dict(recorder.targets),
                                           "cost": run_cost.current().to_dict()}
        return
    if not recorder.contract_tests and not recorder.unproven and not _runs_contract_suite(config):
        return
    from ..reporting.finish import finish_reports, merge_traffic
    from ..reporting.summary import RunResult, verdict_of

    reporter = config.pluginmanager.get_plugin("terminalreporter")
    counts = {k: len(reporter.stats.get(k, [])) for k in ("passed", "failed", "skipped", "error")} if reporter else {}
    outcome = merge_traffic(config.stash[TRAFFIC_DIR], s.report_dir, recorder.observations,
                            baseline=s.baseline, update=s.update_baseline)
    if reporter is not None and outcome.lines:
        reporter.write_sep("-", "recon-contracts baseline")
        for line in outcome.lines:
            reporter.write_line(REDACTOR(line))
    result = RunResult(
        findings=recorder.all() + outcome.findings,
        targets=dict(recorder.targets),
        seed=s.seed,
        derandomized=s.derandomized,
        requests_sent=recorder.requests_sent,
        strict=s.strict,
        exit_status=int(exitstatus),
        tests=counts,
        started=recorder.started,
        duration_s=time.time() - recorder.started,
        outcomes=recorder.outcomes(),
        docs_url=s.docs_url,
        apis=[api for api, base in (("partner-center", recorder.targets.get("partner-center")),
                                    ("graph", recorder.targets.get("graph"))) if base],
        unproven=list(recorder.unproven),
        observations={k: sorted(v) for k, v in recorder.observations.items()},
        baseline=s.baseline is not None and not s.update_baseline,
        cost=run_cost.current().to_dict(),
    )
    if verdict_of(result) == "inconclusive" and int(exitstatus) == 0:
        # required checks were skipped for the target's behaviour: not a pass (exit 2)
        session.exitstatus = 2
        result.exit_status = 2
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            rules = sorted({r for m in recorder.unproven for r in m["rules"]})  # type: ignore[attr-defined]
            reporter.write_line(f"recon-contracts: inconclusive, unproven rules: {', '.join(rules) or '(see reasons)'}",
                                yellow=True, bold=True)
            reasons = list(dict.fromkeys(str(m.get("reason", "")) for m in recorder.unproven if m.get("reason")))
            for reason in reasons[:5]:  # why, in the target's own words: one line each
                reporter.write_line(f"  because {REDACTOR(reason)[:400]}", yellow=True)
            if len(reasons) > 5:
                reporter.write_line(f"  ... and {len(reasons) - 5} more reason(s) in summary.json", yellow=True)
    finish_reports(s.report_dir, result, printer=None)  # `recon-contracts run` announces the verdict after pytest's own lines
    if session.exitstatus == 0 and breaking(outcome.findings, strict=s.strict):
        session.exitstatus = 1  # a baseline difference that fails the gate
