"""What every command shares: one usage parser, one bad-input exit (4), one ``finish()`` for reports and the verdict.

Exit codes, for every command (``verdict.py``): 0 pass, 1 fail, 2 inconclusive, 4 bad input.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from ..errors import UsageError
from ..verdict import EXIT_USAGE, Verdict


class UsageParser(argparse.ArgumentParser):
    """argparse that raises ``UsageError`` on bad input instead of printing its usage and exiting 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def usage_error(prog: str, message: str, code: int = EXIT_USAGE) -> int:
    """One line on stderr, ``prog: error: message``; the exit code (4: bad input, unless told otherwise)."""
    print(f"{prog}: error: {message}", file=sys.stderr)
    return code


def bad_input_is_4(prog: str, main: Callable[[list[str]], int], argv: list[str]) -> int:
    """Run a ``main`` whose own parser exits 2 on a bad option (argparse's habit): such an exit becomes 4."""
    try:
        return int(main(argv))
    except UsageError as exc:
        return usage_error(prog, f"{exc} (see {prog} --help)")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if code == 2:  # argparse printed the one line saying what was wrong
            return EXIT_USAGE
        return code


def finish(report_dir: str | Path, result: Any) -> tuple[Verdict, dict[str, Any]]:
    """Write every report of ``result`` into ``report_dir`` and print the verdict line; the verdict and summary.

    The reports are written by :func:`recon_contracts.reporting.finish.finish_reports`, the function the pytest
    plugin ends a contract run with. Raises ``UsageError`` when ``report_dir`` cannot be written (bad input: exit 4).
    """
    from ..reporting.finish import finish_reports

    try:
        finished = finish_reports(report_dir, result)
    except OSError as exc:
        raise UsageError(f"--report-dir {str(report_dir)!r}: {exc.strerror or exc}") from None
    return finished.verdict, finished.summary
