"""The mock's data set is deterministic and lazy: item i depends on (seed, data set, i) only."""

from __future__ import annotations

import tracemalloc

import httpx

from recon_contracts.mock import MockConfig, create_app, serve
from recon_contracts.mock.data import line_item
from recon_contracts.mock.partner_center import _binding, _normalise

AUTH = {"Authorization": "Bearer t"}
Q = "provider=onetime&invoicelineitemtype=billinglineitems&currencycode=usd&period=current"


def _walk(http: httpx.Client, base: str, size: int, limit: int) -> list[dict]:
    r = http.get(f"{base}/v1/invoices/unbilled/lineitems?{Q}&size={size}", headers=AUTH)
    items = []
    while True:
        body = r.json()
        items += body["items"]
        if "next" not in body["links"] or len(items) >= limit:
            return items[:limit]
        r = http.get(base + "/v1" + body["links"]["next"]["uri"],
                     headers={**AUTH, "MS-ContinuationToken": body["continuationToken"]})


def test_item_is_the_same_whatever_the_page_size() -> None:
    with serve(MockConfig(items=100, seed=7)) as server, httpx.Client() as http:
        by_3 = _walk(http, server.base_url, 3, 30)
        by_11 = _walk(http, server.base_url, 11, 30)
        by_2000 = _walk(http, server.base_url, 2000, 30)
    assert by_3 == by_11 == by_2000
    assert by_3 == [line_item(7, "unbilled:current", i, "USD") for i in range(30)]


def test_seed_changes_the_data() -> None:
    assert line_item(1, "unbilled:current", 5, "USD") == line_item(1, "unbilled:current", 5, "USD")
    assert line_item(1, "unbilled:current", 5, "USD") != line_item(2, "unbilled:current", 5, "USD")
    assert line_item(1, "unbilled:current", 5, "USD") != line_item(1, "unbilled:previous", 5, "USD")


def test_a_million_items_construct_lazily_and_serve_any_page() -> None:
    """No item is built ahead: the app for a million items allocates under 2 MB (a million items would take
    hundreds), and any page is computed on demand."""
    tracemalloc.start()
    app = create_app(MockConfig(items=1_000_000))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 2_000_000, f"expected the app for a million items to allocate under 2 MB, got {peak:,} bytes"
    state = app.state.mock
    with serve(MockConfig(items=1_000_000)) as server, httpx.Client() as http:
        # jump to the last page with a token for offset 999 998 of this query (what page 500 000 of size 2 gets)
        params = {"provider": "onetime", "invoicelineitemtype": "billinglineitems", "currencycode": "usd",
                  "period": "current", "size": "2"}
        fingerprint = state.tokens.fingerprint(_binding(_normalise(params, state), "unbilled"))
        token = state.tokens.encode(999_998, fingerprint)
        r = http.get(f"{server.base_url}/v1/invoices/unbilled/lineitems?{Q}&size=2&seekOperation=Next",
                     headers={**AUTH, "MS-ContinuationToken": token})
        assert r.status_code == 200
        body = r.json()
        assert body["totalCount"] == 2 and "next" not in body["links"]
        assert body["items"] == [line_item(0, "unbilled:current", i, "USD") for i in (999_998, 999_999)]


def test_config_defaults_and_validation() -> None:
    import pytest

    cfg = MockConfig()
    assert (cfg.profile, cfg.seed, cfg.items, cfg.poll_count, cfg.retry_after) == ("conforming", 0, 40, 2, 1)
    assert cfg.retry_after_header == "1"
    assert MockConfig(retry_after=0).retry_after_header == "0"
    assert MockConfig(retry_after=0.5).retry_after_header == "1"
    with pytest.raises(ValueError):
        MockConfig(profile="no-such-profile")
    with pytest.raises(ValueError):
        MockConfig(items=-1)
