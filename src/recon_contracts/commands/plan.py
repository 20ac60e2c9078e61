"""``recon-contracts run --plan``: what a run will cost the given targets, sending them nothing.

The same suite, with the same options, is rehearsed against the embedded conforming mock (on loopback; its
reports go to a temporary directory); the requests it made, by endpoint, and the export jobs it started are the
plan. What grows with the target's data is said as such: walks with its line items, blob downloads with the
invoice, polls with how long its exports run.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

_TARGET_ENV = ("RECON_PC_BASE_URL", "RECON_GRAPH_BASE_URL", "RECON_PC_TOKEN", "RECON_GRAPH_TOKEN", "RECON_BASELINE",
               "RECON_UPDATE_BASELINE", "RECON_MOCK_PROFILE", "RECON_DOCS_URL")


def plan(parsed: argparse.Namespace, args: list[str]) -> int:
    """Rehearse, print the plan; 0, or 2 when the rehearsal wrote no report."""
    import pytest

    pc = parsed.pc_base_url or os.environ.get("RECON_PC_BASE_URL")
    graph = parsed.graph_base_url or os.environ.get("RECON_GRAPH_BASE_URL")
    if (pc or graph) and not (pc and graph):  # one API only: the other's tests skip, so rehearse only this one
        args = [*args, "-m", "partner_center" if pc else "graph"]
    saved = {name: os.environ.pop(name) for name in _TARGET_ENV if name in os.environ}
    try:
        with tempfile.TemporaryDirectory(prefix="recon-plan-") as tmp:
            out = io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                pytest.main([*args, f"--report-dir={tmp}", "-q", "-p", "no:cacheprovider"])
            summary = _read(Path(tmp) / "summary.json")
    finally:
        os.environ.update(saved)
    if summary is None or "cost" not in summary:
        print("recon-contracts run --plan: the rehearsal against the embedded mock wrote no report:")
        print(out.getvalue()[-2000:])
        return 2
    print(render(summary["cost"], pc=pc, graph=graph, parsed=parsed))
    return 0


def _read(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def render(cost: dict[str, Any], *, pc: str | None, graph: str | None, parsed: argparse.Namespace) -> str:
    where = ", ".join(f"{name} {url}" for name, url in (("Partner Center", pc), ("Graph", graph)) if url) \
        or "the embedded mock"
    items = getattr(parsed, "mock_items", None) or 40
    lines = [f"plan: recon-contracts run against {where}; nothing was sent to it",
             f"  {cost.get('requests', 0)} requests (rehearsed against the embedded conforming mock, {items} line items "
             "per data set):"]
    for operation, n in (cost.get("requests_by_endpoint") or {}).items():
        lines.append(f"    {n:>5}  {operation}")
    by_set = ", ".join(f"{n} {k}" for k, n in (cost.get("exports_by_attribute_set") or {}).items())
    lines.append(f"  {cost.get('exports_started', 0)} export job(s) started ({by_set or 'none'}); "
                 f"{cost.get('blobs', 0)} blob(s) downloaded, {cost.get('rows', 0):,} rows, {cost.get('bytes', 0):,} bytes")
    lines += [
        "  grows with the target's data: each line-items walk takes ceil(items / size) pages (at most --page-budget);",
        "  each export's blobs hold the invoice's rows; polls follow Retry-After until the export ends (at most "
        "--poll-timeout)",
        f"  caps: --max-requests {parsed.max_requests or 'none'}, --max-exports {parsed.max_exports or 'none'} "
        "(checks past a cap are skipped and reported not exercised)",
    ]
    return "\n".join(lines)
