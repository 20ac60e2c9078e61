"""Mock profiles: conforming variations of the documented behaviour, drift profiles, inconclusive profiles.

A profile combines knobs (``knobs.py``: one per silent point of ``contracts/silent-points.yaml``).
A conforming profile stays inside what Microsoft's documents allow (``breaks`` is empty); a drift
profile breaks exactly the breaking rules it declares (rule IDs of ``contracts/rules.yaml``) and
otherwise behaves as its knobs say; an inconclusive profile keeps the suite from checking the rules it
declares in ``unproves`` (a target that is unavailable or too slow), so a run against it must end
inconclusive (exit 2), neither pass nor fail.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .drift import NO_DRIFT, DriftSet, drift_of
from .knobs import DEFAULT, Knobs

EXPECTS = ("pass", "fail", "inconclusive")


@dataclass(frozen=True)
class Profile:
    """A named behaviour of the mock.

    knobs      the silent-point answers it serves (``knobs.py``; register ``contracts/silent-points.yaml``)
    drift      the drift it serves (``drift.py``; drift profiles only), checked when the profile is built
    breaks     rule IDs it breaks (drift profiles only)
    expect     the verdict the suite must reach: ``pass`` (exit 0), ``fail`` (exit 1, with a breaking finding
               per rule of ``breaks``) or ``inconclusive`` (exit 2: the target kept the suite from checking)
    """

    name: str
    description: str
    breaks: tuple[str, ...] = ()
    conforming: bool = True
    knobs: Knobs = field(default=DEFAULT)
    expect: str = "pass"
    also: tuple[str, ...] = ()  # rules the drift may break as well (a consequence, not another drift)
    unproves: tuple[str, ...] = ()  # inconclusive profiles: rules the run must report as unproven
    drift: DriftSet = NO_DRIFT

    def __post_init__(self) -> None:
        if self.expect not in EXPECTS:
            raise ValueError(f"profile {self.name}: expect must be one of {EXPECTS}")
        object.__setattr__(self, "drift", drift_of(self.drift))  # names or members; unknown names fail here
        if self.drift and self.expect != "fail":
            raise ValueError(f"profile {self.name}: only a drift profile (expect fail) may carry drift")

    @property
    def kind(self) -> str:
        """conforming (expect pass), drift (expect fail) or inconclusive (expect exit 2)."""
        return kind_of(self)


def _ok(name: str, description: str, **knobs: str) -> Profile:
    return Profile(name=name, description=description, knobs=Knobs(**knobs))


def _unproven(name: str, unproves: tuple[str, ...], description: str, **knobs: str) -> Profile:
    """A docs-following server that keeps the suite from proving ``unproves``: the verdict is inconclusive."""
    return Profile(name=name, description=description, knobs=Knobs(**knobs), conforming=False,
                   expect="inconclusive", unproves=unproves)


def _drift(name: str, rule_id: str, description: str, also: tuple[str, ...] = (), **knobs: str) -> Profile:
    return Profile(name=name, description=description, breaks=(rule_id,), conforming=False, knobs=Knobs(**knobs),
                   expect="fail", also=also, drift=drift_of([name]))


_ALL: tuple[Profile, ...] = (
    # ------------------------------------------------------------ conforming variations
    _ok("conforming", "the documented behaviour of both APIs (default)"),
    _ok("throttled", "the 5th and then every 25th authenticated Partner Center request, and the first Graph poll, "
        "answer 429 with Retry-After: 1", throttling="intermittent"),
    _ok("unavailable-once", "the first request to each API answers 503 with Retry-After: 1", unavailable="once"),
    _ok("slow-operation", "export operations stay running for 5 more polls than configured", op_duration="slow"),
    _ok("empty", "no line items: Partner Center returns empty pages; every export fails with code 5000 "
        "'No data available'", data_volume="none"),
    _ok("numbers-as-strings", "numeric line-item fields are JSON strings, as in the 2021 docs example",
        number_encoding="string"),
    _ok("lowercase-charge-types", "chargeType values in lower case (new, cancel, renew, ...)", charge_type_case="lower"),
    _ok("manifest-by-link", "a succeeded operation carries only resourceLocation@odata.navigationLink to the manifest",
        resource_location="navigation-link"),
    _ok("offsetless-created", "operation createdDateTime without an offset (2023-03-09T08:12:53), as in every doc "
        "example", created_offset="none"),
    _ok("undeclared-properties", "line items, operations, manifests and blobs carry new undeclared properties",
        extra_properties="present"),
    _ok("v1-links", "links.self and links.next uris carry the /v1 prefix (/v1/invoices/...)", link_form="v1-prefixed"),
    # ------------------------------------------------------------ register alternatives (contracts/silent-points.yaml)
    _ok("pc-token-unbound", "a continuation token is honoured whatever period or currencycode comes with it",
        token_query_binding="accepted"),
    _ok("pc-empty-param-ignored", "an empty optional parameter (seekOperation=, size=, hasPartnerEarnedCredit=) is "
        "ignored", empty_param="ignored"),
    _ok("pc-size-clamped", "a size above 2000 is served as 2000", size_max="clamped"),
    _ok("pc-size-served", "any size is served (no maximum)", size_max="served"),
    _ok("pc-token-field-null", "the last page carries \"continuationToken\": null and \"next\": null",
        continuation_token_field="null", last_page_next="null"),
    _ok("pc-token-field-empty", "the last page carries \"continuationToken\": \"\"", continuation_token_field="empty"),
    _ok("pc-token-field-absent", "no top-level continuationToken: the token travels only in links.next.headers, as in "
        "the unbilled docs example", continuation_token_field="absent"),
    _ok("pc-query-first-wins", "a repeated query parameter takes its first value; an unknown parameter is refused "
        "(400)", repeated_param="first-wins", unknown_param="rejected-4xx"),
    _ok("pc-query-last-wins", "a repeated query parameter takes its last value", repeated_param="last-wins"),
    _ok("pc-optional-null", "empty optional item fields are null instead of \"\"", optional_values="null"),
    _ok("pc-optional-absent", "empty optional item fields are left out", optional_values="absent"),
    _ok("pc-short-pages", "pages hold at most a few items whatever size asks; links are absolute URLs with the query "
        "in canonical spelling", page_fill="short", link_form="absolute", next_query="canonical"),
    _ok("pc-thousands", "2500 line items per data set: the default walk has two pages of up to 2000",
        data_volume="thousands"),
    _ok("transport-variants", "429s as on 'throttled' with Retry-After as an HTTP-date and an ApiFault body; every "
        "response closes the connection, is sent chunked and gzip-encoded, with Title-Case header names and headers "
        "no document names; Partner Center's Content-Type has no charset", throttling="intermittent",
        retry_after_format="http-date", pc_throttle_body="api-fault", connection="close", pc_content_type="json",
        transfer_coding="chunked", header_case="title", extra_headers="present", content_encoding="gzip"),
    _ok("pc-varying-pages", "each page holds between 1 and size items, as the server picks, and links on; header "
        "names in upper case", page_fill="varying", header_case="upper"),
    _ok("gr-operation-variants", "the export 202 carries a runningOperation body and Retry-After; operations start "
        "running (never notStarted); no @odata.context; the OData Content-Type", export_202_body="operation-json",
        export_202_retry_after="present", op_progression="running-only", odata_context="absent",
        graph_content_type="odata-json"),
    _ok("gr-completed-at-once", "the first poll is terminal; success is spelled 'completed' (the resource docs' word) "
        "and carries both the inline manifest and its navigation link", op_progression="immediate",
        success_status="completed", resource_location="both"),
    _ok("gr-lenient-export", "export body keys and values are matched case-insensitively (the MS sample's "
        "{\"InvoiceId\", \"AttributeSet\": \"Full\"}); attributeSet unknownFutureValue is served as full; a wrong "
        "Content-Type answers 400", export_body_case="case-insensitive", attribute_set_future="accepted",
        bad_content_type_status="400"),
    _ok("gr-manifest-doc-values", "manifests as the resource docs word them: dataFormat compressedJSONLines, "
        "schemaVersion 1, partitionType Default; the SAS lives 1 h", manifest_data_format="compressedJSONLines",
        manifest_schema_version="1", manifest_partition_type="Default", sas_lifetime="1h"),
    _ok("gr-many-blobs", "exports split into many small blobs; rows have camelCase keys and no final newline",
        blob_layout="many-blobs", row_key_case="camel", row_final_newline="absent"),
    _ok("empty-succeeds", "no line items: an export succeeds with a manifest of zero blobs",
        data_volume="none", empty_export="succeeded-no-blobs"),
    # ------------------------------------------------------------ advisory rules: answers the docs leave open
    _ok("pc-accepts-invalid", "missing or invalid provider, invoicelineitemtype, period and size are ignored (200); "
        "the docs do not say a server must refuse them", invalid_query="served"),
    _ok("pc-grand-totalcount", "totalCount is the number of all items, not of the page (advisory "
        "PC-PAGING-TOTALCOUNT: no document defines it)", total_count="grand-total"),
    _ok("pc-dates-reversed", "every 4th item has chargeEndDate before chargeStartDate (advisory PC-ITEM-DATE-ORDER)",
        charge_date_order="some-reversed"),
    _ok("gr-accepts-bad-request", "a missing invoiceId, an unknown attributeSet, a body that is not JSON or a wrong "
        "content type is accepted (202) (advisory GR-EXPORT-BAD-REQUEST-4XX)", bad_export_request="accepted"),
    _ok("gr-status-backwards", "the status goes running -> notStarted -> running -> succeeded (advisory "
        "GR-OP-STATUS-MONOTONIC)", op_status_order="backwards"),
    _ok("gr-terminal-not-absorbing", "the poll after the terminal one says running, then terminal again (advisory "
        "GR-OP-TERMINAL-ABSORBING)", op_terminal="flapping"),
    _ok("gr-timestamps-reversed", "lastActionDateTime is an hour before createdDateTime (advisory GR-OP-TIMESTAMPS)",
        op_timestamp_order="reversed"),
    _ok("gr-unknown-operation-200", "an unknown operation id answers 200 with a runningOperation (advisory "
        "GR-OP-UNKNOWN-404)", unknown_operation="200"),
    _ok("pc-bad-token-served", "a continuation token the server never issued (or none) with seekOperation=Next is "
        "served the first page (advisory PC-PAGING-BAD-TOKEN-4XX)", bad_token="served-from-start"),
    _ok("gr-location-other-version", "the export's Location points to the other API version (/beta for /v1.0), as "
        "the v1.0 unbilled export page's own example does", location_form="absolute-other-version"),
    # ------------------------------------------------------------ the target keeps the suite from checking
    _unproven("pc-unavailable-forever", ("PC-RESPONSE-SCHEMA", "PC-PAGING-TERMINATES", "PC-CHARGETYPE-MAPPED"),
              "every request answers 503 with Retry-After: 0, from the first one on", unavailable="forever"),
    _unproven("throttled-forever", ("PC-RESPONSE-SCHEMA", "PC-CHARGETYPE-MAPPED"),
              "every authenticated request answers 429 with Retry-After: 0", throttling="forever"),
    _unproven("unavailable-after-start", ("PC-RESPONSE-SCHEMA", "PC-CHARGETYPE-MAPPED"),
              "the first request to each API is served; every later one answers 503 with Retry-After: 0",
              unavailable="after-first"),
    _unproven("throttled-after-start", ("PC-RESPONSE-SCHEMA", "PC-CHARGETYPE-MAPPED"),
              "the first authenticated request to each API is served; every later one answers 429 with "
              "Retry-After: 0", throttling="after-first"),
    _unproven("gr-never-finishes", ("GR-OP-RESOURCE-IFF-SUCCEEDED", "GR-MANIFEST-BLOBCOUNT", "GR-BLOB-URL",
                                    "GR-BLOB-GZIP-JSONL", "GR-EXPORT-BASIC-SUBSET"),
              "operations stay running forever (with Retry-After): slow is not broken, the data rules stay unproven",
              op_duration="never"),
    # ------------------------------------------------------------ Partner Center drift
    _drift("pc-no-auth", "PC-AUTH-401", "line items are served without a bearer token"),
    _drift("pc-case-sensitive", "PC-QUERY-CASE-INSENSITIVE",
           "400 unless query names and enum values are spelled exactly as in the docs (provider=onetime, invoicelineitemtype=billinglineitems, ...)"),
    _drift("pc-error-html", "PC-ERROR-SHAPE", "Partner Center 4xx bodies are text/html pages"),
    _drift("pc-item-missing-field", "PC-RESPONSE-SCHEMA", "line items lack subscriptionId"),
    _drift("pc-next-drops-query", "PC-PAGING-NEXT-QUERY", "links.next drops currencycode and seekOperation"),
    _drift("pc-next-without-token", "PC-PAGING-NEXT-TOKEN", "links.next has no MS-ContinuationToken header (the token is still accepted)",
           also=("PC-PAGING-CONSISTENT",)),
    _drift("pc-page-exceeds-size", "PC-PAGING-PAGE-SIZE", "pages hold size+1 items"),
    _drift("pc-endless-paging", "PC-PAGING-TERMINATES", "after the data ends, the empty page keeps linking to itself (its continuation token again)"),
    _drift("pc-paging-skips-item", "PC-PAGING-CONSISTENT", "every next page skips one item"),
    _drift("pc-bad-token-500", "PC-PAGING-BAD-TOKEN-NO-5XX", "a garbage, missing or replayed continuation token answers 500"),
    _drift("pc-invalid-query-500", "PC-QUERY-NO-5XX", "a missing or invalid query parameter answers 500 instead of 400"),
    _drift("pc-dates-unparsable", "PC-ITEM-DATES", "every 4th item has a chargeEndDate that is no date-time (03/03/2019 09:22)",
           also=("PC-RESPONSE-SCHEMA",)),
    _drift("pc-charge-type-leak", "PC-CHARGETYPE-MAPPED", "Purchase and Refund are reported unmapped"),
    _drift("pc-wrong-currency", "PC-ITEM-CURRENCY", "items are in EUR (in USD when EUR is requested)"),
    # ------------------------------------------------------------ Partner Center drift on a later page, in other spellings
    _drift("pc-purchase-late-page", "PC-CHARGETYPE-MAPPED", "short pages; only the last item reports chargeType "
           "'purchase' (lower case)", page_fill="short"),
    _drift("pc-refund-among-thousands", "PC-CHARGETYPE-MAPPED", "2500 items; item 2345 (page 2 of the default walk) "
           "reports chargeType 'REFUND'", data_volume="thousands"),
    _drift("pc-missing-field-late-page", "PC-RESPONSE-SCHEMA", "short pages; only the last item lacks subscriptionId",
           page_fill="short"),
    _drift("pc-currency-late-page", "PC-ITEM-CURRENCY", "short pages; only the last item is in another currency",
           page_fill="short"),
    _drift("pc-dates-late-page", "PC-ITEM-DATES", "short pages; only the last item has a chargeEndDate that is no "
           "date-time", also=("PC-RESPONSE-SCHEMA",), page_fill="short"),
    _drift("pc-next-without-token-late", "PC-PAGING-NEXT-TOKEN", "short pages; links.next of every page but the "
           "first has no MS-ContinuationToken header (the top-level token still works)", also=("PC-PAGING-CONSISTENT",),
           page_fill="short"),
    _drift("pc-page-exceeds-size-late", "PC-PAGING-PAGE-SIZE", "every page but the first holds size+1 items"),
    _drift("pc-page-array-late", "PC-RESPONSE-SCHEMA", "short pages; the second page is a bare JSON array of its "
           "items (200)", also=("PC-PAGING-CONSISTENT",), page_fill="short"),
    # ------------------------------------------------------------ Graph drift
    _drift("gr-no-auth", "GR-AUTH-401", "exports and polls are served without a bearer token"),
    _drift("gr-location-missing", "GR-EXPORT-202-LOCATION", "the export 202 has no Location header"),
    _drift("gr-qualified-name-404", "GR-EXPORT-QUALIFIED-NAME", "the namespace-qualified export spelling answers 404"),
    _drift("gr-bad-request-500", "GR-EXPORT-BAD-REQUEST-NO-5XX", "a missing invoiceId, an unknown attributeSet or a body that is not JSON answers 500"),
    _drift("gr-operation-missing-fields", "GR-RESPONSE-SCHEMA", "operations lack createdDateTime"),
    _drift("gr-odata-type-mismatch", "GR-OP-ODATA-TYPE", "a succeeded operation is labelled #...runningOperation"),
    _drift("gr-failed-without-error", "GR-OP-ERROR-IFF-FAILED", "a failed operation has no error",
           also=("GR-RESPONSE-SCHEMA",)),
    _drift("gr-success-without-manifest", "GR-OP-RESOURCE-IFF-SUCCEEDED", "a succeeded operation has no resourceLocation",
           also=("GR-RESPONSE-SCHEMA",)),
    _drift("gr-blobcount-wrong", "GR-MANIFEST-BLOBCOUNT", "manifest blobCount is one more than the blobs listed"),
    _drift("gr-blob-sas-rejected", "GR-BLOB-URL", "blob downloads answer 403 even with the manifest's sasToken"),
    _drift("gr-blob-not-gzip", "GR-BLOB-GZIP-JSONL", "blobs are plain JSON lines, not gzip"),
    _drift("gr-last-blob-not-gzip", "GR-BLOB-GZIP-JSONL", "many small blobs; only the last one is plain JSON lines",
           blob_layout="many-blobs"),
    _drift("gr-basic-not-subset", "GR-EXPORT-BASIC-SUBSET", "a basic export carries an attribute (RowVersion) that a full export lacks"),
    # ------------------------------------------------------------ export rows (issue 10; one block, see mock/blobs.py)
    _ok("export-camelcase", "export rows use camelCase column names (chargeType, pcToBCExchangeRate), as the v1 REST JSON",
        row_key_case="camel"),
    _ok("export-numbers-as-strings", "export rows carry decimals and MPN ids as JSON strings (\"unitPrice\": \"16\")",
        row_number_encoding="string"),
    _ok("export-recon-file-style", "export rows as the recon file shows them: Total, Tier2MpnId, ReferenceID, M/d/yyyy dates, "
        "ProductQualifiers as text", row_column_style="recon-file"),
    _ok("export-many-blobs", "every export is spread over at least 6 blobs of the same partitionValue",
        blob_layout="many-blobs"),
    _ok("export-empty-blob", "every export lists one more blob: a valid gzip stream with no rows", empty_blob="present"),
    _drift("gr-row-column-renamed", "GR-ROW-REQUIRED-COLUMNS", "export rows call SubscriptionId SubscriptionGuid",
           also=("GR-USAGE-FULL-COLUMNS",)),
    _drift("gr-row-column-dropped", "GR-ROW-REQUIRED-COLUMNS", "every 3rd export row lacks ChargeEndDate"),
    _drift("gr-row-retyped", "GR-ROW-COLUMN-TYPES", "every 5th export row has UnitPrice as an object {amount, currency}"),
    _drift("gr-row-bad-dates", "GR-ROW-DATES", "every 4th export row has ChargeStartDate as dd.MM.yyyy"),
    _drift("gr-row-other-invoice", "GR-ROW-INVOICE", "every 10th export row belongs to invoice G999999999"),
    _drift("gr-row-mixed-casing", "GR-ROW-CASING-CONSISTENT", "every other export row uses camelCase column names, the rest PascalCase"),
    _drift("gr-blob-truncated", "GR-BLOB-GZIP-JSONL", "the first (largest) blob's gzip stream breaks off halfway, without its trailer"),
    # ------------------------------------------------------------ the export family (see mock/blobs.py, mock/data.py)
    _ok("export-nulls-dropped", "export rows leave out every empty value, as Spark's JSON writer drops null fields "
        "(ignoreNullFields), in every export of the family", row_nulls="dropped"),
    _drift("gr-unbilled-recon-wrong-currency", "GR-ROW-CURRENCY", "every 4th row of an unbilled reconciliation "
           "export is in EUR (USD when EUR is asked for)"),
    _drift("gr-usage-basic-extra", "GR-USAGE-BASIC-COLUMNS", "a basic billed usage export carries MeterId, which the "
           "attributeSet table marks full only"),
    _drift("gr-unbilled-usage-column-dropped", "GR-USAGE-FULL-COLUMNS", "unbilled usage rows lack MeterCategory"),
    # migration parity (recon-contracts parity): the Graph unbilled reconciliation export against the v1 line items
    _ok("parity-missing-items", "every 10th row of an unbilled reconciliation export is an item the Partner Center "
        "line items do not list (and the item it replaces is missing): advisory MIGRATION-ONLY-IN-V1/-ONLY-IN-GRAPH",
        export_parity="items-differ"),
    _ok("parity-amount-changed", "every 7th row of an unbilled reconciliation export has Subtotal 0.05 higher than the "
        "line item's subtotal: advisory MIGRATION-FIELD-DIFFERS", export_parity="amounts-differ"),
    _drift("parity-other-currency", "GR-ROW-CURRENCY", "unbilled reconciliation exports are built in EUR (USD when EUR "
           "is asked for); parity reports every money field and the currency as different"),
    _drift("parity-field-renamed", "GR-ROW-REQUIRED-COLUMNS", "unbilled reconciliation rows call UnitPrice Price; "
           "parity reports UnitPrice missing on the Graph side"),
    _drift("gr-agg-row-retyped", "GR-ROW-COLUMN-TYPES", "every 3rd billed aggregated usage row (beta) has PartnerPrice "
           "as an object {amount, currency}"),
    _drift("gr-row-renamed-in-one-blob", "GR-ROW-COLUMN-RENAMED", "many small blobs; the rows of the first one call "
           "UnitPrice Price (same decimal values)", blob_layout="many-blobs"),
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
        kind = kind_of(p)
        breaks = ", ".join(p.breaks) or ("unproves " + ", ".join(p.unproves) if p.unproves else "-")
        lines.append(f"{p.name:<{width}}  {kind:<12}  {breaks:<28}  {p.description}")
    return "\n".join(lines)


def apis_of(profile: Profile) -> frozenset[str]:
    """The APIs whose behaviour the profile changes ("partner-center", "graph"): what a suite run must cover."""
    from ..truth.silent_points import silent_points  # the register says which API each knob belongs to
    from .knobs import BOTH_APIS

    both = frozenset({"partner-center", "graph"})
    if profile.name == "conforming":
        return both
    apis: set[str] = set()
    for rule_id in profile.breaks + profile.also:
        apis.add("partner-center" if rule_id.startswith("PC-") else "graph")
    by_knob = {p.knob: p.api for p in silent_points().values()}
    for knob in profile.knobs.changed():
        if knob in BOTH_APIS:
            return both
        apis.add(by_knob[knob])
    return frozenset(apis) or both


def kind_of(profile: Profile) -> str:
    """conforming (expect pass), drift (expect fail) or inconclusive (expect exit 2)."""
    return {"pass": "conforming", "fail": "drift", "inconclusive": "inconclusive"}[profile.expect]
