"""``recon-contracts docs [--out DIR]``: write the reference site (specs, rules, charge types, state diagram)."""

from __future__ import annotations

import sys

from ..docsite.render import build_site
from ..errors import UsageError
from ..verdict import EXIT_OK, EXIT_USAGE
from .base import UsageParser, usage_error

DEFAULT_OUT = "reference"


def main(argv: list[str]) -> int:
    parser = UsageParser(
        prog="recon-contracts docs",
        description="Render both specs and the rule catalog into a self-contained static site (one index.html: "
        "no scripts, no CDN, opens from file:// offline).",
    )
    parser.add_argument("--out", metavar="DIR", default=DEFAULT_OUT, help=f"folder to write index.html into (default {DEFAULT_OUT})")
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        return usage_error(parser.prog, f"{exc} (see {parser.prog} --help)")
    except SystemExit as exc:  # --help printed the help
        return EXIT_OK if exc.code in (0, None) else EXIT_USAGE
    try:
        index = build_site(args.out)
    except OSError as exc:
        print(f"recon-contracts docs: error: cannot write {args.out!r}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"reference written to {index} (open it in a browser: {index.resolve().as_uri()})")
    return 0
