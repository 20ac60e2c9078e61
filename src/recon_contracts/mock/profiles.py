"""Mock profiles: conforming variations of the documented behaviour, and drift profiles.

A conforming profile stays inside what Microsoft's documents show (``breaks`` is empty); a drift
profile breaks exactly the rules it declares (rule IDs of ``contracts/rules.yaml``) and otherwise
behaves like ``conforming``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    breaks: tuple[str, ...] = ()
    conforming: bool = True


def _ok(name: str, description: str) -> Profile:
    return Profile(name=name, description=description, breaks=(), conforming=True)


def _drift(name: str, rule_id: str, description: str) -> Profile:
    return Profile(name=name, description=description, breaks=(rule_id,), conforming=False)


_ALL: tuple[Profile, ...] = (
    # ------------------------------------------------------------ conforming variations
    _ok("conforming", "the documented behaviour of both APIs (default)"),
    _ok("throttled", "the 5th and then every 25th authenticated Partner Center request, and the first Graph poll, answer 429 with Retry-After: 1"),
    _ok("unavailable-once", "the first request to each API answers 503 with Retry-After: 1"),
    _ok("slow-operation", "export operations stay running for 5 more polls than configured"),
    _ok("empty", "no line items: Partner Center returns empty pages; every export fails with code 5000 'No data available'"),
    _ok("numbers-as-strings", "numeric line-item fields are JSON strings, as in the 2021 docs example"),
    _ok("lowercase-charge-types", "chargeType values in lower case (new, cancel, renew, ...)"),
    _ok("manifest-by-link", "a succeeded operation carries only resourceLocation@odata.navigationLink to the manifest"),
    _ok("offsetless-created", "operation createdDateTime without an offset (2023-03-09T08:12:53), as in every doc example"),
    _ok("undeclared-properties", "line items, operations, manifests and blobs carry new undeclared properties"),
    _ok("v1-links", "links.self and links.next uris carry the /v1 prefix (/v1/invoices/...)"),
    # ------------------------------------------------------------ Partner Center drift
    _drift("pc-no-auth", "PC-AUTH-401", "line items are served without a bearer token"),
    _drift("pc-case-sensitive", "PC-QUERY-CASE-INSENSITIVE",
           "400 unless query names and enum values are spelled exactly as in the docs (provider=onetime, invoicelineitemtype=billinglineitems, ...)"),
    _drift("pc-accepts-invalid", "PC-QUERY-INVALID-4XX", "missing or invalid provider, invoicelineitemtype, period and size are ignored (200)"),
    _drift("pc-error-html", "PC-ERROR-SHAPE", "Partner Center 4xx bodies are text/html pages"),
    _drift("pc-item-missing-field", "PC-RESPONSE-SCHEMA", "line items lack subscriptionId"),
    _drift("pc-next-drops-query", "PC-PAGING-NEXT-QUERY", "links.next drops currencycode and seekOperation"),
    _drift("pc-next-without-token", "PC-PAGING-NEXT-TOKEN", "links.next has no MS-ContinuationToken header (the token is still accepted)"),
    _drift("pc-page-exceeds-size", "PC-PAGING-PAGE-SIZE", "pages hold size+1 items"),
    _drift("pc-grand-totalcount", "PC-PAGING-TOTALCOUNT", "totalCount is the number of all items, not of the page"),
    _drift("pc-endless-paging", "PC-PAGING-TERMINATES", "after the data ends, empty pages keep linking to a next page"),
    _drift("pc-paging-skips-item", "PC-PAGING-CONSISTENT", "every next page skips one item"),
    _drift("pc-bad-token-500", "PC-PAGING-BAD-TOKEN-4XX", "a garbage, missing or replayed continuation token answers 500"),
    _drift("pc-charge-type-leak", "PC-CHARGETYPE-MAPPED", "Purchase and Refund are reported unmapped"),
    _drift("pc-wrong-currency", "PC-ITEM-CURRENCY", "items are in EUR (in USD when EUR is requested)"),
    _drift("pc-dates-reversed", "PC-ITEM-DATES", "every 4th item has chargeEndDate before chargeStartDate"),
    # ------------------------------------------------------------ Graph drift
    _drift("gr-no-auth", "GR-AUTH-401", "exports and polls are served without a bearer token"),
    _drift("gr-location-missing", "GR-EXPORT-202-LOCATION", "the export 202 has no Location header"),
    _drift("gr-qualified-name-404", "GR-EXPORT-QUALIFIED-NAME", "the namespace-qualified export spelling answers 404"),
    _drift("gr-accepts-bad-request", "GR-EXPORT-BAD-REQUEST-4XX",
           "a missing invoiceId, an unknown attributeSet, a body that is not JSON or a wrong content type is accepted (202)"),
    _drift("gr-operation-missing-fields", "GR-RESPONSE-SCHEMA", "operations lack createdDateTime"),
    _drift("gr-odata-type-mismatch", "GR-OP-ODATA-TYPE", "a succeeded operation is labelled #...runningOperation"),
    _drift("gr-status-backwards", "GR-OP-STATUS-MONOTONIC", "the status goes running -> notStarted -> running -> succeeded"),
    _drift("gr-terminal-not-absorbing", "GR-OP-TERMINAL-ABSORBING", "the poll after the terminal one says running, then terminal again"),
    _drift("gr-failed-without-error", "GR-OP-ERROR-IFF-FAILED", "a failed operation has no error"),
    _drift("gr-success-without-manifest", "GR-OP-RESOURCE-IFF-SUCCEEDED", "a succeeded operation has no resourceLocation"),
    _drift("gr-timestamps-reversed", "GR-OP-TIMESTAMPS", "lastActionDateTime is an hour before createdDateTime"),
    _drift("gr-never-finishes", "GR-OP-TERMINATES", "operations stay running forever (with Retry-After)"),
    _drift("gr-unknown-operation-200", "GR-OP-UNKNOWN-404", "an unknown operation id answers 200 with a runningOperation"),
    _drift("gr-blobcount-wrong", "GR-MANIFEST-BLOBCOUNT", "manifest blobCount is one more than the blobs listed"),
    _drift("gr-blob-sas-rejected", "GR-BLOB-URL", "blob downloads answer 403 even with the manifest's sasToken"),
    _drift("gr-blob-not-gzip", "GR-BLOB-GZIP-JSONL", "blobs are plain JSON lines, not gzip"),
    _drift("gr-basic-not-subset", "GR-EXPORT-BASIC-SUBSET", "a basic export carries an attribute (RowVersion) that a full export lacks"),
    # ------------------------------------------------------------ export rows (issue 10; one block, see mock/blobs.py)
    _ok("export-camelcase", "export rows use camelCase column names (chargeType, pcToBCExchangeRate), as the v1 REST JSON"),
    _ok("export-numbers-as-strings", "export rows carry decimals and MPN ids as JSON strings (\"unitPrice\": \"16\")"),
    _ok("export-recon-file-style", "export rows as the recon file shows them: Total, Tier2MpnId, ReferenceID, M/d/yyyy dates, "
        "ProductQualifiers as text"),
    _ok("export-many-blobs", "every export is spread over at least 6 blobs of the same partitionValue"),
    _ok("export-empty-blob", "every export lists one more blob: a valid gzip stream with no rows"),
    _drift("gr-row-column-renamed", "GR-ROW-REQUIRED-COLUMNS", "export rows call SubscriptionId SubscriptionGuid"),
    _drift("gr-row-column-dropped", "GR-ROW-REQUIRED-COLUMNS", "every 3rd export row lacks ChargeEndDate"),
    _drift("gr-row-retyped", "GR-ROW-COLUMN-TYPES", "every 5th export row has UnitPrice as an object {amount, currency}"),
    _drift("gr-row-bad-dates", "GR-ROW-DATES", "every 4th export row has ChargeStartDate as dd.MM.yyyy"),
    _drift("gr-row-charge-period-reversed", "GR-ROW-CHARGE-PERIOD", "every 6th export row has ChargeStartDate and ChargeEndDate swapped"),
    _drift("gr-row-other-invoice", "GR-ROW-INVOICE", "every 10th export row belongs to invoice G999999999"),
    _drift("gr-row-mixed-casing", "GR-ROW-CASING-CONSISTENT", "every other export row uses camelCase column names, the rest PascalCase"),
    _drift("gr-blob-truncated", "GR-BLOB-GZIP-JSONL", "the first (largest) blob's gzip stream breaks off halfway, without its trailer"),
)

PROFILES: dict[str, Profile] = {p.name: p for p in _ALL}


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown profile {name!r} (see --list-profiles)") from None


def profiles_table() -> str:
    """A plain-text table of every profile (``--list-profiles``)."""
    width = max(len(p.name) for p in _ALL)
    lines = [f"{'PROFILE':<{width}}  {'KIND':<10}  {'BREAKS':<28}  WHAT IT CHANGES"]
    for p in _ALL:
        kind = "conforming" if p.conforming else "drift"
        breaks = ", ".join(p.breaks) or "-"
        lines.append(f"{p.name:<{width}}  {kind:<10}  {breaks:<28}  {p.description}")
    return "\n".join(lines)
