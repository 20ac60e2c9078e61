"""Every mock profile does what it declares: a drift profile breaks exactly its rules, a conforming one none.

``observe`` is a small, independent rule checker: it talks to a running mock over HTTP and returns the
IDs of the breaking rules it saw violated. The parametrized test compares that set with the profile's
``breaks``.
"""

from __future__ import annotations

import gzip
import json
import re
import uuid
from collections import Counter
from datetime import datetime, timezone
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from recon_contracts.mock.data import USAGE_BASIC, USAGE_FULL

from recon_contracts.mock import PROFILES, MockConfig, Profile, serve
from recon_contracts.mock.data import OPTIONAL_FIELDS
from recon_contracts.truth.rules import catalog, charge_types, operation_states

AUTH = {"Authorization": "Bearer test-token"}
DOC_QUERY = "provider=onetime&invoicelineitemtype=billinglineitems&currencycode=usd&period=previous"
LINE_ITEMS = "/v1/invoices/unbilled/lineitems"
REQUIRED_ITEM_FIELDS = (  # the fields of the docs' response example 1
    "partnerId", "customerId", "customerName", "customerDomainName", "customerCountry", "invoiceNumber", "mpnId",
    "resellerMpnId", "orderId", "orderDate", "productId", "skuId", "availabilityId", "productName", "skuName",
    "chargeType", "unitPrice", "effectiveUnitPrice", "unitType", "quantity", "subtotal", "taxTotal",
    "totalForCustomer", "currency", "publisherName", "publisherId", "subscriptionDescription", "subscriptionId",
    "chargeStartDate", "chargeEndDate", "termAndBillingCycle", "alternateId", "priceAdjustmentDescription",
    "discountDetails", "pricingCurrency", "pcToBCExchangeRate", "pcToBCExchangeRateDate", "billableQuantity",
    "meterDescription", "reservationOrderId", "attributes",
)
NUMERIC = ("unitPrice", "effectiveUnitPrice", "quantity", "subtotal", "taxTotal", "totalForCustomer",
           "pcToBCExchangeRate", "billableQuantity")
DATES = ("orderDate", "chargeStartDate", "chargeEndDate", "pcToBCExchangeRateDate")
MANIFEST_STRINGS = ("id", "createdDateTime", "dataFormat", "eTag", "partitionType", "partnerTenantId",
                    "rootDirectory", "sasToken", "schemaVersion")
ODATA_TYPES = {"#microsoft.graph.partners.billing." + t for t in
               ("operation", "runningOperation", "exportSuccessOperation", "failedOperation")}


def parse_dt(text: str) -> datetime:
    m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d{1,7})?(Z|[+-]\d\d:\d\d)?$", text)
    if not m:
        raise ValueError(text)
    frac = (m.group(2) or ".0")[1:7].ljust(6, "0")
    tz = m.group(3) or "+00:00"
    return datetime.fromisoformat(f"{m.group(1)}.{frac}{'+00:00' if tz == 'Z' else tz}")


def is_number(v: object) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, (int, float)):
        return True
    return isinstance(v, str) and re.match(r"^-?\d+(\.\d+)?([eE][+-]?\d+)?$", v) is not None


class Checker:
    def __init__(self, base: str) -> None:
        self.base = base
        self.http = httpx.Client(timeout=10)
        self.violations: set[str] = set()

    def flag(self, rule_id: str, ok: bool) -> None:
        if not ok:
            self.violations.add(rule_id)

    def send(self, method: str, url: str, **kw) -> httpx.Response:
        """One request; a 429 or 503 with Retry-After is retried (the mock does not make us wait)."""
        for _ in range(8):
            r = self.http.request(method, url, **kw)
            if r.status_code in (429, 503) and "retry-after" in r.headers:
                continue
            break
        if url.startswith(self.base + "/v1/") and r.status_code >= 400:
            self.pc_error_shape(r)
        return r

    # ------------------------------------------------------------ Partner Center
    def pc_error_shape(self, r: httpx.Response) -> None:
        try:
            body = r.json()
        except ValueError:
            body = None
        ok = isinstance(body, dict) and (
            ("code" in body and isinstance(body.get("description"), str))
            or ("statusCode" in body and isinstance(body.get("message"), str)))
        self.flag("PC-ERROR-SHAPE", ok and r.headers.get("content-type", "").startswith("application/json"))

    def pc_get(self, query: str, token: str | None = None, auth: bool = True) -> httpx.Response:
        headers = dict(AUTH) if auth else {}
        if token is not None:
            headers["MS-ContinuationToken"] = token
        return self.send("GET", f"{self.base}{LINE_ITEMS}?{query}", headers=headers)

    def check_items(self, items: list[dict], currency: str) -> None:
        forbidden = charge_types().forbidden()
        for item in items:
            # the optional fields may be empty, null or absent (contracts/silent-points.yaml SP-PC-ITEM-OPTIONAL-EMPTY)
            self.flag("PC-RESPONSE-SCHEMA", all(f in item for f in REQUIRED_ITEM_FIELDS if f not in OPTIONAL_FIELDS)
                      and all(is_number(item[f]) for f in NUMERIC if f in item)
                      and all(isinstance(item[f], str) for f in ("chargeType", "currency", "subscriptionId")
                              if f in item))
            self.flag("PC-CHARGETYPE-MAPPED", str(item.get("chargeType", "")).casefold() not in forbidden)
            self.flag("PC-ITEM-CURRENCY", str(item.get("currency", "")).upper() == currency.upper())
            try:
                parsed = {f: parse_dt(item[f]) for f in DATES if item.get(f)}
                ok = "chargeStartDate" in parsed and "chargeEndDate" in parsed
            except (KeyError, ValueError):
                parsed, ok = {}, False
            self.flag("PC-ITEM-DATES", ok)
            if ok:
                self.flag("PC-ITEM-DATE-ORDER", parsed["chargeStartDate"] <= parsed["chargeEndDate"])

    def walk(self, query: str, size: int, budget: int) -> list[dict] | None:
        """Follow links.next to the end; the items, or None when it did not end within the budget."""
        items: list[dict] = []
        seen_tokens: set[str] = set()
        r = self.pc_get(f"{query}&size={size}")
        if r.status_code != 200:
            self.flag("PC-RESPONSE-SCHEMA", False)
            return None
        sent = dict((k.lower(), v.lower()) for k, v in parse_qsl(f"{query}&size={size}"))
        for _ in range(budget):
            body = r.json()
            if not isinstance(body, dict):
                self.flag("PC-RESPONSE-SCHEMA", False)
                return None
            page = body.get("items", [])
            self.flag("PC-PAGING-PAGE-SIZE", len(page) <= size)
            self.flag("PC-PAGING-TOTALCOUNT", body.get("totalCount") == len(page))
            currency = sent["currencycode"]
            self.check_items(page, currency)
            items += page
            nxt = (body.get("links") or {}).get("next")
            if not nxt:
                return items
            self.flag("PC-PAGING-TERMINATES", bool(page))
            link_query = {k.lower(): v.lower() for k, v in parse_qsl(urlsplit(nxt["uri"]).query)}
            self.flag("PC-PAGING-NEXT-QUERY", link_query.get("seekoperation") == "next"
                      and all(link_query.get(k) == v for k, v in sent.items()))
            tokens = [h.get("value") for h in nxt.get("headers", []) if h.get("key", "").lower() == "ms-continuationtoken"]
            self.flag("PC-PAGING-NEXT-TOKEN", bool(tokens and tokens[0]))
            token = tokens[0] if tokens and tokens[0] else body.get("continuationToken")
            self.flag("PC-PAGING-TERMINATES", token not in seen_tokens)
            seen_tokens.add(token)
            uri = nxt["uri"]
            url = uri if uri.startswith("http") else self.base + (uri if uri.startswith("/v1/") else "/v1" + uri)
            r = self.send("GET", url, headers={**AUTH, "MS-ContinuationToken": token})
            if r.status_code != 200:
                self.flag("PC-PAGING-NEXT-QUERY", False)
                return None
        self.flag("PC-PAGING-TERMINATES", False)
        return None

    def partner_center(self) -> None:
        r = self.pc_get(f"{DOC_QUERY}&size=2000", auth=False)
        self.flag("PC-AUTH-401", r.status_code == 401)
        for query in ("invoicelineitemtype=billinglineitems&currencycode=usd&period=current",
                      "provider=azure&invoicelineitemtype=billinglineitems&currencycode=usd&period=current",
                      "provider=onetime&invoicelineitemtype=usagelineitems&currencycode=usd&period=current",
                      "provider=onetime&invoicelineitemtype=billinglineitems&period=current",
                      "provider=onetime&invoicelineitemtype=billinglineitems&currencycode=usd&period=last",
                      "provider=onetime&invoicelineitemtype=billinglineitems&currencycode=usd",
                      f"{DOC_QUERY}&size=0", f"{DOC_QUERY}&size=ten"):
            status = self.pc_get(query).status_code
            self.flag("PC-QUERY-INVALID-4XX", 400 <= status < 500)
            self.flag("PC-QUERY-NO-5XX", status < 500)
        for query in ("Provider=OneTime&InvoiceLineItemType=BillingLineItems&CurrencyCode=USD&Period=Previous",
                      "provider=onetime&invoiceLineItemType=billinglineitems&currencyCode=usd&period=previous&size=5"):
            r = self.pc_get(query)
            self.flag("PC-QUERY-CASE-INSENSITIVE", r.status_code == 200)
        one_page = self.walk(DOC_QUERY, 2000, budget=10) or []  # a server may fill pages short of size
        # small pages, but no more than about 40 of them: thousands of items need no thousand requests
        walked = self.walk(DOC_QUERY, max(7, -(-len(one_page) // 40)), budget=len(one_page) + 3)
        if walked is not None:
            key = lambda it: (it.get("orderId"), it.get("alternateId"))  # noqa: E731
            self.flag("PC-PAGING-CONSISTENT", [key(i) for i in walked] == [key(i) for i in one_page])
        self.walk(DOC_QUERY.replace("usd", "eur"), max(16, -(-len(one_page) // 40)), budget=len(one_page) + 3)
        # bad tokens
        # a real token replayed with another query may be honoured (advisory PC-PAGING-BAD-TOKEN-4XX)
        first = self.pc_get(f"{DOC_QUERY}&size=3").json()
        token = first.get("continuationToken") or "AQAAAA=="
        for query, tok in ((f"{DOC_QUERY}&size=3&seekOperation=Next", "AQAAAA=="),
                           (f"{DOC_QUERY}&size=3&seekOperation=Next", None),
                           (f"{DOC_QUERY.replace('usd', 'eur')}&size=3&seekOperation=Next", token)):
            status = self.pc_get(query, tok).status_code
            self.flag("PC-PAGING-BAD-TOKEN-4XX", 400 <= status < 500)
            self.flag("PC-PAGING-BAD-TOKEN-NO-5XX", status < 500)

    # ------------------------------------------------------------ Graph
    def graph_error_ok(self, r: httpx.Response) -> bool:
        try:
            err = r.json()["error"]
            return isinstance(err["code"], str) and isinstance(err["message"], str)
        except (ValueError, KeyError, TypeError):
            return False

    def export(self, body: object, version: str = "v1.0", qualified: bool = False, auth: bool = True,
               raw: bytes | None = None) -> httpx.Response:
        action = "microsoft.graph.partners.billing.export" if qualified else "export"
        url = f"{self.base}/{version}/reports/partners/billing/reconciliation/billed/{action}"
        headers = {**(AUTH if auth else {}), "Content-Type": "application/json"}
        content = raw if raw is not None else json.dumps(body).encode()
        return self.send("POST", url, headers=headers, content=content)

    def location(self, r: httpx.Response, version: str) -> str | None:
        loc = r.headers.get("location")
        # absolute, on this server; the API version may differ (the v1.0 unbilled page's example points to /beta)
        ok = r.status_code == 202 and bool(loc) and loc.startswith((f"{self.base}/v1.0/", f"{self.base}/beta/"))
        self.flag("GR-EXPORT-202-LOCATION", ok)
        return loc if ok else None

    def lifecycle(self, loc: str) -> dict | None:
        """Poll to the end; the terminal body (None when there is none)."""
        states = operation_states()
        before = None
        terminal = None
        for _ in range(40):
            r = self.send("GET", loc, headers=AUTH)
            if r.status_code != 200:
                self.flag("GR-RESPONSE-SCHEMA", False)
                return None
            op = r.json()
            self.check_operation(op)
            status = op.get("status")
            if before is not None and status in states.rank:
                self.flag("GR-OP-STATUS-MONOTONIC", states.allowed(before, status))
            before = status
            if status in states.terminal:
                terminal = op
                break
        if terminal is None:
            self.flag("GR-OP-TERMINATES", False)
            return None
        for _ in range(3):
            again = self.send("GET", loc, headers=AUTH).json()
            self.check_operation(again)
            self.flag("GR-OP-TERMINAL-ABSORBING", again.get("status") == terminal["status"])
        return terminal

    def check_operation(self, op: dict) -> None:
        states = operation_states()
        status = op.get("status")
        self.flag("GR-RESPONSE-SCHEMA", isinstance(op.get("id"), str) and status in states.rank
                  and all(isinstance(op.get(f), str) for f in ("createdDateTime", "lastActionDateTime"))
                  and op.get("@odata.type") in ODATA_TYPES)
        if status in states.odata_type and op.get("@odata.type"):
            self.flag("GR-OP-ODATA-TYPE", op["@odata.type"].casefold() == states.odata_type[status].casefold())
        if status == "failed":
            self.flag("GR-OP-ERROR-IFF-FAILED", "error" in op)
        has_resource = "resourceLocation" in op or "resourceLocation@odata.navigationLink" in op
        if status in ("succeeded", "completed"):
            self.flag("GR-OP-RESOURCE-IFF-SUCCEEDED", has_resource)
        if "createdDateTime" in op and "lastActionDateTime" in op:
            try:
                self.flag("GR-OP-TIMESTAMPS", parse_dt(op["lastActionDateTime"]) >= parse_dt(op["createdDateTime"]))
            except ValueError:
                self.flag("GR-RESPONSE-SCHEMA", False)

    def manifest_of(self, op: dict) -> dict | None:
        if isinstance(op.get("resourceLocation"), dict):
            return op["resourceLocation"]
        link = op.get("resourceLocation@odata.navigationLink")
        if not link:
            return None
        r = self.send("GET", link, headers=AUTH)
        self.flag("GR-RESPONSE-SCHEMA", r.status_code == 200)
        return r.json() if r.status_code == 200 else None

    def rows(self, manifest: dict) -> list[dict] | None:
        self.flag("GR-RESPONSE-SCHEMA", all(isinstance(manifest.get(f), str) for f in MANIFEST_STRINGS)
                  and isinstance(manifest.get("blobs"), list) and isinstance(manifest.get("blobCount"), int))
        self.flag("GR-MANIFEST-BLOBCOUNT", manifest.get("blobCount") == len(manifest.get("blobs", [])))
        rows: list[dict] = []
        for blob in manifest.get("blobs", []):
            r = self.send("GET", f"{manifest['rootDirectory']}/{blob['name']}?{manifest['sasToken']}")
            self.flag("GR-BLOB-URL", r.status_code == 200)
            if r.status_code != 200:
                return None
            try:
                lines = gzip.decompress(r.content).decode().splitlines()
                parsed = [json.loads(line) for line in lines if line.strip()]
                ok = all(isinstance(p, dict) for p in parsed)
            except (OSError, EOFError, ValueError):
                ok, parsed = False, []
            self.flag("GR-BLOB-GZIP-JSONL", ok)
            rows += parsed
        return rows

    def graph(self) -> None:
        self.flag("GR-AUTH-401", self.export({"invoiceId": "G016907411"}, auth=False).status_code == 401)
        for bad in ({"attributeSet": "full"}, {"invoiceId": "G016907411", "attributeSet": "everything"}):
            r = self.export(bad)
            self.flag("GR-EXPORT-BAD-REQUEST-4XX", 400 <= r.status_code < 500 and self.graph_error_ok(r))
            self.flag("GR-EXPORT-BAD-REQUEST-NO-5XX", r.status_code < 500)
        r = self.export(None, raw=b"{not json")
        self.flag("GR-EXPORT-BAD-REQUEST-4XX", 400 <= r.status_code < 500 and self.graph_error_ok(r))
        self.flag("GR-EXPORT-BAD-REQUEST-NO-5XX", r.status_code < 500)
        r = self.send("GET", f"{self.base}/v1.0/reports/partners/billing/operations/{uuid.uuid4()}", headers=AUTH)
        self.flag("GR-OP-UNKNOWN-404", r.status_code == 404 and self.graph_error_ok(r))

        self.location(self.export({"invoiceId": "G016907411"}, version="beta"), "beta")
        qualified = self.export({"invoiceId": "G016907411"}, qualified=True)
        self.flag("GR-EXPORT-QUALIFIED-NAME", qualified.status_code == 202)
        failed_loc = self.location(self.export({"invoiceId": "NOT-AN-INVOICE"}), "v1.0")
        if failed_loc:
            self.lifecycle(failed_loc)
        attributes: dict[str, set[str]] = {}
        for attribute_set in ("full", "basic"):
            loc = self.location(self.export({"invoiceId": "G016907411", "attributeSet": attribute_set}), "v1.0")
            terminal = self.lifecycle(loc) if loc else None
            if not terminal or terminal.get("status") not in ("succeeded", "completed"):
                continue
            manifest = self.manifest_of(terminal)
            rows = self.rows(manifest) if manifest else None
            if rows:
                attributes[attribute_set] = set().union(*(row.keys() for row in rows))
                if attribute_set == "full":
                    self.export_rows(rows)
        if len(attributes) == 2:
            self.flag("GR-EXPORT-BASIC-SUBSET", attributes["basic"] < attributes["full"])
        self.family()

    def family_rows(self, segment: str, body: dict, version: str = "v1.0") -> list[dict] | None:
        url = f"{self.base}/{version}/reports/partners/billing/{segment}/export"
        r = self.send("POST", url, headers={**AUTH, "Content-Type": "application/json"}, content=json.dumps(body).encode())
        loc = self.location(r, version)
        terminal = self.lifecycle(loc) if loc else None
        if not terminal or terminal.get("status") not in ("succeeded", "completed"):
            return None
        manifest = self.manifest_of(terminal)
        return self.rows(manifest) if manifest else None

    def family(self) -> None:
        """The other members of the export family, judged here independently of checks/rows.py."""
        unbilled = {"currencyCode": "USD", "billingPeriod": "current"}
        rows = self.family_rows("reconciliation/unbilled", {**unbilled, "attributeSet": "full"})
        if rows:
            folded = [{k.lower(): v for k, v in row.items()} for row in rows]
            self.flag("GR-ROW-CURRENCY", all(str(r.get("currency", "USD")).upper() == "USD" for r in folded))
            self.flag("GR-ROW-REQUIRED-COLUMNS", any("unitprice" in r for r in folded))
        usage = {"reconciliation/unbilled": None}
        for segment, base in (("usage/billed", {"invoiceId": "G016907411"}), ("usage/unbilled", unbilled)):
            for attribute_set in ("full", "basic"):
                rows = self.family_rows(segment, {**base, "attributeSet": attribute_set})
                if not rows:
                    continue
                keys = {k.lower() for row in rows for k in row}
                usage[f"{segment}/{attribute_set}"] = keys
                if attribute_set == "basic":
                    documented = {c.lower() for c in USAGE_FULL}
                    self.flag("GR-USAGE-BASIC-COLUMNS", keys & documented <= {c.lower() for c in USAGE_BASIC})
                else:
                    self.flag("GR-USAGE-FULL-COLUMNS", {"metercategory", "meterid", "usagedate"} <= keys)
        rows = self.family_rows("aggregatedUsage/billed", {"invoiceId": "G016907411"}, version="beta")
        if rows:
            self.flag("GR-ROW-COLUMN-TYPES", all(not isinstance(r.get("PartnerPrice", r.get("partnerPrice")), (dict, list))
                                                 for r in rows))


    def export_rows(self, rows: list[dict]) -> None:
        """The row rules, checked here independently of checks/rows.py (case-insensitive names, both date styles)."""
        spellings: dict[str, set[str]] = {}
        for row in rows:
            for key in row:
                spellings.setdefault(key.lower(), set()).add(key)
        self.flag("GR-ROW-CASING-CONSISTENT", all(len(v) == 1 for v in spellings.values()))
        folded = [{k.lower(): v for k, v in row.items()} for row in rows]
        keys = ("invoicenumber", "chargetype", "chargestartdate", "chargeenddate")
        self.flag("GR-ROW-REQUIRED-COLUMNS", all(all(r.get(k) not in (None, "") for k in keys) for r in folded)
                  and "subscriptionid" in spellings)
        self.flag("GR-ROW-COLUMN-TYPES", all(not isinstance(r.get("unitprice"), (dict, list, bool)) for r in folded))
        self.flag("GR-ROW-INVOICE", all(r.get("invoicenumber") == "G016907411" for r in folded))
        # a column missing from some rows, and another in exactly those rows, never beside it: renamed
        counts = Counter(k for r in folded for k in r)
        partial = {k for k, n in counts.items() if n < len(folded)}
        self.flag("GR-ROW-COLUMN-RENAMED", not any(
            [x for x in folded if k not in x] == [x for x in folded if j in x] for k in partial for j in partial if j != k))

        def when(text: object) -> datetime | None:
            try:
                return datetime.fromisoformat(str(text).replace("Z", "+00:00"))
            except ValueError:
                try:
                    return datetime.strptime(str(text), "%m/%d/%Y")
                except ValueError:
                    return None

        dates = [(when(r.get("chargestartdate")), when(r.get("chargeenddate"))) for r in folded if "chargeenddate" in r]
        self.flag("GR-ROW-DATES", all(a is not None and b is not None for a, b in dates))
        aware = [(a if a.tzinfo else a.replace(tzinfo=timezone.utc), b if b.tzinfo else b.replace(tzinfo=timezone.utc))
                 for a, b in dates if a is not None and b is not None]
        self.flag("GR-ROW-CHARGE-PERIOD", all(a <= b for a, b in aware))


def observe(cfg: MockConfig) -> set[str]:
    with serve(cfg) as server:
        checker = Checker(server.base_url)
        checker.partner_center()
        checker.graph()
        return checker.violations


@pytest.mark.parametrize("name", sorted(n for n, p in PROFILES.items() if p.expect != "inconclusive"))
def test_profile_breaks_exactly_what_it_declares(name: str) -> None:
    profile = PROFILES[name]
    if profile.unproves:
        pytest.skip(f"{name} keeps the suite from checking {', '.join(profile.unproves)} (an inconclusive profile)")
    seen = observe(MockConfig(profile=name, seed=3, items=40, poll_count=2, retry_after=0, blob_rows=16))
    # only breaking rules make a drift profile: an advisory rule's violation is a conforming alternative
    seen = {r for r in seen if catalog()[r].severity == "breaking"}
    assert seen == set(profile.breaks), f"{name}: declared {sorted(profile.breaks)}, observed {sorted(seen)}"


def test_every_breaking_rule_has_a_drift_profile() -> None:
    # BASELINE-* rules are broken by a pair of runs, not by one profile (tests/self/test_recorded_traffic.py)
    breaking = {r.id for r in catalog().values() if r.severity == "breaking" and not r.id.startswith("BASELINE-")}
    covered = {rule_id for p in PROFILES.values() for rule_id in p.breaks}
    assert breaking <= covered, f"no drift profile for {sorted(breaking - covered)}"


def test_profiles_declare_known_breaking_rules_only() -> None:
    rules = catalog()
    for p in PROFILES.values():
        assert isinstance(p, Profile) and p.name and p.description
        assert p.conforming == (not p.breaks and not p.unproves), p.name
        for rule_id in p.breaks:
            assert rules[rule_id].severity == "breaking", (p.name, rule_id)


def test_required_profile_names() -> None:
    required = {"conforming", "throttled", "unavailable-once", "slow-operation", "empty", "numbers-as-strings",
                "lowercase-charge-types", "manifest-by-link", "offsetless-created", "undeclared-properties",
                "v1-links"}
    assert required <= {n for n, p in PROFILES.items() if p.conforming}


# ---------------------------------------------------------------- the conforming variations, one look each

def _pc_page(server, query: str = f"{DOC_QUERY}&size=5", headers: dict | None = None) -> httpx.Response:
    return httpx.get(f"{server.base_url}{LINE_ITEMS}?{query}", headers=headers or AUTH)


def _export_and_poll(server, polls: int) -> list[httpx.Response]:
    r = httpx.post(f"{server.graph_base_url}/reports/partners/billing/reconciliation/billed/export",
                   json={"invoiceId": "G016907411"}, headers=AUTH)
    assert r.status_code == 202
    return [httpx.get(r.headers["location"], headers=AUTH) for _ in range(polls)]


def test_throttled_answers_429_with_retry_after() -> None:
    with serve(MockConfig(profile="throttled", retry_after=0)) as server:
        statuses = [_pc_page(server) for _ in range(31)]
        throttled = [r for r in statuses if r.status_code == 429]
        assert [statuses.index(r) for r in throttled] == [4, 29]
        assert throttled[0].headers["retry-after"] == "1"
        assert throttled[0].json() == {"statusCode": 429, "message": "Rate limit is exceeded. Try again in 1 seconds."}
        polls = _export_and_poll(server, 2)
        assert polls[0].status_code == 429 and polls[0].headers["retry-after"] == "1"
        assert polls[1].status_code == 200


def test_unavailable_once_answers_503_first() -> None:
    with serve(MockConfig(profile="unavailable-once", retry_after=0)) as server:
        first, second = _pc_page(server), _pc_page(server)
        assert first.status_code == 503 and first.headers["retry-after"] == "1" and "description" in first.json()
        assert second.status_code == 200
        url = f"{server.graph_base_url}/reports/partners/billing/reconciliation/billed/export"
        g1 = httpx.post(url, json={"invoiceId": "G016907411"}, headers=AUTH)
        g2 = httpx.post(url, json={"invoiceId": "G016907411"}, headers=AUTH)
        assert g1.status_code == 503 and "error" in g1.json() and g2.status_code == 202


def test_slow_operation_stays_running_longer() -> None:
    with serve(MockConfig(profile="slow-operation", poll_count=1, retry_after=0)) as server:
        statuses = [r.json()["status"] for r in _export_and_poll(server, 7)]
        assert statuses == ["notStarted"] + ["running"] * 5 + ["succeeded"]


def test_empty_profile() -> None:
    with serve(MockConfig(profile="empty", retry_after=0, poll_count=0)) as server:
        body = _pc_page(server).json()
        assert body["totalCount"] == 0 and body["items"] == [] and "next" not in body["links"]
        op = _export_and_poll(server, 1)[0].json()
        assert op["status"] == "failed" and op["error"] == {"code": "5000", "message": "No data available"}


def test_numbers_as_strings_and_lowercase_charge_types() -> None:
    with serve(MockConfig(profile="numbers-as-strings")) as server:
        item = _pc_page(server).json()["items"][0]
        assert isinstance(item["unitPrice"], str) and isinstance(item["quantity"], str)
        float(item["unitPrice"]), int(item["quantity"])
    with serve(MockConfig(profile="lowercase-charge-types")) as server:
        types = {i["chargeType"] for i in _pc_page(server, f"{DOC_QUERY}&size=40").json()["items"]}
        assert "new" in types and all(t == t.lower() for t in types)


def test_manifest_by_link_offsetless_and_undeclared() -> None:
    with serve(MockConfig(profile="manifest-by-link", poll_count=0, retry_after=0)) as server:
        op = _export_and_poll(server, 1)[0].json()
        assert "resourceLocation" not in op
        link = op["resourceLocation@odata.navigationLink"]
        assert link.startswith(server.graph_base_url + "/reports/partners/billing/manifests/")
        assert httpx.get(link, headers=AUTH).json()["blobCount"] == 1
    with serve(MockConfig(profile="offsetless-created", poll_count=0)) as server:
        op = _export_and_poll(server, 1)[0].json()
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$", op["createdDateTime"])
    with serve(MockConfig(profile="undeclared-properties", poll_count=0)) as server:
        assert "pricingModel" in _pc_page(server).json()["items"][0]
        op = _export_and_poll(server, 1)[0].json()
        assert "percentComplete" in op and "dataVersion" in op["resourceLocation"]


def test_v1_links() -> None:
    with serve(MockConfig(profile="v1-links")) as server:
        links = _pc_page(server).json()["links"]
        assert links["self"]["uri"].startswith("/v1/invoices/unbilled/lineitems?")
        assert links["next"]["uri"].startswith("/v1/invoices/unbilled/lineitems?")


@pytest.mark.parametrize("name", sorted(n for n, p in PROFILES.items() if p.expect == "inconclusive"
                                       and {"throttling", "unavailable"} & set(p.knobs.changed())))
def test_unproven_profile_answers_only_retry_later(name: str) -> None:
    """An inconclusive profile keeps answering 429 or 503 with Retry-After, on both APIs (after the first request)."""
    with serve(MockConfig(profile=name, items=5, retry_after=0)) as server, httpx.Client(timeout=10) as http:
        answers = [http.get(f"{server.base_url}{LINE_ITEMS}?{DOC_QUERY}", headers=AUTH) for _ in range(4)]
        answers += [http.post(f"{server.base_url}/v1.0/reports/partners/billing/reconciliation/billed/export",
                              headers={**AUTH, "Content-Type": "application/json"}, json={"invoiceId": "G016907411"})
                    for _ in range(4)]
    if PROFILES[name].knobs.changed().get("throttling", PROFILES[name].knobs.unavailable) == "after-first":
        first_ok = [answers.pop(4), answers.pop(0)]
        assert all(r.status_code < 400 for r in first_ok), [r.status_code for r in first_ok]
    assert all(r.status_code in (429, 503) and r.headers.get("retry-after") for r in answers), \
        [(r.status_code, r.headers.get("retry-after")) for r in answers]
