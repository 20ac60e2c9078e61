"""Drift: the ways the mock can break a breaking rule, as a typed, validated record that handlers read.

A drift profile (``profiles.py``) names the drift it serves; a generated configuration may layer any drift on
any combination of knobs. ``Drift`` is the closed set of them (one member per drift, its value the drift
profile's name), and ``DriftSet`` the frozen set a configuration carries. A name that is no drift fails where
the set is built, with the names it could have been, so a misspelling never leaves a handler silently
conforming. Handlers ask ``Drift.PC_NO_AUTH in state.drift``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable


class Drift(enum.Enum):
    """One way to break a breaking rule (the value is the drift profile that serves it alone)."""

    PC_NO_AUTH = "pc-no-auth"
    PC_CASE_SENSITIVE = "pc-case-sensitive"
    PC_ERROR_HTML = "pc-error-html"
    PC_ITEM_MISSING_FIELD = "pc-item-missing-field"
    PC_NEXT_DROPS_QUERY = "pc-next-drops-query"
    PC_NEXT_WITHOUT_TOKEN = "pc-next-without-token"
    PC_PAGE_EXCEEDS_SIZE = "pc-page-exceeds-size"
    PC_ENDLESS_PAGING = "pc-endless-paging"
    PC_PAGING_SKIPS_ITEM = "pc-paging-skips-item"
    PC_BAD_TOKEN_500 = "pc-bad-token-500"
    PC_INVALID_QUERY_500 = "pc-invalid-query-500"
    PC_DATES_UNPARSABLE = "pc-dates-unparsable"
    PC_CHARGE_TYPE_LEAK = "pc-charge-type-leak"
    PC_WRONG_CURRENCY = "pc-wrong-currency"
    PC_PURCHASE_LATE_PAGE = "pc-purchase-late-page"
    PC_REFUND_AMONG_THOUSANDS = "pc-refund-among-thousands"
    PC_MISSING_FIELD_LATE_PAGE = "pc-missing-field-late-page"
    PC_CURRENCY_LATE_PAGE = "pc-currency-late-page"
    PC_DATES_LATE_PAGE = "pc-dates-late-page"
    PC_NEXT_WITHOUT_TOKEN_LATE = "pc-next-without-token-late"
    PC_PAGE_EXCEEDS_SIZE_LATE = "pc-page-exceeds-size-late"
    PC_PAGE_ARRAY_LATE = "pc-page-array-late"
    GR_NO_AUTH = "gr-no-auth"
    GR_LOCATION_MISSING = "gr-location-missing"
    GR_QUALIFIED_NAME_404 = "gr-qualified-name-404"
    GR_BAD_REQUEST_500 = "gr-bad-request-500"
    GR_OPERATION_MISSING_FIELDS = "gr-operation-missing-fields"
    GR_ODATA_TYPE_MISMATCH = "gr-odata-type-mismatch"
    GR_FAILED_WITHOUT_ERROR = "gr-failed-without-error"
    GR_SUCCESS_WITHOUT_MANIFEST = "gr-success-without-manifest"
    GR_BLOBCOUNT_WRONG = "gr-blobcount-wrong"
    GR_BLOB_SAS_REJECTED = "gr-blob-sas-rejected"
    GR_BLOB_NOT_GZIP = "gr-blob-not-gzip"
    GR_LAST_BLOB_NOT_GZIP = "gr-last-blob-not-gzip"
    GR_BASIC_NOT_SUBSET = "gr-basic-not-subset"
    GR_ROW_COLUMN_RENAMED = "gr-row-column-renamed"
    GR_ROW_COLUMN_DROPPED = "gr-row-column-dropped"
    GR_ROW_RETYPED = "gr-row-retyped"
    GR_ROW_BAD_DATES = "gr-row-bad-dates"
    GR_ROW_OTHER_INVOICE = "gr-row-other-invoice"
    GR_ROW_MIXED_CASING = "gr-row-mixed-casing"
    GR_BLOB_TRUNCATED = "gr-blob-truncated"
    GR_UNBILLED_RECON_WRONG_CURRENCY = "gr-unbilled-recon-wrong-currency"
    GR_USAGE_BASIC_EXTRA = "gr-usage-basic-extra"
    GR_UNBILLED_USAGE_COLUMN_DROPPED = "gr-unbilled-usage-column-dropped"
    PARITY_OTHER_CURRENCY = "parity-other-currency"
    PARITY_FIELD_RENAMED = "parity-field-renamed"
    GR_AGG_ROW_RETYPED = "gr-agg-row-retyped"
    GR_ROW_RENAMED_IN_ONE_BLOB = "gr-row-renamed-in-one-blob"

DriftSet = frozenset[Drift]
NO_DRIFT: DriftSet = frozenset()

# the drifts that change one item near the end of the data (or item 2345 of thousands), not every item
LATE_ITEM = frozenset({Drift.PC_PURCHASE_LATE_PAGE, Drift.PC_REFUND_AMONG_THOUSANDS, Drift.PC_MISSING_FIELD_LATE_PAGE,
                       Drift.PC_CURRENCY_LATE_PAGE, Drift.PC_DATES_LATE_PAGE})


def drift_of(names: Iterable[str | Drift]) -> DriftSet:
    """The drift set of ``names`` (drift names or members); ValueError naming the unknown ones and the known."""
    out: set[Drift] = set()
    bad: list[str] = []
    for name in names:
        if isinstance(name, Drift):
            out.add(name)
            continue
        try:
            out.add(Drift(name))
        except ValueError:
            bad.append(repr(name))
    if bad:
        raise ValueError(f"unknown drift {', '.join(bad)}; a drift is one of {', '.join(d.value for d in Drift)}")
    return frozenset(out)
