"""Rules PC-AUTH-401 and GR-AUTH-401: each endpoint answers 401 without a token."""

from __future__ import annotations

import pytest

from recon_contracts.checks.registry import GR_WITHOUT_TOKEN, PC_WITHOUT_TOKEN, run
from recon_contracts.protocol import graph as gr
from recon_contracts.protocol import partner_center as pc_api
from recon_contracts.traffic.client import new_request_ids


@pytest.mark.partner_center
def test_partner_center_requires_token(pc, target, contract):
    exchange = pc.request(
        "GET",
        pc_api.LINEITEMS_PATH,
        operation=pc_api.LINEITEMS_OPERATION,
        params=pc_api.base_query(target.currency, target.period, size=1),
        headers=new_request_ids(),
        auth=False,
    )
    contract.check(run(PC_WITHOUT_TOKEN, exchange, rule_id="PC-AUTH-401"))


@pytest.mark.graph
def test_graph_requires_token(graph, target, contract):
    exchange = graph.request(
        "POST",
        gr.EXPORT_PATHS["short"],
        operation=gr.export_operation("short"),
        json={"invoiceId": target.invoice_id, "attributeSet": "basic"},
        auth=False,
    )
    contract.check(run(GR_WITHOUT_TOKEN, exchange, rule_id="GR-AUTH-401"))
