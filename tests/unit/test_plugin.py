"""The suite's pytest plugin: option checks, one target only, and the verdict under pytest itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recon_contracts.mock import MockConfig, serve
from recon_contracts.truth.resources import project_root
from support.suiteproc import Finished, argv_of_pytest, run

ROOT = project_root()
TIMEOUT = 180


def pytest_run(*args: str, tmp_path: Path) -> Finished:
    return run(argv_of_pytest("tests/contract", "-p", "no:xdist", "-rs", "-q", "--report-dir", str(tmp_path / "reports"),
                              "--examples", "2", *args), cwd=ROOT, timeout=TIMEOUT, merge_stderr=False)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--period", "yesterday"], "--period must be current or previous"),
        (["--currency", "US"], "--currency must be a three-letter code"),
        (["--max-requests", "0"], "--max-requests must be greater than 0"),
        (["--pc-base-url", "api.partnercenter.microsoft.com"], "--pc-base-url must be an http(s) URL"),
        (["--graph-base-url", "https://graph.microsoft.com"], "must end with the API version"),
        (["--mock-profile", "no-such-profile"], "unknown profile 'no-such-profile'"),
        (["--request-timeout", "0"], "--request-timeout must be greater than 0"),
        (["--request-timeout", "inf"], "--request-timeout expects a finite number"),
        (["--max-response-bytes", "lots"], "--max-response-bytes expects a number"),
    ],
)
def test_bad_option_is_a_usage_error(tmp_path, args, message):
    result = pytest_run(*args, tmp_path=tmp_path)
    assert result.returncode == 4, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_only_partner_center_given_skips_graph_with_a_reason(tmp_path):
    with serve(MockConfig(items=6, retry_after=0)) as server:
        result = pytest_run("--pc-base-url", server.pc_base_url, "--pc-token", "a-token-for-the-mock",
                            tmp_path=tmp_path)
    out = result.stdout
    assert result.returncode == 0, out[-3000:]
    assert "graph tests skipped: only --pc-base-url was given" in out
    assert " passed" in out and "failed" not in out
    # the reports say what the run did not prove: every Graph rule skipped, with the reason
    rules = json.loads((tmp_path / "reports" / "summary.json").read_text(encoding="utf-8"))["rules"]
    graph_rules = [r for r in rules if r["id"].startswith("GR-")]
    assert graph_rules and all(r["status"] == "skipped" for r in graph_rules)
    assert all("only --pc-base-url was given" in r["reason"] or "only one API targeted" in r["reason"] for r in graph_rules)
    assert {r["status"] for r in rules if r["id"].startswith("PC-")} == {"passed"}


def test_live_target_without_any_token_ends_with_one_message(tmp_path):
    with serve(MockConfig(items=6, retry_after=0)) as server:
        result = pytest_run("--graph-base-url", server.graph_base_url, tmp_path=tmp_path)
    assert result.returncode == 4, result.stdout[-2000:]
    assert "no graph token" in result.stdout + result.stderr
    assert "--graph-token" in result.stdout + result.stderr


def test_max_requests_caps_traffic_and_skips_the_rest(tmp_path):
    result = pytest_run("--max-requests", "40", tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "request budget exhausted: --max-requests 40 reached" in result.stdout
    summary = (tmp_path / "reports" / "summary.json").read_text(encoding="utf-8")
    assert '"requests_sent": 40' in summary
    skipped = [r for r in json.loads(summary)["rules"] if r["status"] == "skipped"]
    assert skipped and any("request budget exhausted" in r["reason"] for r in skipped)


def test_strict_drift_is_the_suites_option_and_pytests_strict_is_left_alone(tmp_path):
    result = pytest_run("--strict-drift", "-k", "auth", tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:]
    assert json.loads((tmp_path / "reports" / "summary.json").read_text(encoding="utf-8"))["strict"] is True
    plain = pytest_run("-k", "auth", tmp_path=tmp_path)
    assert json.loads((tmp_path / "reports" / "summary.json").read_text(encoding="utf-8"))["strict"] is False
    assert plain.returncode == 0


def test_pyargs_names_the_suite_in_a_checkout_too(tmp_path):
    """`pytest --pyargs recon_contracts.suite` is the wheel's spelling; in a checkout it finds tests/contract."""
    result = run(argv_of_pytest("--pyargs", "recon_contracts.suite.test_auth", "-p", "no:xdist", "-q",
                                "-p", "no:cacheprovider", "--report-dir", str(tmp_path / "reports")),
                 cwd=tmp_path, timeout=TIMEOUT, merge_stderr=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    summary = json.loads((tmp_path / "reports" / "summary.json").read_text(encoding="utf-8"))
    assert {r["id"]: r["status"] for r in summary["rules"]}["PC-AUTH-401"] == "passed"


def test_contract_records_unproven_rules_without_failing():
    from recon_contracts.plugin.recording import Contract, Recorder

    contract = Contract("tests/contract/test_graph_export.py::test_operation_lifecycle[existing]", strict=True)
    contract.unproven("the export was still running after --poll-timeout 3 s", rules=["GR-BLOB-URL"])
    contract.unproven("the Location is on another host")  # default: every rule the test enforces
    assert contract.check([]) == []  # unproven is not a violation
    recorder = Recorder()
    recorder.mark_unproven(contract.unproven_marks)
    assert recorder.unproven[0]["rules"] == ["GR-BLOB-URL"]
    assert "GR-OP-ODATA-TYPE" in recorder.unproven[1]["rules"] and "GR-AUTH-401" not in recorder.unproven[1]["rules"]


def test_unproven_is_a_skip_but_budget_exhaustion_is_not_unproven():
    from recon_contracts.traffic.client import BudgetExhausted, Inconclusive, StillThrottled, Unproven

    assert issubclass(StillThrottled, Unproven) and issubclass(Unproven, Inconclusive)
    assert not issubclass(BudgetExhausted, Unproven), "--max-requests is the user's choice: a pass stays a pass"


def test_the_plugin_stays_quiet_in_another_projects_tests(tmp_path):
    """Installed, the plugin loads in every pytest session of the environment: elsewhere it adds nothing."""
    project = tmp_path / "other"
    project.mkdir()
    (project / "test_other.py").write_text(
        "from hypothesis import given, settings, strategies as st\n"
        "def test_plain():\n    assert 1 + 1 == 2\n"
        "@given(st.integers())\ndef test_property(n):\n"
        "    assert settings.default.max_examples == 100  # Hypothesis' own default, not the suite's profile\n",
        encoding="utf-8")
    result = run(argv_of_pytest("-p", "no:cacheprovider"), cwd=project, timeout=TIMEOUT, merge_stderr=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "recon-contracts:" not in result.stdout  # no header line (pytest lists the plugin, as it lists every plugin)
    assert sorted(p.name for p in project.iterdir() if p.name != "__pycache__" and not p.name.startswith(".")) == ["test_other.py"]
