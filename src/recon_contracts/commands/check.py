"""``recon-contracts check FILE.har...``: the contract on recorded traffic, without sending a request.

Reads HAR 1.2 files (a browser's devtools, mitmproxy, Schemathesis ``--report har``, a run's own
``traffic.har``), keeps the exchanges of the two APIs (other hosts are counted and ignored), runs every
rule that needs no new request (:mod:`recon_contracts.checks.recorded`) and, given ``--baseline``, compares
the recorded behaviour with a committed ``observed.json``. Writes the same reports as a run
(junit.xml, summary.json, report.html) plus observed.json, and exits like one: 0 pass, 1 a breaking
violation (additive drift too under --strict), 2 nothing in the files could be checked, 4 bad input.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import defaultdict
from pathlib import Path
from xml.etree import ElementTree as ET

from ..findings import Finding, breaking
from ..options import OPTIONS, Option
from ..verdict import EXIT_FAIL, EXIT_OK, EXIT_USAGE
from ..verdict import EXIT_INCONCLUSIVE as EXIT_NOT_RUN
from ..errors import UsageError as _UsageError
from .base import UsageParser as _Parser

USAGE = "usage: recon-contracts check FILE.har [FILE.har ...] [--baseline FILE [--update-baseline]] [--report-dir DIR] [--strict]"
_OWN = ("--report-dir", "--strict-drift", "--baseline", "--update-baseline")  # pytest spellings (OPTIONS names)
GROUPS = (
    "recorded: partner-center responses",
    "recorded: partner-center query spellings",
    "recorded: partner-center throttling",
    "recorded: partner-center paging walks",
    "recorded: graph export requests",
    "recorded: graph operations",
    "recorded: graph manifests and blobs",
    "recorded: graph attribute sets",
)
BASELINE_GROUP = "recorded: baseline"


def _options() -> list[Option]:
    by_name = {o.name: o for o in OPTIONS}
    return [by_name[n] for n in _OWN]


def help_text() -> str:
    from ..checks.recorded import NOT_IN_RECORDINGS

    rows = []
    for opt in _options():
        left = opt.cli_name if opt.flag else f"{opt.cli_name} {'FILE' if opt.name == '--baseline' else 'DIR'}"
        env = f" (env {opt.env})" if opt.env else ""
        what = "fail on additive drift (undeclared properties, unknown values) too" if opt.name == "--strict-drift" else opt.help
        rows.append(f"  {left:<24}{what}{env}")
    skipped = "\n".join(f"  {rule}: {why}" for rule, why in NOT_IN_RECORDINGS.items())
    return "\n".join([
        USAGE, "",
        "Check recorded traffic (HAR 1.2: devtools, mitmproxy, Schemathesis --report har, a run's traffic.har)",
        "against the contract without sending a request. Exchanges to hosts that are neither API (told by",
        "their paths: /v1/invoices/{id}/lineitems, /{v1.0|beta}/reports/partners/billing/..., blobs under a",
        "manifest's rootDirectory) are counted and ignored.", "",
        "options:", *rows, f"  {'-h, --help':<24}show this help and exit", "",
        "rules a recording cannot settle (not checked here):", skipped, "",
        "exit status: 0 pass; 1 breaking violation (additive drift too under --strict);",
        "             2 nothing in the files could be checked; 4 bad option or unreadable file.",
    ])


def _error(message: str, code: int = EXIT_USAGE) -> int:
    print(f"recon-contracts check: error: {message}", file=sys.stderr)
    return code


def _setting(parsed: argparse.Namespace, opt: Option) -> object:
    value = getattr(parsed, opt.name.lstrip("-").replace("-", "_"))
    if value is None and opt.env and os.environ.get(opt.env, "") != "":
        raw = os.environ[opt.env]
        value = raw.strip().lower() in {"1", "true", "yes", "on"} if opt.flag else raw
    return opt.default if value is None else value


def junit_xml(findings: list[Finding], groups: list[str], *, strict: bool, duration_s: float) -> str:
    """One test case per group of offline checks; a failure lists the group's failing findings."""
    by_group: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        by_group[str(f.extra.get("test", ""))].append(f)
    suite = ET.Element("testsuite", name="recon-contracts check", tests=str(len(groups)), time=f"{duration_s:.3f}")
    failures = 0
    for group in groups:
        case = ET.SubElement(suite, "testcase", classname="recorded", name=group.removeprefix("recorded: "))
        failing = breaking(by_group.get(group, []), strict=strict)
        if failing:
            failures += 1
            failure = ET.SubElement(case, "failure", message=f"{len(failing)} failing finding(s): "
                                    + ", ".join(sorted({f.rule for f in failing})))
            failure.text = "\n\n".join(str(f) for f in failing)
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    root = ET.Element("testsuites")
    root.append(suite)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def main(argv: list[str]) -> int:
    parser = _Parser(prog="recon-contracts check", add_help=False, allow_abbrev=False)
    parser.add_argument("files", nargs="*")
    for opt in _options():
        parser.add_argument(opt.cli_name, dest=opt.name.lstrip("-").replace("-", "_"),
                            action="store_true" if opt.flag else "store", default=None)
    parser.add_argument("-h", "--help", action="store_true", default=False)
    try:
        parsed = parser.parse_args(argv)
    except _UsageError as exc:
        return _error(f"{exc} (see recon-contracts check --help)")
    if parsed.help:
        print(help_text())
        return EXIT_OK
    if not parsed.files:
        return _error("name at least one HAR file (see recon-contracts check --help)")
    settings = {opt.name: _setting(parsed, opt) for opt in _options()}
    report_dir = Path(str(settings["--report-dir"]))
    strict, update = bool(settings["--strict-drift"]), bool(settings["--update-baseline"])
    baseline = Path(str(settings["--baseline"])) if settings["--baseline"] else None
    if update and baseline is None:
        return _error("--update-baseline needs --baseline FILE (the file to write)")

    from ..baselines import compare_or_update, read_baseline
    from ..errors import BaselineError
    from ..observed import OBSERVED_FILE, Observed, write
    from ..checks.recorded import check_recorded
    from ..redact import REDACTOR
    from ..reporting.files import JUNIT_FILE, RunResult
    from .base import finish
    from ..traffic.har import HarError, read_har

    started = time.time()
    previous = None
    if baseline is not None:
        try:
            previous = read_baseline(baseline, update=update)
        except BaselineError as exc:
            return _error(f"--baseline: {exc}")
    try:
        traffic = read_har(parsed.files)
    except HarError as exc:
        return _error(str(exc))
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return _error(f"--report-dir {str(report_dir)!r} cannot be created: {exc.strerror or exc}")

    result = check_recorded(traffic.exchanges)
    observed = Observed()
    for exchange in traffic.exchanges:
        observed.add(exchange)
    data = observed.to_json()
    write(report_dir / OBSERVED_FILE, data)
    findings = list(result.findings)
    groups = list(GROUPS)
    if baseline is not None:
        step = compare_or_update(baseline, data, update=update, previous=previous, loaded=True)
        for line in step.lines:
            print(REDACTOR(line))
        if not update:
            for f in step.findings:
                f.extra["test"] = BASELINE_GROUP
            findings += step.findings
            groups.append(BASELINE_GROUP)

    nothing = not traffic.exchanges
    failing = breaking(findings, strict=strict)
    # what the recorded data cannot settle (a column null in every row of a writer that drops nulls): unproven
    unproven = [{"test": "recorded: graph manifests and blobs", "rules": [rule], "reason": why}
                for rule, why in result.unproven]
    code = EXIT_NOT_RUN if nothing else EXIT_FAIL if failing else EXIT_NOT_RUN if unproven else EXIT_OK
    failed_groups = {str(f.extra.get("test", "")) for f in failing}
    hosts = {api: sorted({e.url.split("/")[2] for e in traffic.exchanges if e.api == api}) for api in ("partner-center", "graph")}
    duration = time.time() - started
    (report_dir / JUNIT_FILE).write_text(REDACTOR(junit_xml(findings, groups, strict=strict, duration_s=duration)),
                                         encoding="utf-8")
    run = RunResult(
        findings=findings,
        targets={api: ", ".join(h) or None for api, h in hosts.items()},
        requests_sent=0,
        strict=strict,
        exit_status=EXIT_NOT_RUN if nothing else 0,
        unproven=unproven,
        tests={"passed": len(groups) - len(failed_groups & set(groups)), "failed": len(failed_groups & set(groups))},
        started=started,
        duration_s=duration,
        recorded={**traffic.summary(), "files": [str(Path(f).name) for f in parsed.files], "checked": result.checked},
        baseline=baseline is not None and not update,
    )
    if nothing:
        print(f"recon-contracts check: no exchange of Partner Center or Graph in {len(parsed.files)} file(s) "
              f"({traffic.entries} entries; other hosts: {dict(traffic.ignored) or 'none'}; "
              f"incomplete bodies: {dict(traffic.truncated) or 'none'})", file=sys.stderr)
    for f in failing:
        print(REDACTOR(str(f)) + "\n")
    ignored = sum(traffic.ignored.values())
    print(f"checked {len(traffic.exchanges)} of {traffic.entries} recorded exchanges"
          + (f"; {ignored} not to either API ignored (by host: {dict(traffic.ignored)})" if ignored else "")
          + (f"; {sum(traffic.truncated.values())} with incomplete bodies skipped" if traffic.truncated else ""))
    try:
        finish(report_dir, run)
    except _UsageError as exc:
        return _error(str(exc))
    return code
