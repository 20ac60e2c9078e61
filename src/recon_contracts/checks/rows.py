"""The rows of an export of the Graph billing family: every JSON line judged, findings aggregated per rule per blob.

One engine for every member: the member's row schema (``ExportRow`` for reconciliation, ``UsageRow`` for usage,
``AggregatedUsageRow`` for aggregated usage; ``recon_contracts.truth.exports``) is compiled into ``RowRules``, and the
engine never asks which member it judges. Billed members check InvoiceNumber against the invoice (GR-ROW-INVOICE),
unbilled ones the currency column against the currencyCode (GR-ROW-CURRENCY); a schema with a documented Full/Basic
table (``x-basic-columns``) has its attribute sets judged by GR-USAGE-FULL-COLUMNS and GR-USAGE-BASIC-COLUMNS.

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
from itertools import chain
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

from ..jsonpolicy import NotJson as _DecodeError
from ..jsonpolicy import loads as _loads  # orjson on the hot path (bench/bench_rows.py), one policy for every body

try:  # typed decoding validates a conforming row while it parses: about 1.5x the rows per CPU-second (bench)
    import msgspec as _msgspec
except ImportError:  # pragma: no cover - every row then takes the path below, same findings
    _msgspec = None  # type: ignore[assignment]

from ..findings import Exchange, Finding, finding
from ..redact import REDACTOR
from ..truth.rules import charge_types
from ..truth.spec import load_spec
from .common import parse_datetime
from .registry import GR_EXPORT_ROWS, check

ROW_SCHEMA = "ExportRow"
# A row's signature: its keys and the types of its values (None: the fast path's rows, whose types were decoded)
Signature = tuple[tuple[str, ...], tuple[type, ...] | None]
EXAMPLES = 5  # example rows shown per finding
FAST_TRIES = 16  # rows of a blob the fast path may be built from (the first one that carries every key column)
_M, _D = r"(?:0[1-9]|1[0-2])", r"(?:0[1-9]|[12][0-9]|3[01])"
_CLOCK = r"(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]+)?)?"
_DATE_TEXT = (
    rf"[0-9]{{4}}-{_M}-{_D}(?:[Tt ]{_CLOCK}(?:[Zz]|[+-][0-9]{{2}}:?[0-9]{{2}})?)?"
    r"|(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12][0-9]|3[01])/[0-9]{4}(?: [0-9]{1,2}:[0-5][0-9](?::[0-5][0-9])?(?: ?[AaPp][Mm])?)?|"
)
_DATE = re.compile(_DATE_TEXT)  # RFC 3339 5.6: "T" and "Z" may be lower case
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
    schema: str = ROW_SCHEMA
    basic_columns: frozenset[str] = frozenset()  # a documented Full/Basic table's basic set (usage), else empty
    documented_columns: frozenset[str] = frozenset()  # every column of that table
    currency_column: str | None = None  # the billing currency column (unbilled exports: GR-ROW-CURRENCY)

    @classmethod
    @cache
    def load(cls, schema_name: str = ROW_SCHEMA, billed: bool = True) -> "RowRules":
        """The compiled row schema of one export member; ``billed=False`` (unbilled members) drops the columns only a
        billed row must fill (``x-billed-columns``: InvoiceNumber) from the key columns."""
        spec = load_spec("graph")
        schema = spec.schemas[schema_name]
        billed_only = set() if billed else set(schema.get("x-billed-columns", ()))
        kinds: dict[str, str] = {}
        for name, prop in schema["properties"].items():
            ref = str(prop.get("$ref", "")).rsplit("/", 1)[-1]
            kinds[name] = "S" if name in billed_only else _KIND_OF_REF.get(ref, "K")
        by_folded = {name.casefold(): name for name in kinds}
        for canonical, aliases in (schema.get("x-column-aliases") or {}).items():
            for alias in aliases:
                by_folded[alias.casefold()] = canonical
        ct = charge_types()
        known = frozenset(v.casefold() for v in [*ct.known, *ct.mapping.values()])
        currency = next((c for c in ("Currency", "BillingCurrency") if c in kinds), None)
        return cls(kinds=kinds, by_folded=by_folded,
                   required=tuple(c for c in schema.get("required", ()) if c not in billed_only),
                   full_columns=tuple(c for c in schema.get("x-full-columns", ()) if c not in billed_only),
                   known_charge_types=known, schema=schema_name,
                   basic_columns=frozenset(schema.get("x-basic-columns", ())),
                   documented_columns=frozenset(schema.get("x-documented-columns", ())), currency_column=currency)


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
class BlobPart:
    """One blob's judgement, apart from its export: what a worker process sends back to be merged."""

    name: str
    rows: int
    tallies: dict[str, Tally]
    signatures: dict[Signature, list[Any]]
    exchange: Exchange | None = None
    writes_empties: bool = False


@dataclass
class _Plan:
    """What a row with a given key tuple needs checked (computed once per key tuple)."""

    checks: tuple[tuple[str, str, str], ...]  # (key, canonical, kind)
    missing: tuple[str, ...]  # required columns absent
    unknown: tuple[str, ...]  # keys the spec does not declare
    invoice: str | None
    charge_type: str | None
    start: str | None
    end: str | None


@dataclass(frozen=True)
class _Fast:
    """The fast path of an export's rows (``ExportJudge.fast_decoder``): a typed decoder and C-level getters of the
    values still to check. ``dates`` gives every date's JSON text, the charge period's start and end first when
    ``period``; ``period_pair`` and ``other_dates`` give them apart (the batch path reads them in two arrays)."""

    decode: Any
    dates: Any = None
    period: bool = False
    numbers: Any = None
    number_seps: int = 0
    keys: Any = None
    invoice: Any = None
    charge: Any = None
    # over a list of decoded rows: every value, row after row (the batch path)
    period_pair: Any = None  # each row's start and end
    other_dates: Any = None
    all_numbers: Any = None
    all_keys: Any = None


BATCH = 256  # lines judged together on the batch path (bench/bench_rows.py: larger batches lose the CPU caches)


@dataclass
class BlobJudge:
    """Judges the lines of one blob; tallies per rule."""

    export: "ExportJudge"
    name: str
    exchange: Exchange | None = None
    rows: int = 0
    tallies: dict[str, Tally] = field(default_factory=dict)
    # (keys, value types) -> [rows, first lines, the first row's values]: in order of first appearance. Casing and
    # renames are judged over the whole export from these (findings()), so blobs can be judged apart and merged.
    signatures: dict[Signature, list[Any]] = field(default_factory=dict)
    # a row carried an empty value ("" or null) under some column: the writer keeps empty values, so a documented
    # column in no row was dropped (ExportJudge.unjudged); a writer that drops nulls never shows one
    writes_empties: bool = False
    # the fast path, once a row has built it (FAST_TRIES rows may try), and its rows' signature entry
    _fast: _Fast | None = field(default=None, repr=False)
    _fast_tries: int = field(default=0, repr=False)
    _fast_seen: list[Any] = field(default_factory=lambda: [0, []], repr=False)

    def part(self) -> "BlobPart":
        """What this blob came to, without the export (picklable: a worker process sends it back)."""
        return BlobPart(name=self.name, rows=self.rows, tallies=self.tallies, signatures=self.signatures,
                        exchange=self.exchange, writes_empties=self.writes_empties)

    def tally(self, rule_id: str) -> Tally:
        t = self.tallies.get(rule_id)
        if t is None:
            t = self.tallies[rule_id] = Tally()
        return t

    def consume(self, lines: Iterable[tuple[int, bytes]]) -> None:
        """Judge every line: ``(line number, line)`` pairs, e.g. ``traffic.blob_stream.gunzip_lines``.

        Lines that come in batches (``gunzip_lines`` gives them so) are judged ``BATCH`` at a time once the fast
        path is built: a batch whose every row the fast path accepts is only counted, in a few C-level passes over
        its values; any other batch is judged line by line, which words the findings. The findings are the same
        either way (tests/unit/test_rows_batch.py)."""
        batches = getattr(lines, "batches", None)
        if batches is None or _msgspec is None:
            self._consume_lines(lines)
            return
        for first, pieces in batches():
            for at in range(0, len(pieces), BATCH):
                part = pieces[at:at + BATCH]
                if self._fast is None or not self._batch(first + at, part):
                    self._consume_lines((n, line) for n, line in enumerate(part, first + at)
                                        if line and not line.isspace())

    def _batch(self, first: int, lines: list[bytes]) -> bool:
        """Count ``lines`` (numbered from ``first``) as rows that break no rule, if the fast path accepts every one
        of them; False (nothing counted) when any one needs the line-by-line path. Accepts exactly what the fast
        path of ``_consume_lines`` accepts line by line."""
        fast = self._fast
        assert fast is not None and _msgspec is not None
        export = self.export
        try:
            typed = list(map(fast.decode, lines))  # a blank line is not JSON: that batch goes line by line
        except (_msgspec.ValidationError, _msgspec.DecodeError):
            return False
        try:
            if fast.period_pair is not None:
                # an empty start or end is no date-time: that batch goes line by line, which leaves its period alone
                when = _FAST_DATES.decode(b"[" + b",".join(fast.period_pair(typed)) + b"]")
                if any(map(operator.gt, when[0::2], when[1::2])):
                    return False  # the path below words the finding
            if fast.other_dates is not None:
                # every other date's JSON text, "" and null dropped (both allowed): a text of "", "" can only stand
                # between two values here (a string cannot hold it unescaped, and a container stays no date-time)
                texts = b"," + b",".join(fast.other_dates(typed)) + b","
                for empty in (b',"",', b",null,"):
                    while empty in texts:
                        texts = texts.replace(empty, b",")
                _FAST_DATES.decode(b"[" + texts[1:-1] + b"]")
        except (_msgspec.ValidationError, _msgspec.DecodeError, TypeError):  # TypeError: a zone against none
            return False
        if fast.numbers is not None:
            numbers = list(fast.all_numbers(typed))
            joined = _SEP.join(numbers)
            if not _NUMBERS.fullmatch(joined) or joined.count(_SEP) != len(numbers) - 1:
                return False
        if fast.keys is not None and not all(map(str.strip, fast.all_keys(typed))):
            return False
        if fast.invoice is not None:
            expected, folded = export.expected_value, export.invoice_folded
            if any(v != expected and v.strip().casefold() != folded for v in set(map(fast.invoice, typed))):
                return False
        if fast.charge is not None:
            known = export.charge_type_known
            if any(known.get(v) is not True for v in set(map(fast.charge, typed))):
                return False
        if not self.writes_empties and any(map(_EMPTY_VALUE.search, lines)):
            self.writes_empties = True
        count = len(typed)
        self.rows += count
        seen = self._fast_seen
        if seen[0] < EXAMPLES:
            seen[1].extend(range(first, first + min(count, EXAMPLES - seen[0])))
        seen[0] += count
        return True

    def _consume_lines(self, lines: Iterable[tuple[int, bytes]]) -> None:
        """Judge every line, one at a time. The hot loop: a row costs one parse, one look-up of its (keys, value
        types) signature, a regex per text value that must hold a number or a date, and the cross-column
        comparisons."""
        export = self.export
        checks = export.checks
        expected = export.expected_value
        expected_folded = export.invoice_folded
        match_rule = export.match_rule
        ct_known = export.charge_type_known
        rows = 0
        tally = self.tally
        # None: the first row (an empty object too) always looks its checks up
        last_keys: tuple[str, ...] | None = None
        last_types: tuple[type, ...] | None = None
        c = _NO_CHECKS  # replaced by the first row's
        signatures = self.signatures
        seen: list[Any] = [0, []]
        dates_ok, date_ok, numbers_ok, number_ok = _DATES.fullmatch, _DATE.fullmatch, _NUMBERS.fullmatch, _NUMBER.fullmatch
        # The fast path: a row that decodes into the export's typed row (every column of its first row present,
        # typed as in that row, dates as RFC 3339 date-times, no other column) whose texts hold (numbers, key columns,
        # the invoice, a known charge type) and whose charge period is in order breaks no rule; it is only counted.
        # Any other line takes the path below, which words the findings. msgspec validates types and dates in C;
        # the texts are checked here (msgspec's own pattern constraints cost twice as much as the whole decode).
        fast: Any = None
        fast_errors: tuple[type[Exception], ...] = (_msgspec.ValidationError, _msgspec.DecodeError) if _msgspec is not None else ()
        fast_tries = self._fast_tries if _msgspec is not None else FAST_TRIES  # rows the fast path may be built from
        fast_seen: list[Any] = self._fast_seen
        f_dates = f_numbers = f_keys = f_invoice = f_charge = None
        f_nseps = 0
        period = False
        built: _Fast | None = self._fast
        if built is not None:
            fast, f_dates, period, f_numbers, f_nseps = built.decode, built.dates, built.period, built.numbers, built.number_seps
            f_keys, f_invoice, f_charge = built.keys, built.invoice, built.charge
        read_dates = _FAST_DATES.decode if _msgspec is not None else None
        empty_raw, null_raw = _EMPTY_RAW, _NULL_RAW
        strip = str.strip
        empties = self.writes_empties
        try:
            for number, line in lines:
                if not empties and _EMPTY_VALUE.search(line) is not None:
                    empties = self.writes_empties = True
                if fast is not None:
                    try:
                        typed = fast(line)
                    except fast_errors:
                        typed = None
                    if typed is not None:
                        if f_dates is not None:
                            raws = f_dates(typed)
                            kept = [r for r in raws if r != empty_raw and r != null_raw]  # both allowed
                            try:
                                when = read_dates(b"[" + b",".join(kept) + b"]")
                            except fast_errors:
                                typed = None
                            else:
                                if period and len(kept) > 1 and raws[0] is kept[0] and raws[1] is kept[1]:
                                    try:
                                        if when[0] > when[1]:
                                            typed = None  # the path below words the finding
                                    except TypeError:  # one with a zone, one without: read as UTC below
                                        typed = None
                        if typed is not None and f_numbers is not None:
                            joined = _SEP.join(f_numbers(typed))
                            if not numbers_ok(joined) or joined.count(_SEP) != f_nseps:
                                typed = None
                        if typed is not None and f_keys is not None and not all(map(strip, f_keys(typed))):
                            typed = None
                        if typed is not None and f_invoice is not None:
                            value = f_invoice(typed)
                            if value != expected and value.strip().casefold() != expected_folded:
                                typed = None
                        if typed is not None and f_charge is not None and ct_known.get(f_charge(typed)) is not True:
                            typed = None
                        if typed is not None:
                            rows += 1
                            n = fast_seen[0] = fast_seen[0] + 1
                            if n <= EXAMPLES:
                                fast_seen[1].append(number)
                            continue
                try:
                    row = _loads(line)
                except _DecodeError as exc:
                    tally("GR-BLOB-GZIP-JSONL").add(number, "", f"not JSON ({exc}): {line[:120]!r}")
                    continue
                if type(row) is not dict:
                    tally("GR-BLOB-GZIP-JSONL").add(number, "", f"a JSON {type(row).__name__}, not an object")
                    continue
                rows += 1
                if fast is None and fast_tries < FAST_TRIES:
                    fast_tries += 1
                    built = export.fast_decoder(row, self.name, number)
                    if built is not None:
                        fast, f_dates, period, f_numbers, f_nseps = built.decode, built.dates, built.period, built.numbers, built.number_seps
                        f_keys, f_invoice, f_charge = built.keys, built.invoice, built.charge
                        fast_seen = self._fast_seen = signatures.setdefault(
                            (tuple(k for k in row if k in export.fast_keys), None), [0, [], None])
                        self._fast = built
                values = tuple(row.values())
                keys, types = tuple(row), tuple(map(type, values))
                if keys != last_keys or types != last_types:  # rows of an export share a few signatures
                    compiled = checks.get((keys, types))
                    c = compiled if compiled is not None else export.compile((keys, types), self.name, number)
                    last_keys, last_types = keys, types
                    entry = signatures.get((keys, types))
                    if entry is None:
                        entry = signatures[(keys, types)] = [0, [], values]
                    seen = entry
                n = seen[0] = seen[0] + 1
                if n <= EXAMPLES:
                    seen[1].append(number)
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
                        tally(match_rule).add(number, c.invoice_key, value)
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
            self._fast_tries = fast_tries


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


_NO_CHECKS = _Checks(fixed=())


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


def _of_kind(kind: str, value: Any) -> bool:
    """Whether ``value`` is a non-null value of a column of this kind (its text checked as the rows' would be)."""
    t = type(value)
    if value is None or not _type_ok(kind, t):
        return False
    if t is str:
        if kind == "N":
            return bool(_NUMBER.fullmatch(value))
        if kind == "D":
            return bool(value) and bool(_DATE.fullmatch(value))
        if kind == "M":
            return bool(value.strip().isdigit())
    return True


def _similarity(a: str, b: str) -> float:
    from difflib import SequenceMatcher

    return SequenceMatcher(None, a.casefold(), b.casefold()).ratio()


# an empty value under a key in a JSON line: ``"k":""`` or ``"k": null`` (whitespace as JSON allows it)
_EMPTY_VALUE = re.compile(rb'"\s*:\s*(?:""|null)\s*[,}]')

# A row's non-empty dates, as one JSON array: msgspec reads RFC 3339 date-times in C, and what it accepts _DATE
# accepts too (tests/unit/test_rows_pool.py); anything else takes the full path, which words the finding.
_FAST_DATES: Any = _msgspec.json.Decoder(list[datetime]) if _msgspec is not None else None
_EMPTY_RAW, _NULL_RAW = (_msgspec.Raw(b'""'), _msgspec.Raw(b"null")) if _msgspec is not None else (None, None)


def _attr_getter(names: list[str]) -> Any:
    """A getter of these attributes that always returns a tuple; None when there are none."""
    if not names:
        return None
    if len(names) == 1:
        only = names[0]
        return lambda obj: (getattr(obj, only),)
    return operator.attrgetter(*names)


def _column_values(names: list[str]) -> Any:
    """Over a list of decoded rows: an iterator of these attributes' values, row after row; None when there are
    none. A C-level pass (no Python call per row)."""
    if not names:
        return None
    if len(names) == 1:
        get = operator.attrgetter(names[0])
        return lambda rows: map(get, rows)
    gets = operator.attrgetter(*names)
    return lambda rows: chain.from_iterable(map(gets, rows))


def _strings(value: list[Any]) -> bool:
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
    checks: dict[Signature, _Checks] = field(default_factory=dict)
    casing_first: dict[str, str] = field(default_factory=dict)  # re-spelled key -> the spelling first seen
    columns: set[str] = field(default_factory=set)  # canonical columns seen in any row
    unknown_columns: set[str] = field(default_factory=set)
    charge_type_known: dict[Any, bool] = field(default_factory=dict)
    currency: str | None = None  # an unbilled export's currencyCode: its rows' currency column must say it
    fast_keys: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        # billed: InvoiceNumber is the invoiceId (GR-ROW-INVOICE); unbilled: the currency column is the currencyCode
        # (GR-ROW-CURRENCY). The same comparison in the engine, on the column and value the member names.
        if self.invoice_id is None and self.currency and self.rules.currency_column:
            self.expected_value: str | None = self.currency
            self.match_rule, self.match_column = "GR-ROW-CURRENCY", self.rules.currency_column
        else:
            self.expected_value = self.invoice_id
            self.match_rule, self.match_column = "GR-ROW-INVOICE", "InvoiceNumber"
        self.invoice_folded = (self.expected_value or "").strip().casefold()
        self.attribute_set = (self.attribute_set or "full").casefold()

    @property
    def rows(self) -> int:
        return sum(b.rows for b in self.blobs)

    def blob(self, name: str, exchange: Exchange | None = None) -> BlobJudge:
        judge = BlobJudge(export=self, name=name, exchange=exchange)
        self.blobs.append(judge)
        return judge

    def merge(self, part: "BlobPart") -> BlobJudge:
        """Adopt a blob judged elsewhere (a worker process); merged in manifest order, the findings are the same as
        if this judge had read the blob itself."""
        judge = BlobJudge(export=self, name=part.name, exchange=part.exchange, rows=part.rows, tallies=part.tallies,
                          signatures=part.signatures, writes_empties=part.writes_empties)
        by_folded = self.rules.by_folded
        for keys, _types in part.signatures:
            for key in keys:
                canonical = by_folded.get(key.casefold())
                if canonical is None:
                    self.unknown_columns.add(key)
                else:
                    self.columns.add(canonical)
        self.blobs.append(judge)
        return judge

    def plan_for(self, keys: tuple[str, ...], blob: str, line: int) -> _Plan:
        """The columns of a key tuple: canonical names, kinds, absent required ones, unknown and re-spelled keys."""
        plan = self.plans.get(keys)
        if plan is not None:
            return plan
        by_folded, kinds = self.rules.by_folded, self.rules.kinds
        checks, unknown = [], []
        seen: dict[str, str] = {}
        for key in keys:
            canonical = by_folded.get(key.casefold())
            if canonical is None:
                unknown.append(key)
                self.unknown_columns.add(key)
                continue
            if canonical in seen:  # the same column twice in one row: GR-ROW-CASING-CONSISTENT (findings())
                continue
            seen[canonical] = key
            checks.append((key, canonical, kinds[canonical]))
        self.columns.update(seen)
        full = self.attribute_set == "full"
        missing = tuple(c for c in self.rules.required if c not in seen) if full else ()
        plan = _Plan(checks=tuple(checks), missing=missing, unknown=tuple(unknown),
                     invoice=seen.get(self.match_column), charge_type=seen.get("ChargeType"),
                     start=seen.get("ChargeStartDate"), end=seen.get("ChargeEndDate"))
        self.plans[keys] = plan
        return plan

    def fast_decoder(self, row: dict[str, Any], blob: str, line: int) -> _Fast | None:
        """The fast path for rows shaped like ``row`` (its documented keys, its value types): a msgspec decoder and
        getters of the texts to check (dates, numeric texts, key columns, invoice, charge type, charge period);
        None when msgspec is missing or the row cannot make one (a required column absent or null)."""
        if _msgspec is None:
            return None
        keys = tuple(row)
        plan = self.plan_for(keys, blob, line)
        if not plan.checks:
            return None
        if self.attribute_set == "full" and any(c not in {canonical for _k, canonical, _kd in plan.checks}
                                                for c in self.rules.required):
            return None
        fields: list[tuple[str, Any]] = []
        dates: list[str] = []
        numbers: list[str] = []
        key_columns: list[str] = []
        invoice = charge = None
        for key, canonical, kind in plan.checks:
            value = row[key]
            if canonical == self.match_column and self.expected_value is not None and kind != "K":
                return None  # the matched column (invoice or currency) is compared on the full path
            if kind == "K":
                if type(value) is not str:
                    return None
                kind_type: Any = str
                if canonical == self.match_column and self.expected_value is not None:
                    invoice = key
                elif canonical == "ChargeType":
                    charge = key
                    key_columns.append(key)  # known, and not empty (an empty one is GR-ROW-COLUMN-TYPES')
                else:
                    key_columns.append(key)
            elif kind == "N" and type(value) is str:
                kind_type = str  # this export writes its decimals as text: each is checked as a number
                numbers.append(key)
            elif kind == "N":
                kind_type = float | None
            elif kind == "D":
                kind_type = _msgspec.Raw  # its JSON text: the row's dates are read together (_FAST_DATES)
                dates.append(key)
            else:
                kind_type = {"S": str | None, "M": int | str | None, "Q": list[str] | str | None}[kind]
            fields.append((key, kind_type))
        try:
            struct = _msgspec.defstruct("ExportRowFast", fields, forbid_unknown_fields=True, gc=False)
            decoder = _msgspec.json.Decoder(struct)
        except (TypeError, ValueError):
            return None
        self.fast_keys = frozenset(k for k, _c, _kd in plan.checks)
        start, end = plan.start, plan.end
        period = start is not None and end is not None and start in dates and end in dates
        if start is not None and end is not None and period:  # start and end first: the period compares the first two dates read
            dates = [start, end] + [d for d in dates if d not in (start, end)]
        return _Fast(decode=decoder.decode, dates=_attr_getter(dates), period=period, numbers=_attr_getter(numbers),
                     number_seps=max(len(numbers) - 1, 0), keys=_attr_getter(key_columns),
                     invoice=operator.attrgetter(invoice) if invoice else None,
                     charge=operator.attrgetter(charge) if charge else None,
                     period_pair=_column_values(dates[:2]) if period else None,
                     other_dates=_column_values(dates[2:] if period else dates),
                     all_numbers=_column_values(numbers), all_keys=_column_values(key_columns))

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
        c = _Checks(fixed=tuple(fixed), nonempty=tuple(nonempty), lists=tuple(lists), integral=tuple(integral),
                    date_columns=tuple(dates), number_columns=tuple(numbers),
                    dates=_getter([i for i, _ in dates]), numbers=_getter([i for i, _ in numbers]),
                    date_seps=max(len(dates) - 1, 0), number_seps=max(len(numbers) - 1, 0))
        def str_at(key: str | None) -> str | None:
            return key if key is not None and types[index[key]] is str else None

        invoice, charge_type, start, end = str_at(plan.invoice), str_at(plan.charge_type), str_at(plan.start), str_at(plan.end)
        if invoice is not None:
            c.invoice, c.invoice_key = index[invoice], invoice
        if charge_type is not None:
            c.charge_type, c.charge_type_key = index[charge_type], charge_type
        if start is not None and end is not None:
            c.start, c.end, c.start_key = index[start], index[end], start
        self.checks[signature] = c
        return c

    # -------------------------------------------------------------- findings

    def findings(self) -> list[Finding]:
        """One finding per rule per blob, then the export-wide ones (columns never seen, basic list)."""
        found: list[Finding] = []
        casing = self.casing_tallies()
        for blob, blob_casing in zip(self.blobs, casing):
            tallies = dict(blob.tallies)
            if blob_casing.count:
                tallies["GR-ROW-CASING-CONSISTENT"] = blob_casing
            for rule_id, tally in tallies.items():
                found.append(_blob_finding(rule_id, tally, blob, self))
        found += self.missing_columns()
        found += self.renamed_columns()
        found += self.basic_documented()
        found += self.basic_columns()
        return found

    def casing_tallies(self) -> list[Tally]:
        """GR-ROW-CASING-CONSISTENT per blob: rows spelling a column otherwise than the export's first row with it
        (blobs in manifest order), or spelling it twice. Judged from the signatures, so merged blobs agree."""
        by_folded = self.rules.by_folded
        first: dict[str, str] = {}
        for blob in self.blobs:
            for keys, _types in blob.signatures:
                for key in keys:
                    canonical = by_folded.get(key.casefold())
                    if canonical is not None:
                        first.setdefault(canonical, key)
        out = []
        for blob in self.blobs:
            tally = Tally()
            examples: list[tuple[int, str, Any]] = []
            for (keys, _types), (count, lines, _values) in blob.signatures.items():
                bad: list[str] = []
                in_row: set[str] = set()
                for key in keys:
                    canonical = by_folded.get(key.casefold())
                    if canonical is None:
                        continue
                    if canonical in in_row or first[canonical] != key:
                        bad.append(key)
                        self.casing_first[key] = first[canonical]
                    in_row.add(canonical)
                if bad:
                    tally.count += count
                    for key in bad:
                        tally.columns[key] = tally.columns.get(key, 0) + count
                    examples += [(line, bad[0], _ABSENT) for line in lines]
            tally.examples = sorted(examples)[:EXAMPLES]
            out.append(tally)
        return out

    def renamed_columns(self) -> list[Finding]:
        """GR-ROW-COLUMN-RENAMED: a documented column missing from some rows, and an undeclared column carrying a
        value of its type in exactly those rows, the two never together (a rename, not a dropped null)."""
        by_folded, kinds = self.rules.by_folded, self.rules.kinds
        total = self.rows
        present: dict[str, int] = {}  # canonical -> rows carrying it
        unknown: dict[str, int] = {}  # undeclared key -> rows carrying it
        sigs = []  # (blob, canonical -> index, unknown key -> index, types, count, lines, values)
        for blob in self.blobs:
            for (keys, types), (count, lines, values) in blob.signatures.items():
                documented: dict[str, int] = {}
                extra: dict[str, int] = {}
                for i, key in enumerate(keys):
                    canonical = by_folded.get(key.casefold())
                    if canonical is None:
                        extra[key] = i
                    else:
                        documented.setdefault(canonical, i)
                for canonical in documented:
                    present[canonical] = present.get(canonical, 0) + count
                for key in extra:
                    unknown[key] = unknown.get(key, 0) + count
                sigs.append((blob, documented, extra, types, count, lines, values))
        found: list[Finding] = []
        for column, rows_with in sorted(present.items()):
            missing = total - rows_with
            if not missing:
                continue  # in every row (a column in none is GR-ROW-REQUIRED-COLUMNS' business)
            candidates = []
            for key, rows_key in sorted(unknown.items()):
                if rows_key != missing:
                    continue
                typed = True
                for _blob, documented, extra, types, _count, _lines, values in sigs:
                    if key in extra and (column in documented or not _of_kind(kinds[column], values[extra[key]])):
                        typed = False
                        break
                if typed:
                    candidates.append(key)
            if not candidates:
                continue
            key = max(candidates, key=lambda k: (_similarity(column, k), k))
            where = [(blob, count, lines) for blob, documented, extra, _t, count, lines, _v in sigs if key in extra]
            per_blob: dict[str, list[Any]] = {}
            for blob, count, lines in where:
                entry = per_blob.setdefault(blob.name, [0, [], blob.exchange])
                entry[0] += count
                entry[1] += lines
            blobs_text = "; ".join(f"{name}: {n:,} row(s), first at line(s) {', '.join(map(str, sorted(ls)[:EXAMPLES]))}"
                                   for name, (n, ls, _x) in per_blob.items())
            example = next(v[extra[key]] for _b, _d, extra, _t, _c, _l, v in sigs if key in extra)
            first_exchange = next(iter(per_blob.values()))[2]
            found.append(_finding(
                "GR-ROW-COLUMN-RENAMED",
                f"column {column} is missing from {missing:,} of {total:,} rows, and exactly those rows carry the "
                f"undeclared column {key} with a value of {column}'s type (e.g. {_show(example)}); the two never "
                f"appear together: {column} was renamed {key}, not dropped as a null ({blobs_text})",
                first_exchange,
                expected=f"{column} (a documented column) under its own name in every row that has a value for it",
                actual=f"{key} in {missing:,} row(s) in place of {column}, never beside it",
                column=f"{column}, {key}", renamed_to=key, rows=total, count=missing,
                blob=", ".join(per_blob),
            ))
        return found

    def _absent_columns(self) -> list[str]:
        if self.attribute_set != "full" or not self.rows:
            return []
        return [c for c in self.rules.full_columns if c not in self.columns]

    def writes_nulls(self) -> bool:
        """Whether a row of this export carries an empty value ("" or null) under a column: a writer that keeps
        empty values (the register's SP-GR-ROW-NULLS "written"); one that drops them never shows one."""
        return any(blob.writes_empties for blob in self.blobs)

    def _missing_rule(self) -> str:
        return "GR-USAGE-FULL-COLUMNS" if self.rules.basic_columns else "GR-ROW-REQUIRED-COLUMNS"

    def unjudged(self) -> list[tuple[str, str]]:
        """(rule, why) for what these rows cannot settle. A documented column in no row of a full export is a column
        dropped, or one that is null in every row of an export whose writer drops nulls (Spark's ignoreNullFields:
        contracts/silent-points.yaml SP-GR-ROW-NULLS; a partner without reservations has no reservationOrderId in
        any row). Rows that carry an empty value somewhere show a writer that keeps them, and then the absence is
        drift (:meth:`missing_columns`); rows that carry none cannot tell the two apart: the rule is unproven.
        An empty value is ``""`` or ``null`` under a key (``_EMPTY_VALUE``, looked for in each line until found)."""
        absent = self._absent_columns()
        if not absent or self.writes_nulls():
            return []
        return [(self._missing_rule(), f"{len(absent)} documented column(s) appear in none of the {self.rows:,} rows "
                 f"of this full export ({', '.join(absent)}), and no row carries an empty value: the writer may drop "
                 "nulls (SP-GR-ROW-NULLS), so a column dropped cannot be told from one that is null in every row")]

    def missing_columns(self) -> list[Finding]:
        """A full export carries every documented column somewhere (a column in no row was dropped or renamed),
        judged where the rows show a writer that keeps nulls (else :meth:`unjudged` says why it is unproven)."""
        absent = self._absent_columns()
        if not absent or not self.writes_nulls():
            return []
        unknown = sorted(self.unknown_columns)
        hint = f"; columns the spec does not declare: {', '.join(unknown[:10])}" if unknown else ""
        first = self.blobs[0] if self.blobs else None
        return [_finding(
            self._missing_rule(),
            f"{len(absent)} documented column(s) appear in none of the {self.rows:,} rows of this full export: "
            f"{', '.join(absent)}{hint}",
            first.exchange if first else None,
            expected=f"every documented column of a full export ({self.rules.schema} x-full-columns) in its rows",
            actual=f"columns seen: {', '.join(sorted(self.columns))}",
            column=", ".join(absent), rows=self.rows,
        )]

    def basic_columns(self) -> list[Finding]:
        """GR-USAGE-BASIC-COLUMNS: a basic export of a member with a documented Full/Basic table carries none of the
        columns the table marks full only."""
        if self.attribute_set != "basic" or not self.rows or not self.rules.basic_columns:
            return []
        extra = sorted(c for c in self.columns if c in self.rules.documented_columns and c not in self.rules.basic_columns)
        if not extra:
            return []
        first = self.blobs[0] if self.blobs else None
        return [_finding(
            "GR-USAGE-BASIC-COLUMNS",
            f"this basic export carries {len(extra)} column(s) the attributeSet table marks full only: {', '.join(extra)}",
            first.exchange if first else None,
            expected=f"only the table's Basic attributes: {', '.join(sorted(self.rules.basic_columns))}",
            actual=f"basic columns: {', '.join(sorted(self.columns))}", column=", ".join(extra), rows=self.rows,
        )]

    def basic_documented(self) -> list[Finding]:
        """Advisory: where a basic export differs from the usage exports' documented basic list, on shared columns."""
        if self.attribute_set != "basic" or not self.rows or self.rules.basic_columns:
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
    "GR-ROW-CURRENCY": ("in another currency", "the currency column == the requested currencyCode"),
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


def _schema_words(rule_id: str, column: str, value: Any, export: "ExportJudge") -> str:
    """What jsonschema says about this value against the column's schema (the reference words)."""
    if rule_id not in {"GR-ROW-COLUMN-TYPES", "GR-ROW-DATES"} or value is _ABSENT:
        return ""
    messages = load_spec("graph").validate({column: value}, export.rules.schema)
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
        examples = [f"line {line}: {column + ' ' if column else ''}{_show(value)}{_schema_words(rule_id, column, value, export)}"
                    for line, column, value in tally.examples]
    noun = "line" if rule_id == "GR-BLOB-GZIP-JSONL" else "row"
    of = f" of {total:,}" if rule_id != "GR-BLOB-GZIP-JSONL" else ""
    message = (f"blob {blob.name}: {tally.count:,}{of} {noun}{'s' if total != 1 or tally.count != 1 else ''} {what}"
               + (f": {column_text}" if column_text else "")
               + f"; first at line{'s' if len(tally.examples) > 1 else ''} "
               + ", ".join(str(e[0]) for e in tally.examples))
    if rule_id == "GR-ROW-INVOICE":
        expected = f"InvoiceNumber == {export.invoice_id!r} (the requested invoiceId)"
    if rule_id == "GR-ROW-CURRENCY":
        expected = f"{export.match_column} == {export.currency!r} (the requested currencyCode)"
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


def judge_for(kind_name: str | None = None, *, invoice_id: str | None = None, attribute_set: str | None = "full",
              currency: str | None = None) -> ExportJudge:
    """The row judge of one export of the family member ``kind_name`` (default billed reconciliation): its row
    schema, and the invoice (billed) or currency (unbilled) its rows must carry."""
    from ..truth.exports import BILLED_RECONCILIATION, KINDS

    kind = KINDS.get(kind_name or "", BILLED_RECONCILIATION)
    rules = RowRules.load(kind.row_schema, billed=kind.billed)
    return ExportJudge(rules, invoice_id=invoice_id if kind.billed else None, attribute_set=attribute_set or "full",
                       currency=None if kind.billed else currency)


@check(GR_EXPORT_ROWS, rules=(
    "GR-BLOB-GZIP-JSONL", "GR-ROW-REQUIRED-COLUMNS", "GR-ROW-COLUMN-TYPES", "GR-ROW-DATES", "GR-ROW-CHARGE-PERIOD",
    "GR-ROW-INVOICE", "GR-ROW-CURRENCY", "GR-ROW-CASING-CONSISTENT", "GR-ROW-UNKNOWN-COLUMN", "GR-ROW-CHARGE-TYPE-UNKNOWN",
    "GR-ROW-BASIC-DOCUMENTED", "GR-ROW-COLUMN-RENAMED", "GR-USAGE-FULL-COLUMNS", "GR-USAGE-BASIC-COLUMNS",
))
def check_export_rows(judge: ExportJudge) -> list[Finding]:
    """Every row rule over the rows of one export's blobs, as the judge tallied them: one finding per rule per blob."""
    return judge.findings()
