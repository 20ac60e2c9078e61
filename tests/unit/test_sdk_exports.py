"""Microsoft's generated Graph clients drive every export of the family end to end against the mock.

msgraph-sdk (v1.0) for billed and unbilled reconciliation and usage, msgraph-beta-sdk for the beta-only billed
aggregated usage: POST the export through the SDK's request builder (the namespace-qualified action name the SDKs
send), read the Location with Kiota's HeadersInspectionHandlerOption (``post()`` returns None on a 202 without a
body), poll the operation through the SDK until its discriminator yields an ExportSuccessOperation, then download
every blob of its inline manifest with the directory SAS and read the gzip JSON lines. If the mock's shapes drift
from what Microsoft's own clients deserialize, this fails.
"""

from __future__ import annotations

import asyncio
import gzip
import json
from typing import Any

import httpx
import pytest

from recon_contracts.truth.exports import KINDS
from recon_contracts.mock import MockConfig, serve

msgraph = pytest.importorskip("msgraph", reason="msgraph-sdk is a dev dependency (pip install -e '.[dev]')")
msgraph_beta = pytest.importorskip("msgraph_beta", reason="msgraph-beta-sdk is a dev dependency")

from kiota_abstractions.authentication import AccessTokenProvider, AllowedHostsValidator  # noqa: E402
from kiota_abstractions.authentication import BaseBearerTokenAuthenticationProvider  # noqa: E402
from kiota_abstractions.base_request_configuration import RequestConfiguration  # noqa: E402
from kiota_http.middleware.options import HeadersInspectionHandlerOption  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDKs warn about their own classes
TOKEN = "recon-contracts-mock-token"
INVOICE = "G016907411"


class _StaticToken(AccessTokenProvider):
    async def get_authorization_token(self, uri: str, additional_authentication_context: dict | None = None) -> str:
        return TOKEN

    def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
        return AllowedHostsValidator(["127.0.0.1"])


def _client(sdk: Any, base_url: str) -> Any:
    """A GraphServiceClient of ``sdk`` (msgraph or msgraph_beta) pointed at the mock, without the trailing '/'."""
    adapter = sdk.GraphRequestAdapter(BaseBearerTokenAuthenticationProvider(_StaticToken()))
    adapter.base_url = base_url
    return sdk.GraphServiceClient(request_adapter=adapter)


def _builder(client: Any, kind_name: str) -> Any:
    billing = client.reports.partners.billing
    area, state = KINDS[kind_name].segment.split("/")
    parent = {"reconciliation": lambda: billing.reconciliation, "usage": lambda: billing.usage,
              "aggregatedUsage": lambda: billing.aggregated_usage}[area]()
    return getattr(parent, state).microsoft_graph_partners_billing_export


def _body(sdk_module: Any, kind_name: str) -> Any:
    """The SDK's own ExportPostRequestBody of the member, filled as the docs' examples are."""
    kind = KINDS[kind_name]
    area = kind.segment.split("/")[0]
    package = {"reconciliation": "reconciliation", "usage": "usage", "aggregatedUsage": "aggregated_usage"}[area]
    state = kind.segment.split("/")[1]
    module = __import__(f"{sdk_module}.generated.reports.partners.billing.{package}.{state}."
                        "microsoft_graph_partners_billing_export.export_post_request_body", fromlist=["ExportPostRequestBody"])
    billing_models = __import__(f"{sdk_module}.generated.models.partners.billing", fromlist=["attribute_set"])
    body = module.ExportPostRequestBody()
    if kind.billed:
        body.invoice_id = INVOICE
    else:
        from importlib import import_module
        body.currency_code = "USD"
        body.billing_period = import_module(f"{sdk_module}.generated.models.partners.billing.billing_period").BillingPeriod.Current
    if kind.attribute_sets:
        from importlib import import_module
        body.attribute_set = import_module(f"{sdk_module}.generated.models.partners.billing.attribute_set").AttributeSet.Full
    assert billing_models is not None
    return body


async def _export(sdk: Any, sdk_module: str, base_url: str, kind_name: str) -> tuple[Any, list[dict]]:
    client = _client(sdk, base_url)
    inspect = HeadersInspectionHandlerOption(inspect_response_headers=True)
    returned = await _builder(client, kind_name).post(_body(sdk_module, kind_name),
                                                      request_configuration=RequestConfiguration(options=[inspect]))
    assert returned is None  # a 202 without a body: the SDK returns nothing, the Location is in the headers
    location = next(iter(inspect.response_headers.get("location")))
    operation_id = location.rstrip("/").rsplit("/", 1)[-1]
    operation = None
    for _ in range(30):
        operation = await client.reports.partners.billing.operations.by_operation_id(operation_id).get()
        if operation.status is not None and operation.status.value in ("succeeded", "failed"):
            break
        await asyncio.sleep(0.2)
    assert type(operation).__name__ == "ExportSuccessOperation", (kind_name, type(operation).__name__, operation)
    manifest = operation.resource_location
    assert manifest is not None and manifest.blob_count == len(manifest.blobs) >= 1
    rows: list[dict] = []
    with httpx.Client(timeout=30) as http:
        for blob in manifest.blobs:
            r = http.get(f"{manifest.root_directory}/{blob.name}?{manifest.sas_token}")
            assert r.status_code == 200
            rows += [json.loads(line) for line in gzip.decompress(r.content).decode().splitlines() if line.strip()]
    return manifest, rows


@pytest.fixture(scope="module")
def mock() -> Any:
    with serve(MockConfig(items=12, poll_count=1, retry_after=0)) as server:
        yield server


@pytest.mark.parametrize("kind_name", [k for k in KINDS if not KINDS[k].beta_only])
def test_msgraph_sdk_drives_every_v1_export(mock: Any, kind_name: str) -> None:
    manifest, rows = asyncio.run(_export(msgraph, "msgraph", mock.graph_base_url, kind_name))
    assert len(rows) == 12
    column = "InvoiceNumber" if KINDS[kind_name].billed else ("Currency" if "reconciliation" in kind_name else "BillingCurrency")
    expected = INVOICE if KINDS[kind_name].billed else "USD"
    assert {row[column] for row in rows} == {expected}
    assert "Fragment=full" in manifest.root_directory


def test_msgraph_beta_sdk_drives_the_aggregated_usage_export(mock: Any) -> None:
    manifest, rows = asyncio.run(_export(msgraph_beta, "msgraph_beta", mock.graph_beta_url, "billed-aggregated-usage"))
    assert len(rows) == 12 and all({"ProductId", "SkuId", "MeterId"} <= set(row) for row in rows)
    assert "Fragment=" not in manifest.root_directory  # no attributeSet, no fragment


def test_msgraph_sdk_has_no_aggregated_usage_and_v1_mock_refuses_it(mock: Any) -> None:
    """The beta-only member: msgraph-sdk (v1.0) has no builder for it, and the mock's v1.0 answers 404."""
    assert not hasattr(_client(msgraph, mock.graph_base_url).reports.partners.billing, "aggregated_usage")
    r = httpx.post(f"{mock.graph_base_url}/reports/partners/billing/aggregatedUsage/billed/export",
                   headers={"Authorization": f"Bearer {TOKEN}"}, json={"invoiceId": INVOICE})
    assert r.status_code == 404
