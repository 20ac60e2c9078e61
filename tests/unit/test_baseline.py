"""Observed behaviour and its comparison with a baseline (rules BASELINE-*), over hand-made exchanges.

Each rule: a change that breaks it gives exactly its finding; data that merely vary (fewer items, a
value not seen, a status not provoked) give none.
"""

from __future__ import annotations

import gzip
import json
import sys
from typing import Any

import pytest

from recon_contracts.checks.baseline import MIN_EVIDENCE, check_against_baseline, diff_lines
from recon_contracts.findings import Exchange
from recon_contracts.observed import BaselineError, Observed, load, write
from support.suiteproc import Finished, run, scrubbed_env

PC = "http://pc.test/v1/invoices/unbilled/lineitems?provider=onetime&invoicelineitemtype=billinglineitems&currencycode=USD&period=current"
BLOB = "http://blobs.test/root/part-0.json.gz?sv=1&sig=abc"


def item(**changes: Any) -> dict[str, Any]:
    base = {"chargeType": "New", "quantity": 1, "subscriptionId": "s-1", "unitPrice": 2.5, "attributes": {"objectType": "OneTimeInvoiceLineItem"}}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not ...}


def page(items: list[dict[str, Any]], status: int = 200, headers: dict[str, str] | None = None) -> Exchange:
    body = {"totalCount": len(items), "items": items, "attributes": {"objectType": "Collection"}}
    return Exchange(api="partner-center", operation="", method="GET", url=PC, request_headers={}, request_body=None,
                    status=status, response_headers={"content-type": "application/json", **(headers or {})},
                    response_body=json.dumps(body).encode())


def poll_with_manifest() -> Exchange:
    body = {"status": "succeeded", "resourceLocation": {"rootDirectory": "http://blobs.test/root", "blobCount": 1}}
    return Exchange(api="graph", operation="", method="GET", url="http://g.test/v1.0/reports/partners/billing/operations/1",
                    request_headers={}, request_body=None, status=200, response_headers={}, response_body=json.dumps(body).encode())


def blob(rows: list[dict[str, Any]]) -> Exchange:
    data = gzip.compress("\n".join(json.dumps(r) for r in rows).encode())
    return Exchange(api="blob", operation="", method="GET", url=BLOB, request_headers={}, request_body=None, status=200,
                    response_headers={}, response_body=data)


def observed(*exchanges: Exchange, points: dict[str, set[str]] | None = None) -> dict[str, Any]:
    o = Observed()
    for e in exchanges:
        o.add(e)
    o.observe(points or {})
    return o.to_json()


def rules(baseline: dict[str, Any], run: dict[str, Any]) -> list[str]:
    return sorted(f.rule for f in check_against_baseline(baseline, run))


ROWS = [{"ChargeType": "New", "Quantity": 1, "CustomerId": f"c{i}"} for i in range(4)]


def export(rows: list[dict[str, Any]]) -> tuple[Exchange, Exchange]:
    return poll_with_manifest(), blob(rows)


# ------------------------------------------------------------------ the observed behaviour


def test_observed_records_paths_types_counts_values_and_columns():
    data = observed(page([item(), item(chargeType="Renew", subscriptionId=None)]), *export(ROWS), points={"SP-PC-SIZE-MAX": {"clamped"}})
    status = data["operations"]["GET /v1/invoices/{invoice-id}/lineitems"]["statuses"]["200"]
    assert status["objects"]["/items/*"] == 2
    assert status["properties"]["/items/*/subscriptionId"] == {"types": ["null", "string"], "seen": 2}
    assert status["properties"]["/items/*/unitPrice"]["types"] == ["number"]
    assert status["values"]["/items/*/chargeType"] == ["New", "Renew"]
    assert "content-type" in status["headers"]
    columns = data["operations"]["GET {rootDirectory}/{blob-name}?{sasToken}"]["columns"]
    assert columns["count"] == 4 and columns["properties"]["/Quantity"] == {"types": ["number"], "seen": 4}
    assert data["silent_points"] == {"SP-PC-SIZE-MAX": ["clamped"]}


def test_observed_merges_parts_as_if_one_process_saw_everything():
    one = observed(page([item()]), page([item(chargeType="Renew")]))
    a, b = Observed(observed(page([item()]))), observed(page([item(chargeType="Renew")]))
    a.merge(b)
    assert a.to_json() == one


def test_same_behaviour_gives_no_finding_and_fewer_data_neither():
    base = observed(*[page([item(), item(chargeType="Renew")]) for _ in range(3)], *export(ROWS))
    assert rules(base, base) == []
    # one page, one item, one value of chargeType, no blob: absent from this run's data is not removed
    assert rules(base, observed(page([item()]))) == []


def test_baseline_file_round_trip_and_clear_errors(tmp_path):
    data = observed(page([item()]))
    write(tmp_path / "observed.json", data)
    assert load(tmp_path / "observed.json") == data
    with pytest.raises(BaselineError, match="does not exist"):
        load(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    with pytest.raises(BaselineError, match="not JSON"):
        load(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text("{}", encoding="utf-8")
    with pytest.raises(BaselineError, match="not an observed.json"):
        load(tmp_path / "other.json")


# ------------------------------------------------------------------ one test per rule


def test_property_removed():
    base = observed(page([item() for _ in range(MIN_EVIDENCE)]))
    run = observed(page([item(subscriptionId=...), item()]))
    found = check_against_baseline(base, run)
    assert [f.rule for f in found] == ["BASELINE-PROPERTY-REMOVED"]
    assert found[0].extra["path"] == "/items/*/subscriptionId" and found[0].severity == "breaking"
    assert "on 1 of 2" in found[0].message


def test_property_not_removed_when_the_baseline_did_not_see_it_everywhere_or_too_rarely():
    sometimes = observed(page([item(), item(), item(subscriptionId=...)]))
    rarely = observed(page([item() for _ in range(MIN_EVIDENCE - 1)]))
    run = observed(page([item(subscriptionId=...)]))
    assert rules(sometimes, run) == []
    assert rules(rarely, run) == []


def test_property_retyped():
    base = observed(page([item() for _ in range(MIN_EVIDENCE)]))
    assert rules(base, observed(page([item(quantity="1")]))) == ["BASELINE-PROPERTY-RETYPED"]
    assert rules(base, observed(page([item(subscriptionId=None)]))) == ["BASELINE-PROPERTY-RETYPED"]
    assert rules(base, observed(page([item(unitPrice=3)]))) == []  # integer or decimal: both numbers


def test_property_new():
    base = observed(page([item()]))
    found = check_against_baseline(base, observed(page([item(extra={"deep": 1})])))
    assert [(f.rule, f.extra["path"]) for f in found] == [("BASELINE-PROPERTY-NEW", "/items/*/extra")]
    assert found[0].severity == "additive"


def test_column_removed():
    base = observed(*export(ROWS))
    run = observed(*export([{k: v for k, v in r.items() if k != "CustomerId"} for r in ROWS]))
    assert rules(base, run) == ["BASELINE-COLUMN-REMOVED"]


def test_column_retyped():
    base = observed(*export(ROWS))
    assert rules(base, observed(*export([{**r, "Quantity": "1"} for r in ROWS]))) == ["BASELINE-COLUMN-RETYPED"]


def test_column_new():
    base = observed(*export(ROWS))
    assert rules(base, observed(*export([{**r, "RowVersion": 2} for r in ROWS]))) == ["BASELINE-COLUMN-NEW"]


def test_status_new():
    base = observed(page([item()]))
    run = observed(page([item()]), page([], status=500))
    found = check_against_baseline(base, run)
    assert [(f.rule, f.extra["path"]) for f in found] == [("BASELINE-STATUS-NEW", "500")]
    assert rules(run, base) == []  # a status not provoked this time is not reported


def test_enum_new():
    base = observed(page([item(), item(chargeType="Renew")]))
    found = check_against_baseline(base, observed(page([item(chargeType="new")])))
    assert [f.rule for f in found] == ["BASELINE-ENUM-NEW"] and "'new'" in found[0].message
    assert rules(base, observed(page([item()]))) == []  # fewer values: data


def test_header_removed():
    base = observed(*[page([item()], headers={"ms-requestid": "x"}) for _ in range(MIN_EVIDENCE)])
    found = check_against_baseline(base, observed(page([item()])))
    assert [(f.rule, f.severity) for f in found] == [("BASELINE-HEADER-REMOVED", "advisory")]


def test_silent_point_changed():
    base = observed(page([item()]), points={"SP-PC-SIZE-MAX": {"clamped"}, "SP-PC-EMPTY-PARAM": {"ignored"}})
    run = observed(page([item()]), points={"SP-PC-SIZE-MAX": {"rejected-4xx"}})
    found = check_against_baseline(base, run)
    assert [(f.rule, f.operation, f.severity) for f in found] == [("BASELINE-SILENT-POINT-CHANGED", "SP-PC-SIZE-MAX", "breaking")]
    assert diff_lines(found) == ["~ [BASELINE-SILENT-POINT-CHANGED] " + found[0].message]


def test_comparison_is_deterministic():
    base = observed(page([item() for _ in range(4)]), *export(ROWS))
    run = observed(page([item(quantity="1", subscriptionId=..., extra=1, chargeType="X")]), *export([{"Other": 1}]), page([], status=503))
    found = check_against_baseline(base, run)
    first = [(f.rule, f.operation, f.extra["path"], f.message) for f in found]
    again = [(f.rule, f.operation, f.extra["path"], f.message) for f in check_against_baseline(json.loads(json.dumps(base)), run)]
    assert first == again and len(first) >= 6
    order = {"breaking": 0, "additive": 1, "advisory": 2}
    assert [order[f.severity] for f in found] == sorted(order[f.severity] for f in found)  # breaking first


# ------------------------------------------------------------------ end to end, against the embedded mock


def _cli(*args: str, cwd) -> Finished:
    return run([sys.executable, "-m", "recon_contracts.cli", *args], cwd=cwd, timeout=300, merge_stderr=False,
               env=scrubbed_env(CI="true"))


SMALL = ("--mock-items", "12", "--examples", "2", "--seed", "0", "--poll-timeout", "15")


def test_run_with_baseline_end_to_end(tmp_path):
    """Record a baseline on the conforming mock, then: the same profile passes, a drifted one fails on it, live and offline."""
    baseline = tmp_path / "contract-baseline.json"
    first = _cli("run", *SMALL, "--report-dir", str(tmp_path / "a"), "--baseline", str(baseline), "--update-baseline", cwd=tmp_path)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-2000:]
    assert f"baseline {baseline} written (new)" in first.stdout and load(baseline)["operations"]

    again = _cli("run", *SMALL, "--report-dir", str(tmp_path / "b"), "--baseline", str(baseline), cwd=tmp_path)
    summary = json.loads((tmp_path / "b" / "summary.json").read_text(encoding="utf-8"))
    assert again.returncode == 0 and not [f for f in summary["findings"] if f["rule"].startswith("BASELINE-")], again.stdout[-3000:]

    drift = _cli("run", *SMALL, "--report-dir", str(tmp_path / "c"), "--baseline", str(baseline),
                 "--mock-profile", "pc-item-missing-field", "--", "-k", "test_valid_queries_in_any_case", cwd=tmp_path)
    summary = json.loads((tmp_path / "c" / "summary.json").read_text(encoding="utf-8"))
    found = {(f["rule"], f["extra"].get("path")) for f in summary["findings"] if f["rule"].startswith("BASELINE-")}
    assert drift.returncode == 1 and found == {("BASELINE-PROPERTY-REMOVED", "/items/*/subscriptionId")}, drift.stdout[-3000:]

    offline = _cli("check", str(tmp_path / "c" / "traffic.har"), "--report-dir", str(tmp_path / "d"), "--baseline", str(baseline),
                   cwd=tmp_path)
    summary = json.loads((tmp_path / "d" / "summary.json").read_text(encoding="utf-8"))
    assert offline.returncode == 1, offline.stdout[-3000:]
    assert {f["rule"] for f in summary["findings"]} >= {"BASELINE-PROPERTY-REMOVED", "PC-RESPONSE-SCHEMA"}


def test_bad_baseline_options_exit_4(tmp_path):
    (tmp_path / "b.json").write_text("{}", encoding="utf-8")
    for args, words in ((("--update-baseline",), "needs --baseline"), (("--baseline", str(tmp_path / "b.json")), "not an observed.json")):
        proc = _cli("run", *SMALL, "--report-dir", str(tmp_path / "r"), *args, cwd=tmp_path)
        assert proc.returncode == 4 and words in proc.stdout + proc.stderr, proc.stdout[-2000:] + proc.stderr[-2000:]


def test_a_run_merges_its_parts_and_silent_points_into_observed_json_and_compares(tmp_path):
    """The end of a run: every process's parts and the silent-point answers make observed.json; --baseline compares."""
    from recon_contracts.plugin.traffic import RunTraffic
    from recon_contracts.reporting.finish import merge_traffic as finish

    def one_run(name: str, answer: str, *, baseline=None, update=False):
        parts = tmp_path / f"parts-{name}"
        for worker in ("gw0", "gw1"):  # two xdist workers, each with its own parts
            traffic = RunTraffic(parts, worker, body_limit=1 << 20)
            traffic.record(page([item() for _ in range(MIN_EVIDENCE)]))
            traffic.close()
        return finish(parts, tmp_path / name, {"SP-PC-SIZE-MAX": {answer}}, baseline=baseline, update=update)

    baseline = tmp_path / "baseline.json"
    first = one_run("a", "clamped", baseline=baseline, update=True)
    assert first.findings == [] and "written (new)" in first.lines[0]
    data = load(baseline)
    assert data["silent_points"] == {"SP-PC-SIZE-MAX": ["clamped"]}
    assert data["operations"]["GET /v1/invoices/{invoice-id}/lineitems"]["statuses"]["200"]["objects"]["/items/*"] == 2 * MIN_EVIDENCE
    assert json.loads((tmp_path / "a" / "traffic.har").read_text(encoding="utf-8"))["log"]["entries"]
    assert not (tmp_path / "parts-a").exists()

    second = one_run("b", "rejected-4xx", baseline=baseline)
    assert [f.rule for f in second.findings] == ["BASELINE-SILENT-POINT-CHANGED"]
    updated = one_run("c", "rejected-4xx", baseline=baseline, update=True)
    assert updated.findings == [] and updated.lines[1].startswith("~ [BASELINE-SILENT-POINT-CHANGED]")
    assert load(baseline)["silent_points"] == {"SP-PC-SIZE-MAX": ["rejected-4xx"]}
