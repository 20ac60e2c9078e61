"""What a reader sees: the reference site and a run's report.html opened in headless Chromium.

Driven through Playwright against the system's Chromium (Debian's ``chromium`` package; ``.ci/run``
installs it when missing); no browser is downloaded. Pages are opened from ``file://``, offline: any
request to another origin is refused and counted. Outside CI a missing Chromium skips these tests
with a reason; under CI it fails them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from recon_contracts.docsite import build_site
from recon_contracts.docsite.render import load_specs
from recon_contracts.findings import Finding
from recon_contracts.reporting.files import RunResult, write_reports
from recon_contracts.truth.resources import contracts_dir, project_root
from recon_contracts.truth.rules import catalog

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("RECON_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
CI = os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
SCREENSHOT = project_root() / "reports" / "docs-screenshot.png"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM:
        if CI:
            pytest.fail("no chromium executable: install Debian's chromium package (.ci/run does)")
        pytest.skip("no chromium executable (apt-get install chromium); CI installs it")
    playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is a dev dependency")
    with playwright_api.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            yield instance
        finally:
            instance.close()


class Reader:
    """A page as a reader gets it, with the console errors and off-origin requests it caused."""

    def __init__(self, browser: object, url: str) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
        self.errors: list[str] = []
        self.remote: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        response = self.page.goto(url, wait_until="load")
        assert response is None or response.ok

    def _route(self, route: object) -> None:
        url = route.request.url  # type: ignore[attr-defined]
        if url.startswith(("file:", "data:", "about:")):
            route.continue_()  # type: ignore[attr-defined]
        else:
            self.remote.append(url)
            route.abort()  # type: ignore[attr-defined]

    def broken_anchors(self) -> list[str]:
        """Every same-page link whose target does not exist."""
        return self.page.evaluate(
            """() => [...document.querySelectorAll('a[href^="#"]')]
                 .map(a => a.getAttribute('href'))
                 .filter(h => h.length > 1 && !document.getElementById(decodeURIComponent(h.slice(1))))"""
        )

    def relative_links(self) -> list[str]:
        return self.page.evaluate(
            """() => [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'))
                 .filter(h => !h.startsWith('#') && !/^[a-z]+:/i.test(h))"""
        )

    def close(self) -> None:
        self.context.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_site(tmp_path_factory.mktemp("site") / "reference")


def test_reference_shows_every_operation_and_rule(browser: object, site: Path) -> None:
    reader = Reader(browser, site.as_uri())
    try:
        page = reader.page
        for spec in load_specs():
            for path_item in spec.doc["paths"].values():
                for op in path_item.values():
                    if isinstance(op, dict) and "operationId" in op:
                        heading = page.locator(f"#op-{op['operationId']} h3")
                        assert heading.is_visible(), op["operationId"]
                        assert page.locator(f"#op-{op['operationId']}").inner_text().count(op["operationId"]) >= 1
        for rule_id in catalog():
            entry = page.locator(f"#rule-{rule_id}")
            assert entry.count() == 1 and entry.is_visible(), rule_id
            assert rule_id in entry.inner_text()
        register = contracts_dir() / "silent-points.yaml"
        if register.is_file():
            for point in yaml.safe_load(register.read_text(encoding="utf-8"))["points"]:
                assert page.locator(f"#sp-{point['id']}").is_visible(), point["id"]
        assert reader.broken_anchors() == []
        assert reader.relative_links() == []  # one page: every link is an anchor
        assert reader.errors == [] and reader.remote == []
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scrolling
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT))
    finally:
        reader.close()
    assert SCREENSHOT.stat().st_size > 10_000


def test_state_diagram_is_drawn(browser: object, site: Path) -> None:
    reader = Reader(browser, site.as_uri() + "#operation-states")
    try:
        svg = reader.page.locator("#operation-states svg.state-diagram")
        box = svg.bounding_box()
        assert box and box["width"] > 200 and box["height"] > 100
        states = reader.page.locator("#operation-states g.state")
        assert states.count() == 5
        for i in range(5):
            shape = states.nth(i).bounding_box()
            assert shape and shape["width"] > 0 and shape["height"] > 0
        names = {states.nth(i).get_attribute("data-state") for i in range(5)}
        assert names == {"notStarted", "running", "succeeded", "completed", "failed"}
        assert reader.page.locator("#operation-states path.edge").count() == 7
        assert reader.errors == []
        svg.screenshot(path=str(SCREENSHOT.with_name("docs-operation-states.png")))
    finally:
        reader.close()


def test_report_links_each_finding_to_its_rule(browser: object, tmp_path: Path) -> None:
    finding = Finding(rule="PC-PAGING-NEXT-TOKEN", severity="breaking", api="partner-center",
                      operation="GET /v1/invoices/{invoice-id}/lineitems", message="links.next carries no continuation token",
                      expected="an MS-ContinuationToken header", actual="[]",
                      extra={"test": "tests/contract/test_pc_paging.py::test_walk_every_page"})
    paths = write_reports(tmp_path, RunResult(findings=[finding], exit_status=1))
    reader = Reader(browser, paths["html"].as_uri())
    try:
        links = reader.page.locator('#breaking a.rule-ref')
        assert links.count() == 1
        links.first.click()
        reader.page.wait_for_load_state("load")
        assert reader.page.url.endswith("reference/index.html#rule-PC-PAGING-NEXT-TOKEN")
        assert reader.page.locator("#rule-PC-PAGING-NEXT-TOKEN").is_visible()
        # the coverage section lists every rule, each linked into the reference
        back = Reader(browser, paths["html"].as_uri())
        try:
            rows = back.page.locator("#coverage tr[data-status]")
            assert rows.count() == len(catalog())
            assert back.broken_anchors() == []
            for href in set(back.relative_links()):
                target, _, anchor = href.partition("#")
                assert (tmp_path / target).is_file(), href
                assert f'id="{anchor}"' in (tmp_path / target).read_text(encoding="utf-8"), href
            assert back.errors == [] and back.remote == []
        finally:
            back.close()
    finally:
        reader.close()


def test_the_reader_sees_broken_links_errors_and_remote_requests(browser: object, tmp_path: Path) -> None:
    """The checks above can fail: a page with a dangling anchor, a script error and a CDN stylesheet."""
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><html><head><link rel="stylesheet" href="https://cdn.example.com/x.css"></head>'
                    '<body><a href="#nowhere">x</a><a href="other.html">y</a><script>console.error("boom")</script></body></html>',
                    encoding="utf-8")
    reader = Reader(browser, page.as_uri())
    try:
        assert reader.broken_anchors() == ["#nowhere"]
        assert reader.relative_links() == ["other.html"]
        assert any("boom" in e for e in reader.errors)
        assert reader.remote == ["https://cdn.example.com/x.css"]
    finally:
        reader.close()
