"""Secrets never leave memory: redaction by value (tokens, client secrets, SAS signatures).

Every string that goes into a report, a log line, a reproduction command or an assertion message
passes through :data:`REDACTOR`. Values are registered as soon as the run obtains them (static
tokens, tokens from azure-identity, the client secret, SAS tokens from manifests). Patterns catch
what was never registered: ``sig=`` in SAS URLs and ``Bearer`` credentials. Continuation tokens are
left readable: a reproduction needs them.
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
import re
import threading
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import quote, unquote

MASK = "[REDACTED]"
_MEMO_TEXT = 512  # texts up to this length are remembered with what they became
_MEMO_SIZE = 8192
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


# what a text must hold (lower-cased) for a pattern of _PATTERNS to match: checked before the slower regexes
_TEXT_HINTS = ("sig=", "sig%3d", "bearer", "client_secret", "access_token", "refresh_token")
# where each pattern's match can start: at one of its hints (lower-cased), or up to ``lead`` characters before one
_STARTS: tuple[tuple[tuple[str, ...], int], ...] = (
    (("sig=",), 0),
    (("sig%3d",), 0),
    (("bearer",), 0),
    (("client_secret", "access_token", "refresh_token"), 1),  # an opening quote
)
# a hint that a pattern of _PATTERNS may match (checked before the slower regexes)
_HINT = re.compile(rb"(?i)sig=|sig%3d|bearer|client_secret|access_token|refresh_token")
_BYTE_ENCODINGS = ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
GZIP_MAGIC = b"\x1f\x8b"
MAX_INFLATE = 32 * 1024 * 1024  # a gzip body is inflated this far to look for secrets; past it, it is withheld


def _occurrences(text: str, word: str) -> Iterator[int]:
    at = text.find(word)
    while at != -1:
        yield at
        at = text.find(word, at + 1)


def _sub_at(regex: re.Pattern[str], repl: str, text: str, starts: Iterable[int]) -> str:
    """``regex.sub(repl, text)`` for a pattern whose matches can only start at ``starts``: tried there only."""
    out: list[str] = []
    last = 0
    for start in sorted(set(starts)):
        if start < last:
            continue
        match = regex.match(text, start)
        if match is None or match.end() == start:
            continue
        out += (text[last:start], match.expand(repl))
        last = match.end()
    if not out:
        return text
    out.append(text[last:])
    return "".join(out)


def mask_patterns(text: str) -> str:
    """Every pattern of ``_PATTERNS`` applied in turn, as ``re.sub`` would apply it.

    A case-insensitive regex pass costs about as much as reading the text character by character in Python's
    regex engine, four times over: on a run's HAR of hundreds of MiB that was seconds. Every match of a pattern
    starts at one of its hint words (``_STARTS``), which ``str.find`` finds at C speed in the lower-cased text;
    the pattern is tried there only (``match`` at a position sees the text before it, so look-behinds and ``\\b``
    hold as in a scan). Where lower-casing changes a text's length the positions would not line up: the plain
    ``re.sub`` passes run instead. tests/unit/test_redact.py holds both ways equal on generated texts.
    """
    lowered: str | None = None
    for (regex, repl), (hints, lead) in zip(_PATTERNS, _STARTS, strict=True):
        if lowered is None:
            lowered = text.lower()
        if len(lowered) != len(text):
            text = regex.sub(repl, text)
            continue
        starts = [max(0, at - back) for hint in hints for at in _occurrences(lowered, hint) for back in range(lead + 1)]
        if starts:
            masked = _sub_at(regex, repl, text, starts)
            if masked is not text:
                text, lowered = masked, None
    return text


def base64_cores(data: bytes) -> set[str]:
    """The base64 characters that ``data`` fixes wherever it sits in a longer base64 text (all 3 alignments).

    At offset k (0, 1, 2 bytes into a 3-byte group), only the characters whose 6 bits all come from
    ``data`` are the same whatever surrounds it; those are the part to look for (standard and URL alphabet).
    """
    cores: set[str] = set()
    for k in range(3):
        encoded = base64.b64encode(bytes(k) + data).decode("ascii")
        core = encoded[math.ceil(8 * k / 6): (8 * (k + len(data))) // 6]
        cores |= {core, core.replace("+", "-").replace("/", "_")}
    return cores


def _forms(value: str) -> set[str]:
    """The spellings a secret can take in a URL, a JSON body, an HTML page, a base64 text or a UTF-16 body read as text."""
    encoded = {quote(value, safe=""), quote(value)}
    forms = {value, unquote(value), *encoded}
    forms |= {re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), e) for e in encoded}  # lower-case hex
    forms |= {json.dumps(value)[1:-1], value.replace("/", "\\/"), html.escape(value, quote=True)}
    forms |= {quote(quote(value, safe=""), safe="")}  # encoded twice (a URL inside a URL)
    for plain in {value, unquote(value)}:
        raw = plain.encode("utf-8")
        forms |= base64_cores(raw)
        for wide in ("utf-16-le", "utf-16-be"):  # a UTF-16 body decoded byte-wise: NULs between the characters
            text = plain.encode(wide).decode("latin-1")
            forms |= {text, text.replace("\x00", "\\u0000")}
            forms |= base64_cores(plain.encode(wide))
    return forms


class Redactor:
    """Replaces every registered secret value, in any of its encodings, with a mask."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()
        self._forms: tuple[str, ...] | None = ()  # every form, longest first; None: to be sorted again
        self._byte_forms: tuple[list[tuple[tuple[bytes, ...], bytes]], tuple[bytes, ...]] | None = None
        self._plain: set[str] = set()  # the values as registered, and URL-decoded
        # short texts seen before (header values, URLs, names: a run repeats them), with what they became; forgotten
        # whenever a value is registered
        self._memo: dict[str, str] = {}

    def add(self, value: str | None) -> None:
        if not value or len(value) < _MIN_SECRET:
            return
        forms = _forms(value)
        with self._lock:
            new = {f for f in forms if len(f) >= _MIN_SECRET} - self._values
            self._plain |= {v for v in (value, unquote(value)) if len(v) >= _MIN_SECRET}
            if new:
                self._values |= new
                self._forms = None
                self._byte_forms = None
                self._memo = {}

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
        if len(text) > _MEMO_TEXT:
            return self._redact(text)
        memo = self._memo
        done = memo.get(text)
        if done is None:
            done = self._redact(text)
            if len(memo) >= _MEMO_SIZE:
                memo.clear()
            memo[text] = done
        return done

    def _redact(self, text: str) -> str:
        # each form replaced where it occurs, longest first (a form inside a longer one goes with it): plain
        # substring searches at C speed. A regex alternation of every form did the same, but compiling one of
        # hundreds of forms again for each secret a run registers cost a second of CPU per run.
        for form in self._sorted_forms():
            if form in text:
                text = text.replace(form, MASK)
        lowered = text.lower()
        if any(hint in lowered for hint in _TEXT_HINTS):
            text = mask_patterns(text)
        return text

    def _sorted_forms(self) -> tuple[str, ...]:
        forms = self._forms
        if forms is None:
            with self._lock:
                forms = self._forms = tuple(sorted(self._values, key=lambda f: (-len(f), f)))
        return forms

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._plain.clear()
            self._forms = ()
            self._byte_forms = None
            self._memo = {}

    def redact_bytes(self, data: bytes) -> bytes:
        """``data`` with every secret masked, whatever the body's encoding.

        Registered values are looked for in UTF-8, UTF-16 and UTF-32 (and every text spelling of
        :func:`_forms`, base64 included); the patterns (``sig=``, ``Bearer``) in the bytes read as
        Latin-1, which keeps every ASCII-compatible text. A gzip body is inflated (every member) and
        redacted inside; when a secret was in it, the body becomes the gzip of the redacted text. A gzip
        body that cannot be inflated within :data:`MAX_INFLATE` is withheld (it cannot be proven clean).
        """
        if not data:
            return data
        if data[:2] == GZIP_MAGIC:
            state = _Inflation()
            for _ in _inflate(data, state):  # first its size only: a bomb is withheld unread
                pass
            if state.too_big:
                return b"[gzip body withheld: it inflates past the size searched for secrets]"
            if self._holds_secret(_inflate(data, _Inflation())):
                inflated = b"".join(_inflate(data, _Inflation()))
                return gzip_compress(self.redact_bytes(inflated))
            if state.whole:
                return data
        return self._scan(data)  # the bytes as they are (past what inflates, for a broken gzip stream)

    def _holds_secret(self, pieces: Iterator[bytes]) -> bool:
        """Whether any registered value, in any encoding, or a ``sig=``/``Bearer`` pattern is in the stream of pieces."""
        overlap = b""
        keep = 4 * max((len(v) for v in self._values), default=64) + 64
        for piece in pieces:
            window = overlap + piece
            if self._found(window):
                return True
            overlap = window[-keep:]
        return False

    def _found(self, data: bytes) -> bool:
        """Whether ``data`` may hold a secret (a fast substring search first; the patterns on a hint of one)."""
        forms = self._sorted_byte_forms()[1]
        if any(form in data for form in forms):
            return True
        return _HINT.search(data) is not None

    def _scan(self, data: bytes) -> bytes:
        if not self._found(data):
            return data
        for forms, mask in self._sorted_byte_forms()[0]:
            for form in forms:
                if form in data:
                    data = data.replace(form, mask)
        text = data.decode("latin-1")
        cleaned_text = text
        cleaned_text = mask_patterns(cleaned_text)
        return cleaned_text.encode("latin-1") if cleaned_text != text else data

    def _sorted_byte_forms(self) -> tuple[list[tuple[tuple[bytes, ...], bytes]], tuple[bytes, ...]]:
        """Per encoding, the secret's forms (longest first) and its mask; and every form's bytes, for a fast search.

        UTF-8 carries every spelling of :func:`_forms`; the wide encodings the value as it is and URL-decoded.
        """
        with self._lock:
            if self._byte_forms is None:
                per_encoding: list[tuple[tuple[bytes, ...], bytes]] = []
                every: set[bytes] = set()
                if self._values:
                    for encoding in _BYTE_ENCODINGS:
                        values = self._values if encoding == "utf-8" else self._plain
                        forms = sorted({v.encode(encoding, "ignore") for v in values} - {b""}, key=lambda f: (-len(f), f))
                        if forms:
                            per_encoding.append((tuple(forms), MASK.encode(encoding)))
                            every |= set(forms)
                self._byte_forms = (per_encoding, tuple(sorted(every, key=len)))
            return self._byte_forms


@dataclass
class _Inflation:
    whole: bool = True  # every byte of the stream belongs to a complete gzip member
    too_big: bool = False  # it inflates past MAX_INFLATE


def _inflate(data: bytes, state: _Inflation, chunk: int = 1 << 20) -> Iterator[bytes]:
    """Every gzip member of ``data`` inflated, in pieces of at most ``chunk`` bytes (memory stays bounded).

    ``state`` says afterwards whether the stream was whole (a stream cut short or broken yields what
    inflates) and whether it passed :data:`MAX_INFLATE` (inflation stops there).
    """
    size = 0
    rest = data
    while rest:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        while True:
            try:
                piece = inflater.decompress(rest, chunk)
            except zlib.error:
                state.whole = False
                return
            size += len(piece)
            if size > MAX_INFLATE:
                state.too_big = True
                return
            if piece:
                yield piece
            rest = inflater.unconsumed_tail
            if inflater.eof or (not rest and not piece):
                break
        if not inflater.eof:
            state.whole = False
            return
        rest = inflater.unused_data
        if rest and rest[:2] != GZIP_MAGIC:
            state.whole = False
            return


def gzip_compress(data: bytes) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


# Environment variables whose values are credentials wherever they end up (AZURE_CLIENT_SECRET, RECON_PC_TOKEN, ...):
# registered at once, so that an echo of one is masked even in a run that never used it.
_SECRET_NAME = re.compile(r"(?i)(?:^|_)(?:SECRET|TOKEN|PASSWORD|PASSWD|CLIENT_SECRET|SAS)$")


def register_environment(redactor: Redactor, environ: dict[str, str] | None = None) -> None:
    for name, value in (os.environ if environ is None else environ).items():
        if _SECRET_NAME.search(name):
            redactor.add(value)


REDACTOR = Redactor()
register_environment(REDACTOR)


def redact(text: str) -> str:
    return REDACTOR(text)


def redact_bytes(data: bytes) -> bytes:
    return REDACTOR.redact_bytes(data)
