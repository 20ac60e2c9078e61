"""Every exception of recon-contracts, in one place. The tree, and what each branch means for a run:

    Exception
    ├── UsageError                    bad input on the command line or in the environment: exit 4
    ├── ValueError
    │   ├── HarError                  a file that is not a readable HAR (bad input: exit 4)
    │   ├── BaselineError             a baseline that cannot be used (bad input: exit 4)
    │   ├── RegisterError             contracts/silent-points.yaml contradicts its schema or itself
    │   └── BlobFormatError           the blob's bytes are not gzip JSON Lines: evidence (GR-BLOB-GZIP-JSONL)
    ├── RuntimeError
    │   ├── AuthError                 no token could be obtained (the message never holds the secret)
    │   └── BlobUnreadable            a blob not read to its end for a reason that is no evidence of drift
    ├── AssertionError
    │   └── ContractViolation         a contract test saw a breaking finding: the test fails (exit 1)
    └── unittest.SkipTest
        └── Inconclusive              a check could not be carried out, for a reason that is not drift
            ├── BudgetExhausted       --max-requests reached: the user asked for it, a pass stays a pass
            └── Unproven              the target kept a check from being made: the run is inconclusive (exit 2)
                ├── TargetError       unreachable, broken connection, timed out or sent too much
                │   ├── ResponseTooLarge
                │   └── RefusedBlobUrl    a blob URL the runner will not fetch (scheme, or an internal address)
                ├── StillThrottled    429/503 beyond the retry policy
                └── OffOriginLink     a link to another origin, not followed with the run's credentials

Why ``SkipTest`` is the base of "could not check": Hypothesis re-raises a ``SkipTest`` at once instead of
shrinking a "failure" that is only a spent budget or a busy target, and pytest (or any unittest runner) then
reports a skip, never a failure. A skip alone would pass, so the plugin's outcome table
(``plugin/outcomes.py``) turns an ``Unproven`` skip into an unproven mark that makes the verdict
inconclusive. Because ``TargetError`` is an ``Unproven``, it is always handled as one: the table checks
that no entry sits below a broader one that would shadow it.
"""

from __future__ import annotations

import unittest

from .redact import REDACTOR


class UsageError(Exception):
    """Bad input: an unknown option, a value out of range, a file that is not there. Every command exits 4."""


# ------------------------------------------------------------------ bad files


class HarError(ValueError):
    """A file that is not a readable HAR; the message names the file and what is wrong."""


class BaselineError(ValueError):
    """A baseline file that cannot be used; the message says why."""


class RegisterError(ValueError):
    """The register does not match its schema, or contradicts itself."""


class BlobFormatError(ValueError):
    """The blob's bytes are not gzip JSON Lines (the contract's business: GR-BLOB-GZIP-JSONL)."""

    def __init__(self, message: str, *, line: int = 0) -> None:
        super().__init__(message)
        self.line = line


# ------------------------------------------------------------------ the run's own trouble


class AuthError(RuntimeError):
    """A token could not be obtained; the message says why, without the secret."""


class BlobUnreadable(RuntimeError):
    """The blob could not be read to its end for a reason that is no evidence of drift (inconclusive)."""


class ContractViolation(AssertionError):
    """A test saw a breaking finding (or additive drift under --strict)."""


# ------------------------------------------------------------------ could not check (skips)


class Inconclusive(unittest.SkipTest):
    """A check could not be carried out for a reason that is not drift; the test is skipped.

    A SkipTest, so that Hypothesis re-raises it at once instead of shrinking a "failure" that is
    only a spent budget or a busy target, and any test runner reports a skip.
    """


class BudgetExhausted(Inconclusive):
    """--max-requests was reached; the remaining checks are skipped (the user asked for it: a pass stays a pass)."""


class Unproven(Inconclusive):
    """The target's behaviour kept a check from being made (throttled or unavailable past the retry policy,
    a refused link, an unreadable page, a broken connection): the rules of the check stay unproven and the
    run is inconclusive (exit 2), never a silent pass."""


class TargetError(Unproven):
    """The target could not be reached, broke the connection, timed out or sent too much; the message says which and where.

    Before the first test (the preflight) it ends the run (exit 2); in a test, the check is unproven.
    """


class ResponseTooLarge(TargetError):
    """A response body passed the byte cap; it was not read further."""


class RefusedBlobUrl(TargetError):
    """A URL on another origin (a blob the manifest lists) that the runner will not fetch: a scheme other than
    http(s), http under an https base, or a host resolving to a loopback, link-local or private address while the
    base is on none. Nothing was sent; what it leads to is unproven, and GR-BLOB-URL-SAFE reports it."""

    def __init__(self, message: str, *, url: str) -> None:
        self.url = REDACTOR(url.split("?", 1)[0])
        super().__init__(message)


class StillThrottled(Unproven):
    """The target kept answering 429/503 beyond the retry policy; throttling is not drift, but nothing was proven."""


class OffOriginLink(Unproven):
    """The target handed out a link to another origin; it was not followed with the run's credentials."""

    def __init__(self, *, api: str, operation: str, method: str, url: str, origin: str) -> None:
        self.api, self.operation, self.method, self.origin = api, operation, method, origin
        self.url = REDACTOR(url)
        super().__init__(
            f"{api} target: {operation} leads to another origin ({REDACTOR(url.split('?', 1)[0])}); the run's "
            f"credentials go only to {origin}, so it was not followed and this check is unproven"
        )
