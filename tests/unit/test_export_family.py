"""The export family: the kinds registry, validate-export's kind recognition, the rows of every member.

One driver and one row engine serve every member; these tests pin what differs: the path, the body and the row
schema, and how a downloaded export's member is told (``--export``, or the manifest's rootDirectory).
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from recon_contracts.checks.rows import judge_for, lines_of
from recon_contracts.cli import main as cli_main
from recon_contracts.truth.exports import KINDS, V1_KINDS, ExportsError, graph_period, kind_of_path, kind_of_root, parse_exports
from recon_contracts.mock import MockConfig, serve
from recon_contracts.mock.data import USAGE_BASIC, USAGE_FULL, line_item, usage_row

AUTH = {"Authorization": "Bearer t"}


def test_kinds_paths_bodies_and_versions():
    assert V1_KINDS == ("billed-reconciliation", "unbilled-reconciliation", "billed-usage", "unbilled-usage")
    agg = KINDS["billed-aggregated-usage"]
    assert agg.beta_only and agg.body(invoice_id="G000000") == {"invoiceId": "G000000"}  # no attributeSet
    unbilled = KINDS["unbilled-reconciliation"]
    assert unbilled.body(currency="usd", period="previous", attribute_set="basic") == {
        "currencyCode": "USD", "billingPeriod": "last", "attributeSet": "basic"}
    assert unbilled.path("qualified").endswith("/reconciliation/unbilled/microsoft.graph.partners.billing.export")
    assert kind_of_path("/v1.0/reports/partners/billing/usage/unbilled/export") == (KINDS["unbilled-usage"], "short")
    assert kind_of_path("/beta/reports/partners/billing/aggregatedUsage/billed/microsoft.graph.partners.billing.export") \
        == (agg, "qualified")
    assert graph_period("previous") == "last" and graph_period("current") == "current"


def test_exports_option_defaults_and_errors():
    assert [k.name for k in parse_exports(None)] == list(V1_KINDS)
    assert [k.name for k in parse_exports("", beta_available=True)] == list(KINDS)
    assert [k.name for k in parse_exports("unbilled-usage, billed-usage")] == ["unbilled-usage", "billed-usage"]
    with pytest.raises(ExportsError, match="unknown export 'billed-invoices'"):
        parse_exports("billed-invoices")


@pytest.mark.parametrize(("root", "kind"), [
    ("https://adlsreconbuprodeastus201.blob.core.windows.net/billedusagefastpath/v1/PartnerTenantId=x/BillingMonth=202310/"
     "InvoiceId=G031809528/InvoiceVersion=202311/Fragment=basic/PartitionType=default", "billed-usage"),
    ("https://adlsreconprodeastus2001.blob.core.windows.net/unbilledusagefastpath/v1/202410080035/PartnerTenantId=x/"
     "BillingMonth=202410/Currency=INR/Fragment=full/PartitionType=default", "unbilled-usage"),
    ("http://127.0.0.1:1/blobs/unbilledreconfastpath/v1/x", "unbilled-reconciliation"),
    ("http://127.0.0.1:1/blobs/billedreconfastpath/v1/x", "billed-reconciliation"),
    ("http://127.0.0.1:1/blobs/billedaggregatedusagefastpath/v1/x", "billed-aggregated-usage"),
])
def test_kind_from_root_directory(root, kind):
    assert kind_of_root(root) is KINDS[kind]
    assert kind_of_root("https://store.example/some/container/v1/x") is None


def test_usage_rows_follow_the_documented_basic_table():
    item = line_item(0, "G016907411", 4, "USD")
    assert set(usage_row(item, "full")) == set(USAGE_FULL)
    assert set(usage_row(item, "basic")) == set(USAGE_BASIC)
    basic = judge_for("billed-usage", invoice_id="G016907411", attribute_set="basic")
    row = usage_row(item, "basic") | {"MeterId": "x"}  # full only in the table
    basic.blob("b").consume(lines_of([json.dumps(row)]))
    assert [f.rule for f in basic.findings()] == ["GR-USAGE-BASIC-COLUMNS"]
    full = judge_for("unbilled-usage", attribute_set="full", currency="USD")
    row = {k: v for k, v in usage_row(line_item(0, "unbilled:current", 1, "EUR"), "full").items() if k != "MeterCategory"}
    full.blob("f").consume(lines_of([json.dumps(row)]))
    assert sorted(f.rule for f in full.findings()) == ["GR-ROW-CURRENCY", "GR-USAGE-FULL-COLUMNS"]


def _download(base: str, segment: str, body: dict, out: Path) -> Path:
    r = httpx.post(f"{base}/reports/partners/billing/{segment}/export", json=body, headers=AUTH)
    assert r.status_code == 202, r.text
    manifest = httpx.get(r.headers["location"], headers=AUTH).json()["resourceLocation"]
    for blob in manifest["blobs"]:
        (out / blob["name"]).write_bytes(httpx.get(f"{manifest['rootDirectory']}/{blob['name']}?{manifest['sasToken']}").content)
    (out / "manifest.json").write_text(json.dumps(manifest))
    return out / "manifest.json"


@pytest.mark.parametrize(("segment", "body", "kind", "subject"), [
    ("usage/unbilled", {"currencyCode": "USD", "billingPeriod": "current", "attributeSet": "full"}, "unbilled-usage",
     "currency USD"),
    ("reconciliation/unbilled", {"currencyCode": "USD", "billingPeriod": "last"}, "unbilled-reconciliation", "currency USD"),
    ("usage/billed", {"invoiceId": "G016907411", "attributeSet": "basic"}, "billed-usage", "invoice G016907411"),
])
def test_validate_export_recognises_the_member_from_the_manifest(tmp_path, capsys, segment, body, kind, subject):
    with serve(MockConfig(items=30, poll_count=0, retry_after=0)) as mock:
        manifest = _download(mock.graph_base_url, segment, body, tmp_path)
    code = cli_main(["validate-export", str(manifest), "--report-dir", str(tmp_path / "r")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"30 rows in 1 blob(s) of a {kind} export (from the manifest's rootDirectory); {subject}" in out


def test_validate_export_takes_the_member_from_the_option(tmp_path, capsys):
    with serve(MockConfig(items=20, poll_count=0, retry_after=0)) as mock:
        manifest = _download(mock.graph_beta_url, "aggregatedUsage/billed", {"invoiceId": "G016907411"}, tmp_path)
    blobs = [str(p) for p in tmp_path.glob("*.gz")]
    code = cli_main(["validate-export", *blobs, "--export", "billed-aggregated-usage", "--invoice-id", "G016907411",
                     "--report-dir", str(tmp_path / "r")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "of a billed-aggregated-usage export (from --export); invoice G016907411" in out
    # judged as the default member (reconciliation) the same rows lack its key columns: the member matters
    code = cli_main(["validate-export", *blobs, "--report-dir", str(tmp_path / "r2")])
    assert code == 1, capsys.readouterr().out
    assert manifest.is_file()
    assert cli_main(["validate-export", *blobs, "--export", "nope", "--report-dir", str(tmp_path / "r3")]) == 4


def test_reference_lists_every_export_with_its_state_diagram():
    from recon_contracts.docsite.render import render_index

    page = render_index()
    for kind in KINDS.values():
        start = page.index(f'id="export-{kind.name}"')
        card = page[start: page.index("</article>", start)]
        assert f"POST {kind.path('short')}" in card and f'href="#schema-graph-{kind.row_schema}"' in card
        assert card.count("data-state=") == 5, kind.name  # the state diagram
    assert "beta only" in page[page.index('id="export-billed-aggregated-usage"'):]
