"""The billed-reconciliation export as a partner's integration runs it: Microsoft's Graph Python SDK
(``msgraph-sdk``) request builders for the export and the operation, pointed at a base URL, with a static token.

Blobs are not in the SDK: they are downloaded as Microsoft's sample does, ``rootDirectory/name?sasToken``, with
plain httpx and no Authorization header.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
from azure.core.credentials import AccessToken
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_authentication_azure.azure_identity_authentication_provider import AzureIdentityAuthenticationProvider
from kiota_http.middleware.options.headers_inspection_handler_option import HeadersInspectionHandlerOption
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.generated.models.partners.billing.attribute_set import AttributeSet
from msgraph.generated.models.partners.billing.export_success_operation import ExportSuccessOperation
from msgraph.generated.models.partners.billing.failed_operation import FailedOperation
from msgraph.generated.reports.partners.billing.reconciliation.billed.microsoft_graph_partners_billing_export.export_post_request_body import (
    ExportPostRequestBody,
)

POLL_LIMIT = 60


class StaticTokenCredential:
    """An azure-core TokenCredential that hands out one fixed token (no tenant, nothing minted)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
        return AccessToken(self._token, int(time.time()) + 3600)


@dataclass
class ExportRun:
    location: str = ""
    polls: int = 0
    terminal: str = ""
    root_directory: str = ""
    blob_urls: list[str] = field(default_factory=list)
    blob_bytes: int = 0
    blob_statuses: list[int] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)  # every request the client sent, as it sent it


def graph_client(base_url: str, token: str, http: httpx.AsyncClient) -> GraphServiceClient:
    host = urlsplit(base_url).hostname or "127.0.0.1"
    auth = AzureIdentityAuthenticationProvider(StaticTokenCredential(token), scopes=["https://graph.microsoft.com/.default"],
                                               allowed_hosts=[host])
    adapter = GraphRequestAdapter(auth, client=http)
    adapter.base_url = base_url.rstrip("/") + "/v1.0"
    return GraphServiceClient(request_adapter=adapter)


async def run_export(base_url: str, token: str, *, invoice: str = "G000000001", download: bool = True,
                     attribute_set: AttributeSet = AttributeSet.Full) -> ExportRun:
    run = ExportRun()
    seen: list[httpx.URL] = []
    locations: list[str] = []

    async def watch(response: httpx.Response) -> None:
        seen.append(response.request.url)
        if "location" in response.headers:
            locations.append(response.headers["location"])

    async with httpx.AsyncClient(timeout=60.0, event_hooks={"response": [watch]}) as http:
        client = graph_client(base_url, token, http)
        billing = client.reports.partners.billing
        inspect = HeadersInspectionHandlerOption(inspect_response_headers=True)
        body = ExportPostRequestBody(invoice_id=invoice, attribute_set=attribute_set)
        await billing.reconciliation.billed.microsoft_graph_partners_billing_export.post(
            body, request_configuration=RequestConfiguration(options=[inspect]))
        run.location = next(iter(inspect.response_headers.get("location") or []), "") or (locations[-1] if locations else "")
        operation_id = urlsplit(run.location).path.rstrip("/").rsplit("/", 1)[-1]
        operation = None
        for _ in range(POLL_LIMIT):
            operation = await billing.operations.by_operation_id(operation_id).get()
            run.polls += 1
            if isinstance(operation, (ExportSuccessOperation, FailedOperation)):
                break
            await asyncio.sleep(0.05)
        run.terminal = type(operation).__name__
        if not isinstance(operation, ExportSuccessOperation):
            return run
        manifest = operation.resource_location
        if manifest is None:
            link = (operation.additional_data or {}).get("resourceLocation@odata.navigationLink", "")
            manifest = await billing.manifests.by_manifest_id(str(link).rstrip("/").rsplit("/", 1)[-1]).get()
        run.root_directory = manifest.root_directory or ""
        sas = (manifest.sas_token or "").lstrip("?")
        run.blob_urls = [f"{run.root_directory}/{b.name}?{sas}" for b in manifest.blobs or []]
        if download:
            for url in run.blob_urls:
                async with http.stream("GET", url) as response:
                    run.blob_statuses.append(response.status_code)
                    async for chunk in response.aiter_raw():
                        run.blob_bytes += len(chunk)
    run.urls = [str(u) for u in seen]
    return run
