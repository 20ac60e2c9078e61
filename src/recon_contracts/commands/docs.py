"""``recon-contracts docs [--out DIR]``: write the reference site (specs, rules, charge types, state diagram)."""

from __future__ import annotations

import argparse
import sys

from ..docsite.render import build_site

DEFAULT_OUT = "reference"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="recon-contracts docs",
        description="Render both specs and the rule catalog into a self-contained static site (one index.html: "
        "no scripts, no CDN, opens from file:// offline).",
    )
    parser.add_argument("--out", metavar="DIR", default=DEFAULT_OUT, help=f"folder to write index.html into (default {DEFAULT_OUT})")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse printed the usage; a bad option is exit 4 across the CLI
        return 0 if exc.code == 0 else 4
    try:
        index = build_site(args.out)
    except OSError as exc:
        print(f"recon-contracts docs: error: cannot write {args.out!r}: {exc.strerror or exc}", file=sys.stderr)
        return 4
    print(f"reference written to {index} (open it in a browser: {index.resolve().as_uri()})")
    return 0
