"""msgraph-sdk runs the billed-reconciliation export through a real proxy process in front of the real mock."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from proxy.harness import TOKEN, proxy, read_json
from recon_contracts.mock.config import MockConfig
from recon_contracts.mock.server import serve

pytest.importorskip("msgraph")
from proxy.sdk_client import run_export  # noqa: E402


def _no_secret_in(report_dir: Path, *secrets: str) -> None:
    for path in report_dir.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            for secret in secrets:
                assert secret not in text, f"{path.name} holds a secret"


def _sig(url: str) -> str:
    return url.split("sig=", 1)[1].split("&", 1)[0]


def _export_through_proxy(tmp_path: Path, profile: str, *extra: str):
    with serve(MockConfig(profile=profile, retry_after=0)) as mock:
        with proxy(tmp_path, "--graph-upstream", mock.base_url, "--proxy-blobs", *extra) as running:
            run = asyncio.run(run_export(running.base_url, TOKEN))
            code = running.stop()
    return run, code, running, mock


@pytest.mark.parametrize("profile", ["conforming", "manifest-by-link"])
def test_sdk_export_through_proxy_passes(tmp_path: Path, profile: str) -> None:
    run, code, running, mock = _export_through_proxy(tmp_path, profile)
    assert run.terminal == "ExportSuccessOperation" and run.blob_statuses and set(run.blob_statuses) == {200}, run
    assert run.blob_bytes > 0
    assert run.urls and all(u.startswith(running.base_url + "/") for u in run.urls), (
        "a request left the proxy: " + ", ".join(u for u in run.urls if not u.startswith(running.base_url)))
    assert code == 0, running.output
    summary = read_json(tmp_path / "summary.json")
    assert summary["verdict"] == "pass", running.output
    har = read_json(tmp_path / "traffic.har")["log"]["entries"]
    urls = [(e["request"]["method"], e["request"]["url"]) for e in har]
    assert any(m == "POST" and "/reconciliation/billed/" in u for m, u in urls)
    assert sum(1 for _, u in urls if "/operations/" in u) == run.polls
    assert sum(1 for _, u in urls if ".json.gz" in u) == len(run.blob_urls)
    assert all(u.startswith(mock.base_url) for _, u in urls), "the HAR shows upstream URLs, not the proxy's"
    url_map = read_json(tmp_path / "url-map.json")
    assert url_map["rewritten"] and all(v.startswith(mock.base_url) for v in url_map["rewritten"].values())
    assert (tmp_path / "junit.xml").is_file() and (tmp_path / "report.html").is_file()
    assert "verdict: pass" in running.output
    _no_secret_in(tmp_path, TOKEN, _sig(run.blob_urls[0]))


@pytest.mark.parametrize("profile, rule", [
    ("gr-row-retyped", "GR-ROW-COLUMN-TYPES"),
    ("gr-blob-not-gzip", "GR-BLOB-GZIP-JSONL"),
    ("gr-blobcount-wrong", "GR-MANIFEST-BLOBCOUNT"),
])
def test_sdk_export_through_proxy_reports_the_drift(tmp_path: Path, profile: str, rule: str) -> None:
    run, code, running, _ = _export_through_proxy(tmp_path, profile)
    assert code == 1, running.output
    summary = read_json(tmp_path / "summary.json")
    assert summary["verdict"] == "fail"
    assert rule in {f["rule"] for f in summary["findings"]}
    assert f"[{rule}]" in running.output, "each finding is printed with its rule as it happens"
    streamed = [json.loads(line) for line in (tmp_path / "findings.jsonl").read_text().splitlines()]
    assert rule in {f["rule"] for f in streamed}
    _no_secret_in(tmp_path, TOKEN, *(_sig(u) for u in run.blob_urls[:1]))


@pytest.mark.parametrize("profile, expected", [("conforming", 0), ("gr-basic-not-subset", 1)])
def test_a_basic_export_is_judged_against_a_full_one(tmp_path: Path, profile: str, expected: int) -> None:
    """GR-EXPORT-BASIC-SUBSET spans two export flows: the proxy pairs them on stop."""
    from msgraph.generated.models.partners.billing.attribute_set import AttributeSet

    with serve(MockConfig(profile=profile, retry_after=0)) as mock:
        with proxy(tmp_path, "--graph-upstream", mock.base_url, "--proxy-blobs") as running:
            asyncio.run(run_export(running.base_url, TOKEN, attribute_set=AttributeSet.Full))
            asyncio.run(run_export(running.base_url, TOKEN, attribute_set=AttributeSet.Basic))
            code = running.stop()
    assert code == expected, running.output
    rules = {f["rule"] for f in read_json(tmp_path / "summary.json")["findings"]}
    assert ("GR-EXPORT-BASIC-SUBSET" in rules) == (expected == 1), rules
    assert "in 2 flow(s)" in running.output
