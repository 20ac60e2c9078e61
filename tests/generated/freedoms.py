"""Hypothesis strategies over the freedoms RFC 8259 (JSON) and RFC 1952 (gzip) leave a server, and the network's.

Each strategy draws one way a conforming server may write the same data:

- JSON (RFC 8259): any insignificant whitespace (§2), any key order (§4: "An object is an unordered
  collection"), any number spelling of the same value (§6: sign, fraction, exponent, ``e``/``E``, ``+``),
  any character escaped as ``\\uXXXX`` or written raw in UTF-8 in every script (§7), ``\\/`` for ``/``,
  and a byte order mark a parser "MAY ignore" (§8.1) where a text starts;
- gzip (RFC 1952): one or many members (§2.2: "a series of members"), empty members, every optional
  header field (FTEXT, FEXTRA, FNAME, FCOMMENT, FHCRC), any MTIME, XFL and OS, any compression level;
  the trailer (CRC32, ISIZE) is always right;
- the network: a body arrives in reads cut at any byte.
"""

from __future__ import annotations

import json
import random
import struct
import zlib
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

WHITESPACE = st.text(alphabet=" \t\n\r", max_size=2)
LINE_WHITESPACE = st.text(alphabet=" \t", max_size=2)  # inside a JSON Lines line: no line break


@st.composite
def number_spelling(draw: st.DrawFn, value: int | float) -> str:
    """Another spelling of the same JSON number: the same decimal value, so every reader gets the same double.

    The value is ``digits x 10**exp``; the decimal point goes anywhere (leading or trailing zeros added), and the
    exponent (``e`` or ``E``, with or without ``+``) makes up the difference.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(value)
    exact = Decimal(value) if isinstance(value, int) else Decimal(repr(value))
    sign, digit_tuple, exp = exact.as_tuple()
    digits = "".join(map(str, digit_tuple)).lstrip("0")
    minus = "-" if sign else ""
    if not digits:  # zero: "-0" is a number of the grammar, and equal to 0
        return minus + draw(st.sampled_from(["0", "0.0", "0e0", "0E+0", "0.00e-3"]))
    exp = int(exp) + (len("".join(map(str, digit_tuple))) - len("".join(map(str, digit_tuple)).rstrip("0"))) * 0
    point = draw(st.integers(min_value=-2, max_value=len(digits) + 2))
    if point <= 0:
        body = "0." + "0" * (-point) + digits
    elif point >= len(digits):
        body = digits + "0" * (point - len(digits))
        if draw(st.booleans()):
            body += "." + "0" * draw(st.integers(1, 2))
    else:
        body = digits[:point] + "." + digits[point:] + "0" * draw(st.integers(0, 2))
    exponent = exp + len(digits) - point
    if exponent == 0 and draw(st.booleans()):
        return minus + body
    plus = "+" if exponent >= 0 and draw(st.booleans()) else ""
    return f"{minus}{body}{draw(st.sampled_from(['e', 'E']))}{plus}{exponent}"


@st.composite
def string_spelling(draw: st.DrawFn, value: str) -> str:
    """A JSON string literal of ``value``: each character raw (UTF-8) or escaped, ``/`` maybe as ``\\/``."""
    out = ['"']
    for ch in value:
        code = ord(ch)
        must = ch in '"\\' or code < 0x20
        how = draw(st.sampled_from(["raw", "escape"])) if not must else "escape"
        if how == "raw":
            out.append(ch)
        elif ch == "/" and draw(st.booleans()):
            out.append("\\/")
        elif ch in '"\\':
            out.append("\\" + ch)
        elif code > 0xFFFF:
            high, low = 0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)
            out.append(f"\\u{high:04x}\\u{low:04X}")
        else:
            short = {"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
            out.append(short[ch] if ch in short and draw(st.booleans()) else
                       f"\\u{code:04{draw(st.sampled_from(['x', 'X']))}}")
    out.append('"')
    return "".join(out)


@st.composite
def json_text(draw: st.DrawFn, value: Any, *, one_line: bool = False) -> str:
    """``value`` as a JSON text, in a spelling drawn over the RFC 8259 freedoms (no BOM: see the callers).

    A few draws decide the style (how often characters are escaped, whitespace is added, numbers are respelled,
    keys are shuffled); a seeded random then applies it to every token, so that a long row costs few draws.
    """
    rnd = random.Random(draw(st.integers(0, 2**32 - 1)))  # one draw: Hypothesis's randoms draw on every call
    escape_rate = draw(st.sampled_from([0.0, 0.05, 1.0]))
    ws_rate = draw(st.sampled_from([0.0, 0.3]))
    respell_rate = draw(st.sampled_from([0.0, 0.5, 1.0]))
    shuffle = draw(st.booleans())
    slash = draw(st.booleans())
    spaces = " \t" if one_line else " \t\n\r"

    def ws() -> str:
        return "".join(rnd.choice(spaces) for _ in range(rnd.randint(1, 2))) if rnd.random() < ws_rate else ""

    def string(v: str) -> str:
        out = ['"']
        for ch in v:
            code = ord(ch)
            if ch in '"\\' or code < 0x20 or rnd.random() < escape_rate:
                if ch in '"\\':
                    out.append("\\" + ch)
                elif ch == "/" and slash:
                    out.append("\\/")
                elif code > 0xFFFF:
                    high, low = 0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)
                    out.append(f"\\u{high:04x}\\u{low:04X}")
                else:
                    out.append(f"\\u{code:04{rnd.choice('xX')}}")
            else:
                out.append(ch)
        out.append('"')
        return "".join(out)

    def number(v: int | float) -> str:
        if rnd.random() >= respell_rate:
            return json.dumps(v)
        return number_text(v, rnd)

    def emit(v: Any) -> str:
        if v is None or isinstance(v, bool):
            return json.dumps(v)
        if isinstance(v, (int, float)):
            return number(v)
        if isinstance(v, str):
            return string(v)
        if isinstance(v, list):
            return "[" + ",".join(ws() + emit(x) + ws() for x in v) + "]" if v else "[" + ws() + "]"
        if isinstance(v, dict):
            keys = list(v)
            if shuffle:
                rnd.shuffle(keys)
            parts = [ws() + string(k) + ws() + ":" + ws() + emit(v[k]) + ws() for k in keys]
            return "{" + ",".join(parts) + "}" if parts else "{" + ws() + "}"
        raise TypeError(type(v))

    return ws() + emit(value) + ws()


def number_text(value: int | float, rnd: Any) -> str:
    """Another spelling of the same JSON number, chosen by ``rnd`` (see :func:`number_spelling`)."""
    exact = Decimal(value) if isinstance(value, int) else Decimal(repr(value))
    sign, digit_tuple, exp = exact.as_tuple()
    digits = "".join(map(str, digit_tuple)).lstrip("0")
    minus = "-" if sign else ""
    if not digits:
        return minus + rnd.choice(["0", "0.0", "0e0", "0E+0", "0.00e-3"])
    exp = int(exp)
    point = rnd.randint(-2, len(digits) + 2)
    if point <= 0:
        body = "0." + "0" * (-point) + digits
    elif point >= len(digits):
        body = digits + "0" * (point - len(digits)) + (("." + "0" * rnd.randint(1, 2)) if rnd.random() < 0.5 else "")
    else:
        body = digits[:point] + "." + digits[point:] + "0" * rnd.randint(0, 2)
    exponent = exp + len(digits) - point
    if exponent == 0 and rnd.random() < 0.5:
        return minus + body
    plus = "+" if exponent >= 0 and rnd.random() < 0.5 else ""
    return f"{minus}{body}{rnd.choice('eE')}{plus}{exponent}"


def _member_header(draw: st.DrawFn, text: bool) -> bytes:
    flags = 0
    extra = name = comment = b""
    if draw(st.booleans()):
        flags |= 0x01  # FTEXT
    if draw(st.booleans()):
        flags |= 0x04  # FEXTRA: subfields SI1 SI2 LEN data
        data = draw(st.binary(max_size=12))
        extra = b"AP" + struct.pack("<H", len(data)) + data
        extra = struct.pack("<H", len(extra)) + extra
    if draw(st.booleans()):
        flags |= 0x08  # FNAME, Latin-1, zero-terminated
        name = draw(st.text(alphabet=st.characters(min_codepoint=1, max_codepoint=255), max_size=12)).encode("latin-1") + b"\0"
    if draw(st.booleans()):
        flags |= 0x10  # FCOMMENT
        comment = draw(st.text(alphabet=st.characters(min_codepoint=1, max_codepoint=255), max_size=12)).encode("latin-1") + b"\0"
    hcrc = draw(st.booleans())
    if hcrc:
        flags |= 0x02  # FHCRC
    mtime = draw(st.integers(0, 2**32 - 1))
    xfl = draw(st.sampled_from([0, 2, 4]))
    os_ = draw(st.sampled_from([0, 3, 7, 11, 255]))
    head = b"\x1f\x8b\x08" + bytes([flags]) + struct.pack("<I", mtime) + bytes([xfl, os_]) + extra + name + comment
    if hcrc:
        head += struct.pack("<H", zlib.crc32(head) & 0xFFFF)
    return head


@st.composite
def gzip_stream(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` as a gzip stream of one or many members, split anywhere, empty members included."""
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=4)))
    pieces = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)])]
    out = []
    for piece in pieces:
        level = draw(st.integers(0, 9))
        packer = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
        body = packer.compress(piece) + packer.flush()
        out.append(_member_header(draw, True) + body + struct.pack("<II", zlib.crc32(piece), len(piece) & 0xFFFFFFFF))
    return b"".join(out)


@st.composite
def network_reads(draw: st.DrawFn, body: bytes) -> list[bytes]:
    """``body`` as the reads a client may see: cut at any byte."""
    cuts = sorted(set(draw(st.lists(st.integers(1, max(1, len(body) - 1)), max_size=12)))) if len(body) > 1 else []
    return [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)])]
