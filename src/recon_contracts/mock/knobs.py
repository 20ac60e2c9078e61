"""The mock's knobs, read from the silent-points register (``contracts/silent-points.yaml``).

Where Microsoft's documents (or the RFCs under them) leave a behaviour open, the mock's default is one answer
among several a docs-following server may give. Each register point names its knob, its default and its
alternatives; that is the one place they are written. Here they become ``CHOICES`` (knob -> its values, the
default first, in register order) and ``Knobs``, a frozen dataclass with one field per knob whose default is
the register's. A profile (``profiles.py``) or a generated configuration combines knobs; an unknown knob or a
value no register point lists is refused when the ``Knobs`` is built, with the values it could have been.
"""

from __future__ import annotations

from dataclasses import Field, field, fields, make_dataclass, replace
from typing import TYPE_CHECKING, Any

from ..truth.silent_points import silent_points


def _choices() -> dict[str, tuple[str, ...]]:
    """knob -> its values, the default first, from the register (a knob may answer more than one point)."""
    values: dict[str, list[str]] = {}
    defaults: dict[str, str] = {}
    for point in silent_points().values():
        if defaults.setdefault(point.knob, point.default) != point.default:
            raise ValueError(f"contracts/silent-points.yaml: knob {point.knob} has two defaults "
                             f"({defaults[point.knob]!r} and {point.default!r} at {point.id})")
        known = values.setdefault(point.knob, [point.default])
        known += [a for a in point.answers if a not in known]
    return {knob: tuple(v) for knob, v in values.items()}


# knob -> its values, the default first (register order)
CHOICES: dict[str, tuple[str, ...]] = _choices()

# Knobs that change both APIs (the transport, and data the exports are built from); every other knob
# changes only the API its silent point names.
BOTH_APIS = frozenset({"throttling", "unavailable", "retry_after_format", "connection", "extra_properties",
                       "data_volume", "charge_date_order", "transfer_coding", "header_case", "extra_headers",
                       "content_encoding"})


class _KnobsBase:
    """What every ``Knobs`` can do (its fields come from the register)."""

    def __post_init__(self) -> None:
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if value not in CHOICES[f.name]:
                raise ValueError(f"knob {f.name}: {value!r} is not one of {', '.join(CHOICES[f.name])} "
                                 "(contracts/silent-points.yaml)")

    def changed(self) -> dict[str, str]:
        """The knobs set away from their default."""
        return {f.name: getattr(self, f.name) for f in fields(self)  # type: ignore[arg-type]
                if getattr(self, f.name) != f.default}

    def with_(self, **values: str) -> Any:
        unknown(values)
        return replace(self, **values)  # type: ignore[type-var]


def unknown(values: dict[str, Any]) -> None:
    """Refuse knob names no register point names (a misspelt knob is an error, not a silent default)."""
    bad = sorted(set(values) - set(CHOICES))
    if bad:
        raise ValueError(f"unknown knob {', '.join(bad)}: not in contracts/silent-points.yaml "
                         f"(knobs: {', '.join(CHOICES)})")


if TYPE_CHECKING:
    class Knobs(_KnobsBase):
        """One value per knob (every field defaults to the register's default answer)."""

        def __init__(self, **values: str) -> None: ...

        def __getattr__(self, name: str) -> str: ...

        def with_(self, **values: str) -> Knobs: ...
else:
    _fields: list[tuple[str, type, Field[str]]] = [(knob, str, field(default=values[0]))
                                                   for knob, values in CHOICES.items()]
    _Knobs = make_dataclass("Knobs", _fields, bases=(_KnobsBase,), frozen=True)
    _Knobs.__module__ = __name__
    _Knobs.__doc__ = "One value per knob (every field defaults to the register's default answer)."
    _init = _Knobs.__init__

    def _checked_init(self, **values):
        unknown(values)
        _init(self, **values)

    _Knobs.__init__ = _checked_init
    Knobs = _Knobs


def knobs_of(pairs: list[str] | tuple[str, ...]) -> dict[str, str]:
    """``["name=value", ...]`` (the mock's ``--knob`` options) as a checked mapping."""
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(f"--knob {pair!r}: expected NAME=VALUE")
        out[name.strip()] = value.strip()
    Knobs(**out)  # validates names and values
    return out


DEFAULT = Knobs()

# Page and data-volume figures the knobs stand for.
SHORT_PAGE_CAP = 5  # page_fill=short: a page holds at most this many items (MockConfig.page_cap), whatever size asked for
THOUSANDS = 2500  # data_volume=thousands: items per data set (more than one page of 2000)
