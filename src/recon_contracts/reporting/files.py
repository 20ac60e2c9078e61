"""Reports of a contract run, every format from this one place: ``summary.json`` for machines, ``report.html``
for people, ``report.sarif`` for code-scanning views, Markdown for ``$GITHUB_STEP_SUMMARY``.

The pieces beside it: summary data, HTML page, spec excerpts.

:func:`write_reports` is called once per run, by :func:`recon_contracts.reporting.finish.finish_reports` (the end of
every run, the plugin's and every command's); ``junit.xml`` is pytest's own writer.
Every byte written passes through :data:`~recon_contracts.redact.REDACTOR`: each field before it is
serialized, and the whole serialized text again as a last line of defence.
"""

from __future__ import annotations

from pathlib import Path

from .. import jsonpolicy
from ..redact import REDACTOR
from .html import render_html
from .sarif import SARIF_FILE, render_sarif
from .step_summary import append_step_summary
from .summary import REFERENCE_INDEX, RunResult, summarize, verdict_line

SUMMARY_FILE = "summary.json"
HTML_FILE = "report.html"
JUNIT_FILE = "junit.xml"

__all__ = ["RunResult", "summarize", "render_html", "verdict_line", "write_reports", "SUMMARY_FILE", "HTML_FILE", "JUNIT_FILE", "SARIF_FILE"]


def write_reports(report_dir: str | Path, result: RunResult) -> dict[str, Path]:
    """Write ``summary.json``, ``report.html`` and (without a docs URL) the reference site into ``report_dir``."""
    directory = Path(report_dir)
    directory.mkdir(parents=True, exist_ok=True)
    summary = summarize(result)
    paths = {"summary": directory / SUMMARY_FILE, "html": directory / HTML_FILE, "sarif": directory / SARIF_FILE}
    _write(paths["summary"], jsonpolicy.dumps_indented(summary, default=str) + "\n")
    _write(paths["html"], render_html(summary))
    _write(paths["sarif"], jsonpolicy.dumps_indented(render_sarif(summary)) + "\n")
    step = append_step_summary(summary, str(report_dir), REDACTOR)
    if step is not None:
        paths["step_summary"] = step
    if not result.docs_url:  # report.html links each rule to the reference: a copy beside it, so links work offline
        from ..docsite import build_site

        paths["reference"] = build_site(directory / Path(REFERENCE_INDEX).parent, transform=REDACTOR)
    junit = directory / JUNIT_FILE
    if junit.is_file():  # pytest's own file, when it is already written: redacted in place as well
        text = junit.read_text(encoding="utf-8", errors="replace")
        if REDACTOR(text) != text:
            _write(junit, text)
    return paths


def _write(path: Path, text: str) -> None:
    # Written to a sibling first, then moved: a reader never sees half a report.
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(REDACTOR(text), encoding="utf-8")
    tmp.replace(path)
