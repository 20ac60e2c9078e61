"""What a run costs (run_cost.py), --max-exports, ``run --plan`` and the status line of long waits (progress.py)."""

from __future__ import annotations

import io
import json

import pytest

from recon_contracts import progress, run_cost
from recon_contracts.findings import Exchange
from recon_contracts.mock import MockConfig, serve
from recon_contracts.commands.run import main as run_main
from recon_contracts.traffic.auth import StaticToken
from recon_contracts.traffic.client import ApiClient, BudgetExhausted, RequestBudget
from recon_contracts.drivers.graph_export import post_export

EXPORT = "POST /reports/partners/billing/reconciliation/billed/export"


def exchange(operation: str, status: int = 200, body: dict | None = None, method: str = "GET") -> Exchange:
    return Exchange(api="graph", operation=operation, method=method, url="http://x/y", request_headers={},
                    request_body=json.dumps(body).encode() if body is not None else None, status=status,
                    response_headers={}, response_body=b"")


def test_requests_by_endpoint_and_jobs_started():
    cost = run_cost.RunCost()
    cost.observe(exchange(EXPORT, 202, {"invoiceId": "G1", "attributeSet": "basic"}, "POST"))
    cost.observe(exchange(EXPORT, 400, {"invoiceId": "G1", "attributeSet": "everything"}, "POST"))
    cost.observe(exchange("GET /v1/invoices/{invoice-id}/lineitems"))
    cost.observe(exchange("GET /v1/invoices/{invoice-id}/lineitems"))
    cost.add_blobs(2, 80, 12_000)
    data = cost.to_dict()
    assert data["requests"] == 4 and data["requests_by_endpoint"]["GET /v1/invoices/{invoice-id}/lineitems"] == 2
    assert data["exports_started"] == 1 and data["exports_by_attribute_set"] == {"basic": 1}  # a 400 starts no job
    assert (data["blobs"], data["rows"], data["bytes"]) == (2, 80, 12_000)
    other = run_cost.RunCost()
    other.add(data)  # an xdist worker's count, folded in by the controller
    assert other.to_dict() == data


def test_max_exports_refuses_the_post_past_the_cap_and_sends_nothing():
    cost = run_cost.reset(max_exports=1)
    try:
        with serve(MockConfig(retry_after=0, poll_count=0)) as server:
            client = ApiClient(api="graph", base_url=server.graph_base_url, token=StaticToken("t"), budget=RequestBudget())
            client.observers.append(cost.observe)
            try:
                assert post_export(client, json={"invoiceId": "G016907411", "attributeSet": "full"}).status == 202
                with pytest.raises(BudgetExhausted, match="--max-exports 1"):
                    post_export(client, json={"invoiceId": "G016907411", "attributeSet": "basic"})
            finally:
                client.close()
        assert cost.exports_started == 1 and client.budget.sent == 1
    finally:
        run_cost.reset()


def test_plan_sends_nothing_to_the_targets_and_prints_requests_by_endpoint(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # nothing listens on port 9 of loopback: any request to the given targets would fail the rehearsal
    code = run_main(["--plan", "--pc-base-url", "http://127.0.0.1:9", "--graph-base-url", "http://127.0.0.1:9/v1.0",
                     "--", "-k", "test_export_accepted or test_charge_types_mapped", "-p", "no:xdist"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "nothing was sent" in out and "http://127.0.0.1:9" in out
    assert "POST /reports/partners/billing/reconciliation/billed/export" in out
    assert "GET /v1/invoices/{invoice-id}/lineitems" in out
    assert "export job(s) started" in out
    assert not (tmp_path / "reports").exists()  # the rehearsal's reports went elsewhere


# ---------------------------------------------------------------- the status line


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_ci_logs_get_one_plain_line_at_most_every_30_seconds():
    clock, out = Clock(), io.StringIO()
    status = progress.Status(out, live=False, clock=clock)
    for second in range(0, 95, 5):  # a wait of 95 s, updated every 5 s
        clock.now = float(second)
        status.update("export", f"export G1 (full): running, {second} s")
    status.done("export")
    lines = out.getvalue().splitlines()
    assert lines == ["recon-contracts: export G1 (full): running, 30 s", "recon-contracts: export G1 (full): running, 60 s",
                     "recon-contracts: export G1 (full): running, 90 s"]


def test_a_short_wait_prints_nothing_in_ci_logs():
    clock, out = Clock(), io.StringIO()
    status = progress.Status(out, live=False, clock=clock)
    clock.now = 3.0
    status.update("export", "running")
    status.done("export")
    assert out.getvalue() == ""


def test_a_terminal_gets_one_line_rewritten_in_place_then_cleared(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # the line is cut to the terminal's width: give it one wide enough
    clock, out = Clock(), Tty()
    status = progress.configure(out)
    status.clock = clock
    assert status.live
    status.update("a", "export G1 (full): running, 1 poll(s), next poll in 5 s")
    clock.now = 1.0
    status.update("b", "line-items walk: page 3, 14 items so far")
    status.done("a")
    status.done("b")
    text = out.getvalue()
    assert text.startswith("\n\r\x1b[2K")  # a line of its own: nothing printed before is overwritten
    assert "export G1 (full): running | line-items walk" in text.replace(", 1 poll(s), next poll in 5 s", "")
    assert text.endswith("\r\x1b[2K") and text.count("\n") == 1
    progress.configure(None)


def test_quiet_prints_nothing():
    out = Tty()
    progress.configure(out, quiet=True)
    progress.update("a", "export")
    progress.done("a")
    assert out.getvalue() == ""
