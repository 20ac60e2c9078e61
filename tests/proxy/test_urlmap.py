"""Keeping the client on the proxy: which URLs are rewritten, and which never are."""

from __future__ import annotations

from recon_contracts.proxy.urlmap import UrlMap

PROXY, PC, GRAPH = "http://127.0.0.1:8081", "https://api.partnercenter.microsoft.com", "https://graph.microsoft.com"


def _map(proxy_blobs: bool = True) -> UrlMap:
    return UrlMap(PROXY, pc_upstream=PC, graph_upstream=GRAPH, proxy_blobs=proxy_blobs)


def test_inbound_paths_go_to_the_named_upstream_only() -> None:
    urls = _map()
    assert urls.upstream("/v1/invoices/unbilled/lineitems", "Provider=OneTime").url == \
        f"{PC}/v1/invoices/unbilled/lineitems?Provider=OneTime"
    assert urls.upstream("/v1.0/reports/partners/billing/operations/1", "").url == \
        f"{GRAPH}/v1.0/reports/partners/billing/operations/1"
    assert urls.upstream("/beta/reports", "").api == "graph"
    assert urls.upstream("/v2/anything", "") is None
    assert urls.upstream("/_blobs/0/x", "") is None, "no blob origin is known before a manifest names one"


def test_links_are_rewritten_onto_the_proxy_and_mapped_back() -> None:
    urls = _map()
    page = {"links": {"next": {"uri": f"{PC}/v1/invoices/unbilled/lineitems?size=2", "headers": []},
                      "self": {"uri": "/invoices/unbilled/lineitems?size=2"}}}
    assert urls.rewrite_body("partner-center", page)
    assert page["links"]["next"]["uri"] == f"{PROXY}/v1/invoices/unbilled/lineitems?size=2"
    assert page["links"]["self"]["uri"] == "/invoices/unbilled/lineitems?size=2", "a relative link stays as it is"
    poll = {"resourceLocation@odata.navigationLink": f"{GRAPH}/v1.0/reports/partners/billing/manifests/m1",
            "resourceLocation": {"rootDirectory": "https://store.blob.core.windows.net/c/dir", "sasToken": "sv=1&sig=x"}}
    assert urls.rewrite_body("graph", poll)
    assert poll["resourceLocation@odata.navigationLink"] == f"{PROXY}/v1.0/reports/partners/billing/manifests/m1"
    assert poll["resourceLocation"]["rootDirectory"] == f"{PROXY}/_blobs/0/c/dir"
    assert urls.upstream("/_blobs/0/c/dir/part-0.json.gz", "sig=x").url == \
        "https://store.blob.core.windows.net/c/dir/part-0.json.gz?sig=x"
    assert urls.report()["rewritten"][f"{PROXY}/_blobs/0/c/dir"] == "https://store.blob.core.windows.net/c/dir"


def test_other_origins_and_blob_roots_without_the_option_are_left_alone() -> None:
    urls = _map(proxy_blobs=False)
    assert urls.to_proxy("https://evil.example/v1.0/reports") == "https://evil.example/v1.0/reports"
    manifest = {"rootDirectory": "https://store.blob.core.windows.net/c/dir"}
    assert not urls.rewrite_body("graph", manifest)
    assert urls.upstream("/_blobs/0/c", "") is None
