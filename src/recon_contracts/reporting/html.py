"""``report.html``: one self-contained page (inline CSS, no scripts, no network) for a person.

The verdict comes first, then the counts and the run, then the findings grouped by rule: breaking
violations, additive drift and advisory notes each in their own section. Every value is escaped.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any

from .excerpt import spec_excerpt

_CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1100px;padding:1.5em;color:#1b1f24;background:#fff}
h1,h2,h3{line-height:1.2}
.verdict{font-size:2.2em;margin:0 0 .2em;padding:.3em .6em;border-radius:6px;display:inline-block;color:#fff}
.verdict.pass{background:#1a7f37}.verdict.fail{background:#cf222e}.verdict.inconclusive{background:#9a6700}
.reason{margin:.2em 0 1.2em;font-size:1.1em}
table{border-collapse:collapse;margin:.5em 0 1.2em}
th,td{border:1px solid #d0d7de;padding:.3em .7em;text-align:left;vertical-align:top}
th{background:#f6f8fa}
td.num{text-align:right;font-variant-numeric:tabular-nums}
section{margin-top:2em}
section.breaking>h2{color:#cf222e}section.additive>h2{color:#9a6700}section.advisory>h2{color:#0969da}
article.rule{border:1px solid #d0d7de;border-radius:6px;padding:.2em 1em 1em;margin:1em 0}
article.rule>h3 code{font-size:1em}
.statement{font-weight:600}
.source,.tolerance{color:#57606a;font-size:.92em}
.finding{border-top:1px dashed #d0d7de;margin-top:.8em;padding-top:.6em}
.finding .message{margin:.2em 0 .5em}
dl{display:grid;grid-template-columns:9.5em 1fr;gap:.25em .8em;margin:0}
dt{font-weight:600;color:#57606a}dd{margin:0;min-width:0}
pre{background:#f6f8fa;border:1px solid #d0d7de;border-radius:4px;padding:.5em .7em;margin:0;white-space:pre-wrap;word-break:break-all;font-size:.88em}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
details{margin:.5em 0}summary{cursor:pointer;color:#57606a}
.none{color:#57606a;font-style:italic}
footer{margin-top:3em;color:#57606a;font-size:.85em}
.status{font-weight:600;white-space:nowrap}
.status.passed{color:#1a7f37}.status.failed{color:#cf222e}.status.unproven,.status.blocked{color:#9a6700}
.status.skipped,.status.not_exercised{color:#57606a}
"""

_STATUS_LABELS = {"passed": "passed", "failed": "failed", "unproven": "unproven", "blocked": "blocked",
                  "skipped": "skipped", "not_exercised": "not exercised"}

_SECTIONS = (
    ("breaking", "Breaking violations", "A breaking violation fails the gate (exit code 1)."),
    ("additive", "Additive drift", "Drift from the spec that clients should tolerate: reported, fails the gate only under --strict."),
    ("advisory", "Advisory", "Worth knowing; never fails the gate."),
)


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _counts_table(summary: dict[str, Any]) -> str:
    counts = summary.get("counts", {})
    strict = summary.get("strict", False)
    gates = {"breaking": "yes", "additive": "yes (--strict)" if strict else "no (yes under --strict)", "advisory": "never"}
    rows = "".join(
        f'<tr><td><a href="#{key}">{_e(key)}</a></td><td class="num" id="count-{key}">{_e(counts.get(key, 0))}</td>'
        f"<td>{_e(gates[key])}</td></tr>"
        for key, _, _ in _SECTIONS
    )
    return f'<table class="counts"><tr><th>Severity</th><th>Findings</th><th>Fails the gate</th></tr>{rows}</table>'


def _rules_line(summary: dict[str, Any]) -> str:
    counts = summary.get("rule_counts") or {}
    total = sum(counts.values())
    rest = ", ".join(f"{n} {_STATUS_LABELS.get(k, k)}" for k, n in counts.items() if n and k != "passed")
    return f"{counts.get('passed', 0)} of {total} passed" + (f"; not proven by this run: {rest} (see Rule coverage)" if rest else "")


def _run_table(summary: dict[str, Any]) -> str:
    targets = summary.get("targets", {})
    tests = summary.get("tests", {})
    seed = summary.get("seed")
    seed_note = "derandomized (CI)" if summary.get("derandomized") else f"repeat with --seed {seed}"
    rows = [
        ("Partner Center target", targets.get("partner-center") or "not tested"),
        ("Graph target", targets.get("graph") or "not tested"),
    ]
    if targets.get("mock_profile"):
        rows.append(("Embedded mock profile", targets["mock_profile"]))
    rows += [
        ("Hypothesis seed", f"{seed} ({seed_note})"),
        ("Requests sent", summary.get("requests_sent", 0)),
        ("Tests", ", ".join(f"{v} {k}" for k, v in tests.items())),
        ("Exit status", summary.get("exit_status")),
        ("Rules", _rules_line(summary)),
        ("Strict", "yes" if summary.get("strict") else "no"),
        ("Started", summary.get("started")),
        ("Duration", f"{summary.get('duration_s', 0)} s"),
    ]
    cost = summary.get("cost")
    if cost:
        rows += [
            ("Export jobs started", ", ".join([str(cost.get("exports_started", 0))] + [
                f"{n} {k}" for k, n in (cost.get("exports_by_attribute_set") or {}).items()])),
            ("Rows downloaded", f"{cost.get('rows', 0):,} in {cost.get('blobs', 0)} blob(s), {cost.get('bytes', 0):,} bytes"),
            ("Requests by endpoint", "; ".join(f"{n} {op}" for op, n in (cost.get("requests_by_endpoint") or {}).items())),
        ]
    body = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    return f'<table class="run">{body}</table>'


def _rule_link(summary: dict[str, Any], rule_id: Any) -> str:
    """The rule's ID, linked to its entry in the reference site (``recon-contracts docs``) when there is one."""
    base = summary.get("docs")
    code = f"<code>{_e(rule_id)}</code>"
    return f'<a class="rule-ref" href="{_e(base)}#rule-{_e(rule_id)}">{code}</a>' if base else code


def _coverage(summary: dict[str, Any]) -> str:
    """Every rule of the catalog and what this run did with it: what the run proved, and what it did not."""
    rules = summary.get("rules") or []
    counts = summary.get("rule_counts") or {}
    shown = ", ".join(f"{n} {_STATUS_LABELS.get(k, k)}" for k, n in counts.items() if n)
    rows = "".join(
        f'<tr id="coverage-{_e(r.get("id"))}" data-status="{_e(r.get("status"))}"><td>{_rule_link(summary, r.get("id"))}</td>'
        f'<td>{_e(r.get("severity"))}</td><td class="status {_e(r.get("status"))}">'
        f'{_e(_STATUS_LABELS.get(str(r.get("status")), r.get("status")))}</td>'
        f'<td>{_e(r.get("reason"))}</td><td><code class="test">{_e(r.get("test"))}</code></td></tr>'
        for r in rules
    )
    return (
        f'<section class="coverage" id="coverage"><h2>Rule coverage ({len(rules)} rules: {_e(shown) or "none"})</h2>'
        "<p>Every rule of the catalog and what this run did with it. Only <em>passed</em> rules were shown to hold; "
        "<em>unproven</em> (kept from being checked by the target), <em>blocked</em> (its test stopped on another "
        "rule or an error first), <em>skipped</em> and <em>not exercised</em> rules were not proven by this run.</p>"
        '<table class="coverage"><tr><th>Rule</th><th>Severity</th><th>Status</th><th>Why</th><th>Enforcing test</th></tr>'
        f"{rows}</table></section>"
    )


def _finding(f: dict[str, Any]) -> str:
    items = [
        ("What came back", f'<pre class="actual">{_e(f.get("actual"))}</pre>' if f.get("actual") else '<span class="none">nothing recorded</span>'),
        ("Expected", _e(f.get("expected")) or '<span class="none">see the rule</span>'),
        ("Operation", f"{_e(f.get('api'))} · <code>{_e(f.get('operation'))}</code>"),
        ("Test", f'<code class="test">{_e(f.get("test"))}</code>'),
    ]
    if f.get("occurrences", 1) and int(f.get("occurrences", 1)) > 1:
        items.append(("Seen", _e(f"{f['occurrences']} times in this test (the last one is shown)")))
    if f.get("curl"):
        items.append(("Reproduce", f'<pre class="curl">{_e(f["curl"])}</pre>'))
    elif f.get("url"):
        items.append(("URL", f"<code>{_e(f['url'])}</code>"))
    for key, value in (f.get("extra") or {}).items():
        items.append((str(key), f"<code>{_e(value)}</code>"))
    dl = "".join(f"<dt>{_e(k)}</dt><dd>{v}</dd>" for k, v in items)
    return (
        f'<div class="finding" data-rule="{_e(f.get("rule"))}" data-severity="{_e(f.get("severity"))}">'
        f'<p class="message">{_e(f.get("message"))}</p><dl>{dl}</dl></div>'
    )


def _groups(findings: Iterable[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for f in findings:
        groups.setdefault(str(f.get("rule")), []).append(f)
    return list(groups.items())


def _rule_group(summary: dict[str, Any], severity: str, rule_id: str, findings: list[dict[str, Any]]) -> str:
    first = findings[0]
    parts = [
        f'<article class="rule" id="rule-{_e(rule_id)}-{severity}">',
        f"<h3>{_rule_link(summary, rule_id)} — {_e(_plural(len(findings), 'finding'))}</h3>",
    ]
    if first.get("statement"):
        parts.append(f'<p class="statement">{_e(first["statement"])}</p>')
    if first.get("source"):
        parts.append(f'<p class="source">Source: {_e(first["source"])}</p>')
    if first.get("tolerance"):
        parts.append(f'<p class="tolerance">Tolerated: {_e(first["tolerance"])}</p>')
    excerpt = spec_excerpt(first.get("spec"))
    if excerpt:
        parts.append(
            f'<details class="spec" open><summary>Spec: <code>{_e(first["spec"])}</code></summary>'
            f"<pre>{_e(excerpt)}</pre></details>"
        )
    parts += [_finding(f) for f in findings]
    parts.append("</article>")
    return "".join(parts)


def _section(summary: dict[str, Any], severity: str, title: str, note: str) -> str:
    findings = [f for f in summary.get("findings", []) if f.get("severity") == severity]
    if severity == "additive" and summary.get("strict"):
        note = "Drift from the spec; this run used --strict, so it fails the gate."
    head = f'<section class="{severity}" id="{severity}"><h2>{_e(title)} ({len(findings)})</h2><p>{_e(note)}</p>'
    if not findings:
        return head + '<p class="none">None.</p></section>'
    return head + "".join(_rule_group(summary, severity, rid, group) for rid, group in _groups(findings)) + "</section>"


def _unproven_section(summary: dict[str, Any]) -> str:
    """The rules the target's behaviour kept from being checked, with the reasons (empty when none)."""
    marks = summary.get("unproven") or []
    if not marks:
        return ""
    rules = summary.get("unproven_rules") or []
    items = "".join(
        f'<li data-test="{_e(m.get("test"))}"><code>{_e(", ".join(m.get("rules") or []) or "-")}</code>: '
        f'{_e(m.get("reason"))} <span class="test">({_e(m.get("test"))})</span></li>'
        for m in marks
    )
    return (
        f'<section class="unproven" id="unproven"><h2>Unproven ({len(rules)} rules)</h2>'
        "<p>These rules could not be checked because of the target's behaviour (throttled or unavailable past the "
        "retry policy, a refused link, an unreadable page, an export still running at --poll-timeout). Nothing "
        "here is a violation, but nothing here was proven either: the verdict is inconclusive (exit 2).</p>"
        f'<p class="rules">{"".join(f"<code>{_e(r)}</code> " for r in rules)}</p><ul>{items}</ul></section>'
    )


def render_html(summary: dict[str, Any]) -> str:
    """The page for a summary (as built by :func:`~recon_contracts.reporting.files.summary.summarize`)."""
    verdict = summary.get("verdict") if summary.get("verdict") in ("pass", "inconclusive") else "fail"
    counts = summary.get("counts", {})
    title = f"recon-contracts: {verdict.upper()} — {counts.get('breaking', 0)} breaking, {counts.get('additive', 0)} additive"
    known = {key for key, _, _ in _SECTIONS}
    others = [f for f in summary.get("findings", []) if f.get("severity") not in known]
    sections = [_section(summary, key, t, n) for key, t, n in _SECTIONS]
    if others:
        sections.append(_section({**summary, "findings": others}, str(others[0].get("severity")), "Other", ""))
    return "".join(
        [
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
            f'<header><h1 id="verdict" class="verdict {verdict}" data-verdict="{verdict}">{verdict.upper()}</h1>',
            f'<p class="reason">{_e(summary.get("verdict_reason", ""))}</p></header>',
            '<section id="overview"><h2>Overview</h2>',
            _counts_table(summary),
            _run_table(summary),
            "</section>",
            _unproven_section(summary),
            *sections,
            _coverage(summary),
            f'<footer>recon-contracts {_e(summary.get("version", ""))}. Reproduction commands read the bearer token '
            "from the TOKEN environment variable. Tokens, client secrets and SAS signatures are shown as [REDACTED]; "
            "to repeat a blob download, take a fresh sasToken from the export's manifest.</footer>",
            "</body></html>\n",
        ]
    )
