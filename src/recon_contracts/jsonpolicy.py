"""The one JSON policy of the suite: every body the suite reads is JSON as RFC 8259 defines it, or it is not JSON.

Line items, Graph answers, manifests, export rows and bodies read back from a HAR all parse here.
A reader that accepts more than JSON would let drift pass: Python's ``json`` module reads the bare
``NaN``, ``Infinity`` and ``-Infinity`` tokens, which RFC 8259 §6 rules out ("Numeric values that
cannot be represented ... such as Infinity and NaN are not permitted"). Here they are refused, so
every path reports them as a body that is not JSON.

What RFC 8259 leaves a server free to do is accepted: a UTF-8 byte order mark (§8.1: parsers "MAY
ignore the presence of a byte order mark"), any insignificant whitespace, any number spelling of the
grammar (``1E+2``, ``-0``, ``1.0e-5``), escapes of any character, lone surrogate escapes (§8.2 leaves
their meaning open, the grammar allows them), and numbers beyond double range (§6 lets a reader
approximate them).

The fast path is orjson (strict RFC 8259, 2-3 times faster than ``json.loads`` on export rows, see
bench/bench_rows.py); where orjson refuses a text the grammar allows (a BOM, a lone surrogate, an
integer or exponent past its range), the standard library decides, with the non-JSON constants refused.
"""

from __future__ import annotations

import json
from typing import Any

try:
    import orjson as _orjson
    from orjson import JSONDecodeError as _FastError
    from orjson import loads as _fast_loads
except ImportError:  # pragma: no cover - the standard library gives the same values, slower
    _orjson = None  # type: ignore[assignment]
    _FastError = ValueError  # type: ignore[assignment,misc]
    _fast_loads = None  # type: ignore[assignment]

RFC = "RFC 8259 §6"


class NotJson(ValueError):
    """A body that is not JSON (RFC 8259); the message says why, e.g. a bare NaN token."""


def _refuse_constant(name: str) -> Any:
    raise NotJson(f"{name} is not a JSON value ({RFC} permits no NaN or Infinity)")


def loads(data: bytes | bytearray | memoryview | str) -> Any:
    """The JSON value of ``data`` (UTF-8 bytes, a BOM allowed, or text); :class:`NotJson` when it is not JSON."""
    if _fast_loads is not None:
        try:
            return _fast_loads(data)
        except _FastError:
            pass  # the standard library decides (and says why)
    if isinstance(data, (bytes, bytearray, memoryview)):
        try:
            text = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise NotJson(f"the body is not UTF-8 (RFC 8259 §8.1): {exc}") from None
    else:
        text = data[1:] if data.startswith("\ufeff") else data
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise NotJson("the JSON is nested too deep to read") from None
    except NotJson:
        raise
    except ValueError as exc:
        raise NotJson(str(exc)) from None


def dumps_indented(value: Any, *, default: Any = None) -> str:
    """``value`` as indented JSON text (two spaces, non-ASCII kept) for a report people may open: orjson's encoder,
    about ten times the standard library's once it indents (that one is pure Python then); the standard library
    where orjson cannot write a value (a key that is no string, an integer past 64 bits, a lone surrogate)."""
    if _orjson is not None:
        try:
            return _orjson.dumps(value, default=default, option=_orjson.OPT_INDENT_2).decode("utf-8")
        except TypeError:
            pass
    return json.dumps(value, indent=2, ensure_ascii=False, default=default)
