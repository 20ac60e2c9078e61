"""The rows of a billed reconciliation export: every JSON line judged, findings aggregated per rule per blob.

Rules GR-ROW-REQUIRED-COLUMNS, GR-ROW-COLUMN-TYPES, GR-ROW-DATES, GR-ROW-CHARGE-PERIOD, GR-ROW-INVOICE,
GR-ROW-CASING-CONSISTENT (breaking), GR-ROW-UNKNOWN-COLUMN, GR-ROW-CHARGE-TYPE-UNKNOWN (additive),
GR-ROW-BASIC-DOCUMENTED (advisory), and GR-BLOB-GZIP-JSONL for a line that is not a JSON object.

The spec's ``ExportRow`` schema is the truth. A per-column check compiled from it is the hot path (a key tuple
is planned once, then every row costs a few type tests); jsonschema validates only the example rows a finding
shows, so it words the finding exactly as the spec says it. A finding names the blob, the column, the first
lines and how many rows in all ("312 of 1,000,000 rows"): one finding per rule per blob, never one per row.

    judge = ExportJudge(RowRules.load(), invoice_id="G000000001", attribute_set="full")
    blob = judge.blob("part-00000-….c000.json.gz", exchange)
    blob.consume(lines)          # (line number, bytes) pairs, e.g. from traffic.blob_stream.gunzip_lines
    findings = judge.findings()  # after every blob
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from ..jsonpolicy import NotJson as _DecodeError
from ..jsonpolicy import loads as _loads  # orjson on the hot path (bench/bench_rows.py), one policy for every body

from ..findings import Exchange, Finding, finding
from ..redact import REDACTOR
from ..truth.rules import charge_types
from ..truth.spec import load_spec
from .common import parse_datetime

ROW_SCHEMA = "ExportRow"
EXAMPLES = 5  # example rows shown per finding
_M, _D = r"(?:0[1-9]|1[0-2])", r"(?:0[1-9]|[12][0-9]|3[01])"
_CLOCK = r"(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]+)?)?"
_DATE_TEXT = (
    rf"[0-9]{{4}}-{_M}-{_D}(?:[T ]{_CLOCK}(?:[Zz]|[+-][0-9]{{2}}:?[0-9]{{2}})?)?"
    r"|(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12][0-9]|3[01])/[0-9]{4}(?: [0-9]{1,2}:[0-5][0-9](?::[0-5][0-9])?(?: ?[AaPp][Mm])?)?|"
)
_DATE = re.compile(_DATE_TEXT)
_NUMBER_TEXT = r"[ \t]*[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?[ \t]*"
_SEP = "\x1f"  # joins a row's dates (or numeric texts) so that one regex call checks them all
_DATES = re.compile(rf"(?:{_DATE_TEXT})(?:{_SEP}(?:{_DATE_TEXT}))*")
_NUMBER = re.compile(_NUMBER_TEXT)
_NUMBERS = re.compile(rf"{_NUMBER_TEXT}(?:{_SEP}{_NUMBER_TEXT})*")
_US_DATE = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})(?: ([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?(?: ?([AaPp])[Mm])?)?")

# Column kinds: S text, K non-empty text (a key column), N decimal, M MPN id, D date, Q product qualifiers.
_KIND_OF_REF = {"RowString": "S", "RowNumber": "N", "RowMpnId": "M", "RowDate": "D", "RowQualifiers": "Q"}
_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "a boolean", list: "an array",
               dict: "an object", type(None): "null"}
# The usage exports' documented basic list (the only Full/Basic table Microsoft publishes), for the columns a
# reconciliation row shares with it: True = in basic, False = full only.
USAGE_BASIC = {
    "AvailabilityId": False, "ChargeEndDate": True, "ChargeStartDate": True, "ChargeType": True,
    "CustomerCountry": False, "CustomerDomainName": False, "CustomerId": True, "CustomerName": True,
    "EffectiveUnitPrice": True, "InvoiceNumber": True, "MpnId": False, "PartnerId": True, "PCToBCExchangeRate": True,
    "PricingCurrency": True, "ProductId": True, "ProductName": False, "PublisherId": False, "PublisherName": True,
    "Quantity": True, "SkuId": True, "SkuName": True, "SubscriptionDescription": False, "SubscriptionId": True,
    "UnitPrice": True, "UnitType": True,
}


# ------------------------------------------------------------------ the rules, compiled from the spec


@dataclass(frozen=True)
class RowRules:
    """The ExportRow schema, compiled: canonical column names, their kinds, aliases and the required sets."""

    kinds: dict[str, str]  # canonical column -> kind
    by_folded: dict[str, str]  # casefolded spelling (aliases too) -> canonical column
    required: tuple[str, ...]  # in every row of a full export
    full_columns: tuple[str, ...]  # in a full export (at least one row)
    known_charge_types: frozenset[str]  # casefolded

    @classmethod
    @cache
    def load(cls) -> "RowRules":
        spec = load_spec("graph")
        schema = spec.schemas[ROW_SCHEMA]
        kinds: dict[str, str] = {}
        for name, prop in schema["properties"].items():
            ref = str(prop.get("$ref", "")).rsplit("/", 1)[-1]
            kinds[name] = _KIND_OF_REF.get(ref, "K")
        by_folded = {name.casefold(): name for name in kinds}
        for canonical, aliases in (schema.get("x-column-aliases") or {}).items():
            for alias in aliases:
                by_folded[alias.casefold()] = canonical
        ct = charge_types()
        known = frozenset(v.casefold() for v in [*ct.known, *ct.mapping.values()])
        return cls(kinds=kinds, by_folded=by_folded, required=tuple(schema.get("required", ())),
                   full_columns=tuple(schema.get("x-full-columns", ())), known_charge_types=known)


# ------------------------------------------------------------------ tallies


@dataclass
class Tally:
    """How many rows of one blob broke one rule, and the first few of them."""

    count: int = 0  # rows (a row counts once however many of its columns break the rule)
    examples: list[tuple[int, str, Any]] = field(default_factory=list)  # (line, column, value)
    columns: dict[str, int] = field(default_factory=dict)  # column -> rows
    last: int = -1

    def add(self, line: int, column: str, value: Any) -> None:
        self.columns[column] = self.columns.get(column, 0) + 1
        if line == self.last:
            return
        self.last = line
        self.count += 1
        if len(self.examples) < EXAMPLES:
            self.examples.append((line, column, value))


@dataclass
class _Plan:
    """What a row with a given key tuple needs checked (computed once per key tuple)."""

    checks: tuple[tuple[str, str, str], ...]  # (key, canonical, kind)
    missing: tuple[str, ...]  # required columns absent
    unknown: tuple[str, ...]  # keys the spec does not declare
    casing: tuple[tuple[str, str], ...]  # (key, the spelling this export used first)
    invoice: str | None
    charge_type: str | None
    start: str | None
    end: str | None


@dataclass
class BlobJudge:
    """Judges the lines of one blob; tallies per rule."""

    export: "ExportJudge"
    name: str
    exchange: Exchange | None = None
    rows: int = 0
    tallies: dict[str, Tally] = field(default_factory=dict)

    def tally(self, rule_id: str) -> Tally:
        t = self.tallies.get(rule_id)
        if t is None:
            t = self.tallies[rule_id] = Tally()
        return t

    def consume(self, lines: Iterable[tuple[int, bytes]]) -> None:
        """Judge every line. The hot loop: a row costs one parse, one look-up of its (keys, value types) signature,
        a regex per text value that must hold a number or a date, and the cross-column comparisons."""
        export = self.export
        checks = export.checks
        expected = export.invoice_id
        expected_folded = export.invoice_folded
        ct_known = export.charge_type_known
        rows = 0
        tally = self.tally
        last_keys: tuple = ()
        last_types: tuple = ()
        c: _Checks | None = None
        dates_ok, date_ok, numbers_ok, number_ok = _DATES.fullmatch, _DATE.fullmatch, _NUMBERS.fullmatch, _NUMBER.fullmatch
        try:
            for number, line in lines:
                try:
                    row = _loads(line)
                except _DecodeError as exc:
                    tally("GR-BLOB-GZIP-JSONL").add(number, "", f"not JSON ({exc}): {line[:120]!r}")
                    continue
                if type(row) is not dict:
                    tally("GR-BLOB-GZIP-JSONL").add(number, "", f"a JSON {type(row).__name__}, not an object")
                    continue
                rows += 1
                values = tuple(row.values())
                keys, types = tuple(row), tuple(map(type, values))
                if keys != last_keys or types != last_types:  # rows of an export share a few signatures
                    c = checks.get((keys, types))
                    if c is None:
                        c = export.compile((keys, types), self.name, number)
                    last_keys, last_types = keys, types
                if c.fixed:  # findings that follow from the signature alone (types, absent or unknown columns)
                    for rule_id, index, column in c.fixed:
                        tally(rule_id).add(number, column, _ABSENT if index < 0 else values[index])
                if c.dates is not None:
                    joined = _SEP.join(c.dates(values))
                    if not dates_ok(joined) or joined.count(_SEP) != c.date_seps:  # a SEP inside a value: one by one
                        for index, column in c.date_columns:
                            if not date_ok(values[index]):
                                tally("GR-ROW-DATES").add(number, column, values[index])
                if c.numbers is not None:
                    joined = _SEP.join(c.numbers(values))
                    if not numbers_ok(joined) or joined.count(_SEP) != c.number_seps:
                        for index, column in c.number_columns:
                            if not number_ok(values[index]):
                                tally("GR-ROW-COLUMN-TYPES").add(number, column, values[index])
                for index, column in c.nonempty:
                    if not values[index] or values[index].isspace():
                        tally("GR-ROW-COLUMN-TYPES").add(number, column, values[index])
                for index, column in c.integral:  # JSON has one number type: 4649221.0 is the integer 4649221
                    if not values[index].is_integer():
                        tally("GR-ROW-COLUMN-TYPES").add(number, column, values[index])
                for index, column in c.lists:
                    value = values[index]
                    if value and not _strings(value):
                        tally("GR-ROW-COLUMN-TYPES").add(number, column, value)
                if c.invoice >= 0 and expected is not None:
                    value = values[c.invoice]
                    if value != expected and value.strip().casefold() != expected_folded:
                        tally("GR-ROW-INVOICE").add(number, c.invoice_key, value)
                if c.charge_type >= 0:
                    value = values[c.charge_type]
                    known = ct_known.get(value)
                    if known is None:
                        folded = value.strip().casefold()  # an empty one is GR-ROW-COLUMN-TYPES' business
                        known = ct_known[value] = not folded or folded in export.rules.known_charge_types
                    if not known:
                        tally("GR-ROW-CHARGE-TYPE-UNKNOWN").add(number, c.charge_type_key, value)
                if c.start >= 0:
                    start, end = values[c.start], values[c.end]
                    if start and end:
                        if len(start) == len(end) and start[-6:] == end[-6:] and start[4:5] == "-":
                            later = start > end  # ISO, same length, same zone: text order is time order
                        else:
                            a, b = row_datetime(start), row_datetime(end)
                            later = a is not None and b is not None and a > b
                        if later:
                            tally("GR-ROW-CHARGE-PERIOD").add(number, c.start_key, (start, end))
        finally:
            self.rows += rows


@dataclass
class _Checks:
    """What a row with one (keys, value types) signature needs checked: compiled once per signature."""

    fixed: tuple[tuple[str, int, str], ...]  # (rule, value index or -1 when absent, column)
    nonempty: tuple[tuple[int, str], ...] = ()  # key columns whose text must not be empty
    lists: tuple[tuple[int, str], ...] = ()  # arrays that must hold strings only
    integral: tuple[tuple[int, str], ...] = ()  # integer columns written as a number with a fraction or exponent
    date_columns: tuple[tuple[int, str], ...] = ()  # text values that must be dates
    number_columns: tuple[tuple[int, str], ...] = ()  # text values that must be numbers
    dates: Any = None  # operator.itemgetter of the date texts (always a tuple), or None
    numbers: Any = None
    date_seps: int = 0
    number_seps: int = 0
    invoice: int = -1
    invoice_key: str = ""
    charge_type: int = -1
    charge_type_key: str = ""
    start: int = -1
    end: int = -1
    start_key: str = ""


def _type_ok(kind: str, t: type, value_is_list_of_str: bool | None = None) -> bool:
    if t is type(None):
        return kind != "K"
    if t is str:
        return True  # its text is checked per row
    if t is int or t is float:
        return kind == "N" or (kind == "M" and t is int)
    return kind == "Q" and t is list


_ABSENT = object()


def _getter(indexes: list[int]) -> Any:
    """A C-level getter of these positions that always returns a tuple; None when there are none."""
    if not indexes:
        return None
    if len(indexes) == 1:
        only = indexes[0]
        return lambda values: (values[only],)
    return operator.itemgetter(*indexes)


def _strings(value: list) -> bool:
    return all(type(v) is str for v in value)


def row_datetime(value: str) -> datetime | None:
    """A row's date: ISO (with or without zone; read as UTC without) or the recon file's M/d/yyyy [h:mm[:ss] [AM|PM]]."""
    parsed = parse_datetime(value)
    if parsed is not None:
        return parsed
    if len(value) == 10 and value[4] == "-":
        return parse_datetime(value + "T00:00:00")
    m = _US_DATE.fullmatch(value.strip())
    if not m:
        return None
    month, day, year, hour, minute, second, half = m.groups()
    h = int(hour or 0)
    if half:
        h = h % 12 + (12 if half.lower() == "p" else 0)
    try:
        return parse_datetime(f"{int(year):04d}-{int(month):02d}-{int(day):02d}T{h:02d}:{int(minute or 0):02d}:{int(second or 0):02d}")
    except ValueError:
        return None


@dataclass
class ExportJudge:
    """Judges every blob of one export (one invoice, one attribute set); the casing is shared by its blobs."""

    rules: RowRules
    invoice_id: str | None = None
    attribute_set: str = "full"
    blobs: list[BlobJudge] = field(default_factory=list)
    plans: dict[tuple[str, ...], _Plan] = field(default_factory=dict)
    checks: dict[tuple, _Checks] = field(default_factory=dict)
    casing_first: dict[str, str] = field(default_factory=dict)  # re-spelled key -> the spelling first seen
    spelling: dict[str, tuple[str, str, int]] = field(default_factory=dict)  # canonical -> (key, blob, line) first seen
    columns: set[str] = field(default_factory=set)  # canonical columns seen in any row
    unknown_columns: set[str] = field(default_factory=set)
    charge_type_known: dict[Any, bool] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.invoice_folded = (self.invoice_id or "").strip().casefold()
        self.attribute_set = (self.attribute_set or "full").casefold()

    @property
    def rows(self) -> int:
        return sum(b.rows for b in self.blobs)

    def blob(self, name: str, exchange: Exchange | None = None) -> BlobJudge:
        judge = BlobJudge(export=self, name=name, exchange=exchange)
        self.blobs.append(judge)
        return judge

    def plan_for(self, keys: tuple[str, ...], blob: str, line: int) -> _Plan:
        """The columns of a key tuple: canonical names, kinds, absent required ones, unknown and re-spelled keys."""
        plan = self.plans.get(keys)
        if plan is not None:
            return plan
        by_folded, kinds = self.rules.by_folded, self.rules.kinds
        checks, unknown, casing = [], [], []
        seen: dict[str, str] = {}
        for key in keys:
            canonical = by_folded.get(key.casefold())
            if canonical is None:
                unknown.append(key)
                self.unknown_columns.add(key)
                continue
            if canonical in seen:  # the same column twice in one row (ChargeType and chargeType)
                casing.append((key, seen[canonical]))
                continue
            seen[canonical] = key
            first = self.spelling.setdefault(canonical, (key, blob, line))
            if first[0] != key:
                casing.append((key, first[0]))
            checks.append((key, canonical, kinds[canonical]))
        self.columns.update(seen)
        full = self.attribute_set == "full"
        missing = tuple(c for c in self.rules.required if c not in seen) if full else ()
        plan = _Plan(checks=tuple(checks), missing=missing, unknown=tuple(unknown), casing=tuple(casing),
                     invoice=seen.get("InvoiceNumber"), charge_type=seen.get("ChargeType"),
                     start=seen.get("ChargeStartDate"), end=seen.get("ChargeEndDate"))
        self.plans[keys] = plan
        return plan

    def compile(self, signature: tuple[tuple[str, ...], tuple[type, ...]], blob: str, line: int) -> _Checks:
        """The checks of one (keys, value types) signature (cached: rows of one export share a few)."""
        keys, types = signature
        plan = self.plan_for(keys, blob, line)
        index = {key: i for i, key in enumerate(keys)}
        fixed: list[tuple[str, int, str]] = []
        nonempty: list[tuple[int, str]] = []
        lists: list[tuple[int, str]] = []
        dates: list[tuple[int, str]] = []
        numbers: list[tuple[int, str]] = []
        integral: list[tuple[int, str]] = []  # an integer column written as 4649221.0 or 4.649221E6 (RFC 8259 §6)
        full = self.attribute_set == "full"
        for key, canonical, kind in plan.checks:
            i = index[key]
            t = types[i]
            if t is str:
                if kind == "N":
                    numbers.append((i, canonical))
                elif kind == "D":
                    dates.append((i, canonical))
                elif kind == "K":
                    nonempty.append((i, canonical))
            elif t is type(None) and kind == "K":
                if full:
                    fixed.append(("GR-ROW-REQUIRED-COLUMNS", i, canonical))
            elif kind == "Q" and t is list:
                lists.append((i, canonical))
            elif kind == "M" and t is float:
                integral.append((i, canonical))
            elif not _type_ok(kind, t):
                fixed.append(("GR-ROW-COLUMN-TYPES", i, canonical))
        fixed += [("GR-ROW-REQUIRED-COLUMNS", -1, column) for column in plan.missing]
        fixed += [("GR-ROW-UNKNOWN-COLUMN", index[key], key) for key in plan.unknown]
        fixed += [("GR-ROW-CASING-CONSISTENT", -1, key) for key, _first in plan.casing]
        c = _Checks(fixed=tuple(fixed), nonempty=tuple(nonempty), lists=tuple(lists), integral=tuple(integral), date_columns=tuple(dates), number_columns=tuple(numbers),
                    dates=_getter([i for i, _ in dates]), numbers=_getter([i for i, _ in numbers]),
                    date_seps=max(len(dates) - 1, 0), number_seps=max(len(numbers) - 1, 0))
        if plan.casing:
            self.casing_first.update({key: first for key, first in plan.casing})
        str_at = lambda key: key is not None and types[index[key]] is str  # noqa: E731
        if str_at(plan.invoice):
            c.invoice, c.invoice_key = index[plan.invoice], plan.invoice  # type: ignore[index]
        if str_at(plan.charge_type):
            c.charge_type, c.charge_type_key = index[plan.charge_type], plan.charge_type  # type: ignore[index]
        if str_at(plan.start) and str_at(plan.end):
            c.start, c.end, c.start_key = index[plan.start], index[plan.end], plan.start  # type: ignore[index]
        self.checks[signature] = c
        return c

    # -------------------------------------------------------------- findings

    def findings(self) -> list[Finding]:
        """One finding per rule per blob, then the export-wide ones (columns never seen, basic list)."""
        found: list[Finding] = []
        for blob in self.blobs:
            for rule_id, tally in blob.tallies.items():
                found.append(_blob_finding(rule_id, tally, blob, self))
        found += self.missing_columns()
        found += self.basic_documented()
        return found

    def missing_columns(self) -> list[Finding]:
        """A full export carries every documented column somewhere (a column in no row was dropped or renamed)."""
        if self.attribute_set != "full" or not self.rows:
            return []
        absent = [c for c in self.rules.full_columns if c not in self.columns]
        if not absent:
            return []
        unknown = sorted(self.unknown_columns)
        hint = f"; columns the spec does not declare: {', '.join(unknown[:10])}" if unknown else ""
        first = self.blobs[0] if self.blobs else None
        return [_finding(
            "GR-ROW-REQUIRED-COLUMNS",
            f"{len(absent)} documented column(s) appear in none of the {self.rows:,} rows of this full export: "
            f"{', '.join(absent)}{hint}",
            first.exchange if first else None,
            expected="every documented column of a full export (ExportRow x-full-columns) in its rows",
            actual=f"columns seen: {', '.join(sorted(self.columns))}",
            column=", ".join(absent), rows=self.rows,
        )]

    def basic_documented(self) -> list[Finding]:
        """Advisory: where a basic export differs from the usage exports' documented basic list, on shared columns."""
        if self.attribute_set != "basic" or not self.rows:
            return []
        extra = sorted(c for c in self.columns if USAGE_BASIC.get(c) is False)
        lacking = sorted(c for c, basic in USAGE_BASIC.items() if basic and c not in self.columns)
        if not extra and not lacking:
            return []
        parts = []
        if extra:
            parts.append(f"carries {', '.join(extra)} (full only in the usage table)")
        if lacking:
            parts.append(f"lacks {', '.join(lacking)} (basic in the usage table)")
        first = self.blobs[0] if self.blobs else None
        return [_finding(
            "GR-ROW-BASIC-DOCUMENTED",
            "this basic export " + " and ".join(parts),
            first.exchange if first else None,
            expected="basic columns as in the usage exports' documented Full/Basic table, on the columns both share",
            actual=f"basic columns: {', '.join(sorted(self.columns))}",
        )]


def export_columns(judge: ExportJudge) -> set[str]:
    """The canonical columns of an export plus its undeclared ones (for basic ⊂ full)."""
    return set(judge.columns) | {k.casefold() for k in judge.unknown_columns}


# ------------------------------------------------------------------ wording


_RULE_TEXT = {
    "GR-BLOB-GZIP-JSONL": ("that are no JSON object", "one JSON object per line"),
    "GR-ROW-REQUIRED-COLUMNS": ("without a key column", "InvoiceNumber, ChargeType, ChargeStartDate and ChargeEndDate in every row"),
    "GR-ROW-COLUMN-TYPES": ("with a column of the wrong type", "each column typed as ExportRow declares it"),
    "GR-ROW-DATES": ("with a date that does not parse", "ISO 8601 date-times (zone optional), ISO dates or M/d/yyyy"),
    "GR-ROW-CHARGE-PERIOD": ("whose charge ends before it starts", "ChargeStartDate <= ChargeEndDate"),
    "GR-ROW-INVOICE": ("of another invoice", "InvoiceNumber == the requested invoiceId"),
    "GR-ROW-CASING-CONSISTENT": ("spelling a column otherwise than the export's first row with it",
                                 "one spelling per column in every row of an export"),
    "GR-ROW-UNKNOWN-COLUMN": ("with a column the spec does not declare", "only the columns ExportRow declares"),
    "GR-ROW-CHARGE-TYPE-UNKNOWN": ("with a ChargeType outside the documented values",
                                   "a documented charge type (contracts/charge-types.yaml)"),
}


def _show(value: Any) -> str:
    if value is _ABSENT:
        return "absent"
    if isinstance(value, tuple) and len(value) == 2:
        return f"{value[0]!r} > {value[1]!r}"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _schema_words(rule_id: str, column: str, value: Any) -> str:
    """What jsonschema says about this value against the column's schema (the reference words)."""
    if rule_id not in {"GR-ROW-COLUMN-TYPES", "GR-ROW-DATES"} or value is _ABSENT:
        return ""
    messages = load_spec("graph").validate({column: value}, ROW_SCHEMA)
    words = [m for m in messages if m.startswith(f"{column}:")]
    if not words:
        return ""
    kind = type(value)
    return f" — {words[0]}" + (f" ({_TYPE_NAMES[kind]})" if kind in _TYPE_NAMES and rule_id == "GR-ROW-COLUMN-TYPES" else "")


def _blob_finding(rule_id: str, tally: Tally, blob: BlobJudge, export: ExportJudge) -> Finding:
    what, expected = _RULE_TEXT[rule_id]
    total = blob.rows
    columns = sorted(tally.columns, key=lambda c: -tally.columns[c])
    column_text = ", ".join(f"{c} ({n:,})" if len(columns) > 1 else c for c, n in
                            ((c, tally.columns[c]) for c in columns[:6]) if c)
    if rule_id == "GR-ROW-CASING-CONSISTENT":
        examples = [f"line {line}: {column!r} where the export first spelled it {export.casing_first.get(column, '?')!r}"
                    for line, column, _ in tally.examples]
    else:
        examples = [f"line {line}: {column + ' ' if column else ''}{_show(value)}{_schema_words(rule_id, column, value)}"
                    for line, column, value in tally.examples]
    noun = "line" if rule_id == "GR-BLOB-GZIP-JSONL" else "row"
    of = f" of {total:,}" if rule_id != "GR-BLOB-GZIP-JSONL" else ""
    message = (f"blob {blob.name}: {tally.count:,}{of} {noun}{'s' if total != 1 or tally.count != 1 else ''} {what}"
               + (f": {column_text}" if column_text else "")
               + f"; first at line{'s' if len(tally.examples) > 1 else ''} "
               + ", ".join(str(e[0]) for e in tally.examples))
    if rule_id == "GR-ROW-INVOICE":
        expected = f"InvoiceNumber == {export.invoice_id!r} (the requested invoiceId)"
    if rule_id == "GR-ROW-CASING-CONSISTENT":
        expected = "one spelling per column in every row of an export, as first seen: " + ", ".join(
            sorted({repr(export.casing_first.get(column, "?")) for _, column, _ in tally.examples}))
    return _finding(rule_id, message, blob.exchange, expected=expected, actual="; ".join(examples),
                    blob=blob.name, lines=[e[0] for e in tally.examples], column=", ".join(columns),
                    count=tally.count, rows=total)


def _finding(rule_id: str, message: str, exchange: Exchange | None, *, expected: str, actual: str, **extra: Any) -> Finding:
    f = finding(rule_id, message, exchange, expected=expected, actual=actual, api="graph",
                operation=exchange.operation if exchange else "validate-export", **extra)
    return Finding(rule=f.rule, severity=f.severity, api=f.api, operation=f.operation, message=REDACTOR(f.message),
                   expected=f.expected, actual=REDACTOR(f.actual), curl=REDACTOR(f.curl), url=REDACTOR(f.url),
                   extra=f.extra)


def lines_of(texts: Iterable[str | bytes]) -> Iterator[tuple[int, bytes]]:
    """Numbered lines from an iterable of texts (tests and small inputs)."""
    for number, text in enumerate(texts, start=1):
        yield number, text.encode() if isinstance(text, str) else text
