"""Silent-point answers read off exchanges (checks/observations.py): right answer, and always a registered one."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from recon_contracts.checks.observations import (
    OUTSIDE_RULE,
    bad_content_type_answer,
    optional_empty_answer,
    parity_answer,
    continuation_token_answer,
    export_answers,
    link_form,
    outside_register,
    page_answers,
    registered as listed,
    repeated_param_answer,
    row_answers,
    row_key_case,
    sas_lifetime,
    throttle_answers,
    transport_answers,
    unknown_param_answer,
)
from recon_contracts.checks.partner_center import check_object_types
from recon_contracts.findings import Exchange
from recon_contracts.plugin.recording import Contract
from recon_contracts.truth.silent_points import silent_points


def exchange(body: object, *, status: int = 200, headers: dict[str, str] | None = None) -> Exchange:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Exchange(api="partner-center", operation="op", method="GET", url="http://t/v1/invoices/unbilled/lineitems",
                    request_headers={}, request_body=None, status=status,
                    response_headers={"content-type": "application/json", **(headers or {})}, response_body=raw)


def page(items: list[dict], *, next_link: object = "absent", total: int | None = None) -> dict:
    links: dict = {"self": {"uri": "/invoices/unbilled/lineitems", "method": "GET", "headers": []}}
    if next_link != "absent":
        links["next"] = next_link
    return {"totalCount": len(items) if total is None else total, "items": items, "links": links}


def registered(answers: list[tuple[str, str]]) -> None:
    points = silent_points()
    for point, answer in answers:
        assert point in points, point
        assert answer in points[point].observe, (point, answer)


ITEM = {"unitPrice": 1.5, "chargeType": "New"}
NEXT = {"uri": "/invoices/unbilled/lineitems?seekOperation=Next", "method": "GET", "headers": []}


def test_page_answers_of_a_documented_walk() -> None:
    walk = [exchange(page([ITEM, ITEM], next_link=NEXT)), exchange(page([ITEM]))]
    answers = dict(page_answers(walk, size=2))
    assert answers == {"SP-PC-CONTENT-TYPE": "json", "SP-PC-LAST-PAGE-NEXT": "absent", "SP-PC-LINK-FORM": "relative",
                       "SP-PC-TOTALCOUNT": "page", "SP-PC-PAGE-FILL": "full", "SP-PC-NUMBER-ENCODING": "number",
                       "SP-PC-CHARGETYPE-CASE": "as-documented", "SP-PC-EXTRA-PROPERTIES": "none"}
    registered(page_answers(walk, size=2))


def test_page_answers_of_the_alternatives() -> None:
    item = {"unitPrice": "1.5", "chargeType": "new"}
    walk = [exchange(page([item], next_link=NEXT, total=3)), exchange(page([item, item], next_link=None, total=3))]
    answers = dict(page_answers(walk, size=2))
    assert answers["SP-PC-LAST-PAGE-NEXT"] == "null"
    assert answers["SP-PC-TOTALCOUNT"] == "grand-total"
    assert answers["SP-PC-PAGE-FILL"] == "short"
    assert answers["SP-PC-NUMBER-ENCODING"] == "string"
    assert answers["SP-PC-CHARGETYPE-CASE"] == "lower"
    registered(page_answers(walk, size=2))


@pytest.mark.parametrize("uri, form", [("/invoices/x", "relative"), ("/v1/invoices/x", "v1-prefixed"),
                                       ("https://api.partnercenter.microsoft.com/v1/invoices/x", "absolute")])
def test_link_form(uri: str, form: str) -> None:
    assert link_form(uri) == form


def test_page_answers_ignore_pages_that_are_no_json_object() -> None:
    assert page_answers([exchange([ITEM]), exchange(b"<html>", status=200)]) == []


def _op(status: str, **extra: object) -> dict:
    return {"@odata.type": "#microsoft.graph.partners.billing.runningOperation", "id": "1", "status": status,
            "createdDateTime": "2023-03-09T08:12:53", "lastActionDateTime": "2023-03-09T08:37:48.5046691Z", **extra}


def test_export_answers() -> None:
    manifest = {"dataFormat": "compressedJSONLines", "schemaVersion": "1", "partitionType": "Default",
                "blobs": [{"name": "a"}, {"name": "b"}]}
    run = SimpleNamespace(
        post=exchange(b"", status=202, headers={"retry-after": "5"}),
        polls=[exchange(_op("running"), headers={"retry-after": "Sun, 22 Nov 2026 04:00:00 GMT"}),
               exchange(_op("completed", resourceLocation=manifest,
                            **{"resourceLocation@odata.navigationLink": "https://g/manifests/1"}))],
        manifest=manifest)
    answers = dict(export_answers(run))
    assert answers == {
        "SP-GR-EXPORT-202-BODY": "empty", "SP-GR-EXPORT-202-RETRY-AFTER": "present",
        "SP-GR-OP-PROGRESSION": "running-only", "SP-GR-CONTENT-TYPE": "json", "SP-GR-ODATA-CONTEXT": "absent",
        "SP-GR-OP-CREATED-OFFSET": "none", "SP-GR-RETRY-AFTER-FORMAT": "http-date",
        "SP-GR-OP-SUCCESS-STATUS": "completed", "SP-GR-OP-RESOURCE-LOCATION": "both",
        "SP-GR-MANIFEST-DATAFORMAT": "compressedJSONLines", "SP-GR-MANIFEST-SCHEMAVERSION": "1",
        "SP-GR-MANIFEST-PARTITIONTYPE": "Default", "SP-GR-BLOB-PARTITIONING": "many-blobs",
        "SP-GR-OP-STATUS-ORDER": "monotonic", "SP-GR-OP-TIMESTAMP-ORDER": "ordered"}
    registered(export_answers(run))


def test_export_answers_of_a_refused_export() -> None:
    run = SimpleNamespace(post=exchange({"error": {}}, status=400), polls=[], manifest=None)
    assert export_answers(run) == []



# ---------------------------------------------------------------------------- every alternative, and what lies outside


def advisory_for(point: str, answer: str) -> bool:
    """The answer gives the advisory REGISTER-ANSWER-UNLISTED (and only ever an advisory finding)."""
    found = outside_register(point, answer)
    assert all(f.rule == OUTSIDE_RULE and f.severity == "advisory" for f in found)
    return bool(found)


def test_every_alternative_of_every_point_is_listed_and_gives_no_finding() -> None:
    for point in silent_points().values():
        for answer in point.answers:
            assert listed(point.id, answer) and not advisory_for(point.id, answer), (point.id, answer)


@pytest.mark.parametrize("point, answer", [("SP-PC-CONTENT-TYPE", "other"), ("SP-PC-SIZE-MAX", "status-503"),
                                           ("SP-PC-THROTTLE-BODY", "html"), ("SP-NOT-A-POINT", "x")])
def test_an_answer_outside_the_register_is_advisory(point: str, answer: str) -> None:
    assert advisory_for(point, answer)


def test_contract_observe_records_and_reports_an_unlisted_answer_without_failing() -> None:
    contract = Contract("tests/contract/test_x.py::test_y", strict=True)
    contract.observe("SP-PC-CONTENT-TYPE", "json")
    assert contract.findings == []
    contract.observe("SP-PC-CONTENT-TYPE", "other", exchange(page([]), headers={"content-type": "text/html"}))
    contract.observe("SP-PC-CONTENT-TYPE", "other")  # the same answer twice: one finding
    assert contract.observations == [("SP-PC-CONTENT-TYPE", "json"), ("SP-PC-CONTENT-TYPE", "other"),
                                      ("SP-PC-CONTENT-TYPE", "other")]
    assert [(f.rule, f.severity, f.extra["point"]) for f in contract.findings] == [
        (OUTSIDE_RULE, "advisory", "SP-PC-CONTENT-TYPE")]
    assert contract.findings[0].actual == "other" and contract.findings[0].url.endswith("/lineitems")
    contract.check([])  # advisory: never fails the gate, not even under --strict


# SP-PC-CONTENT-TYPE and SP-GR-CONTENT-TYPE: a JSON body under a Content-Type that is not JSON is outside the register
@pytest.mark.parametrize("content_type, answer", [("application/json; charset=utf-8", "json-charset"),
                                                  ("application/json", "json"), ("text/html", "other"),
                                                  ("text/plain; charset=utf-8", "other"), ("", "other")])
def test_pc_content_type(content_type: str, answer: str) -> None:
    walk = [exchange(page([ITEM]), headers={"content-type": content_type})]
    assert dict(page_answers(walk))["SP-PC-CONTENT-TYPE"] == answer
    assert advisory_for("SP-PC-CONTENT-TYPE", answer) is (answer == "other")


@pytest.mark.parametrize("content_type, answer", [("application/json", "json"),
                                                  ("application/json;odata.metadata=minimal", "odata-json"),
                                                  ("text/html; charset=utf-8", "other")])
def test_graph_content_type(content_type: str, answer: str) -> None:
    run = SimpleNamespace(post=None, polls=[exchange(_op("running"), headers={"content-type": content_type})],
                          manifest=None)
    assert dict(export_answers(run))["SP-GR-CONTENT-TYPE"] == answer
    assert advisory_for("SP-GR-CONTENT-TYPE", answer) is (answer == "other")


# SP-PC-DATA-VOLUME: read off a whole walk of the default query only
def test_data_volume() -> None:
    assert dict(page_answers([exchange(page([]))], whole=True))["SP-PC-DATA-VOLUME"] == "none"
    assert dict(page_answers([exchange(page([ITEM]))], whole=True))["SP-PC-DATA-VOLUME"] == "one-page"
    walk = [exchange(page([ITEM], next_link=NEXT)), exchange(page([ITEM]))]
    assert dict(page_answers(walk, whole=True))["SP-PC-DATA-VOLUME"] == "many-pages"
    assert "SP-PC-DATA-VOLUME" not in dict(page_answers(walk))  # a walk at another size or query says nothing
    assert "SP-PC-DATA-VOLUME" not in dict(page_answers(walk[:1], whole=True))  # stopped before the end
    registered(page_answers(walk, whole=True))


@pytest.mark.parametrize("end, answer", [("2019-03-03T09:22:40Z", "ordered"), ("2019-01-03T09:22:40Z", "some-reversed")])
def test_charge_date_order(end: str, answer: str) -> None:
    item = {**ITEM, "chargeStartDate": "2019-02-04T09:22:40Z", "chargeEndDate": end}
    assert dict(page_answers([exchange(page([item, ITEM]))]))["SP-PC-CHARGE-DATE-ORDER"] == answer


# SP-PC-CONNECTION, SP-PC-TRANSFER-CODING, SP-PC-EXTRA-HEADERS, SP-PC-CONTENT-ENCODING: read off response headers
def test_transport_defaults() -> None:
    answers = dict(transport_answers([exchange(page([]), headers={"content-length": "99", "date": "x",
                                                                  "ms-requestid": "1"})]))
    assert answers == {"SP-PC-CONNECTION": "keep-alive", "SP-PC-TRANSFER-CODING": "content-length",
                       "SP-PC-EXTRA-HEADERS": "none", "SP-PC-CONTENT-ENCODING": "identity"}


def test_transport_alternatives() -> None:
    headers = {"connection": "close", "transfer-encoding": "chunked", "content-encoding": "gzip",
               "x-content-type-options": "nosniff", "strict-transport-security": "max-age=1"}
    answers = dict(transport_answers([exchange(page([])), exchange(page([]), headers=headers)]))
    assert answers == {"SP-PC-CONNECTION": "close", "SP-PC-TRANSFER-CODING": "chunked",
                       "SP-PC-EXTRA-HEADERS": "present", "SP-PC-CONTENT-ENCODING": "gzip"}
    registered(list(answers.items()))


def test_content_encoding_outside_the_register() -> None:
    answers = dict(transport_answers([exchange(page([]), headers={"content-encoding": "br"})]))
    assert answers["SP-PC-CONTENT-ENCODING"] == "other" and advisory_for("SP-PC-CONTENT-ENCODING", "other")
    assert transport_answers([]) == []


# SP-PC-THROTTLE-BODY: the 429s the client waited out
@pytest.mark.parametrize("body, answer", [
    ({"statusCode": 429, "message": "Rate limit is exceeded. Try again in 57 seconds."}, "apim"),
    ({"code": "429", "description": "Rate limit is exceeded.", "data": [], "source": "PartnerFD"}, "api-fault"),
    (b"<html>Too Many Requests</html>", "other"),
])
def test_throttle_body(body: object, answer: str) -> None:
    answers = throttle_answers([exchange(body, status=429), exchange(page([]))])
    assert answers == [("SP-PC-THROTTLE-BODY", answer)]
    assert advisory_for("SP-PC-THROTTLE-BODY", answer) is (answer == "other")
    assert throttle_answers([exchange(page([]))]) == []


# SP-GR-SAS-LIFETIME: se minus skt (or st) of the manifest's sasToken
@pytest.mark.parametrize("sas, answer", [
    ("skoid=1&skt=2023-12-13T00%3A37%3A17Z&ske=2023-12-13T12%3A37%3A17Z&sv=2021&se=2023-12-13T12%3A37%3A17Z&sr=d", "12h"),
    ("skt=2024-05-01T10:00:00Z&se=2024-05-01T11:00:00Z&sr=d&sig=x", "1h"),
    ("?st=2024-05-01T10:00:00Z&se=2024-05-02T10:00:00Z&sig=x", "other"),
])
def test_sas_lifetime(sas: str, answer: str) -> None:
    assert sas_lifetime(sas) == answer
    run = SimpleNamespace(post=None, polls=[], manifest={"sasToken": sas, "blobs": []})
    assert dict(export_answers(run))["SP-GR-SAS-LIFETIME"] == answer
    assert advisory_for("SP-GR-SAS-LIFETIME", answer) is (answer == "other")
    assert sas_lifetime("sig=x") is None and sas_lifetime(None) is None


# SP-GR-EMPTY-EXPORT: how an export with no data ends
def test_empty_export() -> None:
    failed = SimpleNamespace(post=None, polls=[exchange(_op("failed", error={"code": "5000", "message": "No data available"}))],
                             manifest=None)
    assert dict(export_answers(failed))["SP-GR-EMPTY-EXPORT"] == "failed-5000"
    empty = {"blobCount": 0, "blobs": []}
    succeeded = SimpleNamespace(post=None, polls=[exchange(_op("succeeded", resourceLocation=empty))], manifest=empty)
    assert dict(export_answers(succeeded))["SP-GR-EMPTY-EXPORT"] == "succeeded-no-blobs"
    full = {"blobCount": 1, "blobs": [{"name": "a"}]}
    with_data = SimpleNamespace(post=None, polls=[exchange(_op("succeeded", resourceLocation=full))], manifest=full)
    assert "SP-GR-EMPTY-EXPORT" not in dict(export_answers(with_data))
    other = SimpleNamespace(post=None, polls=[exchange(_op("failed", error={"code": "500"}))], manifest=None)
    assert "SP-GR-EMPTY-EXPORT" not in dict(export_answers(other))  # a failure for another reason says nothing


# SP-GR-OP-STATUS-ORDER, SP-GR-OP-TERMINAL-STABILITY, SP-GR-OP-TIMESTAMP-ORDER: the polls of one operation
def _polls(*statuses: str, last: str = "2023-03-09T08:37:48Z") -> SimpleNamespace:
    return SimpleNamespace(post=None, manifest=None,
                           polls=[exchange(_op(s, createdDateTime="2023-03-09T08:12:53Z", lastActionDateTime=last))
                                  for s in statuses])


def test_operation_order() -> None:
    answers = dict(export_answers(_polls("notStarted", "running", "succeeded", "succeeded")))
    assert (answers["SP-GR-OP-STATUS-ORDER"], answers["SP-GR-OP-TERMINAL-STABILITY"],
            answers["SP-GR-OP-TIMESTAMP-ORDER"]) == ("monotonic", "absorbing", "ordered")
    answers = dict(export_answers(_polls("running", "notStarted", "succeeded", "running", last="2023-03-09T08:00:00Z")))
    assert (answers["SP-GR-OP-STATUS-ORDER"], answers["SP-GR-OP-TERMINAL-STABILITY"],
            answers["SP-GR-OP-TIMESTAMP-ORDER"]) == ("backwards", "flapping", "reversed")
    registered(export_answers(_polls("running", "notStarted", "succeeded", "running")))
    assert "SP-GR-OP-TERMINAL-STABILITY" not in dict(export_answers(_polls("running", "succeeded")))


# SP-GR-ROW-KEY-CASE: the keys of the rows (checks.rows.ExportJudge's signatures)
@pytest.mark.parametrize("keys, answer", [(("PartnerId", "ChargeType", "UnitPrice"), "pascal"),
                                          (("partnerId", "chargeType", "unitPrice"), "camel"),
                                          (("PartnerId", "chargeType"), "other")])
def test_row_key_case(keys: tuple[str, ...], answer: str) -> None:
    assert row_key_case(keys) == answer
    export = SimpleNamespace(blobs=[SimpleNamespace(signatures={(keys, (str,) * len(keys)): [1]}, rows=1)])
    assert dict(row_answers(export))["SP-GR-ROW-KEY-CASE"] == answer
    assert advisory_for("SP-GR-ROW-KEY-CASE", answer) is (answer == "other")
    assert row_answers(SimpleNamespace(blobs=[])) == []


# SP-PC-REPEATED-PARAM and SP-PC-UNKNOWN-PARAM: one request each (size=1&size=2; an undocumented parameter)
@pytest.mark.parametrize("status, items, answer", [(400, 0, "rejected-4xx"), (200, 1, "first-wins"),
                                                   (200, 2, "last-wins"), (200, 3, "other"), (500, 0, "status-500")])
def test_repeated_param(status: int, items: int, answer: str) -> None:
    body = page([ITEM] * items) if status == 200 else {"code": "400", "description": "twice"}
    assert repeated_param_answer(exchange(body, status=status), first=1, last=2) == answer
    assert advisory_for("SP-PC-REPEATED-PARAM", answer) is (answer in ("other", "status-500"))


@pytest.mark.parametrize("status, answer", [(200, "ignored"), (400, "rejected-4xx"), (404, "rejected-4xx"),
                                            (503, "status-503")])
def test_unknown_param(status: int, answer: str) -> None:
    body = page([ITEM]) if status == 200 else {"code": str(status), "description": "x"}
    assert unknown_param_answer(exchange(body, status=status)) == answer
    assert advisory_for("SP-PC-UNKNOWN-PARAM", answer) is (answer == "status-503")


# attributes.objectType outside the documented values: advisory PC-OBJECT-TYPE-DOCUMENTED
def test_object_type_documented_values_give_no_finding() -> None:
    item = {**ITEM, "attributes": {"objectType": "OneTimeInvoiceLineItem"}}
    body = {**page([item, ITEM]), "attributes": {"objectType": "collection"}}
    assert check_object_types(exchange(body)) == []


def test_object_type_outside_the_documented_values_is_advisory() -> None:
    item = {**ITEM, "attributes": {"objectType": "DailyRatedUsageLineItem"}}
    body = {**page([ITEM, item]), "attributes": {"objectType": "Collection"}}
    found = check_object_types(exchange(body), page=0)
    assert [(f.rule, f.severity) for f in found] == [("PC-OBJECT-TYPE-DOCUMENTED", "advisory")]
    assert "DailyRatedUsageLineItem" in found[0].message and "page 1 item 2" in found[0].message
    body = {**page([]), "attributes": {"objectType": "InvoiceLineItemCollection"}}
    assert "the page" in check_object_types(exchange(body))[0].message



# SP-PC-CONTINUATION-TOKEN-FIELD: the linked pages' top-level token and the last page's, over a walk that ends
def _token_page(next_link: object, token: object = "absent") -> Exchange:
    body = page([ITEM], next_link=next_link)
    if token != "absent":
        body["continuationToken"] = token
    return exchange(body)


@pytest.mark.parametrize("linked, last, answer", [("abc", "absent", "string"), ("absent", "absent", "absent"),
                                                  ("abc", None, "null"), ("abc", "", "empty"),
                                                  ("absent", None, "other"), ("abc", "abc", "other")])
def test_continuation_token_answer(linked: object, last: object, answer: str) -> None:
    walk = [_token_page(NEXT, linked), _token_page(NEXT, linked), _token_page("absent", last)]
    assert continuation_token_answer(walk) == answer
    assert advisory_for("SP-PC-CONTINUATION-TOKEN-FIELD", answer) is (answer == "other")


def test_continuation_token_answer_needs_a_walk_that_links_on_and_ends() -> None:
    assert continuation_token_answer([_token_page("absent")]) is None  # one page: string and absent look alike
    assert continuation_token_answer([_token_page(NEXT, "abc"), _token_page(NEXT, "abc")]) is None  # no end reached


def test_status_order_stops_at_the_first_terminal_status() -> None:
    answers = dict(export_answers(_polls("running", "succeeded", "running", "succeeded")))
    assert answers["SP-GR-OP-STATUS-ORDER"] == "monotonic"
    assert answers["SP-GR-OP-TERMINAL-STABILITY"] == "flapping"



# SP-GR-ROW-NUMBER-ENCODING, SP-GR-ROW-COLUMN-STYLE, SP-GR-ROW-NULLS, SP-GR-EMPTY-BLOB: the rows' keys and value types
def _blob(*rows: dict, empties: bool = False) -> SimpleNamespace:
    signatures = {(tuple(r), tuple(type(v) for v in r.values())): [1] for r in rows}
    return SimpleNamespace(signatures=signatures, rows=len(rows), writes_empties=empties)


ROW = {"PartnerId": "p", "UnitPrice": 1.5, "Quantity": 2, "TotalForCustomer": 3.0, "ResellerMpnId": "", "Memo": ""}


def test_row_answers_of_the_defaults() -> None:
    answers = dict(row_answers(SimpleNamespace(blobs=[_blob(ROW, ROW, empties=True)])))
    assert answers == {"SP-GR-ROW-KEY-CASE": "pascal", "SP-GR-ROW-NUMBER-ENCODING": "number",
                       "SP-GR-ROW-COLUMN-STYLE": "json-model", "SP-GR-ROW-NULLS": "written", "SP-GR-EMPTY-BLOB": "absent"}
    registered(list(answers.items()))


def test_row_answers_of_the_alternatives() -> None:
    strings = {"PartnerId": "p", "UnitPrice": "1.5", "Quantity": "2", "Total": "3.0", "Tier2MpnId": "7"}
    fewer = {k: v for k, v in strings.items() if k != "Tier2MpnId"}
    answers = dict(row_answers(SimpleNamespace(blobs=[_blob(strings, fewer), _blob()])))
    assert answers == {"SP-GR-ROW-KEY-CASE": "pascal", "SP-GR-ROW-NUMBER-ENCODING": "string",
                       "SP-GR-ROW-COLUMN-STYLE": "recon-file", "SP-GR-ROW-NULLS": "dropped", "SP-GR-EMPTY-BLOB": "present"}
    registered(list(answers.items()))
    assert "SP-GR-EMPTY-BLOB" not in dict(row_answers(SimpleNamespace(blobs=[_blob()]), read_to_the_end=False))
    assert "SP-GR-ROW-COLUMN-STYLE" not in dict(row_answers(SimpleNamespace(blobs=[_blob(strings)]), reconciliation=False))
    untyped = SimpleNamespace(blobs=[SimpleNamespace(signatures={(("UnitPrice",), None): [1]}, rows=1)])
    assert "SP-GR-ROW-NUMBER-ENCODING" not in dict(row_answers(untyped))


def test_row_answers_outside_the_register() -> None:
    mixed = dict(row_answers(SimpleNamespace(blobs=[_blob(ROW, {**ROW, "UnitPrice": "1.5", "Total": 1})])))
    assert mixed["SP-GR-ROW-NUMBER-ENCODING"] == "other" and mixed["SP-GR-ROW-COLUMN-STYLE"] == "other"
    assert advisory_for("SP-GR-ROW-NUMBER-ENCODING", "other") and advisory_for("SP-GR-ROW-COLUMN-STYLE", "other")
    same_keys = dict(row_answers(SimpleNamespace(blobs=[_blob({"PartnerId": "p"}, {"PartnerId": "q"})])))
    assert "SP-GR-ROW-NULLS" not in same_keys  # no empty value and no column left out: cannot tell


# SP-GR-EXPORT-PARITY
def _parity(only_v1: int = 0, only_graph: int = 0, unknown: tuple[str, ...] = (), **differ: str) -> SimpleNamespace:
    fields = {name: SimpleNamespace(field=SimpleNamespace(kind=kind), differ=1) for name, kind in differ.items()}
    return SimpleNamespace(only_v1=only_v1, only_graph=only_graph, fields=fields, graph_unknown_columns=dict.fromkeys(unknown, 1))


def test_parity_cannot_tell_renamed_columns_from_other_data() -> None:
    assert parity_answer(_parity(only_v1=3, unknown=("Total",))) is None
    assert parity_answer(_parity(unknown=("PricingModel",))) == "same-data"
    nothing_matched = _parity(only_v1=12, only_graph=12)
    nothing_matched.matched = 0
    assert parity_answer(nothing_matched) is None


@pytest.mark.parametrize("result, answer", [(_parity(), "same-data"), (_parity(only_v1=3), "items-differ"),
                                            (_parity(only_graph=1), "items-differ"), (_parity(subtotal="money"), "amounts-differ"),
                                            (_parity(chargeStartDate="date"), "other")])
def test_parity_answer(result: SimpleNamespace, answer: str) -> None:
    assert parity_answer(result) == answer
    assert advisory_for("SP-GR-EXPORT-PARITY", answer) is (answer == "other")


# SP-PC-ITEM-OPTIONAL-EMPTY and SP-PC-EXTRA-PROPERTIES
@pytest.mark.parametrize("items, answer", [
    ([{"reservationOrderId": ""}, {"reservationOrderId": "r"}], "empty-string"),
    ([{"reservationOrderId": None}, {"reservationOrderId": "r"}], "null"),
    ([{}, {"reservationOrderId": "r"}], "absent"),
    ([{"reservationOrderId": ""}, {"meterDescription": None, "reservationOrderId": "r"}], "other"),
    ([{"reservationOrderId": "", "promotionId": "p"}, {"reservationOrderId": "r"}], "empty-string"),  # "" outweighs
    ([{}, {}], None),  # never carried: nothing to tell
])
def test_optional_empty_answer(items: list, answer: str | None) -> None:
    assert optional_empty_answer(items) == answer
    walk = [exchange(page([{**ITEM, **i} for i in items]))]
    assert dict(page_answers(walk)).get("SP-PC-ITEM-OPTIONAL-EMPTY") == answer
    if answer:
        assert advisory_for("SP-PC-ITEM-OPTIONAL-EMPTY", answer) is (answer == "other")


def test_extra_properties() -> None:
    assert dict(page_answers([exchange(page([ITEM]))]))["SP-PC-EXTRA-PROPERTIES"] == "none"
    assert dict(page_answers([exchange(page([{**ITEM, "pricingModel": "Commitment"}]))]))["SP-PC-EXTRA-PROPERTIES"] == "present"



@pytest.mark.parametrize("status, answer", [(415, "415"), (400, "400"), (422, "status-422"), (202, None), (500, None)])
def test_bad_content_type_answer(status: int, answer: str | None) -> None:
    assert bad_content_type_answer(exchange({"error": {"code": "x"}}, status=status)) == answer
    if answer:
        assert advisory_for("SP-GR-EXPORT-BAD-CONTENT-TYPE", answer) is (answer == "status-422")



def test_blob_partitioning_leaves_out_blobs_read_without_rows() -> None:
    manifest = {"blobs": [{"name": "a"}, {"name": "b"}]}
    rows = SimpleNamespace(blobs=[SimpleNamespace(rows=40), SimpleNamespace(rows=0)])
    run = SimpleNamespace(post=None, polls=[], manifest=manifest, rows=rows)
    assert dict(export_answers(run))["SP-GR-BLOB-PARTITIONING"] == "one-blob"
    run = SimpleNamespace(post=None, polls=[], manifest=manifest, rows=None)  # not read: the manifest's count
    assert dict(export_answers(run))["SP-GR-BLOB-PARTITIONING"] == "many-blobs"
