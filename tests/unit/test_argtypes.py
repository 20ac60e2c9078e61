"""The command lines' number types (argtypes.py): one copy for every command, each bad value refused with one line
and exit 4 whichever command reads it."""

from __future__ import annotations

import argparse

import pytest

from recon_contracts import argtypes
from recon_contracts.cli import main as cli_main


@pytest.mark.parametrize("kind, text, value", [
    (argtypes.non_negative_int, "0", 0), (argtypes.non_negative_int, "12", 12),
    (argtypes.positive_int, "1", 1), (argtypes.port, "0", 0), (argtypes.port, "65535", 65535),
    (argtypes.seconds, "0", 0.0), (argtypes.seconds, "2.5", 2.5), (argtypes.positive_seconds, "0.1", 0.1),
])
def test_good_values(kind, text, value):
    assert kind(text) == value


@pytest.mark.parametrize("kind, text, words", [
    (argtypes.non_negative_int, "x", "is not an integer"), (argtypes.non_negative_int, "-1", "0 or more"),
    (argtypes.non_negative_int, "1.5", "is not an integer"), (argtypes.positive_int, "0", "1 or more"),
    (argtypes.port, "65536", "TCP port"), (argtypes.port, "-1", "0 or more"),
    (argtypes.seconds, "soon", "number of seconds"), (argtypes.seconds, "-0.5", "0 or more seconds"),
    (argtypes.seconds, "nan", "0 or more seconds"), (argtypes.seconds, "inf", "0 or more seconds"),
    (argtypes.positive_seconds, "0", "more than 0 seconds"),
])
def test_bad_values_are_refused_in_words(kind, text, words):
    with pytest.raises(argparse.ArgumentTypeError, match=words):
        kind(text)


@pytest.mark.parametrize("argv", [
    ["parity", "--page-budget", "-1"],
    ["parity", "--poll-timeout", "nan"],
    ["parity", "--request-timeout", "0"],
    ["parity", "--mock-items", "many"],
    ["validate-export", "x", "--invoice-id", "G1", "--timeout", "-3"],
    ["validate-export", "x", "--invoice-id", "G1", "--max-blob-bytes", "0"],
    ["proxy", "--exit-after", "0", "--pc-upstream", "https://api.partnercenter.microsoft.com"],
    ["proxy", "--port", "70000", "--pc-upstream", "https://api.partnercenter.microsoft.com"],
    ["mock", "--port", "70000"],
    ["mock", "--blob-rows", "0"],
    ["mock", "--retry-after", "-1"],
])
def test_each_command_refuses_a_bad_number_with_one_line_and_exit_4(argv, capsys):
    with pytest.raises(SystemExit) as exited:
        code = cli_main(argv)
        raise SystemExit(code)
    err = capsys.readouterr().err.strip()
    assert exited.value.code == 4, err
    assert "Traceback" not in err and err.count("error:") == 1, err
