"""``recon-contracts docs``: the reference site's content, anchors and the register, without a browser."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser

import pytest
import yaml

from recon_contracts.docsite import render
from recon_contracts.docsite.diagram import state_diagram_svg
from recon_contracts.truth.resources import contracts_dir
from recon_contracts.truth.rules import catalog, charge_types, operation_states


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self.remote: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(a["id"])
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"])
        for key in ("src", "href"):
            if tag != "a" and a.get(key) and re.match(r"^(https?:)?//", a[key] or ""):
                self.remote.append(a[key])


@pytest.fixture(scope="module")
def page() -> tuple[str, _Page]:
    text = render.render_index()
    parser = _Page()
    parser.feed(text)
    return text, parser


def test_every_rule_has_a_stable_anchor_with_its_parts(page):
    text, parsed = page
    for rule in catalog().values():
        assert f"rule-{rule.id}" in parsed.ids
        block = text.split(f'id="rule-{rule.id}"', 1)[1].split("</article>", 1)[0]
        assert rule.severity in block and rule.test in block
        assert rule.source.split("]")[0].lstrip("[").split()[0] in block  # the source tag
        if rule.tolerance:
            assert "Tolerated" in block


def test_every_operation_parameter_and_example_is_shown(page):
    text, parsed = page
    flagged_ops = flagged_params = 0  # operations and parameters the specs mark x-case-insensitive
    for spec in render.load_specs():
        for path, item in spec.doc["paths"].items():
            for method, op in item.items():
                if not isinstance(op, dict):
                    continue
                assert f"op-{op['operationId']}" in parsed.ids
                flagged_ops += bool(op.get("x-case-insensitive"))
                for p in op.get("parameters", []):
                    assert f"op-{op['operationId']}-param-{spec.resolve(p)['name']}" in parsed.ids
                    flagged_params += bool(spec.resolve(p).get("x-case-insensitive"))
    # each x-case-insensitive of the specs is shown as its badge, once
    assert flagged_ops and flagged_params, "the specs mark no operation or parameter x-case-insensitive any more"
    assert text.count('class="badge case">query names and values case-insensitive<') == flagged_ops
    assert text.count('class="badge case">name and value case-insensitive<') == flagged_params
    assert text.count("invoiceLineItemType") >= 2  # spellings seen, and request example 2
    assert "AQAAAA==" in text and "G016907411" in text  # doc examples: the PC first page, the Graph export body
    assert 'class="badge required"' in text


def test_links_resolve_and_nothing_is_fetched(page):
    _, parsed = page
    ids = set(parsed.ids)
    assert len(ids) == len(parsed.ids), "duplicate anchors"
    dangling = [h for h in parsed.hrefs if h.startswith("#") and h[1:] not in ids]
    assert dangling == []
    assert parsed.remote == [] and not any(h.startswith(("http:", "https:")) for h in parsed.hrefs)


def test_charge_types_and_states(page):
    text, _ = page
    for left, right in charge_types().mapping.items():
        assert f"<code>{left}</code> (never reported)" in text and f"<code>{right}</code>" in text
    svg = state_diagram_svg(operation_states())
    assert svg.count('data-state=') == 5 and svg.count('class="edge"') == 7
    assert 'class="state terminal" data-state="failed"' in svg


def test_evidence_reasoning_and_silent_points_are_rendered(tmp_path, monkeypatch):
    import dataclasses

    from recon_contracts.truth.rules import Evidence

    rules = dict(catalog())
    first = next(iter(rules))
    rules[first] = dataclasses.replace(rules[first], evidence=(Evidence("Authorization: Bearer <token>, Required",
                                                                         "[PCDOC develop/headers.md]"),),
                                       reasoning="Because the docs say so.")
    monkeypatch.setattr(render, "catalog", lambda: rules)
    copy = tmp_path / "contracts"
    shutil.copytree(contracts_dir(), copy)
    (copy / "silent-points.yaml").write_text(yaml.safe_dump({"version": 1, "points": [
        {"id": "SP-PC-SIZE-MAX", "question": "size above 2000", "answers": ["rejected-4xx", "clamped", "served"]}]}),
        encoding="utf-8")
    monkeypatch.setattr(render, "contracts_dir", lambda: copy)
    text = render.render_index()
    block = text.split(f'id="rule-{first}"', 1)[1].split("</article>", 1)[0]
    assert "Authorization: Bearer &lt;token&gt;, Required" in block and "Because the docs say so." in block
    assert 'id="sp-SP-PC-SIZE-MAX"' in text and "clamped" in text and 'href="#silent-points"' in text


def test_every_silent_point_of_the_register_is_rendered(page):
    text, parsed = page
    register = contracts_dir() / "silent-points.yaml"
    if register.is_file():
        for point in yaml.safe_load(register.read_text(encoding="utf-8"))["points"]:
            assert f"sp-{point['id']}" in parsed.ids


def test_no_register_no_section(page):
    text, _ = page
    if not (contracts_dir() / "silent-points.yaml").is_file():
        assert 'id="silent-points"' not in text


def test_docs_command_writes_the_site_and_refuses_a_bad_folder(tmp_path):
    cli = [sys.executable, "-m", "recon_contracts.cli", "docs"]
    ok = subprocess.run([*cli, "--out", str(tmp_path / "site")], capture_output=True, text=True, timeout=120, check=False)
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "site" / "index.html").is_file() and "file://" in ok.stdout
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    bad = subprocess.run([*cli, "--out", str(blocker)], capture_output=True, text=True, timeout=120, check=False)
    assert bad.returncode == 4 and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


def _examples_in(node, spec):
    """Every example value of a spec: OpenAPI `examples` maps, singular `example`, and the docs' raw requests."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "examples" and isinstance(value, dict) and "type" not in node:
                for example in value.values():
                    example = spec.resolve(example)
                    if isinstance(example, dict) and "value" in example:
                        yield example["value"]
            elif key == "example" and not isinstance(value, dict):
                yield value
            elif key == "x-doc-request-examples":
                for example in value:
                    yield example["http"]
            else:
                yield from _examples_in(value, spec)
    elif isinstance(node, list):
        for item in node:
            yield from _examples_in(item, spec)


def test_every_doc_example_is_on_the_page(page):
    import json

    from markupsafe import escape

    text, _ = page
    count = 0
    for spec in render.load_specs():
        for value in _examples_in(spec.doc, spec):
            shown = value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False)
            assert str(escape(shown)) in text, shown[:200]
            count += 1
    assert count >= 20
