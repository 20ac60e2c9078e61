"""Migration parity: Partner Center v1 unbilled line items against the Graph unbilled reconciliation export.

The two sides of one (currency, period) are matched by key and compared field by field through
``contracts/migration-v1-to-graph.yaml`` (v1 ``previous`` is Graph ``last``). Money is compared within its
precision, dates as instants in any zone. What differs becomes advisory ``MIGRATION-*`` findings and a parity
table.

It streams: each side's items are normalised as they arrive (a page of line items, a line of a blob) and spilled
to one of ``PARTITIONS`` files per side by a hash of their key; the join then reads one partition pair at a time.
Memory holds one partition of one side, so it stays flat at hundreds of thousands of items.

    join = ParityJoin(mapping())
    for item in v1_items: join.add_v1(item)
    for line in blob_lines: join.add_graph_line(line)
    result = join.finish()          # ParityResult: counts, differences by field, examples
    findings = result.findings()    # MIGRATION-ONLY-IN-V1, MIGRATION-ONLY-IN-GRAPH, MIGRATION-FIELD-DIFFERS
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import IO, Any

from .rows import row_datetime
from ..findings import Finding, finding
from ..truth.rules import load_yaml
from .registry import PARITY, check

MAPPING_FILE = "migration-v1-to-graph.yaml"
PARTITIONS = 256
EXAMPLES = 3
ABSENT = "\u2205absent"  # a Graph row without the column (or a v1 item without the field)
_PLACES = {"money": Decimal("0.01"), "decimal": Decimal("0.000001")}


@dataclass(frozen=True)
class FieldMap:
    v1: str
    graph: tuple[str, ...]  # the Graph column and its other spellings
    kind: str
    status: str  # documented | inferred
    note: str = ""


@dataclass(frozen=True)
class Mapping:
    key: tuple[str, ...]
    fields: tuple[FieldMap, ...]
    period: dict[str, str]

    def graph_period(self, period: str) -> str:
        return self.period.get(period.strip().lower(), period.strip().lower())


@cache
def mapping() -> Mapping:
    """contracts/migration-v1-to-graph.yaml, loaded once."""
    raw = load_yaml(MAPPING_FILE)
    fields = tuple(FieldMap(v1=f["v1"], graph=tuple(f["graph"]), kind=f["kind"], status=f["status"],
                            note=f.get("note", "")) for f in raw["fields"])
    period = {k: v for k, v in raw["period"].items() if isinstance(v, str)}
    return Mapping(key=tuple(raw["key"]), fields=fields, period=period)


# ------------------------------------------------------------------ normalisation: one comparable text per value


def normalise(kind: str, value: Any) -> str:
    """The comparable form of a value of ``kind`` ("" for empty or null)."""
    if value is None or value == "" or value == []:
        return ""
    if kind in _PLACES:
        try:
            number = Decimal(str(value).strip())
        except (InvalidOperation, ValueError):
            return f"not a number: {value!r}"
        return str(number.quantize(_PLACES[kind]).normalize() + 0)
    if kind == "date":
        text = str(value).strip()
        when = row_datetime(text)
        if when is None:
            return f"not a date: {text}"
        if len(text) <= 10 or "T" not in text and ":" not in text:
            return when.date().isoformat()  # a date without a time compares as that date
        return when.isoformat()
    if kind == "list":
        items = value
        if isinstance(value, str):
            try:
                items = json.loads(value)
            except ValueError:
                items = [value]
        if not isinstance(items, list):
            items = [items]
        return "|".join(sorted(str(i).strip().casefold().replace("-", "") for i in items))
    text = str(value).strip()
    if kind == "id":
        text = text.casefold()
        return text[4:] if text.startswith("org:") else text
    return text


def _partition(key: str) -> int:
    return zlib.crc32(key.encode()) % PARTITIONS


# ------------------------------------------------------------------ the result


@dataclass
class FieldTally:
    field: FieldMap
    compared: int = 0
    differ: int = 0
    absent: int = 0  # matched items whose Graph row lacks the column
    # (key, v1, graph); dataclasses.field: the name ``field`` is this class's own
    examples: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)


@dataclass
class ParityResult:
    currency: str
    period: str
    graph_period: str
    v1_items: int = 0
    graph_rows: int = 0
    matched: int = 0
    only_v1: int = 0
    only_graph: int = 0
    items_differing: int = 0
    only_v1_examples: list[str] = field(default_factory=list)
    only_graph_examples: list[str] = field(default_factory=list)
    fields: dict[str, FieldTally] = field(default_factory=dict)
    graph_unknown_columns: Counter[str] = field(default_factory=Counter)
    unreadable_graph_lines: int = 0

    @property
    def agrees(self) -> bool:
        return not (self.only_v1 or self.only_graph or self.items_differing)

    def findings(self) -> list[Finding]:
        """One advisory finding per kind of difference (never per item)."""
        out: list[Finding] = []
        scope = f"{self.currency} {self.period} (Graph billingPeriod {self.graph_period})"
        if self.only_v1:
            out.append(finding("MIGRATION-ONLY-IN-V1", f"{self.only_v1:,} of {self.v1_items:,} Partner Center v1 unbilled "
                               f"line items of {scope} have no row with their key in the Graph unbilled reconciliation "
                               f"export; first: {'; '.join(self.only_v1_examples)}", None, api="any", operation="parity",
                               expected="every v1 item in the export", actual=f"{self.only_v1:,} missing",
                               count=self.only_v1))
        if self.only_graph:
            out.append(finding("MIGRATION-ONLY-IN-GRAPH", f"{self.only_graph:,} of {self.graph_rows:,} rows of the Graph "
                               f"unbilled reconciliation export of {scope} have no v1 line item with their key; first: "
                               f"{'; '.join(self.only_graph_examples)}", None, api="any", operation="parity",
                               expected="every export row among the v1 items", actual=f"{self.only_graph:,} extra",
                               count=self.only_graph))
        for tally in self.fields.values():
            if not tally.differ:
                continue
            f = tally.field
            hint = ""
            if tally.absent:
                unknown = ", ".join(c for c, _ in self.graph_unknown_columns.most_common(5))
                hint = f"; {tally.absent:,} rows lack {f.graph[0]}" + (f" (undeclared columns seen: {unknown})" if unknown else "")
            examples = "; ".join(f"{k}: v1 {a!r}, Graph {b!r}" for k, a, b in tally.examples)
            out.append(finding("MIGRATION-FIELD-DIFFERS", f"{f.v1} -> {f.graph[0]} ({f.kind}, mapping {f.status}): "
                               f"{tally.differ:,} of {tally.compared:,} matched items differ{hint}; first: {examples}",
                               None, api="any", operation="parity", expected=f"equal {f.kind} values",
                               actual=f"{tally.differ:,} differ", field=f.v1, column=f.graph[0], count=tally.differ))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "currency": self.currency, "period": self.period, "graph_billing_period": self.graph_period,
            "v1_items": self.v1_items, "graph_rows": self.graph_rows, "matched": self.matched,
            "only_in_v1": self.only_v1, "only_in_graph": self.only_graph, "items_with_differences": self.items_differing,
            "agrees": self.agrees, "unreadable_graph_lines": self.unreadable_graph_lines,
            "fields": [{"v1": t.field.v1, "graph": t.field.graph[0], "kind": t.field.kind, "mapping": t.field.status,
                        "compared": t.compared, "differ": t.differ, "absent_in_graph": t.absent,
                        "examples": [{"key": k, "v1": a, "graph": b} for k, a, b in t.examples]}
                       for t in self.fields.values()],
            "examples": {"only_in_v1": self.only_v1_examples, "only_in_graph": self.only_graph_examples},
        }

    def table(self) -> str:
        """The parity table (Markdown): the counts, then every mapped field with its differences."""
        lines = [
            "## Migration parity: Partner Center v1 unbilled line items vs Graph unbilled reconciliation export",
            "",
            f"{self.currency}, v1 period `{self.period}` = Graph billingPeriod `{self.graph_period}`",
            "",
            "| v1 items | Graph rows | matched | only in v1 | only in Graph | matched items with differences |",
            "|---:|---:|---:|---:|---:|---:|",
            f"| {self.v1_items:,} | {self.graph_rows:,} | {self.matched:,} | {self.only_v1:,} | {self.only_graph:,} "
            f"| {self.items_differing:,} |",
            "",
            "| v1 field | Graph column | compared as | mapping | compared | differ | first difference |",
            "|---|---|---|---|---:|---:|---|",
        ]
        for t in sorted(self.fields.values(), key=lambda t: (-t.differ, t.field.v1)):
            first = t.examples[0] if t.examples else None
            shown = f"`{first[1]}` vs `{first[2]}` ({first[0]})" if first else ""
            lines.append(f"| {t.field.v1} | {t.field.graph[0]} | {t.field.kind} | {t.field.status} | {t.compared:,} "
                         f"| {t.differ:,} | {shown} |")
        return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ the join


class ParityJoin:
    """Both sides, normalised and spilled by key hash as they arrive; ``finish`` joins one partition at a time."""

    def __init__(self, mapping_: Mapping | None = None, *, currency: str = "USD", period: str = "current",
                 workdir: str | Path | None = None) -> None:
        self.mapping = mapping_ or mapping()
        self.result = ParityResult(currency=currency, period=period, graph_period=self.mapping.graph_period(period))
        self._dir = Path(tempfile.mkdtemp(prefix="recon-parity-", dir=workdir))
        self._files: dict[tuple[str, int], IO[str]] = {}
        by_v1 = {f.v1: f for f in self.mapping.fields}
        self._key_fields = [by_v1[k] for k in self.mapping.key]
        self._graph_names = {name.casefold(): f for f in self.mapping.fields for name in f.graph}
        from .rows import RowRules

        self._declared = set(RowRules.load().by_folded)  # ExportRow's columns, aliases included

    # -------------------------------------------------------------- feeding

    def _out(self, side: str, part: int) -> IO[str]:
        handle = self._files.get((side, part))
        if handle is None:
            handle = self._files[(side, part)] = (self._dir / f"{side}-{part:03d}.jsonl").open("w", encoding="utf-8")
        return handle

    def _spill(self, side: str, values: dict[str, str]) -> None:
        key = "|".join(values.get(f.v1, "") for f in self._key_fields)
        self._out(side, _partition(key)).write(json.dumps([key, values], separators=(",", ":")) + "\n")

    def add_v1(self, item: Any) -> None:
        if not isinstance(item, dict):
            return
        self.result.v1_items += 1
        self._spill("v1", {f.v1: normalise(f.kind, item[f.v1]) if f.v1 in item else ABSENT for f in self.mapping.fields})

    def add_graph(self, row: Any) -> None:
        if not isinstance(row, dict):
            self.result.unreadable_graph_lines += 1
            return
        self.result.graph_rows += 1
        values: dict[str, str] = {}
        for column, value in row.items():
            f = self._graph_names.get(column.casefold())
            if f is None:
                if column.casefold() not in self._declared:
                    self.result.graph_unknown_columns[column] += 1
                continue
            values[f.v1] = normalise(f.kind, value)
        for f in self.mapping.fields:
            values.setdefault(f.v1, ABSENT)
        self._spill("graph", values)

    def add_graph_line(self, _number: int, line: bytes) -> None:
        """A JSON line of an export blob (the driver's row tee)."""
        try:
            row = json.loads(line)
        except ValueError:
            self.result.unreadable_graph_lines += 1
            return
        self.add_graph(row)

    # -------------------------------------------------------------- joining

    def finish(self) -> ParityResult:
        """Join partition by partition; the spill files are removed."""
        for handle in self._files.values():
            handle.close()
        r = self.result
        r.fields = {f.v1: FieldTally(field=f) for f in self.mapping.fields}
        try:
            for part in range(PARTITIONS):
                graph_path, v1_path = self._dir / f"graph-{part:03d}.jsonl", self._dir / f"v1-{part:03d}.jsonl"
                # one partition of the Graph side in memory; a key twice is matched occurrence by occurrence
                graph: dict[str, list[dict[str, str]]] = {}
                if graph_path.exists():
                    with graph_path.open(encoding="utf-8") as handle:
                        for line in handle:
                            key, values = json.loads(line)
                            graph.setdefault(key, []).append(values)
                if v1_path.exists():
                    with v1_path.open(encoding="utf-8") as handle:
                        for line in handle:
                            key, values = json.loads(line)
                            others = graph.get(key)
                            other = others.pop(0) if others else None
                            if others is not None and not others:
                                del graph[key]
                            if other is None:
                                r.only_v1 += 1
                                if len(r.only_v1_examples) < EXAMPLES:
                                    r.only_v1_examples.append(key)
                                continue
                            r.matched += 1
                            self._compare(key, values, other)
                r.only_graph += sum(len(v) for v in graph.values())
                for key in list(graph)[: max(0, EXAMPLES - len(r.only_graph_examples))]:
                    r.only_graph_examples.append(key)
        finally:
            shutil.rmtree(self._dir, ignore_errors=True)
        return r

    def _compare(self, key: str, v1: dict[str, str], graph: dict[str, str]) -> None:
        differs = False
        for name, tally in self.result.fields.items():
            a, b = v1.get(name, ABSENT), graph.get(name, ABSENT)
            if a == ABSENT:
                continue  # the v1 item does not carry the field (SDK-only fields on older items): nothing to compare
            tally.compared += 1
            if b == ABSENT:
                if a == "":
                    continue  # an empty value the writer left out (Spark drops null fields)
                tally.absent += 1
            elif a == b:
                continue
            tally.differ += 1
            differs = True
            if len(tally.examples) < EXAMPLES:
                tally.examples.append((key[:80], a, "absent" if b == ABSENT else b))
        if differs:
            self.result.items_differing += 1

    def close(self) -> None:
        for handle in self._files.values():
            handle.close()
        shutil.rmtree(self._dir, ignore_errors=True)


@check(PARITY, rules=("MIGRATION-ONLY-IN-V1", "MIGRATION-ONLY-IN-GRAPH", "MIGRATION-FIELD-DIFFERS"))
def check_parity(result: ParityResult) -> list[Finding]:
    """The migration rules over a finished join of Partner Center v1 items with Graph rows (advisory)."""
    return result.findings()
