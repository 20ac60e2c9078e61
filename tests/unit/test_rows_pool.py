"""Rows on every core (rows_pool.py), renamed columns (GR-ROW-COLUMN-RENAMED) and the typed fast path of the row
judge: the pool's report equals the single process's whatever the completion order, a rename in one blob is named,
a dropped null is not a rename, and a row the fast path accepts is one the full path finds nothing in."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pytest

from recon_contracts import rows_pool
from recon_contracts.checks import rows as rows_module
from recon_contracts.checks.rows import ExportJudge, RowRules, lines_of
from recon_contracts.mock import MockConfig, serve
from recon_contracts.mock.data import export_row, line_item
from recon_contracts.rows_pool import BlobTask, judge_blob, judge_export
from recon_contracts.traffic.auth import StaticToken
from recon_contracts.traffic.client import ApiClient, RequestBudget
from recon_contracts.drivers.graph_export import run_export

INVOICE = "G016907411"


def rows(n: int = 24, start: int = 0) -> list[dict]:
    return [export_row(line_item(0, INVOICE, i, "USD"), "full") for i in range(start, start + n)]


def rename(data: list[dict], old: str, new: str) -> list[dict]:
    return [{(new if k == old else k): v for k, v in r.items()} for r in data]


def write_blobs(tmp_path: Path, blobs: list[list[dict]]) -> list[Path]:
    paths = []
    for k, data in enumerate(blobs):
        path = tmp_path / f"part-{k:05d}-pool.c000.json.gz"
        path.write_bytes(gzip.compress(b"".join(json.dumps(r).encode() + b"\n" for r in data)))
        paths.append(path)
    return paths


def tasks_of(paths: list[Path], attribute_set: str = "full") -> list[BlobTask]:
    return [BlobTask(index=i, name=p.name, invoice_id=INVOICE, attribute_set=attribute_set, path=str(p))
            for i, p in enumerate(paths)]


def report(judge: ExportJudge) -> list[tuple]:
    return [(f.rule, f.message, f.expected, f.actual) for f in judge.findings()]


def judged(blobs: list[list[dict]]) -> ExportJudge:
    j = ExportJudge(RowRules.load(), invoice_id=INVOICE)
    for k, data in enumerate(blobs):
        j.blob(f"part-{k:05d}-pool.c000.json.gz").consume(lines_of(json.dumps(r) for r in data))
    return j


def drifted_blobs() -> list[list[dict]]:
    """Four blobs, each with drift of its own: a rename, mixed casing, a retyped value, a bad date."""
    a = rename(rows(6), "UnitPrice", "Price")
    b = [{(k[0].lower() + k[1:]) if i % 2 else k: v for k, v in r.items()} for i, r in enumerate(rows(6, 6))]
    c = rows(6, 12)
    c[2]["Quantity"] = {"value": 1}
    d = rows(6, 18)
    d[4]["ChargeStartDate"] = "31.12.2024"
    return [a, b, c, d]


# ---------------------------------------------------------------- the merge: same report whatever the order


def test_merge_in_any_completion_order_gives_the_single_process_report(tmp_path):
    blobs = drifted_blobs()
    single = report(judged(blobs))
    assert {r[0] for r in single} >= {"GR-ROW-COLUMN-RENAMED", "GR-ROW-CASING-CONSISTENT", "GR-ROW-COLUMN-TYPES",
                                      "GR-ROW-DATES"}
    results = [judge_blob(t) for t in tasks_of(write_blobs(tmp_path, blobs))]
    for seed in range(5):
        shuffled = results[:]
        random.Random(seed).shuffle(shuffled)
        merged = ExportJudge(RowRules.load(), invoice_id=INVOICE)
        for result in sorted(shuffled, key=lambda r: r.index):  # what judge_export does with completion order
            merged.merge(result.part)
        assert report(merged) == single


def test_pool_of_worker_processes_gives_the_single_process_report(tmp_path, monkeypatch):
    blobs = drifted_blobs()
    paths = write_blobs(tmp_path, blobs)
    inline = ExportJudge(RowRules.load(), invoice_id=INVOICE)
    outcomes_inline = judge_export(tasks_of(paths), inline, workers=1)
    pooled = ExportJudge(RowRules.load(), invoice_id=INVOICE)
    try:
        outcomes_pool = judge_export(tasks_of(paths), pooled, workers=2)
        assert len(rows_pool.pool_pids()) >= 1  # really other processes
    finally:
        rows_pool.shutdown()
    assert report(pooled) == report(inline) == report(judged(blobs))
    assert [o.name for o in outcomes_pool] == [o.name for o in outcomes_inline] == [p.name for p in paths]
    assert pooled.rows == 24


def test_pool_downloads_over_http_and_records_each_blob_in_manifest_order(monkeypatch):
    monkeypatch.setenv("RECON_ROW_WORKERS", "2")
    with serve(MockConfig(profile="gr-row-renamed-in-one-blob", retry_after=0, poll_count=0)) as server:
        recorded = []
        client = ApiClient(api="graph", base_url=server.graph_base_url, token=StaticToken("t"), budget=RequestBudget())
        client.observers.append(recorded.append)
        try:
            run = run_export(client, INVOICE, "full", poll_timeout=30, sleep=lambda s: None,
                             sink=rows_pool.pooled_judge_for(invoice_id=INVOICE, attribute_set="full"))
        finally:
            client.close()
            rows_pool.shutdown()
    assert run.stopped == "done" and len(run.blobs) >= 6
    blob_urls = [e.url.split("?")[0] for e in recorded if e.api == "blob"]
    assert blob_urls == sorted(blob_urls) and len(blob_urls) == len(run.blobs)
    assert all("authorization" not in {k.lower() for k in e.request_headers} for e in recorded if e.api == "blob")
    found = [f for f in run.rows.findings() if f.rule == "GR-ROW-COLUMN-RENAMED"]
    assert len(found) == 1 and "UnitPrice" in found[0].message and "Price" in found[0].message
    assert run.blobs[0].name in found[0].message  # the blob with the rename is named


# ---------------------------------------------------------------- renames


def renamed(j: ExportJudge) -> list:
    return [f for f in j.findings() if f.rule == "GR-ROW-COLUMN-RENAMED"]


def test_a_rename_in_one_blob_names_both_columns_and_fails():
    j = judged([rename(rows(10), "UnitPrice", "Price"), rows(10, 10)])
    (finding,) = renamed(j)
    assert finding.severity == "breaking"
    assert "UnitPrice" in finding.message and "Price" in finding.message and "10 of 20 rows" in finding.message
    assert "part-00000" in finding.message and "part-00001" not in finding.message
    assert finding.extra.get("renamed_to") == "Price"


def test_a_dropped_null_is_not_a_rename():
    data = rows(20)
    for r in data[::2]:
        r.pop("UnitPrice")  # Spark's writer dropped a null
    assert renamed(judged([data])) == []


@pytest.mark.parametrize("case", ["both-present", "not-exactly-where-missing", "other-type", "null-stand-in"])
def test_an_undeclared_column_that_is_no_stand_in_is_not_a_rename(case):
    data = rows(20)
    for i, r in enumerate(data):
        if i % 2:
            continue
        value = r.pop("UnitPrice")
        r["Price"] = {"other-type": "not a number", "null-stand-in": None}.get(case, value)
    if case == "both-present":
        data[1]["Price"] = 1.0
    if case == "not-exactly-where-missing":
        data[0].pop("Price")
    assert renamed(judged([data])) == []


def test_a_column_renamed_in_every_row_stays_required_columns():
    j = judged([rename(rows(10), "SubscriptionId", "SubscriptionGuid")])
    assert renamed(j) == []
    assert any(f.rule == "GR-ROW-REQUIRED-COLUMNS" and "SubscriptionId" in f.message for f in j.findings())


# ---------------------------------------------------------------- the typed fast path


def corpus() -> list[list[dict]]:
    """Rows that break every row rule somewhere, and tolerated alternatives, in several blobs."""
    blobs = drifted_blobs()
    e = rows(8, 30)
    e[0]["InvoiceNumber"] = "G999999999"
    e[1]["ChargeType"] = "teleport"
    e[2]["ChargeStartDate"], e[2]["ChargeEndDate"] = e[2]["ChargeEndDate"], e[2]["ChargeStartDate"]
    e[3]["UnitPrice"] = "12.5"
    e[4]["UnitPrice"] = "twelve"
    e[5]["ChargeType"] = " NEW "
    e[6]["Quantity"] = None
    e[7]["CustomerId"] = ""
    f = [{k: v for k, v in r.items() if k != "MeterDescription"} for r in rows(4, 40)]
    f[1]["Surprise"] = "x"
    return [*blobs, e, f]


def test_the_fast_path_finds_exactly_what_the_full_path_finds(monkeypatch):
    assert rows_module._msgspec is not None, "msgspec is a dependency"
    fast = report(judged(corpus()))
    monkeypatch.setattr(rows_module, "_msgspec", None)
    assert report(judged(corpus())) == fast


def test_the_fast_path_takes_conforming_rows():
    j = judged([rows(50)])
    (fast,) = [v for (keys, types), v in j.blobs[0].signatures.items() if types is None]
    # every row but those that taught it something: the first (it built the decoder) and each charge type's first
    distinct_charge_types = len({r["ChargeType"] for r in rows(50)})
    assert fast[0] == 50 - 1 - (distinct_charge_types - 1)
    assert j.findings() == []


def test_validate_export_judges_a_directory_in_the_pool_and_names_the_rename(tmp_path, monkeypatch, capsys):
    from recon_contracts.cli import main as cli_main

    monkeypatch.setenv("RECON_ROW_WORKERS", "2")
    blobs = tmp_path / "blobs"
    blobs.mkdir()
    write_blobs(blobs, [rows(8), rename(rows(8, 8), "UnitPrice", "Price"), rows(8, 16)])
    try:
        code = cli_main(["validate-export", str(blobs), "--invoice-id", INVOICE, "--report-dir", str(tmp_path / "r")])
    finally:
        rows_pool.shutdown()
    out = capsys.readouterr().out
    assert code == 1, out
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    (finding,) = [f for f in summary["findings"] if f["rule"] == "GR-ROW-COLUMN-RENAMED"]
    assert "UnitPrice" in finding["message"] and "Price" in finding["message"] and "part-00001" in finding["message"]
    assert out.index("part-00000") < out.index("part-00001") < out.index("part-00002")  # the order given


@pytest.mark.parametrize("text", [
    "2023-03-15T02:55:31.8913097Z", "2023-03-15T00:00:00", "2023-04-06T11:26:31.5876172-05:00", "2023-03-15t00:00:00z",
    "2023-03-15 00:00:00", "2023-03-15T00:00:00+0500", "2023-03-15T24:00:00", "2023-03-15T00:00Z", "2023-03-15",
    "2023-03-15T00:00:00.Z", "+2023-03-15T00:00:00Z", "2023-03-15T00:00:00+05", "0000-03-15T00:00:00Z",
    "2023-03-15T00:00:00+2400", "2023-3-15T00:00:00", "20230315T000000Z", "2023-03-15T00:00:00 Z", "3/15/2023",
    "2023-02-29T00:00:00", "2023-03-15T23:59:59.999999999Z", "2023-03-15T00:00:00-00:00", "31.12.2024",
])
def test_a_date_the_fast_path_reads_is_one_the_full_path_accepts(text):
    import msgspec

    try:
        rows_module._FAST_DATES.decode(json.dumps([text]).encode())
    except msgspec.ValidationError:
        return  # the full path decides
    assert rows_module._DATE.fullmatch(text), f"the fast path accepts {text!r}, GR-ROW-DATES would not"


def test_workers_are_forked_only_where_no_other_thread_runs(monkeypatch):
    monkeypatch.setattr(rows_pool.threading, "active_count", lambda: 1)
    assert rows_pool._context().get_start_method() == "fork"
    monkeypatch.setattr(rows_pool.threading, "active_count", lambda: 2)  # e.g. the embedded mock's server thread
    assert rows_pool._context().get_start_method() == "spawn"


_FORKED_POOL = """
import json, sys
from recon_contracts import rows_pool
from recon_contracts.checks.rows import ExportJudge, RowRules
from recon_contracts.rows_pool import BlobTask, judge_export
paths = sys.argv[1:]
tasks = [BlobTask(index=i, name=p.rsplit("/", 1)[-1], invoice_id="%s", attribute_set="full", path=p)
         for i, p in enumerate(paths)]
j = ExportJudge(RowRules.load(), invoice_id="%s")
judge_export(tasks, j, workers=2)
method = rows_pool._pools[2]._mp_context.get_start_method()
rows_pool.shutdown()
print(json.dumps({"method": method, "report": [[f.rule, f.message, f.expected, f.actual] for f in j.findings()]}))
""" % (INVOICE, INVOICE)


def test_a_forked_pool_judges_as_the_single_process_does(tmp_path):
    """In a process of one thread (a child of its own: this test process runs threads), the pool forks its workers,
    and the report is the single process's."""
    import subprocess
    import sys

    blobs = drifted_blobs()
    single = [list(r) for r in report(judged(blobs))]
    paths = [str(p) for p in write_blobs(tmp_path, blobs)]
    done = subprocess.run([sys.executable, "-c", _FORKED_POOL, *paths], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["method"] == "fork"
    assert out["report"] == single
