"""Secrets never leave memory: redaction by value (tokens, client secrets, SAS signatures).

Every string that goes into a report, a log line, a reproduction command or an assertion message
passes through :data:`REDACTOR`. Values are registered as soon as the run obtains them (static
tokens, tokens from azure-identity, the client secret, SAS tokens from manifests). Patterns catch
what was never registered: ``sig=`` in SAS URLs and ``Bearer`` credentials. Continuation tokens are
left readable: a reproduction needs them.
"""

from __future__ import annotations

import html
import json
import re
import threading
from urllib.parse import quote, unquote

MASK = "[REDACTED]"
_MIN_SECRET = 6
# A backslash never belongs to a secret here: it ends the match, so a JSON-escaped quote that
# follows a secret (``sig=...\"``) survives and serialized JSON stays valid after redaction.
_PATTERNS = (
    # SAS signatures, also inside a URL-encoded URL (sig%3D...) up to the next (encoded) '&'
    (re.compile(r"(?i)(\bsig=)(?!\[REDACTED\])[^&\s\"'<>\\]+"), r"\1" + MASK),
    (re.compile(r"(?i)((?:\b|(?<=%26)|(?<=%3F))sig%3D)(?!\[REDACTED\])(?:(?!%26)[^&\s\"'<>\\])+"), r"\1" + MASK),
    (re.compile(r"(?i)(\bbearer\s+)(?!\$\{)(?!\[REDACTED\])[A-Za-z0-9\-._~+/=]{8,}"), r"\1" + MASK),
    (re.compile(r"(?i)(\"?(?:client_secret|access_token|refresh_token)\"?\s*[:=]\s*\"?)(?!\[REDACTED\])[^\s\"&,}\\]+"), r"\1" + MASK),
)


def _forms(value: str) -> set[str]:
    """The spellings a secret can take in a URL, a JSON body or an HTML page."""
    encoded = {quote(value, safe=""), quote(value)}
    forms = {value, unquote(value), *encoded}
    forms |= {re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), e) for e in encoded}  # lower-case hex
    forms |= {json.dumps(value)[1:-1], value.replace("/", "\\/"), html.escape(value, quote=True)}
    return forms


class Redactor:
    """Replaces every registered secret value, in any of its encodings, with a mask."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()
        self._pattern: re.Pattern[str] | None = None

    def add(self, value: str | None) -> None:
        if not value or len(value) < _MIN_SECRET:
            return
        forms = _forms(value)
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
