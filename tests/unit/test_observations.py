"""Silent-point answers read off exchanges (checks/observations.py): right answer, and always a registered one."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from recon_contracts.checks.observations import export_answers, link_form, page_answers
from recon_contracts.findings import Exchange
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
                       "SP-PC-CHARGETYPE-CASE": "as-documented"}
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
        "SP-GR-MANIFEST-PARTITIONTYPE": "Default", "SP-GR-BLOB-PARTITIONING": "many-blobs"}
    registered(export_answers(run))


def test_export_answers_of_a_refused_export() -> None:
    run = SimpleNamespace(post=exchange({"error": {}}, status=400), polls=[], manifest=None)
    assert export_answers(run) == []
