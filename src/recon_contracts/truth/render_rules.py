"""docs/rules.md, generated from the rule catalog: every rule with its severity, evidence and reasoning.

``python -m recon_contracts.truth.render_rules`` writes it (``--check`` exits 1 when the committed file is
out of date); :func:`render_rules` returns the Markdown for any other docs builder to reuse.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

from .resources import project_root
from .rules import SEVERITIES, Rule, catalog

DOCS_FILE = Path("docs") / "rules.md"

_SEVERITY_MEANING = {
    "breaking": "fails the gate (exit 1): Microsoft's docs, examples or SDKs require the behaviour (quoted below)",
    "additive": "drift to document: reported, fails only under --strict",
    "advisory": "worth knowing: reported with its reasoning, never fails the gate (not even under --strict)",
}
_API_TITLE = {"partner-center": "Partner Center: unbilled reconciliation line items", "graph": "Graph: billed reconciliation export"}


def _md(text: str) -> str:
    """Text safe inside a Markdown paragraph or table cell (pipes and line breaks escaped)."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _quote(text: str) -> str:
    """A verbatim quote as inline code, with a fence long enough for the backticks it holds."""
    text = " ".join(str(text).split())
    ticks = "`"
    while ticks in text:
        ticks += "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def render_rule(rule: Rule) -> str:
    lines = [f"### {rule.id}", "", f"**{rule.severity}** — {_md(rule.statement)}", ""]
    if rule.evidence:
        lines.append("Evidence:")
        lines.append("")
        for e in rule.evidence:
            lines.append(f"- {_quote(e.quote)} — {_md(e.source)}")
        lines.append("")
    if rule.reasoning:
        lines += [f"Reasoning: {_md(rule.reasoning)}", ""]
    if rule.tolerance:
        lines += [f"Tolerated: {_md(rule.tolerance)}", ""]
    extra = [f"Enforced by `{rule.test}`"]
    if rule.spec:
        extra.append(f"spec `{rule.spec}`")
    for data in (rule.mapping, rule.states):
        if data:
            extra.append(f"data `{data}`")
    lines += ["; ".join(extra) + ".", ""]
    return "\n".join(lines)


def render_rules(rules: Iterable[Rule] | None = None) -> str:
    """The Markdown of docs/rules.md for ``rules`` (default: the catalog)."""
    rules = list(catalog().values() if rules is None else rules)
    counts = {s: sum(1 for r in rules if r.severity == s) for s in SEVERITIES}
    out = [
        "# Rules",
        "",
        "<!-- Generated from contracts/rules.yaml by `python -m recon_contracts.truth.render_rules`; do not edit. -->",
        "",
        f"{len(rules)} rules: " + ", ".join(f"{counts[s]} {s}" for s in SEVERITIES) + ".",
        "",
        "A rule is **breaking** only where Microsoft's documents, examples or SDKs *require* the behaviour, and its",
        "evidence quotes where. What the docs leave open is **advisory** (worth knowing, never failing) and the",
        "target's answer is recorded as a silent point. Checks the target kept from being made (throttled or",
        "unavailable past the retry policy, refused links, an export still running at `--poll-timeout`) leave their",
        "rules *unproven*: the run is inconclusive (exit 2), never a silent pass.",
        "",
        "| Severity | Meaning |",
        "|---|---|",
        *[f"| {s} | {_SEVERITY_MEANING[s]} |" for s in SEVERITIES],
        "",
        "| Rule | Severity | Statement |",
        "|---|---|---|",
        *[f"| [{r.id}](#{r.id.lower()}) | {r.severity} | {_md(r.statement)} |" for r in rules],
        "",
    ]
    for api, title in _API_TITLE.items():
        group = [r for r in rules if r.api == api]
        if group:
            out += [f"## {title}", ""] + [render_rule(r) for r in group]
    return "\n".join(out).rstrip() + "\n"


def docs_path() -> Path:
    return project_root() / DOCS_FILE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recon_contracts.truth.render_rules",
                                     description="Write docs/rules.md from contracts/rules.yaml.")
    parser.add_argument("--check", action="store_true", help="exit 1 when docs/rules.md is not up to date")
    parser.add_argument("--output", type=Path, default=None, help="where to write (default docs/rules.md)")
    args = parser.parse_args(argv)
    target = args.output or docs_path()
    text = render_rules()
    if args.check:
        current = target.read_text(encoding="utf-8") if target.is_file() else ""
        if current != text:
            print(f"{target} is out of date: run python -m recon_contracts.truth.render_rules", file=sys.stderr)
            return 1
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target} ({len(catalog())} rules)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
