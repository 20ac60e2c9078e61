"""The mock's deterministic data set, generated lazily.

Line item ``i`` of a data set is computed from ``(seed, data set key, i)`` when it is asked for and
never stored, so a data set of a million items costs no more memory than one of a thousand, and an
item is the same whatever page (or blob) it is served on.

Data set keys: ``unbilled:current`` and ``unbilled:previous`` (Partner Center ``invoices/unbilled``
and the Graph unbilled reconciliation export) and an invoice id such as ``G016907411`` (the Graph
billed reconciliation export).

Items take three shapes, by ``i % 3``:
  0  like the docs' response example 1 (2019): every field the 2019 examples carry, all filled
  1  like the docs' 2021 OneTime example: adds productQualifiers, subscriptionStartDate/EndDate,
     referenceId, billingFrequency, promotionId, invoiceLineItemType "billing_line_items",
     billingProvider "one_time"; pcToBCExchangeRateDate without an offset
  2  like the docs' second page: the 2019 field set with the optional values empty
"""

from __future__ import annotations

import hashlib
import random
from base64 import b64encode
from hashlib import blake2b
from datetime import date
from functools import cache

from ..truth.rules import charge_types

# ------------------------------------------------------------------ vocabulary


@cache
def raw_charge_types() -> tuple[str, ...]:
    """What the billing system records: the mapped names (Purchase, Refund) and the documented ones."""
    ct = charge_types()
    raw = list(ct.mapping)
    raw += [k for k in ct.known if k not in raw]
    return tuple(raw)


def report_charge_type(raw: str) -> str:
    """The chargeType the API reports for a recorded one (Purchase -> New, Refund -> Cancel)."""
    return charge_types().mapping.get(raw, raw)


_REPORTED = charge_types().mapping
_NEGATIVE = frozenset(v.casefold() for v in ("Refund", "Cancel", "removeQuantity", "cancelImmediate", "customerCredit"))

# productId, skuId, availabilityId, productName, skuName, publisherName, publisherId, unitType,
# termAndBillingCycle, USD unit price, meterDescription, productQualifiers, billingFrequency, days
_PRODUCTS = (
    ("DZH318Z0BXWC", "0002", "DZH318Z0BP8B", "Test WAF-as-a-Service", "Test WaaS - Medium Plan",
     "Test Networks, Inc.", "21223810", "", "1 Month Subscription", 820.0,
     "Bandwidth - Data Transfer In (GB) - Zone 2", [], "Monthly", 27),
    ("DZH318Z0BXWC", "0005", "DZH318Z0BH9R", "Test WAF-as-a-Service", "Test WaaS - Large Plan",
     "Test Networks, Inc.", "21223810", "", "1 Month Subscription", 2598.0, "", [], "Monthly", 27),
    ("CFQ7TTC0LH18", "0001", "CFQ7TTC0KDWR", "Microsoft 365 Business Basic", "Microsoft 365 Business Basic",
     "Microsoft Corporation", "", "Licenses", "One-Year commitment for monthly/yearly billing", 6.0, "", [], "Monthly", 30),
    ("CFQ7TTC0LDPB", "0001", "CFQ7TTC0K3WR", "Microsoft 365 Business Standard", "Microsoft 365 Business Standard",
     "Microsoft Corporation", "", "Licenses", "One-Month commitment for monthly billing", 12.5, "", [], "Monthly", 30),
    ("CFQ7TTC0LH0R", "0002", "CFQ7TTC0K5RQ", "Microsoft 365 Phone System - Virtual User",
     "Microsoft 365 Phone System - Virtual User", "Microsoft Corporation", "", "", "One-Month commitment for trial",
     0.0, "", ["AddOn", "Trial"], "", 30),
    ("DZH318Z0BQ3Q", "0008", "DZH318Z0BJ49", "Azure Reserved Virtual Machine Instances", "Standard_D2s_v3 - 1 Year",
     "Microsoft Corporation", "", "", "1 Year Reservation", 1234.56, "Reservation-Base VM", [], "OneTime", 365),
    ("CFQ7TTC0LFLX", "0002", "CFQ7TTC0KMVK", "Microsoft Teams Essentials", "Microsoft Teams Essentials",
     "Microsoft Corporation", "", "Licenses", "One-Year commitment for yearly billing", 4.0, "", ["AddOn"], "Annual", 364),
    ("DG7GMGF0DVSV", "0007", "DG7GMGF0G4QS", "Windows Server 2022 Standard - 2 Core License Pack",
     "Windows Server 2022 Standard - 2 Core License Pack - 1 year", "Microsoft Corporation", "", "",
     "One-Year commitment for yearly billing", 112.0, "", [], "Annual", 364),
)

_CUSTOMER_NAMES = ("Contoso", "Fabrikam", "Northwind Traders", "Adventure Works", "Tailspin Toys", "Wide World Importers",
                   "Litware", "Proseware", "Woodgrove Bank", "Alpine Ski House", "Coho Winery", "Fourth Coffee")
_COUNTRIES = ("US", "GB", "DE", "FR", "IN", "JP", "AU", "CA", "NL", "BR")
_OFFSETS = ("-08:00", "-07:00", "-05:00", "+00:00", "+01:00", "+05:30", "+09:00", "Z")
_ADJUSTMENTS = ("", "[\"15.0% Partner earned credit for services managed\"]",
                "[\"15.0% Partner earned credit for services managed\",\"100.0% Tier 1 Discount\"]", "")
# Exchange rates from the pricing currency (USD) to a billing currency; others use 1.1.
_RATES = {"USD": 1.0, "EUR": 0.92, "GBP": 0.79, "JPY": 151.2, "INR": 83.4, "AUD": 1.52, "CAD": 1.36, "BRL": 5.02,
          "CHF": 0.9, "DKK": 6.87, "NOK": 10.8, "SEK": 10.6, "NZD": 1.64}
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _h64(*parts: object) -> int:
    return int.from_bytes(hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest(), "big")


def _guid(n: int) -> str:
    h = f"{n & ((1 << 128) - 1):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def stable_guid(*parts: object) -> str:
    """A GUID derived from its parts (same parts, same GUID)."""
    return _guid(int.from_bytes(hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=16).digest(), "big"))


def stable_int(*parts: object) -> int:
    """A non-negative integer derived from its parts (same parts, same integer)."""
    return int.from_bytes(hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest(), "big")


@cache
def partner_id(seed: int) -> str:
    return stable_guid("partner", seed)


@cache
def _customers(seed: int) -> tuple[tuple[str, str, str, str], ...]:
    rng = random.Random(_h64("customers", seed))
    out = []
    for k in range(16):
        name = f"{rng.choice(_CUSTOMER_NAMES)} {k + 1:02d}"
        domain = name.replace(" ", "").lower() + ".onmicrosoft.com"
        out.append((_guid(rng.getrandbits(128)), name, domain, rng.choice(_COUNTRIES)))
    return tuple(out)


def billing_month(seed: int, key: str) -> tuple[int, int]:
    """(year, month) of a data set: unbilled current follows unbilled previous; an invoice gets its own month."""
    base = 2024 * 12 + (seed % 12)  # months since year 0, January 2024 + seed
    if key == "unbilled:current":
        m = base + 1
    elif key == "unbilled:previous":
        m = base
    else:
        m = base - 1 - _h64("invoice-month", key) % 12
    return m // 12, m % 12 + 1


def exchange_rate(currency: str) -> float:
    return _RATES.get(currency.upper(), 1.1)


# ------------------------------------------------------------------ one line item

def _hex_guid(b: bytes) -> str:
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


_B64_TO_ALNUM = bytes.maketrans(b"+/=", b"kQx")


@cache
def _mpn(seed: int) -> str:
    return str(1000000 + seed % 9000000)


@cache
def _days(seed: int, key: str) -> tuple[str, ...]:
    """'YYYY-MM-DD' for day offsets -2 .. 400 from the first of the data set's billing month (index + 2)."""
    year, month = billing_month(seed, key)
    first = date(year, month, 1).toordinal()
    return tuple(date.fromordinal(first + k).isoformat() for k in range(-2, 401))


@cache
def _constants(seed: int, key: str) -> tuple:
    year, month = billing_month(seed, key)
    return (partner_id(seed), _mpn(seed), "" if key.startswith("unbilled:") else key, _days(seed, key),
            f"{year:04d}-{month:02d}-01T00:00:00", _customers(seed), raw_charge_types())


def line_item(seed: int, key: str, i: int, currency: str) -> dict:
    """Line item ``i`` of data set ``key`` in ``currency`` (upper-case ISO code), as the API reports it."""
    partner, mpn, invoice_number, days_table, month_start, customers, raw_types = _constants(seed, key)
    src = f"{seed}|{key}|{i}".encode()
    d = blake2b(src, digest_size=64).digest() + blake2b(src + b"#", digest_size=64).digest()
    r = int.from_bytes(d[96:128], "big")  # 256 bits for the small choices below
    r, product = divmod(r, len(_PRODUCTS))
    r, customer = divmod(r, 16)
    r, q = divmod(r, 50)
    r, adj = divmod(r, 4)
    r, off = divmod(r, len(_OFFSETS))
    r, day = divmod(r, 28)
    r, hour = divmod(r, 24)
    r, minute = divmod(r, 60)
    r, second = divmod(r, 60)
    r, frac = divmod(r, 10_000_000)
    r, order_frac = divmod(r, 10_000_000)
    r, order_minutes = divmod(r, 600)
    r, short = divmod(r, 364)
    r, billable_part = divmod(r, 4_000_000)

    shape = i % 3
    (product_id, sku_id, availability_id, product_name, sku_name, publisher_name, publisher_id, unit_type,
     term, usd_price, meter, qualifiers, frequency, days) = _PRODUCTS[product]
    cust_id, cust_name, cust_domain, country = customers[customer]
    raw_type = raw_types[(i + seed) % len(raw_types)]
    rate = _RATES.get(currency, 1.1)
    sign = -1 if raw_type.casefold() in _NEGATIVE else 1
    quantity = 1 + q
    unit_price = round(usd_price * rate, 2)
    adjustment = _ADJUSTMENTS[adj] if shape != 2 else ""
    effective = round(unit_price * (0.85 if "15.0%" in adjustment else 1.0), 2)
    subtotal = round(sign * effective * quantity, 2)
    tax = round(subtotal * 0.08, 2) if country == "US" and shape != 2 else 0
    offset = _OFFSETS[off]
    duration = days if sign > 0 else 1 + short % days
    clock = f"T{hour:02d}:{minute:02d}:{second:02d}.{frac:07d}{offset}"
    start_day = days_table[day + 2]
    end_day = days_table[day + 2 + duration]
    order_clock = divmod(hour * 60 + minute + 1440 - 480 - order_minutes, 60)
    order_day = days_table[day + 2 - (1 if order_clock[0] < 24 else 0)]
    billable = quantity if shape else round(quantity * billable_part / 1_000_000, 6)
    item = {
        "partnerId": partner,
        "customerId": ("org:" + cust_id) if shape == 0 else cust_id,
        "customerName": cust_name,
        "customerDomainName": cust_domain,
        "customerCountry": country,
        "invoiceNumber": invoice_number,
        "mpnId": mpn,
        "resellerMpnId": 0 if shape != 1 else 4649221,
        "orderId": b64encode(d[48:73]).translate(_B64_TO_ALNUM)[:33].decode() if shape != 1 else d[48:54].hex(),
        "orderDate": f"{order_day}T{order_clock[0] % 24:02d}:{order_clock[1]:02d}:{second:02d}.{order_frac:07d}Z",
        "productId": product_id,
        "skuId": sku_id,
        "availabilityId": availability_id,
        "productName": product_name,
        "skuName": sku_name,
    }
    if shape == 1:
        item["productQualifiers"] = list(qualifiers)
    item["chargeType"] = _REPORTED.get(raw_type, raw_type)
    item["unitPrice"] = unit_price
    item["effectiveUnitPrice"] = effective
    item["unitType"] = unit_type
    item["quantity"] = quantity
    item["subtotal"] = subtotal
    item["taxTotal"] = tax
    item["totalForCustomer"] = round(subtotal + tax, 2)
    item["currency"] = currency
    item["publisherName"] = publisher_name
    item["publisherId"] = publisher_id
    item["subscriptionDescription"] = "" if shape == 2 else sku_name
    item["subscriptionId"] = _hex_guid(d[0:16])
    if shape == 1:
        item["subscriptionStartDate"] = f"{start_day}T00:00:00Z"
        item["subscriptionEndDate"] = f"{end_day}T00:00:00Z"
    item["chargeStartDate"] = start_day + clock
    item["chargeEndDate"] = end_day + clock
    item["termAndBillingCycle"] = term
    item["alternateId"] = d[74:80].hex()[:11]
    if shape == 1:
        item["referenceId"] = _hex_guid(d[32:48])
    item["priceAdjustmentDescription"] = adjustment
    item["discountDetails"] = ""
    item["pricingCurrency"] = "USD"
    item["pcToBCExchangeRate"] = rate
    item["pcToBCExchangeRateDate"] = month_start if shape == 1 else month_start + "Z"
    item["billableQuantity"] = billable
    item["meterDescription"] = meter if shape == 0 else ""
    if shape == 1:
        item["billingFrequency"] = frequency
    item["reservationOrderId"] = _hex_guid(d[16:32]) if shape != 2 and (shape == 0 or usd_price > 1000) else ""
    if shape == 1:
        item["invoiceLineItemType"] = "billing_line_items"
        item["billingProvider"] = "one_time"
        item["promotionId"] = ""
    item["attributes"] = {"objectType": "OneTimeInvoiceLineItem"}
    return item


# Fields a server may send empty, null or not at all (knob optional_values): the ones some documented body
# lacks (SDK-only or newer, or missing from the docs' 2019 second page). Fields present in every documented
# body (subscriptionDescription, unitType, ...) are required by the spec and stay "".
OPTIONAL_FIELDS = ("productQualifiers", "subscriptionStartDate", "subscriptionEndDate", "referenceId",
                   "billingFrequency", "promotionId", "reservationOrderId", "meterDescription",
                   "discountDetails", "priceAdjustmentDescription")

NUMERIC_FIELDS = ("resellerMpnId", "unitPrice", "effectiveUnitPrice", "quantity", "subtotal", "taxTotal",
                  "totalForCustomer", "pcToBCExchangeRate", "billableQuantity")


def raw_charge_type(seed: int, i: int) -> str:
    """The recorded charge type of item ``i`` (before the API maps Purchase/Refund)."""
    raw_types = raw_charge_types()
    return raw_types[(i + seed) % len(raw_types)]


# ------------------------------------------------------------------ export rows (blobs)

def _pascal(name: str) -> str:
    if name.startswith("pcToBC"):
        return "PCToBC" + name[6:]
    return name[0].upper() + name[1:]


_CAMEL_FIELDS = (
    "partnerId", "customerId", "customerName", "customerDomainName", "customerCountry", "invoiceNumber", "mpnId",
    "resellerMpnId", "orderId", "orderDate", "productId", "skuId", "availabilityId", "productName", "skuName",
    "productQualifiers", "chargeType", "unitPrice", "effectiveUnitPrice", "unitType", "quantity", "subtotal",
    "taxTotal", "totalForCustomer", "currency", "publisherName", "publisherId", "subscriptionDescription",
    "subscriptionId", "subscriptionStartDate", "subscriptionEndDate", "chargeStartDate", "chargeEndDate",
    "termAndBillingCycle", "alternateId", "referenceId", "priceAdjustmentDescription", "discountDetails",
    "pricingCurrency", "pcToBCExchangeRate", "pcToBCExchangeRateDate", "billableQuantity", "meterDescription",
    "billingFrequency", "reservationOrderId", "invoiceLineItemType", "billingProvider", "promotionId",
)
FULL_ATTRIBUTES: tuple[str, ...] = tuple(_pascal(n) for n in _CAMEL_FIELDS)
# Modelled on the usage exports' documented basic set: identity, product, charge and amount columns.
BASIC_ATTRIBUTES: tuple[str, ...] = (
    "PartnerId", "CustomerId", "CustomerName", "InvoiceNumber", "ProductId", "SkuId", "SkuName", "ChargeType",
    "UnitPrice", "EffectiveUnitPrice", "UnitType", "Quantity", "Subtotal", "TaxTotal", "TotalForCustomer",
    "Currency", "PublisherName", "SubscriptionId", "ChargeStartDate", "ChargeEndDate", "PricingCurrency",
    "PCToBCExchangeRate",
)
_FULL_PAIRS = tuple(zip(FULL_ATTRIBUTES, _CAMEL_FIELDS))
_BASIC_PAIRS = tuple((p, c) for p, c in _FULL_PAIRS if p in set(BASIC_ATTRIBUTES))
_ABSENT_DEFAULTS = {"productQualifiers": []}


def export_row(item: dict, attribute_set: str, camel: bool = False) -> dict:
    """One JSON line of an export blob: PascalCase keys (camelCase when ``camel``), every attribute of the set."""
    pairs = _BASIC_PAIRS if attribute_set == "basic" else _FULL_PAIRS
    get = item.get
    if camel:
        return {c: get(c, _ABSENT_DEFAULTS.get(c, "")) for _, c in pairs}
    return {p: get(c, _ABSENT_DEFAULTS.get(c, "")) for p, c in pairs}


# ------------------------------------------------------------------ the other members of the export family

# The usage exports' documented attributes, in the beta page's column order, and the ones its table marks Basic
# ([DOCS v1.0/resources/partners-billing-attributeset.md]: "The billedUsage: export or unbilledUsage: export API
# response with the full or basic request parameter returns the following attributes").
USAGE_FULL: tuple[str, ...] = (
    "PartnerId", "PartnerName", "CustomerId", "CustomerName", "CustomerDomainName", "CustomerCountry", "MpnId",
    "Tier2MpnId", "InvoiceNumber", "ProductId", "SkuId", "AvailabilityId", "SkuName", "ProductName", "PublisherName",
    "PublisherId", "SubscriptionDescription", "SubscriptionId", "ChargeStartDate", "ChargeEndDate", "UsageDate",
    "MeterType", "MeterCategory", "MeterId", "MeterSubCategory", "MeterName", "MeterRegion", "Unit",
    "ResourceLocation", "ConsumedService", "ResourceGroup", "ResourceURI", "ChargeType", "UnitPrice", "Quantity",
    "UnitType", "BillingPreTaxTotal", "BillingCurrency", "PricingPreTaxTotal", "PricingCurrency", "ServiceInfo1",
    "ServiceInfo2", "Tags", "AdditionalInfo", "EffectiveUnitPrice", "PCToBCExchangeRate", "EntitlementId",
    "EntitlementDescription", "PartnerEarnedCreditPercentage", "CreditPercentage", "CreditType", "BenefitOrderID",
    "BenefitID", "BenefitType",
)
USAGE_BASIC: frozenset[str] = frozenset((
    "AdditionalInfo", "BenefitOrderID", "BenefitType", "BillingCurrency", "BillingPreTaxTotal", "ChargeEndDate",
    "ChargeStartDate", "ChargeType", "CreditPercentage", "CreditType", "CustomerId", "CustomerName",
    "EffectiveUnitPrice", "EntitlementId", "InvoiceNumber", "PartnerId", "PartnerName", "PCToBCExchangeRate",
    "PricingCurrency", "PricingPreTaxTotal", "ProductId", "PublisherName", "Quantity", "ResourceURI", "SkuId",
    "SkuName", "SubscriptionId", "UnitPrice", "UnitType", "UsageDate",
))
_METERS = (("Virtual Machines", "Dv3/DSv3 Series", "D2 v3/D2s v3", "1 Hour", "Microsoft.Compute", "1 Compute Hour"),
           ("Storage", "Tables", "LRS Data Stored", "1 GB/Month", "Microsoft.Storage", "Data Stored"),
           ("Bandwidth", "Inter-Region", "Intra Continent Data Transfer Out", "1 GB", "Microsoft.Network", "Data Transfer"))
_REGIONS = ("US East", "EU West", "Asia Pacific East", "")
# The aggregated-usage columns its Partner Center twin names (PriceBenefits, PartnerPrice, EffectiveUnitPrice) and the
# join keys to the recon file (productId + SkuId + meterId), per "usage aggregated reconciliation files".
AGGREGATED: tuple[str, ...] = ("PartnerId", "CustomerId", "InvoiceNumber", "ProductId", "SkuId", "MeterId",
                               "PriceBenefits", "PartnerPrice", "EffectiveUnitPrice")


def usage_meter(i: int) -> str:
    return stable_guid("meter", i % len(_METERS))


def usage_row(item: dict, attribute_set: str, camel: bool = False, i: int | None = None) -> dict:
    """One JSON line of a usage export, from the same line item (the usage attribute table's columns)."""
    n = int(item["alternateId"], 16) if item.get("alternateId") else 0
    category, sub, name, unit, service, meter_type = _METERS[n % len(_METERS)]
    subtotal = item["subtotal"]
    rate = item["pcToBCExchangeRate"] or 1
    start = str(item["chargeStartDate"])
    values = {
        "PartnerId": item["partnerId"], "PartnerName": "Recon Contracts Partner", "CustomerId": item["customerId"],
        "CustomerName": item["customerName"], "CustomerDomainName": item["customerDomainName"],
        "CustomerCountry": item["customerCountry"], "MpnId": item["mpnId"], "Tier2MpnId": str(item["resellerMpnId"]),
        "InvoiceNumber": item["invoiceNumber"], "ProductId": item["productId"], "SkuId": item["skuId"],
        "AvailabilityId": item["availabilityId"], "SkuName": item["skuName"], "ProductName": item["productName"],
        "PublisherName": item["publisherName"], "PublisherId": item["publisherId"],
        "SubscriptionDescription": item["subscriptionDescription"], "SubscriptionId": item["subscriptionId"],
        "ChargeStartDate": start, "ChargeEndDate": item["chargeEndDate"], "UsageDate": start[:10],
        "MeterType": meter_type, "MeterCategory": category, "MeterId": stable_guid("meter", n % len(_METERS)),
        "MeterSubCategory": sub, "MeterName": name, "MeterRegion": _REGIONS[n % len(_REGIONS)], "Unit": unit,
        "ResourceLocation": "eastus", "ConsumedService": service, "ResourceGroup": f"rg-{item['customerCountry'].lower()}",
        "ResourceURI": f"/subscriptions/{item['subscriptionId']}/resourceGroups/rg-{item['customerCountry'].lower()}",
        "ChargeType": item["chargeType"], "UnitPrice": item["unitPrice"], "Quantity": item["billableQuantity"],
        "UnitType": item["unitType"], "BillingPreTaxTotal": subtotal, "BillingCurrency": item["currency"],
        "PricingPreTaxTotal": round(subtotal / rate, 2), "PricingCurrency": item["pricingCurrency"],
        "ServiceInfo1": "", "ServiceInfo2": "", "Tags": "", "AdditionalInfo": "",
        "EffectiveUnitPrice": item["effectiveUnitPrice"], "PCToBCExchangeRate": rate,
        "EntitlementId": item["subscriptionId"], "EntitlementDescription": item["skuName"],
        "PartnerEarnedCreditPercentage": 15 if "15.0%" in item["priceAdjustmentDescription"] else 0,
        "CreditPercentage": 0, "CreditType": "", "BenefitOrderID": "", "BenefitID": "", "BenefitType": "",
    }
    names = USAGE_FULL if attribute_set != "basic" else tuple(c for c in USAGE_FULL if c in USAGE_BASIC)
    if camel:
        return {(c[0].lower() + c[1:]) if not c.startswith("PCToBC") else "pcToBC" + c[6:]: values[c] for c in names}
    return {c: values[c] for c in names}


def aggregated_row(item: dict, camel: bool = False) -> dict:
    """One JSON line of a billed aggregated usage export (beta), from the same line item."""
    n = int(item["alternateId"], 16) if item.get("alternateId") else 0
    values = {"PartnerId": item["partnerId"], "CustomerId": item["customerId"], "InvoiceNumber": item["invoiceNumber"],
              "ProductId": item["productId"], "SkuId": item["skuId"], "MeterId": stable_guid("meter", n % len(_METERS)),
              "PriceBenefits": "", "PartnerPrice": item["effectiveUnitPrice"],
              "EffectiveUnitPrice": item["effectiveUnitPrice"]}
    if camel:
        return {c[0].lower() + c[1:]: v for c, v in values.items()}
    return values


def kind_row(kind: str, item: dict, attribute_set: str, camel: bool = False) -> dict:
    """Row of an export of ``kind`` (recon_contracts.truth.exports.KINDS) built from line item ``item``."""
    if kind in ("billed-usage", "unbilled-usage"):
        return usage_row(item, attribute_set, camel)
    if kind == "billed-aggregated-usage":
        return aggregated_row(item, camel)
    return export_row(item, attribute_set, camel)
