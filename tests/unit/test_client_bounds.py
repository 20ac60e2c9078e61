"""The client's bounds: credentials only to the run's origin, a total deadline, a body cap, Retry-After reasons.

The servers here are raw sockets on loopback, so that they can misbehave below HTTP.
"""

from __future__ import annotations

import email.utils
import json
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest

from recon_contracts.checks.common import check_link_origin
from recon_contracts.traffic import deadline
from recon_contracts.traffic.auth import StaticToken
from recon_contracts.traffic.client import (
    ApiClient,
    Inconclusive,
    OffOriginLink,
    RequestBudget,
    ResponseTooLarge,
    RetryPolicy,
    StillThrottled,
    TargetError,
    parse_retry_after,
    retry_after_seconds,
)

TOKEN = "unit-bearer-token-5e8c1a9f"


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@contextmanager
def raw_server(answer: Callable[[socketserver.BaseRequestHandler, bytes], bool | None]) -> Iterator[tuple[str, list[bytes]]]:
    """A loopback server that reads each request head and lets ``answer`` write raw bytes; yields (origin, heads).

    The connection serves the next request when ``answer`` returns True (keep-alive), else it is closed.
    """
    heads: list[bytes] = []

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            while True:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = self.request.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                heads.append(data)
                try:
                    if not answer(self, data):
                        return
                except OSError:
                    return  # the client gave up first

    server = _Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", heads
    finally:
        server.shutdown()
        server.server_close()


def ok_json(handler: socketserver.BaseRequestHandler, head: bytes) -> bool:
    body = b'{"ok": true}'
    handler.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                            % (len(body), body))
    return True


def client(base_url: str, **kwargs) -> ApiClient:
    kwargs.setdefault("retry", RetryPolicy(max_retries=0))
    return ApiClient(api="partner-center", base_url=base_url, token=StaticToken(TOKEN), budget=RequestBudget(), **kwargs)


# ------------------------------------------------------------------ the origin guard


def test_the_token_goes_to_the_origin_the_run_was_pointed_at():
    with raw_server(ok_json) as (origin, heads):
        api = client(origin + "/")
        exchange = api.request("GET", "/v1/invoices/unbilled/lineitems", operation="GET lineitems")
        api.close()
    assert exchange.status == 200
    assert f"authorization: bearer {TOKEN}".encode() in heads[0].lower()


@pytest.mark.parametrize("auth", [True, False])
def test_a_link_to_another_origin_with_credentials_is_never_sent(auth):
    with raw_server(ok_json) as (home, _), raw_server(ok_json) as (elsewhere, seen):
        api = client(home)
        headers = None if auth else {"Authorization": f"Bearer {TOKEN}"}  # credentials the caller added itself
        # Inconclusive, not OffOriginLink: any other skip (a TargetError is one) must fail here, not skip the test
        with pytest.raises(Inconclusive) as info:
            api.request("GET", f"{elsewhere}/v1/invoices/unbilled/lineitems?seekOperation=Next",
                        operation="GET /v1/invoices/{invoice-id}/lineitems", auth=auth, headers=headers)
        api.close()
    assert seen == [], "the other origin received a request"
    assert isinstance(info.value, OffOriginLink), f"not refused as off-origin: {info.value}"
    assert home in str(info.value) and TOKEN not in str(info.value)
    assert api.budget.sent == 0


@pytest.mark.parametrize("other", ["https://{host}", "http://localhost:{port}", "http://{host}:1"])
def test_scheme_host_and_port_each_make_another_origin(other):
    api = client("http://127.0.0.1:8080/v1.0")
    url = other.format(host="127.0.0.1:8080", port=8080)
    with pytest.raises(Inconclusive) as info:  # see above: a TargetError must not skip this test
        api.request("GET", url + "/x", operation="GET x")
    assert isinstance(info.value, OffOriginLink), f"not refused as off-origin: {info.value}"
    assert api.same_origin("http://127.0.0.1:8080/other/path?q=1")
    assert api.same_origin("HTTP://127.0.0.1:8080/x")
    assert client("https://graph.example/v1.0").same_origin("https://GRAPH.example:443/v1.0/x")
    api.close()


def test_a_blob_download_carries_its_sas_and_never_the_bearer_token():
    with raw_server(ok_json) as (home, home_heads), raw_server(ok_json) as (storage, storage_heads):
        api = client(home)
        for base in (storage, home):  # on another host, as on Azure storage, and on the API's own origin
            api.request("GET", f"{base}/blobs/part-00000.json.gz?sv=2021&sig=SIGNATURE", operation="GET blob",
                        auth=False, blob=True, headers={"Accept": "*/*"})
        api.close()
    for head in storage_heads + home_heads:
        assert b"authorization" not in head.lower()
        assert b"sig=SIGNATURE" in head


def test_an_off_origin_link_is_an_advisory_finding_per_api():
    for api, rule in (("partner-center", "PC-LINK-SAME-ORIGIN"), ("graph", "GR-LINK-SAME-ORIGIN")):
        (found,) = check_link_origin(api=api, operation="GET x", url="https://evil.example/x?a=1", origin="https://home")
        assert found.rule == rule and found.severity == "advisory"
        assert found.actual == "https://evil.example/x" and "https://home" in found.expected


def test_redirects_come_back_unfollowed():
    def redirect(handler, head):
        handler.request.sendall(b"HTTP/1.1 302 Found\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n")

    with raw_server(redirect) as (home, heads):
        api = client(home)
        exchange = api.request("GET", "/loop", operation="GET loop")
        api.close()
    assert exchange.status == 302 and exchange.header("location") == "/again"
    assert len(heads) == 1


# ------------------------------------------------------------------ the deadline and the cap


DRIP_S = 15.0  # the drip server's own end, so that this test ends even when the deadline is gone


def drip(handler, head):
    """Headers at once, then one byte every 0.05 s for DRIP_S seconds (no read ever waits long), then close."""
    handler.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
    end = time.monotonic() + DRIP_S
    while time.monotonic() < end:
        handler.request.sendall(b" ")
        time.sleep(0.05)


def test_a_drip_fed_body_ends_at_the_request_deadline():
    with raw_server(drip) as (home, _):
        api = client(home, timeout=1.0)
        started = time.monotonic()
        with pytest.raises(TargetError, match=r"did not answer GET http://127\.0\.0\.1:\d+/slow completely within "
                                              r"--request-timeout 1 s"):
            api.request("GET", "/slow", operation="GET slow")
        elapsed = time.monotonic() - started
        api.close()
    assert elapsed < DRIP_S, f"the drip kept the request going for {elapsed:.0f} s"  # liveness, not speed


def test_a_stall_before_the_headers_ends_at_the_request_deadline():
    with raw_server(lambda handler, head: time.sleep(30)) as (home, _):
        api = client(home, timeout=0.5)
        with pytest.raises(TargetError, match="within --request-timeout 0.5 s"):
            api.request("GET", "/stall", operation="GET stall")
        api.close()


def test_the_deadline_is_per_request_and_per_thread():
    with deadline.deadline(0.01):
        time.sleep(0.05)
        with pytest.raises(Exception, match="deadline passed"):
            deadline._left(5.0, TimeoutError)
    assert deadline._left(5.0, TimeoutError) == 5.0  # outside a request: the timeout as given
    with raw_server(ok_json) as (home, _):
        api = client(home, timeout=5.0)
        for _ in range(3):  # a kept-alive connection serves the next request with a fresh deadline
            assert api.request("GET", "/x", operation="GET x").status == 200
        api.close()


def endless(handler, head):
    handler.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"[" * 65536
    while True:
        handler.request.sendall(b"10000\r\n" + chunk + b"\r\n")


def test_an_endless_body_stops_at_the_cap():
    with raw_server(endless) as (home, _):
        api = client(home, max_response_bytes=256 * 1024)
        with pytest.raises(ResponseTooLarge, match=r"GET http://127\.0\.0\.1:\d+/big is larger than "
                                                   r"--max-response-bytes 262144 bytes"):
            api.request("GET", "/big", operation="GET big")
        api.close()


def test_a_declared_length_over_the_cap_is_not_read():
    def huge(handler, head):
        handler.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 999999999\r\n\r\n{")

    with raw_server(huge) as (home, _):
        api = client(home, max_response_bytes=1000)
        with pytest.raises(ResponseTooLarge, match="declares 999999999 bytes"):
            api.request("GET", "/big", operation="GET big")
        api.close()


def test_blob_downloads_have_their_own_cap():
    body = b"x" * 5000

    def blob(handler, head):
        handler.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + body)
        return True

    with raw_server(blob) as (home, _):
        api = client(home, max_response_bytes=1000, max_blob_bytes=10_000)
        assert api.request("GET", "/blob", operation="GET blob", auth=False, blob=True).response_body == body
        with pytest.raises(ResponseTooLarge, match="--max-response-bytes 1000"):
            api.request("GET", "/blob", operation="GET blob")
        api.close()


@pytest.mark.parametrize("fault, words", [
    (b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n{}", "broke off or garbled"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", "broke off or garbled"),
    (b"", "broke off or garbled"),
])
def test_a_broken_answer_is_one_clear_error(fault, words):
    with raw_server(lambda handler, head: handler.request.sendall(fault)) as (home, _):
        api = client(home)
        with pytest.raises(TargetError, match=words) as info:
            api.request("GET", "/x?sig=SECRETSIG", operation="GET x")
        api.close()
    assert "SECRETSIG" not in str(info.value) and TOKEN not in str(info.value)


def test_deeply_nested_json_is_not_json():
    with raw_server(lambda h, head: h.request.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 200000\r\n\r\n"
                                                      + b"[" * 100000 + b"]" * 100000)) as (home, _):
        api = client(home)
        exchange = api.request("GET", "/deep", operation="GET deep")
        api.close()
    with pytest.raises(ValueError, match="nested too deep"):
        exchange.json()


def test_the_deadline_reaches_every_pool_of_the_client():
    http = httpx.Client(mounts={"http://proxied.example": httpx.HTTPTransport()})
    deadline.install(http)
    pools = [http._transport._pool, *(t._pool for t in http._mounts.values())]
    assert all(isinstance(p._network_backend, deadline.DeadlineBackend) for p in pools)
    http.close()


# ------------------------------------------------------------------ Retry-After that cannot be honoured


@pytest.mark.parametrize("value, seconds, problem", [
    ("57", 57.0, None),
    ("86400000", 86400000.0, None),  # huge: parsed, for the policy to refuse
    ("-5", None, "negative"),
    ("soon", None, "neither delta-seconds nor an HTTP-date"),
    ("nan", None, "not a finite number"),
    ("inf", None, "not a finite number"),
    ("1e999", None, "not a finite number"),
    ("", None, "empty"),
    ("Mon, 99 Foo 2024 25:61:61 GMT", None, "neither delta-seconds nor an HTTP-date"),
])
def test_retry_after_values(value, seconds, problem):
    parsed = parse_retry_after(value)
    assert parsed.seconds == seconds
    assert (parsed.problem is None) if problem is None else (problem in parsed.problem)


def test_retry_after_dates_in_the_past_and_days_ahead():
    now = 1_700_000_000.0
    assert retry_after_seconds(email.utils.formatdate(now - 86400 * 3, usegmt=True), now=now) == 0.0
    assert retry_after_seconds(email.utils.formatdate(now + 86400 * 3, usegmt=True), now=now) == pytest.approx(259200, abs=1)
    assert retry_after_seconds("Sun, 06 Nov 1994 08:49:37 -0000", now=now) == 0.0  # a zone-less date is GMT


def throttled(retry_after: str | None):
    def answer(handler, head):
        body = json.dumps({"statusCode": 429, "message": "Rate limit is exceeded."}).encode()
        extra = f"Retry-After: {retry_after}\r\n".encode() if retry_after is not None else b""
        handler.request.sendall(b"HTTP/1.1 429 Too Many Requests\r\nContent-Length: %d\r\n%s\r\n%s"
                                % (len(body), extra, body))
        return True
    return answer


@pytest.mark.parametrize("value, reason", [
    ("86400", r"a wait of 86400 s is longer than the longest wait honoured \(90 s\)"),
    ("Sun, 06 Nov 2044 08:49:37 GMT", r"longer than the longest wait honoured"),
    ("-1", r"cannot be honoured \(it is negative\), so 0.01 s was assumed.* after 2 retries"),
    ("garbage", r"cannot be honoured \(it is neither delta-seconds nor an HTTP-date\).* after 2 retries"),
    ("Sun, 06 Nov 1994 08:49:37 GMT", r"after 2 retries"),
    (None, r"after 2 retries"),
])
def test_retry_after_that_cannot_be_honoured_ends_with_a_reason(value, reason):
    waits: list[float] = []
    with raw_server(throttled(value)) as (home, heads):
        api = client(home, retry=RetryPolicy(max_retries=2, default_wait_s=0.01), sleep=waits.append)
        with pytest.raises(StillThrottled, match=reason):
            api.request("GET", "/x", operation="GET x")
        api.close()
    assert all(w <= 90 for w in waits) and len(heads) <= 3


def test_the_total_wait_per_request_is_bounded():
    waits: list[float] = []
    with raw_server(throttled("40")) as (home, _):
        api = client(home, retry=RetryPolicy(max_retries=10, total_wait_s=100), sleep=waits.append)
        with pytest.raises(StillThrottled, match=r"80 s waited already, and 40 s more would pass the total of 100 s"):
            api.request("GET", "/x", operation="GET x")
        api.close()
    assert waits == [40.0, 40.0]
