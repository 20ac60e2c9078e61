"""The specs are valid OpenAPI, carry the documented examples, and reject bodies that break a documented shape."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from openapi_spec_validator import validate as validate_openapi

from recon_contracts.truth.spec import SpecDocument, format_path, load_spec

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "doc-examples"
PC_PATH = "/v1/invoices/{invoice-id}/lineitems"
EXPORT = "/reports/partners/billing/reconciliation/billed/export"
EXPORT_QUALIFIED = "/reports/partners/billing/reconciliation/billed/microsoft.graph.partners.billing.export"
OPERATION = "/reports/partners/billing/operations/{id}"
MANIFEST = "/reports/partners/billing/manifests/{id}"

# fixture file -> (spec, component schema)
DOC_EXAMPLES: dict[str, tuple[str, str]] = {
    "pc-response-example-1.json": ("partner-center", "LineItemCollection"),
    "pc-response-example-2.json": ("partner-center", "LineItemCollection"),
    "pc-response-example-1-rev2019.json": ("partner-center", "LineItemCollection"),
    "pc-response-example-2-rev2019.json": ("partner-center", "LineItemCollection"),
    "pc-onetime-line-item-2021.json": ("partner-center", "OneTimeInvoiceLineItem"),
    "pc-error-429-throttling.json": ("partner-center", "PartnerCenterError"),
    "pc-apifault-600061.json": ("partner-center", "PartnerCenterError"),
    "pc-apifault-404-600074.json": ("partner-center", "PartnerCenterError"),
    "pc-apifault-error-codes-template.CONSTRUCTED.json": ("partner-center", "PartnerCenterError"),
    "graph-export-request.json": ("graph", "ExportRequest"),
    "graph-operation-get-succeeded.json": ("graph", "Operation"),
    "graph-operation-get-failed.json": ("graph", "Operation"),
    "graph-operation-get-running.json": ("graph", "Operation"),
    "graph-operation-succeeded-inline-manifest.CONSTRUCTED.json": ("graph", "Operation"),
    "graph-manifest-get.json": ("graph", "Manifest"),
}

PC_COMPONENTS = {
    "LineItemCollection", "OneTimeInvoiceLineItem", "Link", "KeyValuePair", "ResourceAttributes",
    "PartnerCenterError", "ApiFault", "ThrottlingError", "Number", "DateTime",
}
GRAPH_COMPONENTS = {
    "ExportRequest", "Operation", "RunningOperation", "ExportSuccessOperation", "FailedOperation", "OperationBase",
    "Manifest", "Blob", "PublicError", "ODataError", "DateTime",
}


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def pc() -> SpecDocument:
    return load_spec("partner-center")


@pytest.fixture(scope="module")
def graph() -> SpecDocument:
    return load_spec("graph")


def assert_rejected(spec: SpecDocument, body: Any, name: str, expected: str) -> list[str]:
    """The body fails both the spec's validator and the standalone schema, and a message contains ``expected``."""
    errors = spec.validate(body, name)
    assert errors, f"{name} accepted a body it should reject"
    assert any(expected in message for message in errors), errors
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(body, spec.schema(name))
    return errors


# ---------------------------------------------------------------- the documents themselves
@pytest.mark.parametrize("name", ["partner-center", "graph"])
def test_spec_is_valid_openapi_31(name: str) -> None:
    spec = load_spec(name)
    assert spec.raw["openapi"].startswith("3.1")
    validate_openapi(spec.raw)


def test_openapi_validator_would_catch_a_broken_spec(pc: SpecDocument) -> None:
    broken = copy.deepcopy(pc.raw)
    del broken["paths"][PC_PATH]["get"]["responses"]["200"]["description"]
    with pytest.raises(Exception):
        validate_openapi(broken)


def test_component_names(pc: SpecDocument, graph: SpecDocument) -> None:
    assert PC_COMPONENTS <= set(pc.schemas)
    assert GRAPH_COMPONENTS <= set(graph.schemas)
    assert [b["$ref"] for b in pc.schemas["PartnerCenterError"]["anyOf"]] == [
        "#/components/schemas/ApiFault",
        "#/components/schemas/ThrottlingError",
    ]


@pytest.mark.parametrize("name", ["partner-center", "graph"])
def test_every_component_is_a_valid_standalone_schema(name: str) -> None:
    spec = load_spec(name)
    for component in spec.schemas:
        schema = spec.schema(component)
        jsonschema.Draft202012Validator.check_schema(schema)
        refs = re.findall(r'"\$ref": "([^"]*)"', json.dumps(schema))
        assert refs == [] or all(ref.startswith("#/$defs/") for ref in refs), component
        mapping = schema.get("discriminator", {}).get("mapping", {})
        assert all(target.startswith("#/$defs/") for target in mapping.values()), component


def test_load_spec_is_cached_and_rejects_unknown_names() -> None:
    assert load_spec("graph") is load_spec("graph")
    assert load_spec("partner-center").path.name == "partner-center-unbilled-lineitems.yaml"
    with pytest.raises(ValueError):
        load_spec("nope")


# ---------------------------------------------------------------- examples
@pytest.mark.parametrize("name", ["partner-center", "graph"])
def test_every_example_in_the_spec_validates(name: str) -> None:
    spec = load_spec(name)
    examples = spec.examples()
    assert len(examples) >= 8
    failures = {where: spec.validate(value, schema) for where, schema, value in examples}
    assert not {where: errors for where, errors in failures.items() if errors}


def test_examples_cover_requests_responses_and_components(pc: SpecDocument, graph: SpecDocument) -> None:
    pc_schemas = {schema for _, schema, _ in pc.examples()}
    assert {"LineItemCollection", "PartnerCenterError", "OneTimeInvoiceLineItem"} <= pc_schemas
    graph_schemas = {schema for _, schema, _ in graph.examples()}
    assert {"ExportRequest", "Operation", "Manifest", "ODataError"} <= graph_schemas
    wheres = [where for where, _, _ in graph.examples()]
    assert any("/requestBodies/" in where for where in wheres)
    assert any(where.startswith("/components/schemas/Manifest/examples/") for where in wheres)


@pytest.mark.parametrize("filename", sorted(DOC_EXAMPLES))
def test_doc_example_validates(filename: str) -> None:
    spec_name, schema = DOC_EXAMPLES[filename]
    spec = load_spec(spec_name)
    body = fixture(filename)
    assert spec.validate(body, schema) == []
    jsonschema.validate(body, spec.schema(schema))


@pytest.mark.parametrize("filename", sorted(DOC_EXAMPLES))
def test_doc_example_is_in_its_spec(filename: str) -> None:
    spec_name, _ = DOC_EXAMPLES[filename]
    values = [value for _, _, value in load_spec(spec_name).examples()]
    assert fixture(filename) in values


def test_every_fixture_is_listed_and_documented() -> None:
    files = {p.name for p in FIXTURES.glob("*.json")}
    assert files == set(DOC_EXAMPLES)
    readme = (FIXTURES / "README.md").read_text(encoding="utf-8")
    for name in files:
        assert f"`{name}`" in readme, name


def test_2021_line_item_wrapped_in_a_collection(pc: SpecDocument) -> None:
    item = fixture("pc-onetime-line-item-2021.json")
    page = {
        "totalCount": 1,
        "items": [item],
        "links": {"self": {"uri": "/invoices/G000773581/lineitems?provider=OneTime", "method": "GET", "headers": []}},
        "attributes": {"objectType": "Collection"},
    }
    assert pc.validate(page, "LineItemCollection") == []
    assert pc.undeclared(page, "LineItemCollection") == []


def test_repaired_example_2_differs_from_example_1_item_only_in_reservation(pc: SpecDocument) -> None:
    first, second = fixture("pc-response-example-1.json"), fixture("pc-response-example-2.json")
    assert second["totalCount"] == len(second["items"]) == 1
    assert "next" not in second["links"]
    expected = dict(first["items"][1], reservationOrderId="")
    assert second["items"][0] == expected


def test_optional_fields_are_those_missing_from_the_2019_second_page(pc: SpecDocument) -> None:
    full = set(fixture("pc-response-example-1.json")["items"][0])
    short = set(fixture("pc-response-example-2-rev2019.json")["items"][0])
    required = set(pc.schemas["OneTimeInvoiceLineItem"]["required"])
    assert full - short == {
        "pricingCurrency", "pcToBCExchangeRate", "pcToBCExchangeRateDate", "billableQuantity",
        "meterDescription", "priceAdjustmentDescription", "reservationOrderId",
    }
    assert not required & (full - short)
    assert required <= short
    assert "subscriptionId" in required and "chargeType" in required


# ---------------------------------------------------------------- bodies that break a documented shape
def test_collection_without_items_rejected(pc: SpecDocument) -> None:
    body = fixture("pc-response-example-1.json")
    del body["items"]
    assert_rejected(pc, body, "LineItemCollection", "items: 'items' is a required property")


def test_item_without_subscription_id_rejected(pc: SpecDocument) -> None:
    body = fixture("pc-response-example-1.json")
    del body["items"][1]["subscriptionId"]
    errors = assert_rejected(pc, body, "LineItemCollection", "items[1].subscriptionId: 'subscriptionId' is a required property")
    assert len(errors) == 1


def test_total_count_of_letters_rejected(pc: SpecDocument) -> None:
    body = fixture("pc-response-example-1.json")
    body["totalCount"] = "two"
    assert_rejected(pc, body, "LineItemCollection", "totalCount: 'two' is not of type 'integer'")


def test_link_without_uri_rejected(pc: SpecDocument) -> None:
    body = fixture("pc-response-example-1.json")
    del body["links"]["next"]["uri"]
    assert_rejected(pc, body, "LineItemCollection", "links.next")  # anyOf Link or null (SP-PC-LAST-PAGE-NEXT)
    assert_rejected(pc, {"method": "GET", "headers": []}, "Link", "uri: 'uri' is a required property")


def test_numbers_may_be_numeric_strings_but_not_words(pc: SpecDocument) -> None:
    item = fixture("pc-onetime-line-item-2021.json")
    for value in ("25", "-3.1618", "1E-05", 3.1618, 0):
        assert pc.validate(dict(item, quantity=value), "OneTimeInvoiceLineItem") == [], value
    for value in ("twenty", "", "1,5", None, True):
        assert_rejected(pc, dict(item, quantity=value), "OneTimeInvoiceLineItem", "quantity:")


def test_date_times_allow_fractions_and_missing_offsets(pc: SpecDocument, graph: SpecDocument) -> None:
    for spec in (pc, graph):
        for value in ("2021-05-01T00:00:00", "2019-02-04T09:22:40.1767993-08:00", "2023-03-09T06:34:34.87Z"):
            assert spec.validate(value, "DateTime") == [], value
        for value in ("2021-05-01", "yesterday", "2021-05-01 00:00:00"):
            assert spec.validate(value, "DateTime"), value


def test_reseller_mpn_id_integer_or_string(pc: SpecDocument) -> None:
    item = fixture("pc-onetime-line-item-2021.json")
    assert pc.validate(dict(item, resellerMpnId=0), "OneTimeInvoiceLineItem") == []
    assert pc.validate(dict(item, resellerMpnId="4649221"), "OneTimeInvoiceLineItem") == []
    assert_rejected(pc, dict(item, resellerMpnId=[1]), "OneTimeInvoiceLineItem", "resellerMpnId:")


def test_charge_type_is_an_open_string(pc: SpecDocument) -> None:
    item = fixture("pc-onetime-line-item-2021.json")
    assert pc.validate(dict(item, chargeType="somethingNew"), "OneTimeInvoiceLineItem") == []
    assert_rejected(pc, dict(item, chargeType=1), "OneTimeInvoiceLineItem", "chargeType:")


def test_partner_center_error_shapes(pc: SpecDocument) -> None:
    assert pc.validate({"code": "400", "description": "bad"}, "ApiFault") == []
    assert_rejected(pc, {"code": 600061}, "ApiFault", "description: 'description' is a required property")
    assert_rejected(pc, {"statusCode": "429", "message": "slow down"}, "ThrottlingError", "statusCode:")
    assert pc.validate({"error": "nope"}, "PartnerCenterError")


def test_status_outside_enum_rejected(graph: SpecDocument) -> None:
    body = fixture("graph-operation-get-running.json")
    body["status"] = "paused"
    assert_rejected(graph, body, "Operation", "status: 'paused' is not one of")


def test_completed_status_tolerated(graph: SpecDocument) -> None:
    body = fixture("graph-operation-get-succeeded.json")
    body["status"] = "completed"
    assert graph.validate(body, "Operation") == []


def test_failed_operation_without_error_rejected(graph: SpecDocument) -> None:
    body = fixture("graph-operation-get-failed.json")
    del body["error"]
    errors = assert_rejected(graph, body, "Operation", "error: 'error' is a required property")
    assert len(errors) == 1  # reported from the discriminated branch only


def test_success_without_either_resource_location_rejected(graph: SpecDocument) -> None:
    body = fixture("graph-operation-get-succeeded.json")
    del body["resourceLocation@odata.navigationLink"]
    assert_rejected(graph, body, "Operation", "one of 'resourceLocation', 'resourceLocation@odata.navigationLink' is required")


def test_success_with_inline_manifest_is_checked_deeply(graph: SpecDocument) -> None:
    body = fixture("graph-operation-succeeded-inline-manifest.CONSTRUCTED.json")
    del body["resourceLocation"]["sasToken"]
    assert_rejected(graph, body, "Operation", "resourceLocation.sasToken: 'sasToken' is a required property")


def test_unknown_odata_type_rejected(graph: SpecDocument) -> None:
    body = fixture("graph-operation-get-running.json")
    body["@odata.type"] = "#microsoft.graph.partners.billing.operation"
    assert_rejected(graph, body, "Operation", "discriminator value")
    del body["@odata.type"]
    assert_rejected(graph, body, "Operation", "discriminator value missing")


def test_manifest_without_blobs_rejected(graph: SpecDocument) -> None:
    body = fixture("graph-manifest-get.json")
    del body["blobs"]
    assert_rejected(graph, body, "Manifest", "blobs: 'blobs' is a required property")


def test_manifest_tolerances(graph: SpecDocument) -> None:
    body = fixture("graph-manifest-get.json")
    tolerated = dict(body, dataFormat="compressedJSONLines", partitionType="default", schemaVersion="2",
                     createdDateTime="2024-10-03T11:56:00")
    assert graph.validate(tolerated, "Manifest") == []
    assert_rejected(graph, dict(body, blobCount="1"), "Manifest", "blobCount:")
    assert_rejected(graph, dict(body, blobs=[{"name": "part-0.json.gz"}]), "Manifest", "blobs[0].partitionValue")


def test_export_request_shapes(graph: SpecDocument) -> None:
    assert graph.validate({"invoiceId": "G016907411"}, "ExportRequest") == []
    assert_rejected(graph, {"attributeSet": "full"}, "ExportRequest", "invoiceId: 'invoiceId' is a required property")
    assert_rejected(graph, {"invoiceId": "G016907411", "attributeSet": "everything"}, "ExportRequest",
                    "attributeSet: 'everything' is not one of ['full', 'basic', 'unknownFutureValue']")
    assert graph.schemas["ExportRequest"]["properties"]["attributeSet"]["default"] == "full"


def test_odata_error_envelope(graph: SpecDocument) -> None:
    assert graph.validate({"error": {"code": "itemNotFound", "message": "gone"}}, "ODataError") == []
    assert_rejected(graph, {"code": "itemNotFound", "message": "gone"}, "ODataError", "error: 'error' is a required property")
    assert_rejected(graph, {"error": {"message": "gone"}}, "ODataError", "error.code: 'code' is a required property")


def test_errors_are_capped_at_twenty(pc: SpecDocument) -> None:
    body = {"totalCount": 50, "items": [{} for _ in range(50)], "links": {"self": {"uri": "/x", "method": "GET"}},
            "attributes": {"objectType": "Collection"}}
    errors = pc.validate(body, "LineItemCollection")
    assert len(errors) == 20


def test_format_path() -> None:
    assert format_path(["items", 0, "subscriptionId"]) == "items[0].subscriptionId"
    assert format_path([]) == "$"
    assert format_path(["@odata.type"]) == '["@odata.type"]'


# ---------------------------------------------------------------- undeclared properties (drift)
def test_undeclared_lists_new_item_property_with_its_path(pc: SpecDocument) -> None:
    body = fixture("pc-response-example-1.json")
    body["items"][1]["newField"] = "x"
    body["links"]["next"]["headers"][0]["extra"] = 1
    body["brandNew"] = True
    assert pc.undeclared(body, "LineItemCollection") == ["items[1].newField", "links.next.headers[0].extra", "brandNew"]
    assert pc.validate(body, "LineItemCollection") == []  # drift is not a schema failure


@pytest.mark.parametrize("filename", sorted(DOC_EXAMPLES))
def test_doc_examples_have_no_undeclared_properties(filename: str) -> None:
    spec_name, schema = DOC_EXAMPLES[filename]
    assert load_spec(spec_name).undeclared(fixture(filename), schema) == []


def test_undeclared_follows_the_discriminator_and_skips_odata_annotations(graph: SpecDocument) -> None:
    body = fixture("graph-operation-succeeded-inline-manifest.CONSTRUCTED.json")
    body["@odata.context"] = "https://graph.microsoft.com/v1.0/$metadata#reports/partners/billing/operations/$entity"
    body["resourceLocation"]["blobs"][0]["sizeInBytes"] = 1024
    body["resourceLocation"]["blobs"][0]["itemCount"] = 10
    assert graph.undeclared(body, "Operation") == [
        "resourceLocation.blobs[0].sizeInBytes",
        "resourceLocation.blobs[0].itemCount",
    ]
    running = fixture("graph-operation-get-running.json")
    running["error"] = {"code": "x"}  # declared on failedOperation only
    assert graph.undeclared(running, "Operation") == ["error"]


def test_undeclared_ignores_free_form_objects(pc: SpecDocument) -> None:
    body = fixture("pc-apifault-600061.json")
    body["parameters"] = {"anything": 1}
    assert pc.undeclared(body, "ApiFault") == []


# ---------------------------------------------------------------- parameters, responses, extensions
def test_case_insensitive_extension_where_the_suite_reads_it(pc: SpecDocument) -> None:
    assert pc.extension("/paths/~1v1~1invoices~1{invoice-id}~1lineitems/get/x-case-insensitive") is True
    for name in ("provider", "invoicelineitemtype", "currencycode", "period", "size", "seekOperation", "hasPartnerEarnedCredit"):
        param = pc.parameter(PC_PATH, "get", name)
        assert param["in"] == "query"
        assert param.get("x-case-insensitive") is True, name
    assert pc.extension("/paths/~1v1~1invoices~1{invoice-id}~1lineitems/get/x-nope") is None


def test_parameters_as_documented(pc: SpecDocument) -> None:
    assert pc.parameter(PC_PATH, "GET", "InvoiceLineItemType")["name"] == "invoicelineitemtype"
    assert pc.parameter(PC_PATH, "get", "SEEKOPERATION")["schema"]["enum"] == ["Next"]
    for name in ("provider", "invoicelineitemtype", "currencycode", "period", "invoice-id"):
        assert pc.parameter(PC_PATH, "get", name)["required"] is True, name
    for name in ("size", "seekOperation", "hasPartnerEarnedCredit", "MS-ContinuationToken", "MS-RequestId", "MS-CorrelationId"):
        assert pc.parameter(PC_PATH, "get", name)["required"] is False, name
    size = pc.parameter(PC_PATH, "get", "size")["schema"]
    assert (size["default"], size["maximum"], size["minimum"]) == (2000, 2000, 1)
    assert pc.parameter(PC_PATH, "get", "period")["schema"]["enum"] == ["current", "previous"]
    assert pc.parameter(PC_PATH, "get", "ms-continuationtoken")["in"] == "header"
    with pytest.raises(KeyError):
        pc.parameter(PC_PATH, "get", "offset")


def test_servers(pc: SpecDocument, graph: SpecDocument) -> None:
    assert [s["url"] for s in pc.raw["servers"]] == [
        "https://api.partnercenter.microsoft.com",
        "https://partner.partnercenterapi.microsoftonline.cn",
    ]
    assert [s["url"] for s in graph.raw["servers"]] == [
        "https://graph.microsoft.com/v1.0",
        "https://graph.microsoft.com/beta",
    ]


def test_response_schema_names(pc: SpecDocument, graph: SpecDocument) -> None:
    assert pc.response_schema_name(PC_PATH, "get", 200) == "LineItemCollection"
    for status in (400, 401, 403, 404, 409, 429, 500, 503):
        assert pc.response_schema_name(PC_PATH, "get", status) == "PartnerCenterError", status
    assert pc.response_schema_name(PC_PATH, "get", 302) is None
    for path in (EXPORT, EXPORT_QUALIFIED):
        assert graph.response_schema_name(path, "post", 202) is None  # no body
        assert graph.response_schema_name(path, "post", 400) == "ODataError"
    assert graph.response_schema_name(OPERATION, "get", 200) == "Operation"
    assert graph.response_schema_name(OPERATION, "get", 404) == "ODataError"
    assert graph.response_schema_name(MANIFEST, "get", 200) == "Manifest"
    assert graph.response_schema_name(MANIFEST, "get", 503) == "ODataError"


def test_export_accepted_requires_an_absolute_location(graph: SpecDocument) -> None:
    for path in (EXPORT, EXPORT_QUALIFIED):
        ref = graph.raw["paths"][path]["post"]["responses"]["202"]["$ref"]
        assert ref == "#/components/responses/ExportAccepted"
    location = graph.raw["components"]["responses"]["ExportAccepted"]["headers"]["Location"]
    assert location["required"] is True
    check = jsonschema.Draft202012Validator(location["schema"])
    assert check.is_valid("https://graph.microsoft.com/v1.0/reports/partners/billing/operations/9ab9cb54-d07f-4f52-9ea6-a09d7de52c14")
    assert not check.is_valid("/v1.0/reports/partners/billing/operations/9ab9cb54")
    assert "content" not in graph.raw["components"]["responses"]["ExportAccepted"]


def test_operation_discriminator_mapping(graph: SpecDocument) -> None:
    discriminator = graph.schemas["Operation"]["discriminator"]
    assert discriminator["propertyName"] == "@odata.type"
    assert discriminator["mapping"] == {
        "#microsoft.graph.partners.billing.runningOperation": "#/components/schemas/RunningOperation",
        "#microsoft.graph.partners.billing.exportSuccessOperation": "#/components/schemas/ExportSuccessOperation",
        "#microsoft.graph.partners.billing.failedOperation": "#/components/schemas/FailedOperation",
    }
    retry_after = graph.raw["paths"][OPERATION]["get"]["responses"]["200"]["headers"]["Retry-After"]
    assert retry_after.get("required", False) is False


def test_throttling_response_has_retry_after(pc: SpecDocument) -> None:
    response = pc.raw["components"]["responses"]["TooManyRequests"]
    assert "Retry-After" in response["headers"]
    assert pc.extension("/components/examples/Throttling429/value/statusCode") == 429


def test_rule_catalog_spec_pointers_resolve() -> None:
    """Every ``spec:`` of contracts/rules.yaml names an existing spec file and JSON pointer."""
    import yaml

    from recon_contracts.truth.resources import contracts_dir

    by_file = {load_spec(name).path.name: load_spec(name) for name in ("partner-center", "graph")}
    rules = yaml.safe_load((contracts_dir() / "rules.yaml").read_text(encoding="utf-8"))["rules"]
    pointers = [rule["spec"] for rule in rules if rule.get("spec")]
    assert pointers
    for pointer in pointers:
        file, _, fragment = pointer.partition("#")
        spec = by_file[Path(file).name]
        assert spec.extension(fragment) is not None, pointer


# ---------------------------------------------------------------- one YAML loader, the same data either way

def _yaml_files() -> list[Path]:
    from recon_contracts.truth.resources import contracts_dir, specs_dir

    return sorted([*specs_dir().glob("*.yaml"), *contracts_dir().glob("*.yaml")])


@pytest.mark.parametrize("path", _yaml_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_fast_loader_reads_our_files_as_the_pure_python_one_does(path: Path) -> None:
    import yaml

    from recon_contracts.truth import yamlio

    text = path.read_text(encoding="utf-8")
    expected = yaml.load(text, Loader=yaml.SafeLoader)  # noqa: S506 - the safe loader
    assert yamlio.load(text) == expected
    assert yamlio.load_file(path) == expected


def test_the_loader_builds_no_python_objects() -> None:
    import yaml

    from recon_contracts.truth import yamlio

    with pytest.raises(yaml.YAMLError):
        yamlio.load("!!python/object/apply:os.system ['true']")
    assert yamlio.load("when: 2026-12-04") == {"when": __import__("datetime").date(2026, 12, 4)}


# ---------------------------------------------------------------- array elements found valid are proven once

_MEMO_SPEC = """
openapi: 3.1.0
info: {title: memo, version: "1"}
paths: {}
components:
  schemas:
    Page:
      type: object
      required: [items]
      properties:
        items: {type: array, items: {$ref: '#/components/schemas/Item'}}
    Item:
      type: object
      required: [n]
      properties:
        n: {type: integer}
        tags: {type: array, items: {type: string}}
"""


@pytest.fixture
def memo_spec(tmp_path: Path) -> SpecDocument:
    path = tmp_path / "memo.yaml"
    path.write_text(_MEMO_SPEC, encoding="utf-8")
    return SpecDocument("memo", path)


def _plain_errors(spec: SpecDocument, body: object) -> list[str]:
    """What jsonschema itself says, without the memo."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(spec.schema("Page"))
    return sorted({m for e in validator.iter_errors(body) for m in spec._messages(e)})


def test_an_element_seen_valid_is_not_validated_again(memo_spec: SpecDocument) -> None:
    body = {"items": [{"n": 1, "tags": ["a"]}, {"n": 2}] * 3}
    assert memo_spec.validate(body, "Page") == []
    first = memo_spec._valid_elements.hits
    assert first == 4  # the second and third copies of both elements
    assert memo_spec.validate(body, "Page") == []
    assert memo_spec._valid_elements.hits == first + 6


@pytest.mark.parametrize("bad", [{"n": 1.5}, {"n": True}, {"n": "1"}, {"tags": ["a"]}, {"n": 1, "tags": [1]},
                                 {"n": float("nan")}])
def test_an_invalid_element_is_reported_every_time_even_beside_a_valid_twin(memo_spec: SpecDocument, bad: dict) -> None:
    # 1, 1.0 and true are different JSON values: a valid {"n": 1} must not vouch for {"n": 1.5} or {"n": true}
    body = {"items": [{"n": 1}, {"n": 1, "tags": ["a"]}, bad, {"n": 1}, bad]}
    for _ in range(2):
        errors = memo_spec.validate(body, "Page")
        assert errors and errors == _plain_errors(memo_spec, body)
        assert any(e.startswith("items[2]") for e in errors) and any(e.startswith("items[4]") for e in errors)


def test_the_memo_of_valid_elements_is_bounded(memo_spec: SpecDocument) -> None:
    memo_spec._valid_elements.limit = 5
    memo_spec.validate({"items": [{"n": i} for i in range(12)]}, "Page")
    assert len(memo_spec._valid_elements.seen) <= 5
    assert memo_spec.validate({"items": [{"n": i} for i in range(12)] + [{"n": "x"}]}, "Page") == [
        "items[12].n: 'x' is not of type 'integer'"]


def test_undeclared_follows_the_discriminator_of_each_object_however_often_it_walks(graph: SpecDocument) -> None:
    """The walk keeps what a set of schemas declares, for the next object of the same schemas; where a discriminator
    picks the branch, each object gets its own: a failed operation carrying a manifest is told apart from a
    succeeded one, before and after."""
    base = {"id": "op-1", "createdDateTime": "2023-03-09T08:12:53Z", "lastActionDateTime": "2023-03-09T08:12:53Z"}
    success = {**base, "@odata.type": "#microsoft.graph.partners.billing.exportSuccessOperation", "status": "succeeded",
               "resourceLocation@odata.navigationLink": "https://graph.example/m/1", "surprise": 1}
    failed = {**base, "@odata.type": "#microsoft.graph.partners.billing.failedOperation", "status": "failed",
              "error": {"code": "x", "message": "y"}, "resourceLocation@odata.navigationLink": "https://graph.example/m/1"}
    for _ in range(3):
        assert graph.undeclared(success, "Operation") == ["surprise"]
        assert graph.undeclared(failed, "Operation") == ['["resourceLocation@odata.navigationLink"]']


def test_undeclared_names_each_elements_own_extra_keys(pc: SpecDocument) -> None:
    """Elements of one array share their schemas' plan; each one's undeclared keys are still its own."""
    from recon_contracts.mock.data import line_item

    item = line_item(0, "G000000001", 1, "USD")
    page = {"totalCount": 4, "items": [dict(item, **{f"extra{i}": i}) for i in range(3)] + [dict(item)],
            "links": {}, "attributes": {"objectType": "Collection"}}
    assert pc.undeclared(page, "LineItemCollection") == [f"items[{i}].extra{i}" for i in range(3)]
