"""Reports of a run: ``summary.json`` for machines, ``report.html`` for people (``junit.xml`` is pytest's).

``files`` writes them; ``summary`` builds the data, ``html`` the page, ``excerpt`` the spec excerpts.
"""

from .files import HTML_FILE, JUNIT_FILE, SUMMARY_FILE, write_reports
from .summary import RunResult, summarize, verdict_line

__all__ = ["RunResult", "summarize", "verdict_line", "write_reports", "SUMMARY_FILE", "HTML_FILE", "JUNIT_FILE"]
