"""The row engine's batch path (checks/rows.py, ``BlobJudge._batch``): lines read in batches from a gzip stream are
judged exactly as the same lines judged one by one, whatever drift sits in which batch, and a conforming blob is
counted in batches, not line by line."""

from __future__ import annotations

import gzip
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recon_contracts.checks import rows as rows_module
from recon_contracts.checks.rows import BlobJudge, ExportJudge, RowRules
from recon_contracts.mock.data import export_row, line_item
from recon_contracts.traffic.blob_stream import StreamLimits, gunzip_lines

INVOICE = "G016907411"
BASE = [export_row(line_item(0, INVOICE, i, "USD"), "full") for i in range(40)]


def _set(column, value):
    def change(row):
        row[column] = value
        return json.dumps(row)
    return change


def _swap_period(row):
    row["ChargeStartDate"], row["ChargeEndDate"] = row["ChargeEndDate"], row["ChargeStartDate"]
    return json.dumps(row)


# Each changes one row (or its line): breaking drift, tolerated alternatives, and lines that are not rows at all.
CHANGES = {
    "period-reversed": _swap_period,
    "period-end-empty": _set("ChargeEndDate", ""),
    "period-end-null": _set("ChargeEndDate", None),
    "period-start-without-zone": _set("ChargeStartDate", "2023-03-19T22:28:20"),
    "date-unparsable": _set("OrderDate", "31.12.2024"),
    "date-other-empty": _set("OrderDate", ""),
    "number-as-text": _set("UnitPrice", "12.5"),
    "number-word": _set("UnitPrice", "twelve"),
    "number-null": _set("Quantity", None),
    "invoice-other": _set("InvoiceNumber", "G999999999"),
    "invoice-case": _set("InvoiceNumber", INVOICE.lower()),
    "charge-type-unknown": _set("ChargeType", "teleport"),
    "charge-type-spaced": _set("ChargeType", " NEW "),
    "key-empty": _set("ChargeType", ""),
    "key-blank": _set("ChargeType", "   "),
    "number-text": _set("UnitPrice", "12.5"),
    "number-text-separator": _set("UnitPrice", "1\u001f2"),
    "number-text-word": _set("UnitPrice", "twelve"),
    "column-unknown": lambda row: json.dumps({**row, "Surprise": "x"}),
    "column-dropped": lambda row: json.dumps({k: v for k, v in row.items() if k != "MeterDescription"}),
    "column-cased": lambda row: json.dumps({(k.lower() if k == "UnitPrice" else k): v for k, v in row.items()}),
    "blank-line": lambda row: "",
    "spaces-line": lambda row: "   ",
    "two-objects": lambda row: json.dumps(row) + " " + json.dumps(row),
    "not-json": lambda row: json.dumps(row)[:-1],
    "array": lambda row: json.dumps([row]),
    "crlf": lambda row: json.dumps(row) + "\r",
}


NUMBERS = [k for k, kind in RowRules.load().kinds.items() if kind == "N"]
EMPTY_SOMEWHERE = {k for row in BASE for k, v in row.items() if v in ("", None)}


def _row(i: int, numbers_as_text: bool, drop_empties: bool) -> dict:
    """A conforming row; its decimals written as JSON texts by one writer, its empty values dropped by another."""
    row = dict(BASE[i % len(BASE)])
    if numbers_as_text:
        row.update({k: str(row[k]) for k in NUMBERS if isinstance(row.get(k), (int, float))})
    if drop_empties:
        row = {k: v for k, v in row.items() if k not in EMPTY_SOMEWHERE}  # every row with the same columns
    return row


def _blob(changes: dict[int, str], n: int, numbers_as_text: bool = False, drop_empties: bool = False) -> bytes:
    lines = []
    for i in range(n):
        row = _row(i, numbers_as_text, drop_empties)
        lines.append(CHANGES[changes[i]](row) if i in changes else json.dumps(row))
    return gzip.compress(("\n".join(lines) + "\n").encode())


def _judge(blob: bytes, *, batches: bool, step: int) -> tuple:
    judge = ExportJudge(RowRules.load(), invoice_id=INVOICE)
    chunks = [blob[i:i + 97] for i in range(0, len(blob), 97)]
    lines = gunzip_lines(chunks, StreamLimits(step=step))
    b = judge.blob("part-00000-batch.c000.json.gz")
    b.consume(lines if batches else iter(list(lines)))  # a plain iterator: no batches, every line on its own
    findings = [(f.rule, f.message, f.expected, f.actual) for f in judge.findings()]
    return findings, b.rows, b.writes_empties, judge.unjudged(), b.signatures


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(1, 120), step=st.sampled_from([512, 4096, 65536]), batch=st.sampled_from([1, 3, 8, 256]),
       changes=st.dictionaries(st.integers(0, 119), st.sampled_from(sorted(CHANGES)), max_size=6),
       numbers_as_text=st.booleans(), drop_empties=st.booleans())
def test_batches_are_judged_exactly_as_lines_one_by_one(n, step, batch, changes, numbers_as_text, drop_empties):
    blob = _blob(changes, n, numbers_as_text, drop_empties)
    saved, rows_module.BATCH = rows_module.BATCH, batch  # Hypothesis runs many examples in one pytest test
    try:
        assert _judge(blob, batches=True, step=step) == _judge(blob, batches=False, step=step)
    finally:
        rows_module.BATCH = saved


@pytest.mark.parametrize("writer", ["numbers", "numbers-as-text", "empties-dropped"])
@pytest.mark.parametrize("change", sorted(CHANGES))
def test_each_change_in_a_long_blob_is_judged_as_line_by_line(change, writer, monkeypatch):
    """The change in two rows of different batches: the second comes after the line path has seen the first."""
    monkeypatch.setattr(rows_module, "BATCH", 16)
    blob = _blob({70: change, 150: change}, 200, writer == "numbers-as-text", writer == "empties-dropped")
    assert _judge(blob, batches=True, step=4096) == _judge(blob, batches=False, step=4096)


def test_a_conforming_blob_is_counted_in_batches(monkeypatch):
    taken = []
    original = BlobJudge._batch

    def spy(self, first, lines):
        ok = original(self, first, lines)
        taken.append((ok, len(lines)))
        return ok

    monkeypatch.setattr(BlobJudge, "_batch", spy)
    monkeypatch.setattr(rows_module, "BATCH", 32)
    findings, rows, *_ = _judge(_blob({}, 1000), batches=True, step=65536)
    assert (findings, rows) == ([], 1000)
    accepted = sum(size for ok, size in taken if ok)
    assert accepted >= 900, f"only {accepted} of 1,000 conforming rows were counted in batches: {taken[:5]}"


def test_a_drifted_row_in_a_batch_is_reported_with_its_line(monkeypatch):
    monkeypatch.setattr(rows_module, "BATCH", 32)
    findings, rows, *_ = _judge(_blob({500: "period-reversed", 733: "invoice-other"}, 1000), batches=True,
                                    step=65536)
    assert rows == 1000
    by_rule = {f[0]: f[1] for f in findings}
    assert "line 501" in by_rule["GR-ROW-CHARGE-PERIOD"], by_rule
    assert "line 734" in by_rule["GR-ROW-INVOICE"], by_rule

