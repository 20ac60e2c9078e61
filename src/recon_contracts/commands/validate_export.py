"""``recon-contracts validate-export``: the row contract on exports a team has already downloaded (or can fetch).

Inputs, any mix of:

* ``part-….json.gz`` files (or a directory of them): read from disk;
* a manifest file: the JSON Graph returns for ``GET /manifests/{id}``, or a succeeded operation with an inline
  ``resourceLocation``; its blobs are read from beside the file when they are there, else downloaded from
  ``rootDirectory/name?sasToken`` (the SAS only);
* an ``http(s)`` URL: a blob (``….json.gz?<SAS>``) or a manifest URL (GET with ``--graph-token``).

Every blob is streamed through the same engine as ``run`` (traffic/blob_stream.py → checks/rows.py), one blob per
worker process, as many as cores (rows_pool.py); memory stays flat whatever the size. Reports are ``run``'s:
summary.json and report.html in --report-dir. Exit status: 0 pass;
1 a breaking violation (additive drift too under --strict); 2 inconclusive (a blob could not be read to its end for
a reason that is no drift, an unreachable URL, or nothing to check); 4 a bad option or a missing file.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..verdict import EXIT_FAIL, EXIT_INCONCLUSIVE, EXIT_OK, EXIT_USAGE
from ..errors import UsageError as _UsageError
from .base import UsageParser as _Parser

from .. import argtypes, jsonpolicy
USAGE = "usage: recon-contracts validate-export [OPTIONS] PATH_OR_URL..."
_ROOT_SEGMENT = re.compile(r"/(InvoiceId|Fragment|Currency)=([^/?]+)", re.IGNORECASE)


def _parser() -> _Parser:
    p = _Parser(prog="recon-contracts validate-export", usage=USAGE, allow_abbrev=False,
                description="Validate every row of export blobs of the Graph billing family against the contract "
                            "(the member's row schema in specs/, contracts/rules.yaml GR-ROW-*, GR-USAGE-*) and "
                            "write run's reports.")
    p.add_argument("inputs", nargs="*", metavar="PATH_OR_URL",
                   help=".json.gz blobs, directories of them, manifest files, or blob/manifest URLs")
    p.add_argument("--invoice-id", metavar="ID",
                   help="the invoice the export was requested for (default: the manifest's InvoiceId=; "
                        "without either, GR-ROW-INVOICE is not checked)")
    p.add_argument("--export", metavar="KIND", type=str.lower, choices=list(_kinds()),
                   help="the export member: " + ", ".join(_kinds()) + " (default: told by the manifest's "
                        "rootDirectory container, else billed-reconciliation)")
    p.add_argument("--currency", metavar="CODE", type=str.upper,
                   help="an unbilled export's currencyCode (default: the manifest's Currency=; without either, "
                        "GR-ROW-CURRENCY is not checked)")
    p.add_argument("--attribute-set", choices=["full", "basic"], type=str.lower,
                   help="the export's attributeSet (default: the manifest's Fragment=, else full)")
    p.add_argument("--report-dir", metavar="DIR", default=os.environ.get("RECON_REPORT_DIR") or "reports",
                   help="where summary.json and report.html go (default reports; env RECON_REPORT_DIR)")
    p.add_argument("--strict", action="store_true", help="additive drift (unknown columns, charge types) fails too")
    p.add_argument("--graph-token", metavar="TOKEN", default=None,
                   help="bearer token for a manifest URL on Graph (env RECON_GRAPH_TOKEN); never sent to blob URLs")
    p.add_argument("--max-blob-bytes", type=argtypes.positive_int, metavar="N", default=None,
                   help="decompressed bytes one blob may inflate to before reading stops (default 16 GiB)")
    p.add_argument("--timeout", type=argtypes.positive_seconds, metavar="SECONDS", default=30.0,
                   help="network read timeout; each blob download is also bounded by 1 hour (default 30)")
    return p


def _kinds() -> tuple[str, ...]:
    from ..truth.exports import KINDS

    return tuple(KINDS)


def _error(message: str, code: int = EXIT_USAGE) -> int:
    print(f"recon-contracts validate-export: error: {message}", file=sys.stderr)
    return code


def _is_url(text: str) -> bool:
    return text.lower().startswith(("http://", "https://"))


def _from_root(manifest: dict[str, Any]) -> dict[str, str]:
    """InvoiceId and Fragment from a rootDirectory such as …/InvoiceId=G031809528/…/Fragment=basic/…"""
    return {k.casefold(): v for k, v in _ROOT_SEGMENT.findall(str(manifest.get("rootDirectory") or ""))}


def _manifest_of(body: Any) -> dict[str, Any] | None:
    """A manifest, or the inline manifest of a succeeded operation."""
    if isinstance(body, dict) and isinstance(body.get("resourceLocation"), dict):
        return body["resourceLocation"]
    if isinstance(body, dict) and "blobs" in body:
        return body
    return None


def main(argv: list[str]) -> int:
    try:
        args = _parser().parse_args(argv)
    except _UsageError as exc:
        return _error(f"{exc} (see recon-contracts validate-export --help)")
    if not args.inputs:
        return _error("give at least one .json.gz blob, directory, manifest file or URL (see --help)")
    if not (args.timeout > 0 and args.timeout != float("inf")):
        return _error("--timeout must be a positive number of seconds")

    from ..checks.blobs import blob_url, check_blobs, check_manifest, manifest_blobs, unreadable
    from ..checks.rows import judge_for
    from ..findings import Exchange
    from ..protocol.graph import MANIFEST_OPERATION
    from ..redact import REDACTOR
    from ..truth.spec import load_spec
    from ..traffic.auth import StaticToken
    from .. import progress
    from ..rows_pool import BlobTask, judge_export
    from ..traffic.blob_stream import BlobOutcome, FileBlob, HttpBlob, StreamLimits
    from ..traffic.client import ApiClient, RequestBudget, TargetError

    started = time.time()
    limits = StreamLimits(deadline_s=3600.0, **({"max_inflated": args.max_blob_bytes} if args.max_blob_bytes else {}))
    token = args.graph_token or os.environ.get("RECON_GRAPH_TOKEN")
    REDACTOR.add(token)
    budget = RequestBudget()
    blob_client = ApiClient(api="blob", base_url="http://blob.invalid", token=None, budget=budget, timeout=args.timeout)
    findings = []
    notes: list[str] = []
    sources: list[Any] = []  # BlobSource
    manifests: list[tuple[dict[str, Any], Exchange | None]] = []
    invoice_id, attribute_set, currency, kind_name = args.invoice_id, args.attribute_set, args.currency, args.export
    told = "--export" if kind_name else ""

    def add_manifest(body: Any, where: str, exchange: Exchange | None, local_dir: Path | None) -> str | None:
        manifest = _manifest_of(body)
        if manifest is None:
            return f"{where} is neither a manifest nor a succeeded operation with an inline resourceLocation"
        sas = manifest.get("sasToken")
        REDACTOR.add_sas(sas if isinstance(sas, str) else None)
        manifests.append((manifest, exchange))
        for blob in manifest_blobs(manifest):
            name = str(blob.get("name") or "")
            local = local_dir / name if local_dir is not None and name else None
            if local is not None and local.is_file():
                sources.append(FileBlob(local))
            else:
                url = blob_url(manifest, blob)
                if not _is_url(url):
                    return f"{where}: blob {name!r} is neither beside the manifest nor at an absolute URL"
                sources.append(HttpBlob(stream=blob_client.stream, url=url, name=name))
        return None

    for raw in args.inputs:
        if _is_url(raw):
            path_part = raw.split("?", 1)[0]
            if path_part.lower().endswith(".gz"):
                sources.append(HttpBlob(stream=blob_client.stream, url=raw, name=path_part.rsplit("/", 1)[-1]))
                continue
            graph = ApiClient(api="graph", base_url=raw, token=StaticToken(token) if token else None, budget=budget,
                              timeout=args.timeout)
            try:
                exchange = graph.request("GET", raw, operation=MANIFEST_OPERATION)
            except TargetError as exc:
                return _finish(args, findings, [str(exc)], started, inconclusive=True)
            finally:
                graph.close()
            if exchange.status != 200:
                hint = " (give --graph-token or RECON_GRAPH_TOKEN)" if exchange.status in (401, 403) and not token else ""
                return _error(f"{REDACTOR(raw)} answered {exchange.status}{hint}: {REDACTOR(exchange.summary(200))}",
                              EXIT_INCONCLUSIVE)
            try:
                body = exchange.json()
            except (ValueError, UnicodeDecodeError):
                return _error(f"{REDACTOR(raw)} did not answer JSON", EXIT_INCONCLUSIVE)
            problem = add_manifest(body, REDACTOR(raw), exchange, None)
            if problem:
                return _error(problem)
            continue
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and p.name.lower().endswith(".gz"))
            if not found:
                return _error(f"{raw}: no .gz blobs in this directory")
            sources += [FileBlob(p) for p in found]
            continue
        if not path.is_file():
            return _error(f"{raw}: no such file or directory")
        with path.open("rb") as fh:
            head = fh.read(2)
        if head == b"\x1f\x8b" or path.name.lower().endswith(".gz"):
            sources.append(FileBlob(path))  # a non-gzip .gz is the blob's own finding (GR-BLOB-GZIP-JSONL)
            continue
        try:
            body = jsonpolicy.loads(path.read_bytes())
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            return _error(f"{raw}: not a gzip blob and not a JSON manifest ({exc})")
        problem = add_manifest(body, raw, None, path.parent)
        if problem:
            return _error(problem)

    from ..truth.exports import BILLED_RECONCILIATION, KINDS, kind_of_root

    for manifest, exchange in manifests:
        segments = _from_root(manifest)
        if not kind_name:
            recognised = kind_of_root(str(manifest.get("rootDirectory") or ""))
            if recognised is not None:
                kind_name, told = recognised.name, "the manifest's rootDirectory"
        invoice_id = invoice_id or segments.get("invoiceid")
        currency = currency or (segments.get("currency") or "").upper() or None
        attribute_set = attribute_set or segments.get("fragment", "").casefold() or None
        if exchange is not None:
            findings += check_manifest(exchange, manifest)
        else:
            findings += [replace(f, curl="") for f in _manifest_file_findings(manifest, load_spec)]
    attribute_set = attribute_set if attribute_set in ("full", "basic") else "full"
    kind = KINDS[kind_name] if kind_name else BILLED_RECONCILIATION
    if not kind_name:
        notes.append("no --export and no known container in a manifest's rootDirectory: judged as billed-reconciliation")
    if kind.billed and not invoice_id:
        notes.append("no --invoice-id and no InvoiceId= in a manifest: GR-ROW-INVOICE was not checked")
    if not kind.billed and not currency:
        notes.append("no --currency and no Currency= in a manifest: GR-ROW-CURRENCY was not checked")

    att = attribute_set if kind.attribute_sets else None
    judge = judge_for(kind.name, invoice_id=invoice_id, attribute_set=att, currency=currency)
    # every blob in a worker process of its own (one per core), merged in the order given
    tasks = [BlobTask(index=i, name=source.name, invoice_id=judge.invoice_id, attribute_set=judge.attribute_set,
                      kind=kind.name, currency=judge.currency, limits=limits,
                      timeout=args.timeout, **({"url": source.url, "secrets": tuple(source.url.split("?", 1)[1:])}
                                               if isinstance(source, HttpBlob) else {"path": str(source.path)}))
             for i, source in enumerate(sources)]
    progress.configure(sys.stderr)
    try:
        outcomes: list[BlobOutcome] = judge_export(tasks, judge, stream=blob_client.stream, take=budget.take)
    finally:
        blob_client.close()
    for outcome in outcomes:
        print(f"  {outcome.name}: {outcome.stats.lines:,} lines"
              + (f" — {outcome.problem}" if outcome.problem else "")
              + (f" — not read to the end: {outcome.inconclusive}" if outcome.inconclusive else "")
              + (f" — answered {outcome.exchange.status}" if outcome.exchange is not None
                 and outcome.exchange.status != 200 else ""), flush=True)
    manifest = manifests[0][0] if len(manifests) == 1 else None
    findings += check_blobs(manifests[0][1] if manifests else None, manifest, outcomes)
    findings += judge.findings()
    problems = unreadable(outcomes)
    if not sources:
        problems.append("the manifest lists no blobs: nothing to check")
    subject = (f"invoice {invoice_id or '(not checked)'}" if kind.billed
               else f"currency {currency or '(not checked)'}")
    print(f"  {judge.rows:,} rows in {len(outcomes)} blob(s) of a {kind.name} export"
          + (f" (from {told})" if told else "") + f"; {subject}"
          + (f", attributeSet {attribute_set}" if kind.attribute_sets else ""))
    return _finish(args, findings, problems + notes, started, inconclusive=bool(problems))


def _manifest_file_findings(manifest: dict[str, Any], load_spec: Any) -> list[Any]:
    """Manifest rules on a manifest read from a file (no exchange to reproduce: the finding names the file)."""
    from ..checks.blobs import redacted
    from ..findings import finding

    found = []
    for message in load_spec("graph").validate(manifest, "Manifest"):
        found.append(redacted(finding("GR-RESPONSE-SCHEMA", f"manifest file: {message}", None,
                                      expected="a Manifest as the spec declares it", actual=message,
                                      api="graph", operation="manifest file")))
    count, blobs = manifest.get("blobCount"), manifest.get("blobs")
    if isinstance(count, int) and isinstance(blobs, list) and count != len(blobs):
        found.append(redacted(finding("GR-MANIFEST-BLOBCOUNT", f"the manifest says blobCount {count} but lists "
                                      f"{len(blobs)} blob(s)", None, expected=f"blobCount == {len(blobs)}",
                                      actual=f"blobCount {count}", api="graph", operation="manifest file")))
    return found


def _finish(args: argparse.Namespace, findings: list[Any], notes: list[str], started: float, *, inconclusive: bool) -> int:
    from ..findings import breaking
    from ..reporting.files import RunResult
    from .base import finish

    failing = breaking(findings, strict=args.strict)
    code = EXIT_FAIL if failing else (EXIT_INCONCLUSIVE if inconclusive else EXIT_OK)
    for note in notes:
        print(f"  note: {note}")
    tests = {"passed": 0 if failing or inconclusive else 1, "failed": 1 if failing else 0,
             "skipped": 1 if inconclusive and not failing else 0, "error": 0}
    result = RunResult(findings=findings, targets={"graph": " ".join(args.inputs)[:500], "mock_profile": None},
                       strict=args.strict, exit_status=code if code != EXIT_FAIL else 0, tests=tests,
                       started=started, duration_s=time.time() - started)
    for f in failing[:20]:
        print(str(f).splitlines()[0])
    try:
        finish(args.report_dir, result)
    except _UsageError as exc:
        return _error(str(exc))
    return code
