"""Mock profiles: conforming variations of the documented behaviour, and drift profiles.

A conforming profile stays inside what Microsoft's documents show (``breaks`` is empty); a drift
profile breaks exactly the breaking rules it declares (rule IDs of ``contracts/rules.yaml``) and
otherwise behaves like ``conforming``; an inconclusive profile keeps the suite from checking the rules
it declares in ``unproves`` (a target that is unavailable or too slow), so a run against it must end
inconclusive (exit 2), neither pass nor fail.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    breaks: tuple[str, ...] = ()
    conforming: bool = True
    unproves: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return "conforming" if self.conforming else ("inconclusive" if self.unproves and not self.breaks else "drift")


def _ok(name: str, description: str) -> Profile:
    return Profile(name=name, description=description, breaks=(), conforming=True)


def _drift(name: str, rule_id: str, description: str) -> Profile:
    return Profile(name=name, description=description, breaks=(rule_id,), conforming=False)


def _inconclusive(name: str, rule_ids: tuple[str, ...], description: str) -> Profile:
    return Profile(name=name, description=description, conforming=False, unproves=rule_ids)


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
    # ------------------------------------------------------------ the target keeps the suite from checking
    _inconclusive("pc-unavailable-forever", ("PC-RESPONSE-SCHEMA", "PC-PAGING-TERMINATES", "PC-CHARGETYPE-MAPPED"),
                  "every Partner Center request answers 503 with Retry-After: 1, forever (Graph is served)"),
    # ------------------------------------------------------------ Partner Center drift
    _drift("pc-no-auth", "PC-AUTH-401", "line items are served without a bearer token"),
    _drift("pc-case-sensitive", "PC-QUERY-CASE-INSENSITIVE",
           "400 unless query names and enum values are spelled exactly as in the docs (provider=onetime, invoicelineitemtype=billinglineitems, ...)"),
    _ok("pc-accepts-invalid", "missing or invalid provider, invoicelineitemtype, period and size are ignored (200); the docs do not say a server must refuse them"),
    _drift("pc-error-html", "PC-ERROR-SHAPE", "Partner Center 4xx bodies are text/html pages"),
    _drift("pc-item-missing-field", "PC-RESPONSE-SCHEMA", "line items lack subscriptionId"),
    _drift("pc-next-drops-query", "PC-PAGING-NEXT-QUERY", "links.next drops currencycode and seekOperation"),
    _drift("pc-next-without-token", "PC-PAGING-NEXT-TOKEN", "links.next has no MS-ContinuationToken header (the token is still accepted)"),
    _drift("pc-page-exceeds-size", "PC-PAGING-PAGE-SIZE", "pages hold size+1 items"),
    _ok("pc-grand-totalcount", "totalCount is the number of all items, not of the page (advisory PC-PAGING-TOTALCOUNT: no document defines it)"),
    _drift("pc-endless-paging", "PC-PAGING-TERMINATES", "after the data ends, empty pages keep linking to a next page"),
    _drift("pc-paging-skips-item", "PC-PAGING-CONSISTENT", "every next page skips one item"),
    _drift("pc-bad-token-500", "PC-PAGING-BAD-TOKEN-NO-5XX", "a garbage, missing or replayed continuation token answers 500"),
    _drift("pc-invalid-query-500", "PC-QUERY-NO-5XX", "a missing or invalid query parameter answers 500 instead of 400"),
    _drift("pc-dates-unparsable", "PC-ITEM-DATES", "every 4th item has a chargeEndDate that is no date-time (03/03/2019 09:22)"),
    _drift("pc-charge-type-leak", "PC-CHARGETYPE-MAPPED", "Purchase and Refund are reported unmapped"),
    _drift("pc-wrong-currency", "PC-ITEM-CURRENCY", "items are in EUR (in USD when EUR is requested)"),
    _ok("pc-dates-reversed", "every 4th item has chargeEndDate before chargeStartDate (advisory PC-ITEM-DATE-ORDER)"),
    # ------------------------------------------------------------ Graph drift
    _drift("gr-no-auth", "GR-AUTH-401", "exports and polls are served without a bearer token"),
    _drift("gr-location-missing", "GR-EXPORT-202-LOCATION", "the export 202 has no Location header"),
    _drift("gr-qualified-name-404", "GR-EXPORT-QUALIFIED-NAME", "the namespace-qualified export spelling answers 404"),
    _ok("gr-accepts-bad-request",
        "a missing invoiceId, an unknown attributeSet, a body that is not JSON or a wrong content type is accepted (202) "
        "(advisory GR-EXPORT-BAD-REQUEST-4XX)"),
    _drift("gr-bad-request-500", "GR-EXPORT-BAD-REQUEST-NO-5XX", "a missing invoiceId, an unknown attributeSet or a body that is not JSON answers 500"),
    _drift("gr-operation-missing-fields", "GR-RESPONSE-SCHEMA", "operations lack createdDateTime"),
    _drift("gr-odata-type-mismatch", "GR-OP-ODATA-TYPE", "a succeeded operation is labelled #...runningOperation"),
    _ok("gr-status-backwards", "the status goes running -> notStarted -> running -> succeeded (advisory GR-OP-STATUS-MONOTONIC)"),
    _ok("gr-terminal-not-absorbing", "the poll after the terminal one says running, then terminal again (advisory GR-OP-TERMINAL-ABSORBING)"),
    _drift("gr-failed-without-error", "GR-OP-ERROR-IFF-FAILED", "a failed operation has no error"),
    _drift("gr-success-without-manifest", "GR-OP-RESOURCE-IFF-SUCCEEDED", "a succeeded operation has no resourceLocation"),
    _ok("gr-timestamps-reversed", "lastActionDateTime is an hour before createdDateTime (advisory GR-OP-TIMESTAMPS)"),
    _inconclusive("gr-never-finishes", ("GR-OP-RESOURCE-IFF-SUCCEEDED", "GR-MANIFEST-BLOBCOUNT", "GR-BLOB-URL", "GR-BLOB-GZIP-JSONL", "GR-EXPORT-BASIC-SUBSET"),
                  "operations stay running forever (with Retry-After): slow is not broken, the data rules stay unproven"),
    _ok("gr-unknown-operation-200", "an unknown operation id answers 200 with a runningOperation (advisory GR-OP-UNKNOWN-404)"),
    _drift("gr-blobcount-wrong", "GR-MANIFEST-BLOBCOUNT", "manifest blobCount is one more than the blobs listed"),
    _drift("gr-blob-sas-rejected", "GR-BLOB-URL", "blob downloads answer 403 even with the manifest's sasToken"),
    _drift("gr-blob-not-gzip", "GR-BLOB-GZIP-JSONL", "blobs are plain JSON lines, not gzip"),
    _drift("gr-basic-not-subset", "GR-EXPORT-BASIC-SUBSET", "a basic export carries an attribute (RowVersion) that a full export lacks"),
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
    lines = [f"{'PROFILE':<{width}}  {'KIND':<12}  {'BREAKS':<28}  WHAT IT CHANGES"]
    for p in _ALL:
        kind = p.kind
        breaks = ", ".join(p.breaks) or ("unproves " + ", ".join(p.unproves) if p.unproves else "-")
        lines.append(f"{p.name:<{width}}  {kind:<12}  {breaks:<28}  {p.description}")
    return "\n".join(lines)
