"""Generated conforming export blobs and the judge that must pass every one of them.

A generated blob is what a conforming server may serve for an export: the mock's rows (any attribute set, any
data seed, any number of rows, PascalCase or camelCase keys, numbers as numbers or strings, as the register allows),
written as JSON Lines in any RFC 8259 spelling (see ``freedoms.py``), with LF or CRLF line ends, a final newline or
none, a BOM at the start or none; compressed as any RFC 1952 gzip stream (one or many members, empty members,
every optional header field), and read in network reads cut at any byte.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from freedoms import gzip_stream, json_text, network_reads
from recon_contracts.checks.rows import ExportJudge, RowRules
from recon_contracts.mock.data import export_row, line_item
from recon_contracts.traffic import blob_stream

INVOICE = "G016907411"
BOM = "\ufeff"


@dataclass
class BlobServer:
    """One generated blob: the freedoms taken, and the bytes in the reads the client sees."""

    attribute_set: str
    seed: int
    rows: int
    camel: bool
    string_numbers: bool
    line_end: str
    final_newline: bool
    bom: bool
    members: int
    reads: list[bytes] = field(repr=False)

    def freedoms(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k != "reads"}

    def command(self) -> str:
        """A command that serves the same configuration from the mock (the blob's row data and key style)."""
        knobs = [f"row_key_case={'camel' if self.camel else 'pascal'}",
                 f"row_number_encoding={'string' if self.string_numbers else 'number'}"]
        return (f"recon-contracts mock --seed {self.seed} --items {self.rows} "
                + " ".join(f"--knob {k}" for k in knobs) + f"  # freedoms: {self.freedoms()}")


def _stringify(row: dict) -> dict:
    return {k: (repr(v) if isinstance(v, float) else str(v)) if isinstance(v, (int, float)) and not isinstance(v, bool)
            else v for k, v in row.items()}


def _camel(row: dict) -> dict:
    return {("pcToBC" + k[6:]) if k.startswith("PCToBC") else k[0].lower() + k[1:]: v for k, v in row.items()}


@st.composite
def blob_servers(draw: st.DrawFn, max_rows: int = 8) -> BlobServer:
    attribute_set = draw(st.sampled_from(["full", "basic"]))
    seed = draw(st.integers(0, 5))
    n = draw(st.integers(1, max_rows))
    camel = draw(st.booleans())
    string_numbers = draw(st.booleans())
    rows = [export_row(line_item(seed, INVOICE, i, "USD"), attribute_set) for i in range(n)]
    rows = [_camel(r) if camel else r for r in rows]
    rows = [_stringify(r) if string_numbers else r for r in rows]
    line_end = draw(st.sampled_from(["\n", "\r\n"]))
    final = draw(st.booleans())
    bom = draw(st.booleans())
    text = (BOM if bom else "") + line_end.join(draw(json_text(r, one_line=True)) for r in rows) + (line_end if final else "")
    body = draw(gzip_stream(text.encode("utf-8", "surrogatepass")))
    members = body.count(b"\x1f\x8b\x08")  # at least the members made (a header byte pair may recur inside data)
    return BlobServer(attribute_set, seed, n, camel, string_numbers, line_end, final, bom, members,
                      draw(network_reads(body)))


@dataclass
class Verdict:
    rows: int
    breaking: list[str]
    inconclusive: str | None


def judge(server: BlobServer) -> Verdict:
    """What the suite's row judge says of the blob: rows read, breaking findings, or why it could not read it."""
    export = ExportJudge(RowRules.load(), invoice_id=INVOICE, attribute_set=server.attribute_set)
    blob = export.blob("part-00000-generated.c000.json.gz")
    outcome = blob_stream.read_blob(_Reads(server.reads), blob.consume)
    breaking = [f"{f.rule}: {f.message}" for f in export.findings() if f.severity == "breaking"]
    if outcome.problem:
        breaking.append(f"GR-BLOB-GZIP-JSONL: {outcome.problem}")
    return Verdict(rows=export.rows, breaking=breaking, inconclusive=outcome.inconclusive)


@dataclass
class _Reads:
    reads: list[bytes]
    name: str = "part-00000-generated.c000.json.gz"

    def open(self, limits: Any) -> Any:
        import contextlib

        @contextlib.contextmanager
        def opened() -> Any:
            yield None, iter(self.reads)

        return opened()
