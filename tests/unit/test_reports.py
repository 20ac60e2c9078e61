"""summary.json and report.html from synthetic findings: verdict, counts, grouping, escaping, redaction."""

from __future__ import annotations

import dataclasses
import json
from html.parser import HTMLParser

import pytest

from recon_contracts.findings import Exchange, Finding, finding
from recon_contracts.redact import REDACTOR
from recon_contracts.reporting.files import RunResult, render_html, summarize, verdict_line, write_reports
from recon_contracts.reporting.excerpt import MAX_LINES, spec_excerpt
from recon_contracts.truth.rules import rule

TOKEN = "synthetic-report-token-0b5e1d2c7a9f"


def _exchange(status: int = 200, body: object = None, url: str = "https://pc.test/v1/invoices/unbilled/lineitems?provider=onetime") -> Exchange:
    return Exchange(
        api="partner-center",
        operation="GET /v1/invoices/{invoice-id}/lineitems",
        method="GET",
        url=url,
        request_headers={"Authorization": f"Bearer {TOKEN}", "MS-RequestId": "r-1"},
        request_body=None,
        status=status,
        response_headers={"content-type": "application/json"},
        response_body=json.dumps(body if body is not None else {"items": []}).encode(),
    )


def _with_test(f: Finding, test: str) -> Finding:
    f.extra.setdefault("test", test)
    return f


def _findings() -> list[Finding]:
    return [
        _with_test(finding("PC-HEADERS-ECHO", "MS-RequestId not echoed", _exchange(), expected="MS-RequestId: r-1"),
                   "tests/contract/test_pc_query.py::test_valid_queries_in_any_case"),
        _with_test(finding("PC-RESPONSE-UNDECLARED-PROPERTY", "undeclared property newField", _exchange()),
                   "tests/contract/test_pc_query.py::test_valid_queries_in_any_case"),
        _with_test(finding("PC-CHARGETYPE-MAPPED", "chargeType 'Purchase' leaked", _exchange(body={"chargeType": "Purchase"}),
                           expected="new"), "tests/contract/test_pc_items.py::test_charge_types_mapped"),
        _with_test(finding("PC-CHARGETYPE-MAPPED", "chargeType 'Refund' leaked", _exchange(body={"chargeType": "Refund"}),
                           expected="cancel"), "tests/contract/test_pc_items.py::test_charge_types_mapped"),
        _with_test(finding("PC-AUTH-401", "200 without a token", _exchange(), expected="401"),
                   "tests/contract/test_auth.py::test_partner_center_requires_token"),
    ]


def _result(**changes) -> RunResult:
    base = RunResult(
        findings=_findings(),
        targets={"partner-center": "http://127.0.0.1:5001", "graph": "http://127.0.0.1:5001/v1.0", "mock_profile": "pc-charge-type-leak"},
        seed=1234,
        derandomized=False,
        requests_sent=87,
        strict=False,
        exit_status=1,
        tests={"passed": 10, "failed": 2, "skipped": 1, "error": 0},
        started=1_700_000_000.0,
        duration_s=3.25,
    )
    return dataclasses.replace(base, **changes)


class _Page(HTMLParser):
    """Collects elements by id/class and checks that tags nest."""

    VOID = {"meta", "br", "hr", "img", "input", "link"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.by_id: dict[str, dict] = {}
        self.findings: list[dict] = []
        self.sections: list[str] = []
        self.tags: list[str] = []
        self._open: list[dict] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if tag in self.VOID:
            return
        self.stack.append(tag)
        element = {"tag": tag, "attrs": a, "text": "", "section": self.sections[-1] if self.sections else None}
        self._open.append(element)
        if "id" in a:
            self.by_id[a["id"]] = element
        if "finding" in (a.get("class") or "").split():
            self.findings.append(element)
        if tag == "section":
            self.sections.append(a.get("id", ""))

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            return
        self.stack.pop()
        self._open.pop()
        if tag == "section":
            self.sections.pop()

    def handle_data(self, data):
        for element in self._open:
            element["text"] += data


def _parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    page.close()
    assert not page.errors, page.errors
    assert page.stack == [], f"unclosed: {page.stack}"
    return page


# ------------------------------------------------------------------ RunResult and summary


def test_run_result_fields_are_the_plugin_interface():
    assert [f.name for f in dataclasses.fields(RunResult)] == [
        "findings", "targets", "seed", "derandomized", "requests_sent", "strict", "exit_status", "tests", "started", "duration_s",
        "recorded", "outcomes", "apis", "docs_url", "unproven", "observations", "baseline", "cost",
    ]


def test_summary_counts_verdict_and_run_facts():
    s = summarize(_result())
    assert s["verdict"] == "fail"
    assert s["counts"] == {"breaking": 3, "additive": 1, "advisory": 1}
    assert s["targets"] == {"partner-center": "http://127.0.0.1:5001", "graph": "http://127.0.0.1:5001/v1.0",
                            "mock_profile": "pc-charge-type-leak"}
    assert (s["seed"], s["derandomized"], s["requests_sent"]) == (1234, False, 87)
    assert s["tests"] == {"passed": 10, "failed": 2, "skipped": 1, "error": 0}
    assert s["exit_status"] == 1 and s["strict"] is False
    assert s["started"] == "2023-11-14T22:13:20Z" and s["duration_s"] == 3.25
    assert "3 breaking violations" in s["verdict_reason"]


def test_summary_findings_carry_evidence_and_rule_text():
    s = summarize(_result())
    assert [f["severity"] for f in s["findings"]] == ["breaking"] * 3 + ["additive", "advisory"]
    leak = next(f for f in s["findings"] if f["rule"] == "PC-CHARGETYPE-MAPPED")
    r = rule("PC-CHARGETYPE-MAPPED")
    assert leak["api"] == "partner-center"
    assert leak["operation"] == "GET /v1/invoices/{invoice-id}/lineitems"
    assert leak["message"] == "chargeType 'Purchase' leaked"
    assert leak["expected"] == "new"
    assert "Purchase" in leak["actual"]
    assert leak["curl"].startswith("curl ") and "${TOKEN}" in leak["curl"]
    assert leak["test"] == "tests/contract/test_pc_items.py::test_charge_types_mapped"
    assert (leak["statement"], leak["source"]) == (r.statement, r.source)
    assert leak["fails_gate"] is True
    for f in s["findings"]:
        assert {"rule", "severity", "api", "operation", "message", "curl", "expected", "actual", "test", "statement", "source"} <= set(f)


UNPROVEN = {"test": "tests/contract/test_pc_items.py::test_item_dates", "rules": ["PC-ITEM-DATES", "PC-ITEM-DATE-ORDER"],
            "reason": "partner-center target still answered 503 to GET /v1/invoices/{invoice-id}/lineitems after 5 retries"}


@pytest.mark.parametrize(
    "changes, verdict",
    [
        ({"findings": [], "exit_status": 0}, "pass"),
        ({"findings": [f for f in _findings() if f.severity != "breaking"], "exit_status": 0}, "pass"),
        ({"findings": [f for f in _findings() if f.severity == "additive"], "exit_status": 0, "strict": True}, "fail"),
        ({"findings": [], "exit_status": 2}, "inconclusive"),  # the run could not complete: nothing proven
        ({"findings": _findings(), "exit_status": 0}, "fail"),  # a breaking finding fails even if pytest passed
        ({"findings": [], "exit_status": 0, "unproven": [UNPROVEN]}, "inconclusive"),  # skipped for the target
        ({"findings": [f for f in _findings() if f.severity == "advisory"], "exit_status": 0, "strict": True,
          "unproven": []}, "pass"),  # advisory never fails, not even under --strict
        ({"findings": _findings(), "exit_status": 1, "unproven": [UNPROVEN]}, "fail"),  # proven broken wins
        ({"findings": [], "exit_status": 1}, "fail"),  # a test errored
    ],
    ids=["clean", "additive-and-advisory-pass", "strict-additive-fails", "not-run", "breaking", "unproven",
         "advisory-strict-pass", "breaking-and-unproven", "errored"],
)
def test_verdict(changes, verdict):
    assert summarize(_result(**changes))["verdict"] == verdict


def test_inconclusive_summary_names_the_unproven_rules(tmp_path):
    from recon_contracts.reporting.summary import verdict_of

    result = _result(findings=[], exit_status=0, unproven=[UNPROVEN])
    assert verdict_of(result) == "inconclusive"
    s = summarize(result)
    assert s["unproven_rules"] == ["PC-ITEM-DATES", "PC-ITEM-DATE-ORDER"]
    assert "2 rules unproven because of the target: PC-ITEM-DATES, PC-ITEM-DATE-ORDER" in s["verdict_reason"]
    assert s["unproven"][0]["reason"].startswith("partner-center target still answered 503")
    line = verdict_line(s, "reports")
    assert line.startswith("verdict: inconclusive") and "2 unproven (PC-ITEM-DATES, PC-ITEM-DATE-ORDER)" in line
    html = render_html(s)
    assert 'data-verdict="inconclusive"' in html and 'id="unproven"' in html and "PC-ITEM-DATE-ORDER" in html


def test_finding_of_an_unknown_rule_does_not_break_the_report(tmp_path):
    odd = Finding(rule="XX-UNKNOWN", severity="breaking", api="graph", operation="GET /x", message="m")
    paths = write_reports(tmp_path, _result(findings=[odd]))
    s = json.loads(paths["summary"].read_text())
    assert s["findings"][0]["rule"] == "XX-UNKNOWN" and s["findings"][0]["statement"] == ""
    assert len(_parse(paths["html"].read_text()).findings) == 1


def test_verdict_line():
    s = summarize(_result())
    assert verdict_line(s, "out/reports") == "verdict: fail — 3 breaking, 1 additive, 1 advisory — reports in out/reports"


# ------------------------------------------------------------------ files


def test_write_reports_creates_the_directory_and_every_file(tmp_path, monkeypatch):
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    target = tmp_path / "a" / "b"
    paths = write_reports(target, _result())
    assert paths == {"summary": target / "summary.json", "html": target / "report.html", "sarif": target / "report.sarif",
                     "reference": target / "reference" / "index.html"}  # the rules report.html links to
    assert json.loads(paths["summary"].read_text(encoding="utf-8")) == json.loads(json.dumps(summarize(_result())))
    assert not list(target.glob("*.tmp"))


def test_html_shows_verdict_and_every_finding(tmp_path):
    paths = write_reports(tmp_path, _result())
    summary = json.loads(paths["summary"].read_text())
    page = _parse(paths["html"].read_text(encoding="utf-8"))
    assert page.by_id["verdict"]["attrs"]["data-verdict"] == "fail"
    assert page.by_id["verdict"]["text"].strip() == "FAIL"
    assert len(page.findings) == len(summary["findings"])
    for shown, expected in zip(page.findings, summary["findings"]):
        assert shown["attrs"]["data-rule"] == expected["rule"]
        assert shown["section"] == expected["severity"]  # breaking, additive and advisory apart
        assert expected["message"] in shown["text"]
        assert expected["test"] in shown["text"]
        assert expected["curl"] in shown["text"]
    assert page.by_id["count-breaking"]["text"] == "3"
    assert page.by_id["count-additive"]["text"] == "1"
    text = paths["html"].read_text()
    assert "pc-charge-type-leak" in text and "1234" in text and "87" in text
    # one group per rule: the two charge-type findings share the rule's statement
    assert text.count(rule("PC-CHARGETYPE-MAPPED").statement.replace("'", "&#x27;").replace('"', "&quot;")) == 1


def test_html_pass_verdict(tmp_path):
    paths = write_reports(tmp_path, _result(findings=[], exit_status=0))
    page = _parse(paths["html"].read_text())
    assert page.by_id["verdict"]["attrs"]["data-verdict"] == "pass"
    assert page.findings == []


def test_html_is_self_contained(tmp_path):
    text = write_reports(tmp_path, _result())["html"].read_text()
    page = _parse(text)
    assert "script" not in page.tags and "link" not in page.tags and "img" not in page.tags
    lowered = text.lower()
    assert "http://" not in lowered.split("<body")[0] and "https://" not in lowered.split("<body")[0]
    assert "@import" not in lowered and "url(" not in lowered
    assert 'src="' not in lowered
    assert '<meta charset="utf-8">' in lowered


def test_html_escapes_everything(tmp_path):
    evil = finding("PC-RESPONSE-SCHEMA", '<script>alert("x")</script> & <b>', _exchange(body={"x": "</pre><img src=x>"}),
                   expected="<i>schema</i>")
    text = write_reports(tmp_path, _result(findings=[evil]))["html"].read_text()
    page = _parse(text)
    assert "script" not in page.tags and "img" not in page.tags and "i" not in page.tags and "b" not in page.tags
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;" in text
    assert '<script>alert("x")</script> & <b>' in page.findings[0]["text"]


def test_html_spec_excerpt_for_rules_with_a_spec(tmp_path):
    text = write_reports(tmp_path, _result())["html"].read_text()
    page = _parse(text)
    undeclared = page.by_id["rule-PC-RESPONSE-UNDECLARED-PROPERTY-additive"]
    assert "OneTimeInvoiceLineItem:" in undeclared["text"]  # rules.yaml: spec ...#/components/schemas/OneTimeInvoiceLineItem
    assert rule("PC-RESPONSE-UNDECLARED-PROPERTY").spec in undeclared["text"]
    leak = page.by_id["rule-PC-CHARGETYPE-MAPPED-breaking"]
    assert rule("PC-CHARGETYPE-MAPPED").spec is None and "Spec:" not in leak["text"]


def test_spec_excerpt_is_the_spec_text_trimmed():
    reference = rule("PC-RESPONSE-SCHEMA").spec
    excerpt = spec_excerpt(reference)
    lines = excerpt.splitlines()
    assert lines[0] == "LineItemCollection:"
    assert len(lines) <= MAX_LINES + 1
    short = spec_excerpt(reference, max_lines=5).splitlines()
    assert len(short) == 6 and short[-1].startswith("# ... ") and "more lines in specs/" in short[-1]
    assert spec_excerpt(None) is None
    assert "not found" in spec_excerpt("specs/partner-center-unbilled-lineitems.yaml#/components/schemas/Nope")
    assert "not found" in spec_excerpt("specs/missing.yaml#/a")


def test_secrets_are_redacted_from_every_file(tmp_path):
    REDACTOR.add(TOKEN)
    sig = "c2lnbmF0dXJlLXZhbHVl%2Bx%3D"
    leaky = finding(
        "GR-BLOB-URL",
        f"blob answered 403 for token {TOKEN}",
        _exchange(status=403, body={"echo": f"Bearer {TOKEN}", "sasToken": f"?sv=1&sig={sig}"},
                  url=f"https://blob.test/c/part.json.gz?sv=1&sp=r&sig={sig}"),
        expected=f"200 with sig={sig}",
        token_seen=TOKEN,
    )
    (tmp_path / "junit.xml").write_text(f'<testsuite><failure message="Bearer {TOKEN} sig={sig}"/></testsuite>')
    write_reports(tmp_path, _result(findings=[leaky]))
    for path in (p for p in tmp_path.rglob("*") if p.is_file()):
        text = path.read_text()
        assert TOKEN not in text, path.name
        assert sig not in text and "c2lnbmF0dXJl" not in text, path.name
    summary = json.loads((tmp_path / "summary.json").read_text())  # still valid JSON after the last pass
    assert "sig=[REDACTED]" in summary["findings"][0]["curl"]
    _parse((tmp_path / "report.html").read_text())


def test_continuation_tokens_stay_in_reports(tmp_path):
    continuation = "eyJQYWdlIjoyfQ-continuation"
    ex = dataclasses.replace(_exchange(status=500), request_headers={"MS-ContinuationToken": continuation})
    f = finding("PC-PAGING-BAD-TOKEN-4XX", "500 for a replayed token", ex, expected="4xx")
    paths = write_reports(tmp_path, _result(findings=[f]))
    assert continuation in json.loads(paths["summary"].read_text())["findings"][0]["curl"]
    assert continuation in paths["html"].read_text()


def test_a_published_docs_url_is_linked_and_no_copy_is_written(tmp_path):
    url = "https://example.test/recon/reference/index.html"
    paths = write_reports(tmp_path, dataclasses.replace(_result(), docs_url=url))
    assert "reference" not in paths and not (tmp_path / "reference").exists()
    html = paths["html"].read_text(encoding="utf-8")
    assert f'href="{url}#rule-PC-CHARGETYPE-MAPPED"' in html
    assert json.loads(paths["summary"].read_text())["docs"] == url


def test_the_reference_copy_beside_the_reports_masks_the_docs_sas_signature(tmp_path):
    # the Graph spec quotes a manifest example with a sig=; beside the reports it is masked like any other
    write_reports(tmp_path, _result())
    text = (tmp_path / "reference" / "index.html").read_text(encoding="utf-8")
    assert "sig=RpVY0WBGUHJ2APB3N76jtMak8loAWY4oiA0" not in text and 'id="rule-GR-BLOB-URL"' in text
