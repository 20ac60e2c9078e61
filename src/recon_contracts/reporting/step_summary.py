"""The run in Markdown for a CI job's summary page, appended to ``$GITHUB_STEP_SUMMARY`` when it is set."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

ENV = "GITHUB_STEP_SUMMARY"
_ICON = {"pass": "✅", "fail": "❌", "inconclusive": "⚠️"}
MAX_ROWS = 50


def _cell(text: Any) -> str:
    return " ".join(str(text or "").split()).replace("|", "\\|")[:300]


def render_markdown(summary: dict[str, Any], report_dir: str = "") -> str:
    verdict = str(summary.get("verdict", "fail"))
    counts = summary.get("counts", {})
    lines = [
        f"## recon-contracts: {_ICON.get(verdict, '')} {verdict}",
        "",
        f"{_cell(summary.get('verdict_reason'))}",
        "",
        "| breaking | additive | advisory | unproven rules | tests passed | failed | skipped |",
        "|---:|---:|---:|---:|---:|---:|---:|",
        f"| {counts.get('breaking', 0)} | {counts.get('additive', 0)} | {counts.get('advisory', 0)} | "
        f"{len(summary.get('unproven_rules') or [])} | {summary.get('tests', {}).get('passed', 0)} | "
        f"{summary.get('tests', {}).get('failed', 0)} | {summary.get('tests', {}).get('skipped', 0)} |",
        "",
    ]
    findings = summary.get("findings", [])
    if findings:
        lines += ["| rule | severity | operation | what |", "|---|---|---|---|"]
        lines += [f"| `{_cell(f.get('rule'))}` | {_cell(f.get('severity'))} | {_cell(f.get('operation'))} | "
                  f"{_cell(f.get('message'))} |" for f in findings[:MAX_ROWS]]
        if len(findings) > MAX_ROWS:
            lines.append(f"\n… and {len(findings) - MAX_ROWS} more in summary.json")
        lines.append("")
    for mark in summary.get("unproven", [])[:MAX_ROWS]:
        lines.append(f"- unproven ({', '.join(mark.get('rules', [])) or 'no rule'}): {_cell(mark.get('reason'))}")
    if report_dir:
        lines += ["", f"Reports: `{report_dir}` (junit.xml, summary.json, report.html, report.sarif, traffic.har)"]
    return "\n".join(lines).rstrip() + "\n"


def append_step_summary(summary: dict[str, Any], report_dir: str, redact: Any) -> Path | None:
    """Append the Markdown summary to ``$GITHUB_STEP_SUMMARY`` when it is set; the file written, or None."""
    target = os.environ.get(ENV, "").strip()
    if not target:
        return None
    path = Path(target)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(redact(render_markdown(summary, report_dir)) + "\n")
    return path
