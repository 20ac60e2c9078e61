"""The ``recon-contracts`` command: one subcommand per job, each a module of ``commands/`` with ``main(argv) -> int``.

Exit codes, for every command: 0 pass, 1 fail, 2 inconclusive, 4 bad input (``verdict.py``).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from .commands.base import bad_input_is_4
from .verdict import EXIT_USAGE

# name -> (module whose main(argv) runs it, one line of help); imported only when chosen
COMMANDS: dict[str, tuple[str, str]] = {
    "mock": ("recon_contracts.commands.mock", "serve the reference mock of both APIs"),
    "run": ("recon_contracts.commands.run", "run the contract suite and write reports"),
    "check": ("recon_contracts.commands.check", "check recorded traffic (HAR files) against the contract, sending nothing"),
    "validate-export": ("recon_contracts.commands.validate_export",
                        "validate every row of downloaded export blobs, a manifest or its URL"),
    "proxy": ("recon_contracts.commands.proxy", "a validation reverse proxy: judge your own client's traffic live"),
    "docs": ("recon_contracts.commands.docs", "write the specs, rules and silent points as a static reference site"),
    "parity": ("recon_contracts.commands.parity", "compare Partner Center v1 unbilled line items with the Graph export"),
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="recon-contracts",
        description="Contract tests and a reference mock for Microsoft's partner billing reconciliation APIs.",
    )
    sub = parser.add_subparsers(dest="command", metavar="{" + ",".join(COMMANDS) + "}")
    for name, (_, help_) in COMMANDS.items():
        sub.add_parser(name, help=help_, add_help=False)
    if not argv or argv[0] in {"-h", "--help"}:
        parser.print_help()
        return 0 if argv else EXIT_USAGE
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        parser.print_usage(sys.stderr)
        print(f"recon-contracts: error: unknown command {command!r} (choose {', '.join(COMMANDS)})", file=sys.stderr)
        return EXIT_USAGE
    return bad_input_is_4(f"recon-contracts {command}", importlib.import_module(COMMANDS[command][0]).main, rest)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
