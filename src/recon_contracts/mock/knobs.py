"""The mock's knobs: one per silent point of ``contracts/silent-points.yaml``.

Where Microsoft's documents leave a behaviour open, the mock's default is one answer among several a
docs-following server may give. Each knob selects one of those answers; a profile (``profiles.py``)
combines knobs. The first value of each knob's tuple in ``CHOICES`` is the mock's default, and every
value is an ``answer`` of the register (the register names the knob and value that serve it).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

# knob -> its values, the default first
CHOICES: dict[str, tuple[str, ...]] = {
    # ------------------------------------------------------------ Partner Center query
    "invalid_query": ("rejected-4xx", "served"),
    "bad_token": ("rejected-4xx", "served-from-start"),
    "token_query_binding": ("rejected-4xx", "accepted"),
    "empty_param": ("rejected-4xx", "ignored"),
    "size_max": ("rejected-4xx", "clamped", "served"),
    "repeated_param": ("rejected-4xx", "first-wins", "last-wins"),
    "unknown_param": ("ignored", "rejected-4xx"),
    # ------------------------------------------------------------ Partner Center pages
    "continuation_token_field": ("string", "absent", "null", "empty"),
    "last_page_next": ("absent", "null"),
    "link_form": ("relative", "v1-prefixed", "absolute"),
    "next_query": ("client-spelling", "canonical"),
    "page_fill": ("full", "short"),
    "pc_content_type": ("json-charset", "json"),
    "pc_throttle_body": ("apim", "api-fault"),
    "total_count": ("page", "grand-total"),
    # ------------------------------------------------------------ Partner Center items
    "optional_values": ("empty-string", "null", "absent"),
    "number_encoding": ("number", "string"),
    "charge_type_case": ("as-documented", "lower"),
    "charge_date_order": ("ordered", "some-reversed"),
    "extra_properties": ("none", "present"),
    "data_volume": ("configured", "none", "thousands"),
    # ------------------------------------------------------------ both APIs: the transport
    "throttling": ("none", "intermittent", "after-first", "forever"),
    "unavailable": ("none", "once", "after-first", "forever"),
    "retry_after_format": ("delta-seconds", "http-date"),
    "connection": ("keep-alive", "close"),
    # ------------------------------------------------------------ Graph export request and operation
    "export_202_body": ("empty", "operation-json"),
    "export_202_retry_after": ("absent", "present"),
    "export_body_case": ("exact", "case-insensitive"),
    "attribute_set_future": ("rejected-4xx", "accepted"),
    "bad_content_type_status": ("415", "400"),
    "bad_export_request": ("rejected-4xx", "accepted"),
    "op_progression": ("notstarted-running", "running-only", "immediate"),
    "op_status_order": ("monotonic", "backwards"),
    "op_terminal": ("absorbing", "flapping"),
    "op_timestamp_order": ("ordered", "reversed"),
    "op_duration": ("seconds", "slow", "never"),
    "unknown_operation": ("404", "200"),
    "location_form": ("absolute-same-version", "absolute-other-version"),
    "success_status": ("succeeded", "completed"),
    "resource_location": ("inline", "navigation-link", "both"),
    "created_offset": ("z", "none"),
    "odata_context": ("present", "absent"),
    "graph_content_type": ("json", "odata-json"),
    # ------------------------------------------------------------ manifest and blobs
    "manifest_data_format": ("compressedJSON", "compressedJSONLines"),
    "manifest_schema_version": ("2", "1"),
    "manifest_partition_type": ("default", "Default"),
    "sas_lifetime": ("12h", "1h"),
    "blob_layout": ("one-blob", "many-blobs"),
    "empty_export": ("failed-5000", "succeeded-no-blobs"),
    "row_key_case": ("pascal", "camel"),
    "row_final_newline": ("present", "absent"),
    "row_number_encoding": ("number", "string"),
    "row_column_style": ("json-model", "recon-file"),
    "empty_blob": ("absent", "present"),
    "row_nulls": ("written", "dropped"),
    "export_parity": ("same-data", "items-differ", "amounts-differ"),
}

# Knobs that change both APIs (the transport, and data the exports are built from); every other knob
# changes only the API its silent point names.
BOTH_APIS = frozenset({"throttling", "unavailable", "retry_after_format", "connection", "extra_properties",
                       "data_volume", "charge_date_order"})


@dataclass(frozen=True)
class Knobs:
    """One value per knob (every field defaults to the mock's default answer)."""

    invalid_query: str = "rejected-4xx"
    bad_token: str = "rejected-4xx"
    token_query_binding: str = "rejected-4xx"
    empty_param: str = "rejected-4xx"
    size_max: str = "rejected-4xx"
    repeated_param: str = "rejected-4xx"
    unknown_param: str = "ignored"
    continuation_token_field: str = "string"
    last_page_next: str = "absent"
    link_form: str = "relative"
    next_query: str = "client-spelling"
    page_fill: str = "full"
    pc_content_type: str = "json-charset"
    pc_throttle_body: str = "apim"
    total_count: str = "page"
    optional_values: str = "empty-string"
    number_encoding: str = "number"
    charge_type_case: str = "as-documented"
    charge_date_order: str = "ordered"
    extra_properties: str = "none"
    data_volume: str = "configured"
    throttling: str = "none"
    unavailable: str = "none"
    retry_after_format: str = "delta-seconds"
    connection: str = "keep-alive"
    export_202_body: str = "empty"
    export_202_retry_after: str = "absent"
    export_body_case: str = "exact"
    attribute_set_future: str = "rejected-4xx"
    bad_content_type_status: str = "415"
    bad_export_request: str = "rejected-4xx"
    op_progression: str = "notstarted-running"
    op_status_order: str = "monotonic"
    op_terminal: str = "absorbing"
    op_timestamp_order: str = "ordered"
    op_duration: str = "seconds"
    unknown_operation: str = "404"
    location_form: str = "absolute-same-version"
    success_status: str = "succeeded"
    resource_location: str = "inline"
    created_offset: str = "z"
    odata_context: str = "present"
    graph_content_type: str = "json"
    manifest_data_format: str = "compressedJSON"
    manifest_schema_version: str = "2"
    manifest_partition_type: str = "default"
    sas_lifetime: str = "12h"
    blob_layout: str = "one-blob"
    empty_export: str = "failed-5000"
    row_key_case: str = "pascal"
    row_final_newline: str = "present"
    row_number_encoding: str = "number"
    row_column_style: str = "json-model"
    empty_blob: str = "absent"
    row_nulls: str = "written"
    export_parity: str = "same-data"

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if value not in CHOICES[f.name]:
                raise ValueError(f"knob {f.name}: {value!r} is not one of {', '.join(CHOICES[f.name])}")

    def changed(self) -> dict[str, str]:
        """The knobs set away from their default."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) != f.default}

    def with_(self, **values: Any) -> Knobs:
        return replace(self, **values)


DEFAULT = Knobs()

# Page and data-volume figures the knobs stand for.
SHORT_PAGE_CAP = 5  # page_fill=short: a page holds at most this many items, whatever size asked for
THOUSANDS = 2500  # data_volume=thousands: items per data set (more than one page of 2000)
