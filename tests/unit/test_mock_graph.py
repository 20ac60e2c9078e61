"""The mock's Graph endpoints: exports, the operation state machine, manifests and blobs."""

from __future__ import annotations

import gzip
import json
import re
import uuid
from urllib.parse import parse_qs

import httpx
import pytest

from recon_contracts.mock import MockConfig, serve
from recon_contracts.mock.data import BASIC_ATTRIBUTES, FULL_ATTRIBUTES

AUTH = {"Authorization": "Bearer test-token"}
NS = "#microsoft.graph.partners.billing."
BILLING = "/reports/partners/billing"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@pytest.fixture(scope="module")
def server():
    with serve(MockConfig(items=40, retry_after=0, poll_count=2, blob_rows=16)) as running:
        yield running


@pytest.fixture(scope="module")
def http():
    with httpx.Client(timeout=10) as client:
        yield client


def export(http, server, body, version="v1.0", action="export", kind="billed", headers=None, raw=None, sep="/"):
    url = f"{server.base_url}/{version}{sep}{BILLING.lstrip('/')}/reconciliation/{kind}/{action}"
    h = {**AUTH, "Content-Type": "application/json"} if headers is None else headers
    return http.post(url, headers=h, content=raw if raw is not None else json.dumps(body).encode())


def poll_to_end(http, location, limit=20):
    bodies = []
    for _ in range(limit):
        r = http.get(location, headers=AUTH)
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
        bodies.append((r.json(), r.headers))
        if r.json()["status"] in ("succeeded", "failed"):
            return bodies
    raise AssertionError("did not finish")


def blob_rows(http, manifest, with_sas=True):
    rows = []
    for blob in manifest["blobs"]:
        url = f"{manifest['rootDirectory']}/{blob['name']}"
        r = http.get(f"{url}?{manifest['sasToken']}" if with_sas else url)
        assert r.status_code == 200
        rows += [json.loads(line) for line in gzip.decompress(r.content).decode().splitlines()]
    return rows


@pytest.mark.parametrize("version", ["v1.0", "beta"])
@pytest.mark.parametrize("action", ["export", "microsoft.graph.partners.billing.export"])
@pytest.mark.parametrize("sep", ["/", "//"])
def test_export_accepted(server, http, version, action, sep):
    r = export(http, server, {"invoiceId": "G016907411", "attributeSet": "full"}, version, action, sep=sep)
    assert r.status_code == 202 and r.content == b""
    assert re.fullmatch(rf"{re.escape(server.base_url)}/{version}/reports/partners/billing/operations/{UUID}",
                        r.headers["location"])


def test_unbilled_export_accepted(server, http):
    r = export(http, server, {"currencyCode": "USD", "attributeSet": "full", "billingPeriod": "current"},
               version="beta", kind="unbilled")
    assert r.status_code == 202 and "/beta/reports/partners/billing/operations/" in r.headers["location"]


def test_operation_succeeds_with_inline_manifest(server, http):
    loc = export(http, server, {"invoiceId": "G016907411"}).headers["location"]
    bodies = poll_to_end(http, loc)
    statuses = [b["status"] for b, _ in bodies]
    assert statuses == ["notStarted", "running", "succeeded"]
    for body, headers in bodies:
        assert body["@odata.context"] == f"{server.base_url}/v1.0/$metadata#reports/partners/billing/operations/$entity"
        assert body["id"] == loc.rsplit("/", 1)[1]
        assert body["createdDateTime"].endswith("Z") and body["lastActionDateTime"].endswith("Z")
        assert body["lastActionDateTime"] >= body["createdDateTime"].rstrip("Z")
        if body["status"] == "succeeded":
            assert body["@odata.type"] == NS + "exportSuccessOperation" and "retry-after" not in headers
        else:
            assert body["@odata.type"] == NS + "runningOperation" and headers["retry-after"] == "0"
            assert "resourceLocation" not in body and "error" not in body
    manifest = bodies[-1][0]["resourceLocation"]
    assert set(manifest) == {"id", "schemaVersion", "dataFormat", "createdDateTime", "eTag", "partnerTenantId",
                             "rootDirectory", "sasToken", "partitionType", "blobCount", "blobs"}
    assert manifest["schemaVersion"] == "2" and manifest["dataFormat"] == "compressedJSON"
    assert manifest["partitionType"] == "default" and manifest["blobCount"] == len(manifest["blobs"]) == 3
    assert all(re.fullmatch(rf"part-\d{{5}}-{UUID}\.c000\.json\.gz", b["name"]) and b["partitionValue"] == "default"
               for b in manifest["blobs"])
    assert manifest["rootDirectory"].startswith(f"{server.base_url}/blobs/billedreconfastpath/v1/PartnerTenantId=")
    assert "/InvoiceId=G016907411/" in manifest["rootDirectory"]
    assert manifest["rootDirectory"].endswith("/Fragment=full/PartitionType=default")
    sas = parse_qs(manifest["sasToken"])
    assert sas["sr"] == ["d"] and sas["sp"] == ["rl"] and sas["sig"][0] and "skoid" in sas and "sv" in sas
    # terminal stays terminal; the manifest endpoint serves the same manifest
    for _ in range(3):
        again = http.get(loc, headers=AUTH).json()
        assert again["status"] == "succeeded" and again["resourceLocation"] == manifest
    got = http.get(f"{server.graph_base_url}{BILLING}/manifests/{manifest['id']}", headers=AUTH)
    assert got.status_code == 200
    assert got.json() == {"@odata.context": f"{server.base_url}/v1.0/$metadata#reports/partners/billing/manifests/$entity",
                          **manifest}


def test_blobs_gzip_json_lines_from_the_same_items(server, http):
    loc = export(http, server, {"currencyCode": "eur", "billingPeriod": "last"}, kind="unbilled").headers["location"]
    manifest = poll_to_end(http, loc)[-1][0]["resourceLocation"]
    assert "/Currency=EUR/" in manifest["rootDirectory"]
    rows = blob_rows(http, manifest)
    assert len(rows) == 40 and all(tuple(r) == FULL_ATTRIBUTES for r in rows)
    items = http.get(f"{server.base_url}/v1/invoices/unbilled/lineitems?provider=onetime&invoicelineitemtype="
                     "billinglineitems&currencycode=EUR&period=previous", headers=AUTH).json()["items"]
    assert [r["SubscriptionId"] for r in rows] == [i["subscriptionId"] for i in items]
    assert [r["ChargeType"] for r in rows] == [i["chargeType"] for i in items]
    assert [r["PCToBCExchangeRate"] for r in rows] == [i["pcToBCExchangeRate"] for i in items]


def test_basic_is_a_strict_subset_of_full(server, http):
    keys = {}
    for attribute_set in ("full", "basic"):
        loc = export(http, server, {"invoiceId": "G000000001", "attributeSet": attribute_set}).headers["location"]
        manifest = poll_to_end(http, loc)[-1][0]["resourceLocation"]
        assert manifest["rootDirectory"].endswith(f"/Fragment={attribute_set}/PartitionType=default")
        keys[attribute_set] = set().union(*(r.keys() for r in blob_rows(http, manifest)))
    assert keys["basic"] < keys["full"] and keys["basic"] == set(BASIC_ATTRIBUTES)


def test_blob_needs_the_sas(server, http):
    loc = export(http, server, {"invoiceId": "G016907411"}).headers["location"]
    manifest = poll_to_end(http, loc)[-1][0]["resourceLocation"]
    url = f"{manifest['rootDirectory']}/{manifest['blobs'][0]['name']}"
    assert http.get(f"{url}?{manifest['sasToken']}").status_code == 200
    no_sas = http.get(url)
    assert no_sas.status_code == 403 and b"AuthenticationFailed" in no_sas.content
    wrong = re.sub(r"sig=[^&]+", "sig=AAAA", manifest["sasToken"])
    assert http.get(f"{url}?{wrong}").status_code == 403
    assert http.get(f"{manifest['rootDirectory']}/part-99999.json.gz?{manifest['sasToken']}").status_code == 404
    assert http.put(f"{url}?{manifest['sasToken']}", content=b"x").status_code == 405


def test_unknown_invoice_fails_with_no_data(server, http):
    loc = export(http, server, {"invoiceId": "NOPE-1"}).headers["location"]
    bodies = poll_to_end(http, loc)
    body = bodies[-1][0]
    assert body["@odata.type"] == NS + "failedOperation" and body["status"] == "failed"
    assert body["error"] == {"code": "5000", "message": "No data available"}
    assert "resourceLocation" not in body
    assert http.get(loc, headers=AUTH).json()["status"] == "failed"


def test_success_by_navigation_link():
    with serve(MockConfig(profile="manifest-by-link", retry_after=0, poll_count=1)) as server, httpx.Client() as http:
        loc = export(http, server, {"invoiceId": "G016907411"}, version="beta").headers["location"]
        body = poll_to_end(http, loc)[-1][0]
        link = body["resourceLocation@odata.navigationLink"]
        assert re.fullmatch(rf"{re.escape(server.graph_beta_url)}/reports/partners/billing/manifests/{UUID}", link)
        manifest = http.get(link, headers=AUTH).json()
        assert len(blob_rows(http, manifest)) == 40


def test_retry_after_default_is_one_second():
    with serve(MockConfig()) as server, httpx.Client() as http:
        loc = export(http, server, {"invoiceId": "G016907411"}).headers["location"]
        assert http.get(loc, headers=AUTH).headers["retry-after"] == "1"


@pytest.mark.parametrize("headers, raw, status", [
    ({}, b'{"invoiceId": "G016907411"}', 401),
    ({"Authorization": "Basic abc", "Content-Type": "application/json"}, b'{"invoiceId": "G016907411"}', 401),
    ({**AUTH, "Content-Type": "text/plain"}, b'{"invoiceId": "G016907411"}', 415),
    (AUTH, b'{"invoiceId": "G016907411"}', 415),
    ({**AUTH, "Content-Type": "application/json"}, b"{not json", 400),
    ({**AUTH, "Content-Type": "application/json"}, b"\xff\xfe", 400),
    ({**AUTH, "Content-Type": "application/json"}, b"[]", 400),
    ({**AUTH, "Content-Type": "application/json"}, b"{}", 400),
    ({**AUTH, "Content-Type": "application/json"}, b'{"invoiceId": ""}', 400),
    ({**AUTH, "Content-Type": "application/json"}, b'{"invoiceId": 42}', 400),
    ({**AUTH, "Content-Type": "application/json"}, b'{"invoiceId": "G016907411", "attributeSet": "all"}', 400),
    ({**AUTH, "Content-Type": "application/json"}, b'{"invoiceId": "G016907411", "attributeSet": 1}', 400),
    ({**AUTH, "Content-Type": "application/json"}, b'{"invoiceId": "G016907411", "currencyCode": "USD"}', 400),
])
def test_export_errors_in_graph_envelope(server, http, headers, raw, status):
    r = export(http, server, None, headers=headers, raw=raw)
    assert r.status_code == status
    error = r.json()["error"]
    assert isinstance(error["code"], str) and isinstance(error["message"], str)
    assert set(error["innerError"]) >= {"date", "request-id", "client-request-id"}


@pytest.mark.parametrize("body", [{"currencyCode": "USD"}, {"billingPeriod": "current"},
                                  {"currencyCode": "USDX", "billingPeriod": "current"},
                                  {"currencyCode": "USD", "billingPeriod": "previous"}])
def test_unbilled_export_errors(server, http, body):
    assert export(http, server, body, kind="unbilled").status_code == 400


def test_other_graph_errors(server, http):
    base = server.graph_base_url + BILLING
    r = http.get(f"{base}/operations/{uuid.uuid4()}", headers=AUTH)
    assert r.status_code == 404 and "error" in r.json()
    assert http.get(f"{base}/operations/{uuid.uuid4()}").status_code == 401
    assert http.get(f"{base}/manifests/{uuid.uuid4()}", headers=AUTH).status_code == 404
    r = http.get(f"{base}/reconciliation/billed/export", headers=AUTH)
    assert r.status_code == 405 and r.headers["allow"] == "POST" and "error" in r.json()
    r = http.post(f"{base}/operations/x", headers=AUTH)
    assert r.status_code == 405 and r.headers["allow"] == "GET"
    r = http.get(f"{server.graph_beta_url}/me", headers=AUTH)
    assert r.status_code == 404 and "error" in r.json()
    # the beta-only member is not on v1.0, and there is no unbilled aggregated usage
    r = http.post(f"{base}/aggregatedUsage/billed/export", headers=AUTH, json={"invoiceId": "G016907411"})
    assert r.status_code == 404 and "error" in r.json()
    r = http.post(f"{server.graph_beta_url}{BILLING}/aggregatedUsage/unbilled/export", headers=AUTH,
                  json={"invoiceId": "G016907411"})
    assert r.status_code == 404 and "error" in r.json()
