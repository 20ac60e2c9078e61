"""The run's state: one plugin object per pytest config, no module global.

:class:`RunState` holds the resolved settings, the Recorder of findings, this process's traffic recording and what
the run cost; it takes each test's report into the Recorder, gathers what pytest-xdist workers send back, and at
the end of the session hands everything to :func:`recon_contracts.reporting.finish.finish_reports`, the function
every command ends with.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .. import run_cost
from ..findings import Finding, breaking
from ..options import Settings
from ..redact import REDACTOR
from .recording import Recorder
from .traffic import RunTraffic, worker_name

STATE = pytest.StashKey["RunState"]()


def run_state(config: pytest.Config) -> RunState:
    """The state of the run ``config`` belongs to."""
    return config.stash[STATE]


@dataclass(eq=False)  # registered as a pytest plugin: pluggy keeps plugins in sets, by identity
class RunState:
    """Everything one run holds between its hooks."""

    settings: Settings
    recorder: Recorder
    traffic_dir: Path  # where every process writes its traffic parts (the controller's folder under xdist)
    cost: run_cost.RunCost
    _traffic: RunTraffic | None = field(default=None, repr=False)

    def traffic(self) -> RunTraffic:
        """This process's recording of the run's traffic (traffic.har, observed.json), started on first use."""
        if self._traffic is None:
            self._traffic = RunTraffic(self.traffic_dir, worker_name(), body_limit=self.settings.har_body_limit)
        return self._traffic

    # ------------------------------------------------------------ each test's report

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

    # ------------------------------------------------------------ pytest-xdist (optional hooks: no xdist, never called)

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput["recon_traffic_dir"] = str(self.traffic_dir)  # workers write their parts there

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        data = getattr(node, "workeroutput", {}).get("recon_contracts")
        if data:
            self.recorder.worker_requests += int(data.get("requests_sent", 0))
            self.cost.add(data.get("cost") or {})
            for key, value in data.get("targets", {}).items():
                self.recorder.targets.setdefault(key, value)

    # ------------------------------------------------------------ the end of the session

    def finish(self, session: pytest.Session, exitstatus: int, *, contract_run: bool) -> None:
        """Merge the traffic, write every report (an xdist worker hands its counts to the controller instead)."""
        config = session.config
        s, recorder = self.settings, self.recorder
        if self._traffic is not None:
            self._traffic.close()
        workeroutput = getattr(config, "workeroutput", None)
        if workeroutput is not None:  # an xdist worker: hand counts to the controller, which writes the reports
            workeroutput["recon_contracts"] = {"requests_sent": recorder.budget.sent, "targets": dict(recorder.targets),
                                               "cost": self.cost.to_dict()}
            return
        if not recorder.contract_tests and not recorder.unproven and not contract_run:
            return
        from ..reporting.finish import finish_reports, merge_traffic
        from ..reporting.summary import RunResult, verdict_of

        reporter = config.pluginmanager.get_plugin("terminalreporter")
        counts = {k: len(reporter.stats.get(k, [])) for k in ("passed", "failed", "skipped", "error")} if reporter else {}
        outcome = merge_traffic(self.traffic_dir, s.report_dir, recorder.observations, baseline=s.baseline,
                                update=s.update_baseline)
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
            cost=self.cost.to_dict(),
        )
        if verdict_of(result) == "inconclusive" and int(exitstatus) == 0:
            # required checks were skipped for the target's behaviour: not a pass (exit 2)
            session.exitstatus = 2
            result.exit_status = 2
            if reporter is not None:
                rules = sorted({r for m in recorder.unproven for r in m["rules"]})
                reporter.write_line(f"recon-contracts: inconclusive, unproven rules: {', '.join(rules) or '(see reasons)'}",
                                    yellow=True, bold=True)
                reasons = list(dict.fromkeys(str(m.get("reason", "")) for m in recorder.unproven if m.get("reason")))
                for reason in reasons[:5]:  # why, in the target's own words: one line each
                    reporter.write_line(f"  because {REDACTOR(reason)[:400]}", yellow=True)
                if len(reasons) > 5:
                    reporter.write_line(f"  ... and {len(reasons) - 5} more reason(s) in summary.json", yellow=True)
        # `recon-contracts run` announces the verdict after pytest's own lines
        finish_reports(s.report_dir, result, printer=None)
        if session.exitstatus == 0 and breaking(outcome.findings, strict=s.strict):
            session.exitstatus = 1  # a baseline difference that fails the gate


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    text = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr or "")
    return REDACTOR(text.removeprefix("Skipped: ").strip())
