"""Rules PC-AUTH-401 and GR-AUTH-401: each endpoint answers 401 without a token."""

from __future__ import annotations

import pytest

from recon_contracts.checks.auth import check_requires_token
from recon_contracts.traffic.client import new_request_ids

PC_LINEITEMS = "/v1/invoices/unbilled/lineitems"
GRAPH_EXPORT = "/reports/partners/billing/reconciliation/billed/export"


@pytest.mark.partner_center
def test_partner_center_requires_token(pc, target, contract):
    exchange = pc.request(
        "GET",
        PC_LINEITEMS,
        operation="GET /v1/invoices/{invoice-id}/lineitems",
        params={"provider": "onetime", "invoicelineitemtype": "billinglineitems",
                "currencycode": target.currency, "period": target.period, "size": 1},
        headers=new_request_ids(),
        auth=False,
    )
    contract.check(check_requires_token(exchange, "PC-AUTH-401"))


@pytest.mark.graph
def test_graph_requires_token(graph, target, contract):
    exchange = graph.request(
        "POST",
        GRAPH_EXPORT,
        operation="POST /reports/partners/billing/reconciliation/billed/export",
        json={"invoiceId": target.invoice_id, "attributeSet": "basic"},
        auth=False,
    )
    contract.check(check_requires_token(exchange, "GR-AUTH-401"))
