"""Migration parity: the v1 -> Graph mapping, normalisation, the streamed join and the command against the mock."""

from __future__ import annotations

import json

import pytest

from recon_contracts.cli import main as cli_main
from recon_contracts.mock.data import export_row, line_item
from recon_contracts.checks.parity import ParityJoin, mapping, normalise
from recon_contracts.truth.rules import catalog, load_yaml


def test_mapping_lines_are_documented_or_inferred_and_previous_is_last():
    raw = load_yaml("migration-v1-to-graph.yaml")
    assert {f["status"] for f in raw["fields"]} == {"documented", "inferred"}
    assert all(f["status"] == "documented" or f.get("note") for f in raw["fields"]), "an inferred line says why"
    assert mapping().graph_period("previous") == "last" and mapping().graph_period("current") == "current"
    assert any("previous" in s["quote"] for s in raw["period"]["sources"])
    assert set(mapping().key) <= {f.v1 for f in mapping().fields}
    for rule_id in ("MIGRATION-ONLY-IN-V1", "MIGRATION-ONLY-IN-GRAPH", "MIGRATION-FIELD-DIFFERS"):
        assert catalog()[rule_id].severity == "advisory"


@pytest.mark.parametrize(("kind", "a", "b"), [
    ("money", 16, "16.00"), ("money", "820", 820.004), ("decimal", "0.846202666", 0.8462026661),
    ("date", "2019-02-04T09:22:40.1767993-08:00", "2019-02-04T17:22:40.1767993Z"),
    ("date", "2021-05-01T00:00:00", "2021-05-01T00:00:00Z"), ("date", "2020-09-30", "9/30/2020"),
    ("list", ["AddOn", "Trial"], '["Trial","Add-on"]'), ("id", "org:D7F5", "d7f5"), ("text", " x ", "x"),
])
def test_values_equal_within_precision_and_in_any_zone(kind, a, b):
    assert normalise(kind, a) == normalise(kind, b)


@pytest.mark.parametrize(("kind", "a", "b"), [("money", 16, 16.01), ("date", "2019-02-04T09:22:40Z", "2019-02-04T09:22:40+01:00"),
                                              ("text", "New", "new")])
def test_values_that_differ(kind, a, b):
    assert normalise(kind, a) != normalise(kind, b)


def _sides(n: int = 300):
    for i in range(n):
        item = line_item(7, "unbilled:current", i, "USD")
        yield i, item, export_row(item, "full")


def test_join_agrees_on_one_data_set_and_reports_each_kind_of_difference():
    join = ParityJoin(currency="USD", period="current")
    for i, item, row in _sides():
        join.add_v1(item)
        if i == 10:
            continue  # missing in Graph
        if i % 50 == 1:
            row["Subtotal"] = round(row["Subtotal"] + 0.05, 2)
        if i % 3 == 0:
            row = {("pcToBCExchangeRate" if k == "PCToBCExchangeRate" else k): v for k, v in row.items()}  # casing is no difference
        row.pop("MeterDescription", None) if not item.get("meterDescription") else None  # a dropped empty value
        join.add_graph(row)
    join.add_graph(export_row(line_item(7, "unbilled:current", 999_999, "USD"), "full"))  # only in Graph
    r = join.finish()
    assert (r.v1_items, r.graph_rows, r.matched, r.only_v1, r.only_graph) == (300, 300, 299, 1, 1)
    assert r.items_differing == 6 and r.fields["subtotal"].differ == 6
    assert sum(t.differ for t in r.fields.values()) == 6
    rules = sorted(f.rule for f in r.findings())
    assert rules == ["MIGRATION-FIELD-DIFFERS", "MIGRATION-ONLY-IN-GRAPH", "MIGRATION-ONLY-IN-V1"]
    assert all(f.severity == "advisory" for f in r.findings())
    assert "| subtotal | Subtotal | money | documented | 299 | 6 |" in r.table()


def test_a_renamed_column_is_reported_absent_with_the_undeclared_one():
    join = ParityJoin()
    for _, item, row in _sides(20):
        join.add_v1(item)
        row["Price"] = row.pop("UnitPrice")
        join.add_graph(row)
    r = join.finish()
    assert r.fields["unitPrice"].absent == 20
    (f,) = r.findings()
    assert f.rule == "MIGRATION-FIELD-DIFFERS" and "rows lack UnitPrice (undeclared columns seen: Price)" in f.message


def test_the_join_spills_to_disk_and_cleans_up(tmp_path):
    join = ParityJoin(workdir=tmp_path)
    for _, item, row in _sides(50):
        join.add_v1(item)
        join.add_graph(row)
    spilled = list(tmp_path.rglob("*.jsonl"))
    assert len(spilled) > 20  # both sides, hash-partitioned
    assert join.finish().agrees
    assert not list(tmp_path.rglob("*.jsonl"))


@pytest.mark.parametrize(("profile", "counts"), [
    ("conforming", "40 matched, 0 only in v1, 0 only in Graph, 0 with differences"),
    ("parity-missing-items", "36 matched, 4 only in v1, 4 only in Graph, 0 with differences"),
    ("parity-amount-changed", "40 matched, 0 only in v1, 0 only in Graph, 5 with differences"),
    ("parity-other-currency", "40 matched, 0 only in v1, 0 only in Graph, 40 with differences"),
    ("parity-field-renamed", "40 matched, 0 only in v1, 0 only in Graph, 40 with differences"),
])
def test_parity_command_against_the_mock(tmp_path, capsys, profile, counts):
    code = cli_main(["parity", "--mock-profile", profile, "--report-dir", str(tmp_path), "--period", "previous"])
    out = capsys.readouterr().out
    assert code == 0, out  # advisory: differences never fail unless asked to
    assert counts in out and "v1 period `previous` = Graph billingPeriod `last`" in out
    data = json.loads((tmp_path / "parity.json").read_text())
    assert data["graph_billing_period"] == "last" and (tmp_path / "parity.md").is_file()
    if profile != "conforming":
        assert cli_main(["parity", "--mock-profile", profile, "--report-dir", str(tmp_path), "-q",
                         "--fail-on-differences"]) == 1


@pytest.mark.parametrize("argv", [["--period", "last"], ["--currency", "US"], ["--pc-base-url", "http://x"],
                                  ["--mock-profile", "nope"], ["--bogus"]])
def test_parity_bad_options_exit_4(argv, capsys):
    assert cli_main(["parity", *argv]) == 4
    assert "Traceback" not in capsys.readouterr().err
