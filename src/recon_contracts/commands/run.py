"""``recon-contracts run``: the contract suite through pytest, then one line with the verdict.

The suite's options are passed to pytest as they are (the pytest plugin validates them and owns
their meaning); anything after ``--`` goes to pytest untouched. The exit code is the suite's:
0 pass, 1 a breaking violation (additive drift too under --strict), 2 inconclusive (the run could not
complete, or checks were left unproven by the target's behaviour), 4 a bad option.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import textwrap
import time
from pathlib import Path

from ..options import OPTIONS, Option
from ..reporting.files import SUMMARY_FILE
from ..reporting.finish import announce
from ..verdict import EXIT_FAIL, EXIT_OK, EXIT_USAGE, Verdict
from ..verdict import EXIT_INCONCLUSIVE as EXIT_NOT_RUN
from ..errors import UsageError as _UsageError
from .base import UsageParser as _Parser

USAGE = "usage: recon-contracts run [OPTIONS] [-- PYTEST-ARGS...]"


def _metavar(opt: Option) -> str:
    if opt.name == "--baseline":
        return "FILE"
    if opt.name.endswith("-url"):
        return "URL"
    if opt.kind is int:
        return "N"
    if opt.kind is float:
        return "SECONDS"
    return opt.name.lstrip("-").rsplit("-", 1)[-1].upper()


def _dest(opt: Option) -> str:
    return opt.name.lstrip("-").replace("-", "_")


def _parser() -> _Parser:
    parser = _Parser(prog="recon-contracts run", add_help=False, allow_abbrev=False)
    for opt in OPTIONS:
        names = dict.fromkeys([opt.cli_name, opt.name])  # the CLI's spelling, and pytest's where it differs
        if opt.flag:
            parser.add_argument(*names, dest=_dest(opt), action="store_true", default=None)
        else:
            parser.add_argument(*names, dest=_dest(opt), metavar=_metavar(opt), default=None)
    parser.add_argument("--plan", action="store_true", default=False)
    parser.add_argument("-h", "--help", action="store_true", default=False)
    return parser


def help_text() -> str:
    rows = []
    for opt in OPTIONS:
        left = opt.cli_name if opt.flag else f"{opt.cli_name} {_metavar(opt)}"
        extra = []
        if opt.default not in (None, False):
            extra.append(f"default {opt.default}")
        if opt.env:
            extra.append(f"env {opt.env}")
        right = opt.help + (f" ({'; '.join(extra)})" if extra else "")
        wrapped = textwrap.wrap(right, 70) or [""]
        rows.append(f"  {left:<24}{wrapped[0]}" if len(left) < 24 else f"  {left}\n  {'':<24}{wrapped[0]}")
        rows += [f"  {'':<24}{line}" for line in wrapped[1:]]
    return "\n".join(
        [
            USAGE,
            "",
            "Run the contract suite (shipped in the package) with pytest and write junit.xml, summary.json",
            "and report.html into --report-dir. Without --pc-base-url and --graph-base-url an embedded mock",
            "is started. Arguments after -- go to pytest unchanged (e.g. -- -k paging -x). Works in any",
            "directory; the same suite runs under pytest as `pytest --pyargs recon_contracts.suite`",
            "(there --strict is spelled --strict-drift).",
            "",
            "options:",
            *rows,
            f"  {'--plan':<24}print the requests and export jobs the run would make against the given",
            f"  {'':<24}targets, and send them nothing (rehearsed against the embedded mock)",
            f"  {'-h, --help':<24}show this help and exit",
            "",
            "exit status: 0 pass; 1 breaking violation (additive drift too under --strict);",
            "             2 inconclusive: the run could not complete, or checks were left unproven by the",
            "               target (throttled or 503 past the retry policy, refused links, an export still",
            "               running at --poll-timeout); the verdict line names the unproven rules;",
            "             4 bad option.",
        ]
    )


def _error(message: str, code: int = EXIT_USAGE) -> int:
    print(f"recon-contracts run: error: {message}", file=sys.stderr)
    return code


def pytest_args(suite: Path, root: Path, parsed: argparse.Namespace, extra: list[str]) -> list[str]:
    """The pytest command line for the suite options given (only those given: env vars still apply).

    Options are passed with pytest's spelling (``--strict`` becomes ``--strict-drift``). Outside a checkout
    the suite runs from the installed package, and the configuration files of the directory the user
    happens to be in (a pytest.ini, a pyproject.toml) are not read: ``-c`` points at none.
    """
    # This process imported the plugin (for its options) before pytest could rewrite its asserts;
    # pytest's warning about it says nothing about the target.
    # -r fEs: failures, errors and the reason of every skip (an inconclusive check says why it could not run)
    args = [str(suite), "--rootdir", str(root), "-p", "no:cacheprovider", "-W", "ignore::pytest.PytestAssertRewriteWarning",
            "-r", "fEs"]
    if not (root / "pyproject.toml").is_file():  # the installed package: no project configuration to read
        args += ["-c", os.devnull, "--confcutdir", str(suite)]
    for opt in OPTIONS:
        value = getattr(parsed, _dest(opt))
        if value is None:
            continue
        args.append(opt.name if opt.flag else f"{opt.name}={value}")
    return args + extra


def _rehearsal(parsed: argparse.Namespace) -> argparse.Namespace:
    """The options of a --plan rehearsal: the same run, against the embedded conforming mock, reports elsewhere."""
    rehearsal = argparse.Namespace(**vars(parsed))
    for name in ("pc_base_url", "graph_base_url", "pc_token", "graph_token", "baseline", "update_baseline", "docs_url"):
        setattr(rehearsal, name, None)
    rehearsal.mock_profile = "conforming"
    return rehearsal


def _report_dir(parsed: argparse.Namespace) -> str:
    return parsed.report_dir or os.environ.get("RECON_REPORT_DIR") or "reports"


def _read_summary(report_dir: str, since: float) -> dict | None:
    path = Path(report_dir) / SUMMARY_FILE
    try:
        if path.stat().st_mtime < since:
            return None  # an older run's report
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def main(argv: list[str]) -> int:
    argv = list(argv)
    own, extra = (argv[: argv.index("--")], argv[argv.index("--") + 1 :]) if "--" in argv else (argv, [])
    try:
        parsed, unknown = _parser().parse_known_args(own)
    except _UsageError as exc:
        return _error(f"{exc} (see recon-contracts run --help)")
    if parsed.help:
        print(help_text())
        return EXIT_OK
    if unknown:
        return _error(
            f"unrecognized argument {unknown[0]!r}; suite options are listed by --help, pytest options go after --"
        )

    from ..truth.resources import project_root, suite_dir, suite_rootdir

    try:
        project_root()  # specs and catalog
        suite, root = suite_dir(), suite_rootdir()
    except FileNotFoundError as exc:
        return _error(str(exc), EXIT_NOT_RUN)

    if parsed.mock_profile and not (parsed.pc_base_url or parsed.graph_base_url):
        from ..mock.profiles import PROFILES

        if parsed.mock_profile not in PROFILES:
            return _error(f"--mock-profile: unknown profile {parsed.mock_profile!r}; see recon-contracts mock --list-profiles")
    if parsed.plan:
        from .plan import plan

        return plan(parsed, pytest_args(suite, root, _rehearsal(parsed), extra))
    report_dir = _report_dir(parsed)
    try:
        Path(report_dir).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return _error(f"--report-dir {report_dir!r} cannot be created: {exc.strerror or exc}")

    import pytest

    started = time.time() - 1  # file times can be a little coarse
    code = int(pytest.main(pytest_args(suite, root, parsed, extra)))
    sys.stdout.flush()
    if code == 3:
        print("recon-contracts run: pytest reported an internal error (see above)", file=sys.stderr)
        code = EXIT_NOT_RUN
    elif code == 5:
        print("recon-contracts run: no contract tests were collected (check the arguments after --)", file=sys.stderr)
        code = EXIT_NOT_RUN
    elif code not in (EXIT_OK, EXIT_FAIL, EXIT_NOT_RUN, EXIT_USAGE):
        code = EXIT_NOT_RUN
    summary = _read_summary(report_dir, started)
    if summary is not None:
        announce(summary, report_dir, coverage=True)  # the reports were written by the plugin's finish_reports
        if code == EXIT_OK:  # the suite passed its tests: the verdict (an unproven rule, a baseline) has the last word
            verdicts = {v.value: v for v in Verdict}
            code = verdicts.get(str(summary.get("verdict")), Verdict.FAIL).exit_code
    elif code != EXIT_USAGE:
        verdict = Verdict.of_exit_code(code).value
        print(f"verdict: {verdict} — no report was written (exit status {code}) — reports in {report_dir}")
    return code
