"""reporting/finish.py: every report of a run is written from one place, and the verdict line printed from one place.

The pytest plugin ends a contract run with ``finish_reports``; ``commands.base.finish`` (check, validate-export,
proxy) goes through it too; ``recon-contracts run`` prints the line with ``announce``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from recon_contracts.commands import base
from recon_contracts.errors import UsageError
from recon_contracts.findings import finding
from recon_contracts.reporting import finish as finish_module
from recon_contracts.reporting.finish import announce, finish_reports
from recon_contracts.reporting.summary import RunResult
from recon_contracts.verdict import Verdict

SRC = Path(__file__).resolve().parents[2] / "src" / "recon_contracts"


def _result(*rules: str) -> RunResult:
    return RunResult(findings=[finding(r, "drift", None, api="partner-center", operation="GET x") for r in rules],
                     tests={"passed": 1, "failed": len(rules)}, docs_url="https://docs.example/reference/")


def test_finish_reports_writes_every_report_and_prints_one_verdict_line(tmp_path, capsys, monkeypatch):
    step = tmp_path / "step.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step))
    finished = finish_reports(tmp_path / "r", _result("PC-RESPONSE-SCHEMA"))
    assert finished.verdict is Verdict.FAIL and finished.summary["verdict"] == "fail"
    assert {p.name for p in finished.paths.values()} >= {"summary.json", "report.html", "report.sarif", "step.md"}
    assert all(p.exists() for p in finished.paths.values())
    assert json.loads((tmp_path / "r" / "report.sarif").read_text(encoding="utf-8"))["runs"]
    out = capsys.readouterr().out.splitlines()
    assert [line for line in out if line.startswith("verdict: ")] == [out[-1]] and out[-1].startswith("verdict: fail")


def test_finish_reports_can_leave_the_announcement_to_its_caller(tmp_path, capsys):
    finished = finish_reports(tmp_path, _result(), printer=None)
    assert finished.verdict is Verdict.PASS and capsys.readouterr().out == ""
    lines: list[str] = []
    announce(finished.summary, str(tmp_path), printer=lines.append, coverage=True)
    assert len(lines) == 2 and lines[0].startswith("verdict: pass")


def test_the_commands_finish_goes_through_finish_reports(tmp_path, monkeypatch):
    seen = []
    real = finish_module.finish_reports

    def spy(report_dir, result, **kwargs):
        seen.append(report_dir)
        return real(report_dir, result, **kwargs)

    monkeypatch.setattr(finish_module, "finish_reports", spy)
    verdict, summary = base.finish(tmp_path, _result())
    assert seen == [tmp_path] and verdict is Verdict.PASS and summary["verdict"] == "pass"


def test_an_unwritable_report_dir_is_bad_input(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(UsageError, match="--report-dir"):
        base.finish(blocker / "reports", _result())


def test_no_module_writes_reports_or_prints_the_verdict_line_but_the_finish():
    """write_reports and verdict_line are called from reporting/finish.py only (the plugin, the commands and
    `run` all go through it)."""
    callers = {}
    for path in SRC.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for name in ("write_reports", "verdict_line"):
            if re.search(rf"(?<!def ){name}\(", text):
                callers.setdefault(name, set()).add(path.relative_to(SRC).as_posix())
    assert callers == {"write_reports": {"reporting/finish.py"}, "verdict_line": {"reporting/finish.py"}}
    assert "finish_reports(" in (SRC / "plugin" / "hooks.py").read_text(encoding="utf-8") or any(
        "finish_reports(" in p.read_text(encoding="utf-8") for p in (SRC / "plugin").glob("*.py"))
