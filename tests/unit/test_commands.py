"""One command layer: every command exits 4 on a bad option, and one Verdict maps to the exit codes."""

from __future__ import annotations

import pytest

from recon_contracts.cli import COMMANDS, main
from recon_contracts.findings import Finding
from recon_contracts.verdict import Verdict


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_exits_4_on_a_bad_option(command, capsys):
    assert main([command, "--no-such-option"]) == 4
    err = capsys.readouterr().err.strip()
    assert "error" in err and "--no-such-option" in err, err


def test_the_dispatcher_exits_4_on_bad_input(capsys):
    assert main(["no-such-command"]) == 4
    assert "unknown command" in capsys.readouterr().err
    assert main([]) == 4  # no command named: the usage, and bad input
    assert main(["--help"]) == 0


@pytest.mark.parametrize("command", ["mock", "run", "check", "validate-export", "docs"])
def test_help_exits_0(command, capsys):
    assert main([command, "--help"]) == 0
    assert capsys.readouterr().out


def test_verdict_exit_codes():
    assert [v.exit_code for v in Verdict] == [0, 1, 2, 4]
    assert Verdict.of_exit_code(2) is Verdict.INCONCLUSIVE and Verdict.of_exit_code(99) is Verdict.FAIL


def _finding(severity: str) -> Finding:
    return Finding(rule="PC-RESPONSE-SCHEMA", severity=severity, api="partner-center", operation="GET /x", message="m")


def test_a_breaking_finding_wins_then_unproven_then_errors():
    broken = [_finding("breaking")]
    assert Verdict.decide(broken, strict=False, unproven=True, incomplete=True) is Verdict.FAIL
    assert Verdict.decide([], strict=False, unproven=True) is Verdict.INCONCLUSIVE
    assert Verdict.decide([], strict=False, incomplete=True, errored=True) is Verdict.INCONCLUSIVE
    assert Verdict.decide([], strict=False, errored=True) is Verdict.FAIL
    assert Verdict.decide([_finding("advisory")], strict=True) is Verdict.PASS
    assert Verdict.decide([], strict=False) is Verdict.PASS
