"""End to end: ``recon-contracts run`` in a subprocess writes the reports, gates on drift, keeps secrets.

Each test runs the contract suite once, small (--examples 3, a dozen line items), against the
embedded mock or one started here.
"""

from __future__ import annotations

import json
import re
import sys
import threading
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from recon_contracts.mock import PROFILES, MockConfig, serve
from support import suiteproc
from support.suiteproc import Finished

SMALL = ["--examples", "3", "--mock-items", "12", "--seed", "7"]
PC_TOKEN = "pc-token-Zq8vN3wXk2LmP9rT4yB6cD1eF7gH0jKs"
GRAPH_TOKEN = "graph-token-Rt5uW2qXe8YzA4bC6dE1fG3hJ7kL9mN0"
TIMEOUT = 180  # seconds; a run takes a few


def run(*args: str, cwd: Path) -> Finished:
    return suiteproc.run([sys.executable, "-m", "recon_contracts.cli", "run", *args], cwd=cwd, timeout=TIMEOUT,
                         merge_stderr=False)


def summary(report_dir: Path) -> dict:
    return json.loads((report_dir / "summary.json").read_text(encoding="utf-8"))


class _Page(HTMLParser):
    VOID = {"meta", "br", "hr", "img", "input", "link"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.verdict: str | None = None
        self.findings: list[tuple[str, str]] = []  # (rule, severity)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id") == "verdict":
            self.verdict = a.get("data-verdict")
        if "finding" in (a.get("class") or "").split():
            self.findings.append((a.get("data-rule", ""), a.get("data-severity", "")))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if not self.stack or self.stack.pop() != tag:
            self.problems.append(f"</{tag}> out of place")


def check_html(report_dir: Path, data: dict) -> None:
    page = _Page()
    page.feed((report_dir / "report.html").read_text(encoding="utf-8"))
    page.close()
    assert not page.problems and not page.stack, (page.problems, page.stack)
    assert page.verdict == data["verdict"]
    assert page.findings == [(f["rule"], f["severity"]) for f in data["findings"]]


def verdict_line(stdout: str) -> str:
    lines = [line for line in stdout.splitlines() if line.startswith("verdict: ")]
    assert len(lines) == 1, stdout[-2000:]
    return lines[0]


def test_conforming_mock_passes_and_writes_all_reports(tmp_path):
    reports = tmp_path / "reports"
    proc = run("--report-dir", str(reports), *SMALL, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert {p.name for p in reports.iterdir()} >= {"junit.xml", "summary.json", "report.html"}
    data = summary(reports)
    assert data["verdict"] == "pass"
    assert data["targets"]["mock_profile"] == "conforming"
    assert data["targets"]["partner-center"].startswith("http://127.0.0.1:")
    assert data["seed"] == 7 and data["requests_sent"] > 0 and data["tests"]["passed"] > 0
    assert data["counts"]["breaking"] == 0
    # every blob downloaded is counted, whichever path read it (the pool, or one after another beside a parity join)
    cost = data["cost"]
    assert cost["blobs"] == cost["requests_by_endpoint"]["GET {rootDirectory}/{blob-name}?{sasToken}"] > 0, cost
    assert cost["rows"] > 0 and cost["bytes"] > 0
    check_html(reports, data)
    assert verdict_line(proc.stdout) == (
        f"verdict: pass — 0 breaking, {data['counts']['additive']} additive, {data['counts']['advisory']} advisory"
        f" — reports in {reports}"
    )
    assert "<testsuite" in (reports / "junit.xml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "profile, marker", [("pc-charge-type-leak", "partner_center"), ("gr-blob-not-gzip", "graph")]
)
def test_drift_profile_fails_with_a_finding_for_its_rule(tmp_path, profile, marker):
    reports = tmp_path / "out"
    # only the drifted API's tests (pytest arguments after --), to keep the run short
    proc = run("--report-dir", str(reports), "--mock-profile", profile, *SMALL, "--", "-m", marker, cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout[-4000:] + proc.stderr[-2000:]
    data = summary(reports)
    assert data["verdict"] == "fail"
    (rule_id,) = PROFILES[profile].breaks
    caught = [f for f in data["findings"] if f["rule"] == rule_id]
    assert caught, [f["rule"] for f in data["findings"]]
    for f in caught:
        assert f["severity"] == "breaking" and f["message"] and f["test"].startswith("tests/contract/")
        assert f["curl"].startswith("curl ") or f["url"]
    assert data["tests"]["passed"] + data["tests"]["failed"] > 0
    check_html(reports, data)
    assert verdict_line(proc.stdout).startswith(f"verdict: fail — {data['counts']['breaking']} breaking")


@pytest.mark.parametrize(
    "profile, marker, unproven",
    [
        # a target answering 503 forever: throttling past the retry policy is not drift, and not a pass either
        ("pc-unavailable-forever", "partner_center", "PC-RESPONSE-SCHEMA"),
        # an export still running at --poll-timeout: slow is not broken, the data rules stay unproven
        ("gr-never-finishes", "graph", "GR-BLOB-URL"),
    ],
)
def test_target_that_keeps_checks_from_being_made_is_inconclusive_exit_2(tmp_path, profile, marker, unproven):
    reports = tmp_path / "out"
    proc = run("--report-dir", str(reports), "--mock-profile", profile, "--poll-timeout", "3", *SMALL,
               "--", "-m", marker, cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout[-4000:] + proc.stderr[-2000:]
    data = summary(reports)
    assert data["verdict"] == "inconclusive" and data["exit_status"] == 2
    assert data["counts"]["breaking"] == 0, "slow or unavailable is not broken"
    assert unproven in data["unproven_rules"] and data["unproven"] and all(u["reason"] for u in data["unproven"])
    assert "unproven because of the target" in data["verdict_reason"]
    check_html(reports, data)
    line = verdict_line(proc.stdout)
    assert line.startswith("verdict: inconclusive — 0 breaking") and " unproven (" in line


def test_a_skip_the_user_asked_for_keeps_a_pass(tmp_path):
    """One API targeted, or --max-requests: the skipped tests are the user's choice, not the target's."""
    reports = tmp_path / "out"
    proc = run("--report-dir", str(reports), "--max-requests", "30", *SMALL, "--", "-m", "partner_center", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    data = summary(reports)
    assert data["verdict"] == "pass" and data["unproven"] == [] and data["tests"]["skipped"] > 0


def test_tokens_and_sas_signatures_never_reach_reports_or_output(tmp_path):
    reports = tmp_path / "reports"
    with serve(MockConfig(profile="gr-blob-not-gzip", items=12, poll_count=1, retry_after=0)) as mock:
        proc = run(
            "--pc-base-url", mock.pc_base_url, "--graph-base-url", mock.graph_base_url,
            "--pc-token", PC_TOKEN, "--graph-token", GRAPH_TOKEN,
            "--report-dir", str(reports), "--examples", "3", "--seed", "7", "--poll-timeout", "30",
            cwd=tmp_path,
        )
    assert proc.returncode == 1, proc.stdout[-4000:] + proc.stderr[-2000:]
    data = summary(reports)
    assert data["findings"] and any(f["curl"] for f in data["findings"])
    texts = {"stdout": proc.stdout, "stderr": proc.stderr}
    texts.update({p.name: p.read_text(encoding="utf-8", errors="replace") for p in reports.rglob("*") if p.is_file()})
    sas_seen = False
    for name, text in texts.items():
        for token in (PC_TOKEN, GRAPH_TOKEN):
            for part in (token, token[len(token) // 2 :]):
                assert part not in text, f"token leaked into {name}"
        for value in re.findall(r"(?i)\bsig(?:=|%3D)([^&\s\"'<>]*)", text):
            sas_seen = True
            assert value.startswith("[REDACTED]"), f"SAS signature leaked into {name}: sig={value[:8]}..."
    assert sas_seen, "no SAS URL reached any report: the blob findings were not exercised"
    check_html(reports, data)


def test_bad_option_is_one_line_and_exit_4(tmp_path):
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    for args in (["--currency", "12"], ["--examples", "zero"], ["--no-such-option"], ["--mock-profile", "nope"],
                 ["--report-dir", str(not_a_dir / "reports")]):
        proc = run("--report-dir", str(tmp_path / "r"), *args, cwd=tmp_path)
        assert proc.returncode == 4, (args, proc.stdout, proc.stderr)
        errors = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
        assert len(errors) == 1, (args, errors)
        assert args[0] in errors[0]
        assert "Traceback" not in proc.stderr


def test_help_lists_the_suite_options(tmp_path):
    proc = run("--help", cwd=tmp_path)
    assert proc.returncode == 0
    for option in ("--pc-base-url", "--graph-token", "--report-dir", "--strict", "--mock-profile", "--mock-items"):
        assert option in proc.stdout


def test_unreachable_target_is_one_clear_message_and_exit_2(tmp_path):
    reports = tmp_path / "reports"
    proc = run("--pc-base-url", "http://127.0.0.1:9", "--pc-token", PC_TOKEN, "--report-dir", str(reports), cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout[-3000:]
    out = proc.stdout + proc.stderr
    assert "unreachable" in out and "127.0.0.1:9" in out
    assert "FAILED" not in out and "Traceback" not in out
    assert PC_TOKEN not in out
    assert summary(reports)["verdict"] == "inconclusive"
    assert verdict_line(proc.stdout).startswith("verdict: inconclusive")


class _HtmlHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        body = b"<html><body><h1>Welcome to nginx!</h1></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *args: object) -> None:
        pass


def test_target_answering_garbage_is_one_clear_message(tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HtmlHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        proc = run("--pc-base-url", url, "--pc-token", PC_TOKEN, "--report-dir", str(tmp_path / "r"), cwd=tmp_path)
    finally:
        server.shutdown()
        server.server_close()
    assert proc.returncode == 2, proc.stdout[-3000:]
    out = proc.stdout + proc.stderr
    assert "does not answer like the partner-center API" in out and "text/html" in out
    assert "FAILED" not in out and "Traceback" not in out


def test_pytest_command_line(tmp_path):
    from recon_contracts.commands.run import _parser, pytest_args

    parsed, unknown = _parser().parse_known_args(["--currency", "eur", "--strict", "--seed=3", "--pc-token=-x-y-z-"])
    assert unknown == []
    args = pytest_args(tmp_path / "tests" / "contract", tmp_path, parsed, ["-k", "paging"])
    assert args[:5] == [str(tmp_path / "tests" / "contract"), "--rootdir", str(tmp_path), "-p", "no:cacheprovider"]
    assert "--currency=eur" in args and "--seed=3" in args and "--pc-token=-x-y-z-" in args
    # the CLI's --strict is the plugin's --strict-drift (pytest owns --strict)
    assert "--strict-drift" in args and "--strict" not in args
    assert not any(a.startswith("--graph-base-url") for a in args)  # options not given are left to env and defaults
    assert args[-2:] == ["-k", "paging"]
    assert "-c" in args  # tmp_path is no checkout: the user's directory's pytest configuration is not read
    parsed, _ = _parser().parse_known_args(["--strict-drift"])
    assert "--strict-drift" in pytest_args(tmp_path, tmp_path, parsed, [])
