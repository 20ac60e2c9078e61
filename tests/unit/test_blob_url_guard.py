"""The runner is no proxy into the CI network: blob URLs the target hands out are fetched only over http(s),
only over https under an https base, and never at a loopback, link-local or private address unless the base is on
one. The address is checked after resolving, on the connection itself (the checked address is the one dialled).

Name resolution is a fake here: nothing leaves loopback (a stub network backend records where a connection would go).
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpcore
import pytest

from recon_contracts.checks.blobs import check_blobs
from recon_contracts.traffic import addresses
from recon_contracts.traffic.blob_stream import HttpBlob, StreamLimits, read_blob
from recon_contracts.traffic.client import ApiClient, RefusedBlobUrl, RequestBudget
from recon_contracts.traffic.auth import StaticToken

SIG = "guardSasSignature7f3e9a1c2b"
PUBLIC = {"graph.example": ["20.190.160.1"], "storage.example": ["20.60.1.1"]}


class Dialled(Exception):
    pass


class StubBackend(httpcore.NetworkBackend):
    """Records every connection asked for, and makes none."""

    def __init__(self) -> None:
        self.dialled: list[tuple[str, int]] = []

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        self.dialled.append((host, port))
        raise httpcore.ConnectError("stub: no connection is made in this test")


def client_with(names: dict[str, list[str]], base: str = "https://graph.example/v1.0") -> tuple[ApiClient, StubBackend, list[str]]:
    client = ApiClient(api="graph", base_url=base, token=StaticToken("guard-bearer-token-55aa"), budget=RequestBudget())
    asked: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        if host in names:
            return names[host]
        raise OSError("no such name (fake resolver)")

    stub = StubBackend()
    client.address_guard.resolver = resolve
    client.address_guard._inner = stub
    return client, stub, asked


def fetch(client: ApiClient, url: str) -> None:
    with client.stream("GET", url, operation="GET blob", auth=False):
        pass


@pytest.mark.parametrize("address, kind", [
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("169.254.169.254", "link-local"), ("fe80::1", "link-local"),
    ("10.1.2.3", "private"), ("172.16.0.9", "private"), ("192.168.0.1", "private"), ("fd00::1", "private"),
    ("::ffff:10.0.0.1", "private"), ("0.0.0.0", "unspecified"), ("224.0.0.1", "multicast"),
    ("100.64.0.1", "not globally routable"),
])
def test_internal_addresses(address, kind):
    assert addresses.internal_kind(address) == kind


@pytest.mark.parametrize("address", ["20.60.1.1", "52.239.1.1", "2603:1030::1"])
def test_public_addresses(address):
    assert addresses.internal_kind(address) is None


@pytest.mark.parametrize("ip", ["169.254.169.254", "10.0.0.7", "127.0.0.1", "::1", "fe80::1"])
def test_blob_host_resolving_to_an_internal_address_is_refused_before_connecting(ip):
    client, stub, asked = client_with({**PUBLIC, "evil.example": [ip]})
    with pytest.raises(RefusedBlobUrl, match=rf"resolves to {ip}.*no connection was made") as raised:
        fetch(client, f"https://evil.example/c/part-0.json.gz?sv=1&sig={SIG}")
    assert stub.dialled == [], "a connection was attempted to a refused address"
    assert "evil.example" in asked
    assert SIG not in str(raised.value) and SIG not in raised.value.url


def test_one_internal_address_among_public_ones_is_refused():
    client, stub, _ = client_with({**PUBLIC, "mixed.example": ["20.60.1.1", "10.0.0.1"]})
    with pytest.raises(RefusedBlobUrl):
        fetch(client, "https://mixed.example/c/b.json.gz?sig=x")
    assert stub.dialled == []


def test_the_checked_address_is_the_one_dialled():
    """A name that would resolve differently on a second look (DNS rebinding) gains nothing: no second look."""
    answers = iter([["20.60.1.1"], ["127.0.0.1"]])
    client, stub, _ = client_with({})
    client.address_guard.resolver = lambda host, port: next(answers) if host == "storage.example" else ["20.190.160.1"]
    with pytest.raises(Exception):
        fetch(client, "https://storage.example/c/b.json.gz?sig=x")
    assert stub.dialled == [("20.60.1.1", 443)]


@pytest.mark.parametrize("url, words", [
    ("http://storage.example/c/b.json.gz?sig=x", "plain http while the API is on https"),
    ("ftp://storage.example/c/b.json.gz", "scheme is 'ftp'"),
    ("file:///etc/passwd", "scheme is 'file'"),
    ("gopher://storage.example/x", "scheme is 'gopher'"),
])
def test_schemes_refused_before_resolving(url, words):
    client, stub, asked = client_with(PUBLIC)
    with pytest.raises(RefusedBlobUrl, match=words):
        fetch(client, url)
    with pytest.raises(RefusedBlobUrl, match=words):
        client.request("GET", url, operation="GET blob", auth=False, blob=True)
    assert stub.dialled == [] and asked == []


def test_public_blob_host_is_dialled_at_its_checked_address():
    client, stub, _ = client_with(PUBLIC)
    with pytest.raises(Exception):
        fetch(client, "https://storage.example/c/b.json.gz?sig=x")
    assert stub.dialled == [("20.60.1.1", 443)]


class _Blob(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b"blob"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def loopback_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Blob)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_internal_blob_host_is_allowed_when_the_base_is_internal(loopback_server):
    port = loopback_server.server_address[1]
    client = ApiClient(api="graph", base_url=f"http://127.0.0.1:{port}/v1.0", token=None, budget=RequestBudget())
    client.address_guard.resolver = lambda host, p: ["127.0.0.1"]  # "blobs.test" is on the runner's loopback
    exchange = client.request("GET", f"http://blobs.test:{port}/c/b.json.gz?sig=x", operation="GET blob", auth=False,
                              blob=True)
    assert exchange.status == 200 and exchange.response_body == b"blob"


def test_a_blob_redirect_is_never_followed(loopback_server):
    port = loopback_server.server_address[1]
    client = ApiClient(api="graph", base_url=f"http://127.0.0.1:{port}/v1.0", token=None, budget=RequestBudget())
    exchange = client.request("GET", f"http://127.0.0.1:{port}/redirect?sig=x", operation="GET blob", auth=False,
                              blob=True, retry=False)
    assert exchange.status == 302 and client.budget.sent == 1


def test_a_refused_blob_is_an_advisory_finding_and_its_rows_unproven():
    client, stub, _ = client_with({**PUBLIC, "evil.example": ["169.254.169.254"]})
    blob = HttpBlob(stream=client.stream, url=f"https://evil.example/c/part-0.json.gz?sig={SIG}", name="part-0.json.gz")
    outcome = read_blob(blob, lambda lines: list(lines), StreamLimits())
    assert outcome.refused and outcome.inconclusive, outcome
    found = check_blobs(None, {"blobs": [{"name": "part-0.json.gz"}], "blobCount": 1}, [outcome])
    safe = [f for f in found if f.rule == "GR-BLOB-URL-SAFE"]
    assert safe and safe[0].severity == "advisory" and "169.254.169.254" in safe[0].message
    assert not [f for f in found if f.severity == "breaking"], [f.message for f in found]
    assert stub.dialled == []
