"""One verdict for every command, and the exit code it maps to (our contract with CI).

    pass          0   every check that ran held, nothing was kept from being checked
    fail          1   a breaking violation (additive drift too under --strict); what is proven broken is broken
    inconclusive  2   the run could not complete, or the target kept required checks from being made
    bad input     4   the command line, the environment or an input file was not usable; nothing was judged
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

from .findings import Finding, breaking


class Verdict(Enum):
    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"
    BAD_INPUT = "bad input"

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self]

    @classmethod
    def of_exit_code(cls, code: int) -> Verdict:
        """The verdict a process's exit code stands for (an unknown code is a failure, never a pass)."""
        return next((v for v, c in EXIT_CODES.items() if c == code), cls.FAIL)

    @classmethod
    def decide(cls, findings: Iterable[Finding], *, strict: bool, unproven: bool = False,
               incomplete: bool = False, errored: bool = False) -> Verdict:
        """A breaking finding wins over everything; then a run kept from completing or from proving its
        rules is inconclusive; then a test that errored without a finding fails; else the run passes.
        Advisory findings never count, not even under --strict."""
        if breaking(list(findings), strict=strict):
            return cls.FAIL
        if incomplete or unproven:
            return cls.INCONCLUSIVE
        return cls.FAIL if errored else cls.PASS


EXIT_CODES = {Verdict.PASS: 0, Verdict.FAIL: 1, Verdict.INCONCLUSIVE: 2, Verdict.BAD_INPUT: 4}
EXIT_OK, EXIT_FAIL, EXIT_INCONCLUSIVE, EXIT_USAGE = 0, 1, 2, 4
