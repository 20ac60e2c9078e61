"""docs/options.md, rendered from the one option table (``options.OPTIONS``).

``python -m recon_contracts.docsite.options_doc`` rewrites it; a unit test fails when the committed file is not
what the table renders to.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..options import OPTIONS, Option
from ..truth.resources import project_root

OPTIONS_DOC = Path("docs/options.md")

_HEAD = """# Options

<!-- generated from src/recon_contracts/options.py by python -m recon_contracts.docsite.options_doc; do not edit -->

Every option of the contract suite, from the one table that `recon-contracts run`, `recon-contracts check` and
the pytest plugin read. Each can also be set by its environment variable; the command line wins. `recon-contracts
run` and pytest take the same options, with one exception: pytest owns `--strict`, so the suite's option is
`--strict-drift` under pytest, and `recon-contracts run --strict` is the command's spelling of it.

Exit codes, for every command: **0** pass, **1** fail, **2** inconclusive, **4** bad input.

| Option | Environment | Default | Meaning |
|---|---|---|---|
"""


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _default(opt: Option) -> str:
    if opt.flag:
        return "off"
    if opt.default is None:
        return "—"
    return f"`{opt.default}`"


def _name(opt: Option) -> str:
    if opt.cli and opt.cli != opt.name:
        return f"`{opt.cli}` (run) / `{opt.name}` (pytest)"
    return f"`{opt.name}`"


def render_options() -> str:
    rows = [f"| {_name(o)} | `{o.env}` | {_default(o)} | {_cell(o.help)} |" for o in OPTIONS]
    return _HEAD + "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> int:
    path = project_root() / OPTIONS_DOC
    path.write_text(render_options(), encoding="utf-8")
    print(f"written: {OPTIONS_DOC}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
