"""A Partner Center walk client (mixed-case query, small pages) through a real proxy process."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import httpx
import pytest

from proxy.harness import TOKEN, pc_walk, proxy, read_json
from recon_contracts.mock.config import MockConfig
from recon_contracts.mock.server import serve


@pytest.mark.parametrize("profile", ["conforming", "pc-short-pages", "v1-links"])
def test_walk_through_proxy_passes(tmp_path: Path, profile: str) -> None:
    with serve(MockConfig(profile=profile)) as mock:
        with proxy(tmp_path, "--pc-upstream", mock.base_url) as running:
            pages = pc_walk(running.base_url)  # asserts every absolute link stays on the proxy
            code = running.stop(signal.SIGINT)
    assert len(pages) > 1 and all(p.status_code == 200 for p in pages)
    assert code == 0, running.output
    assert read_json(tmp_path / "summary.json")["verdict"] == "pass"
    entries = read_json(tmp_path / "traffic.har")["log"]["entries"]
    assert len(entries) == len(pages) and all(e["request"]["url"].startswith(mock.base_url) for e in entries)
    assert "proxied %d exchange(s) in 1 flow(s)" % len(pages) in running.output, "one walk, correlated by token"
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert TOKEN not in path.read_text(encoding="utf-8", errors="replace"), path.name


@pytest.mark.parametrize("profile, rule", [
    ("pc-next-drops-query", "PC-PAGING-NEXT-QUERY"),
    ("pc-page-exceeds-size", "PC-PAGING-PAGE-SIZE"),
    ("pc-next-without-token-late", "PC-PAGING-NEXT-TOKEN"),
])
def test_walk_through_proxy_reports_the_paging_drift(tmp_path: Path, profile: str, rule: str) -> None:
    with serve(MockConfig(profile=profile)) as mock:
        with proxy(tmp_path, "--pc-upstream", mock.base_url) as running:
            pages = pc_walk(running.base_url, pages_max=20)
            code = running.stop()
    assert code == 1, running.output
    found = {f["rule"] for f in read_json(tmp_path / "summary.json")["findings"]}
    assert rule in found, running.output
    headers = {r for p in pages for r in (p.headers.get("recon-contracts-findings") or "").split(", ") if r}
    assert rule in headers, "soft mode names the rule in Recon-Contracts-Findings"
    from recon_contracts.cli import main

    replay = tmp_path / "replay"
    assert main(["check", str(tmp_path / "traffic.har"), "--report-dir", str(replay)]) == 1
    assert {f["rule"] for f in read_json(replay / "summary.json")["findings"]} == found, (
        "the proxy's traffic.har, checked offline, gives the same rules as the live judging")


def test_a_walk_that_skips_items_is_caught_against_a_one_page_walk(tmp_path: Path) -> None:
    """PC-PAGING-CONSISTENT needs two flows: the walk page 1 -> N, and the same query in one page."""
    with serve(MockConfig(profile="pc-paging-skips-item")) as mock:
        with proxy(tmp_path, "--pc-upstream", mock.base_url) as running:
            assert len(pc_walk(running.base_url, size=2000)) == 1
            assert len(pc_walk(running.base_url, size=7)) > 1
            code = running.stop()
    assert code == 1, running.output
    assert "PC-PAGING-CONSISTENT" in {f["rule"] for f in read_json(tmp_path / "summary.json")["findings"]}


def test_fail_on_breaking_answers_502_problem(tmp_path: Path) -> None:
    with serve(MockConfig(profile="pc-next-drops-query")) as mock:
        with proxy(tmp_path, "--pc-upstream", mock.base_url, "--fail-on-breaking", "--exit-after", "1") as running:
            pages = pc_walk(running.base_url)
            code = running.wait()
    assert pages[0].status_code == 502
    assert pages[0].headers["content-type"].startswith("application/problem+json")
    problem = pages[0].json()
    assert problem["rule"] == "PC-PAGING-NEXT-QUERY" and "PC-PAGING-NEXT-QUERY" in problem["detail"]
    assert code == 1, "--exit-after 1 ends the run by itself, with the verdict's exit code"


def test_exit_after_ends_the_run_and_unknown_paths_are_not_forwarded(tmp_path: Path) -> None:
    with serve(MockConfig()) as mock:
        with proxy(tmp_path, "--pc-upstream", mock.base_url, "--exit-after", "1") as running:
            with httpx.Client(timeout=30) as client:
                other = client.get(f"{running.base_url}/v1.0/reports/partners/billing/operations/x")  # no Graph named
                blob = client.get(f"{running.base_url}/_blobs/0/anything")  # no --proxy-blobs
                assert other.status_code == 404 and blob.status_code == 404
                assert other.headers["content-type"].startswith("application/problem+json")
            pages = pc_walk(running.base_url, size=2000)
            code = running.wait()
    assert len(pages) == 1 and code == 0, running.output
    assert len(read_json(tmp_path / "traffic.har")["log"]["entries"]) == 1, "refused paths are not exchanges"


def test_nothing_proxied_is_inconclusive(tmp_path: Path) -> None:
    with serve(MockConfig()) as mock:
        with proxy(tmp_path, "--pc-upstream", mock.base_url) as running:
            code = running.stop()
    assert code == 2, running.output
    assert read_json(tmp_path / "summary.json")["verdict"] == "inconclusive"


@pytest.mark.parametrize("argv, words", [
    ([], "name at least one upstream"),
    (["--pc-upstream", "ftp://example.com"], "not an http(s) server root"),
    (["--graph-upstream", "http://127.0.0.1:1/?x=1"], "no query"),
    (["--pc-upstream", "http://127.0.0.1:1", "--exit-after", "0"], "--exit-after"),
    (["--pc-upstream", "http://127.0.0.1:1", "--port", "70000"], "not a TCP port"),
    (["--pc-upstream", "http://127.0.0.1:1", "--bogus"], "unrecognized arguments"),
])
def test_bad_input_exits_4_with_a_clear_message(argv: list[str], words: str, capsys: pytest.CaptureFixture[str],
                                                tmp_path: Path) -> None:
    from recon_contracts.cli import main

    assert main(["proxy", "--report-dir", str(tmp_path), *argv]) == 4
    err = capsys.readouterr().err
    assert "recon-contracts proxy: error:" in err and words in err and "Traceback" not in err


def test_report_dir_that_is_a_file_exits_4(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from recon_contracts.cli import main

    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["proxy", "--pc-upstream", "http://127.0.0.1:1", "--report-dir", str(blocker)]) == 4
    assert "--report-dir" in capsys.readouterr().err


def test_upstream_headers_keep_credentials_off_blob_origins() -> None:
    from recon_contracts.proxy.upstream import request_headers

    sent = {"Authorization": f"Bearer {TOKEN}", "Cookie": "a=b", "Accept": "*/*", "Host": "proxy", "Connection": "close"}
    assert request_headers(sent, api="blob") == {"Accept": "*/*"}
    assert request_headers(sent, api="graph")["Authorization"] == f"Bearer {TOKEN}"
    assert "Host" not in request_headers(sent, api="graph")


def test_findings_stream_is_json_lines(tmp_path: Path) -> None:
    with serve(MockConfig(profile="pc-wrong-currency")) as mock:
        with proxy(tmp_path, "--pc-upstream", mock.base_url) as running:
            pc_walk(running.base_url)
            running.stop()
    lines = (tmp_path / "findings.jsonl").read_text().splitlines()
    assert lines and all(json.loads(line)["rule"] for line in lines)
    assert "PC-ITEM-CURRENCY" in {json.loads(line)["rule"] for line in lines}


def test_unreachable_upstream_is_a_502_and_inconclusive(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with proxy(tmp_path, "--pc-upstream", f"http://127.0.0.1:{port}", "--exit-after", "1") as running:
        pages = pc_walk(running.base_url)
        code = running.wait()
    assert pages[0].status_code == 502 and "unreachable" in pages[0].json()["detail"]
    assert code == 2, running.output
