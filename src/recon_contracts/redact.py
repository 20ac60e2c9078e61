"""Secrets never leave memory: redaction by value (tokens, client secrets, SAS signatures).

Every string that goes into a report, a log line, a reproduction command or an assertion message
passes through :data:`REDACTOR`. Values are registered as soon as the run obtains them (static
tokens, tokens from azure-identity, the client secret, SAS tokens from manifests). Patterns catch
what was never registered: ``sig=`` in SAS URLs and ``Bearer`` credentials. Continuation tokens are
left readable: a reproduction needs them.
"""

from __future__ import annotations

import re
import threading
from urllib.parse import quote, unquote

MASK = "[REDACTED]"
_MIN_SECRET = 6
_PATTERNS = (
    (re.compile(r"(?i)(\bsig=)[^&\s\"'<>]+"), r"\1" + MASK),
    (re.compile(r"(?i)(\bbearer\s+)(?!\$\{)[A-Za-z0-9\-._~+/=]{8,}"), r"\1" + MASK),
    (re.compile(r"(?i)(\"?(?:client_secret|access_token|refresh_token)\"?\s*[:=]\s*\"?)[^\s\"&,}]+"), r"\1" + MASK),
)


class Redactor:
    """Replaces every registered secret value, in any of its encodings, with a mask."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()
        self._pattern: re.Pattern[str] | None = None

    def add(self, value: str | None) -> None:
        if not value or len(value) < _MIN_SECRET:
            return
        forms = {value, quote(value, safe=""), quote(value), unquote(value)}
        with self._lock:
            new = {f for f in forms if len(f) >= _MIN_SECRET} - self._values
            if new:
                self._values |= new
                self._pattern = None

    def add_sas(self, sas_token: str | None) -> None:
        """Register a SAS token's signature (the secret part; the rest stays readable)."""
        if not sas_token:
            return
        for part in sas_token.lstrip("?").split("&"):
            key, _, value = part.partition("=")
            if key.lower() == "sig":
                self.add(value)

    def __call__(self, text: str) -> str:
        if not text:
            return text
        pattern = self._compiled()
        if pattern is not None:
            text = pattern.sub(MASK, text)
        for regex, repl in _PATTERNS:
            text = regex.sub(repl, text)
        return text

    def _compiled(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._pattern is None and self._values:
                alternatives = sorted(self._values, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(v) for v in alternatives))
            return self._pattern

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._pattern = None


REDACTOR = Redactor()


def redact(text: str) -> str:
    return REDACTOR(text)
