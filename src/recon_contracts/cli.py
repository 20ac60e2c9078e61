"""The ``recon-contracts`` command: ``mock`` serves the reference mock, ``run`` runs the contract suite,
``docs`` writes the reference site."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="recon-contracts",
        description="Contract tests and a reference mock for Microsoft's partner billing reconciliation APIs.",
    )
    sub = parser.add_subparsers(dest="command", metavar="{mock,run,docs}")
    sub.add_parser("mock", help="serve the reference mock of both APIs", add_help=False)
    sub.add_parser("run", help="run the contract suite and write reports", add_help=False)
    sub.add_parser("docs", help="write the specs and rules as a static reference site", add_help=False)
    if not argv or argv[0] in {"-h", "--help"}:
        parser.print_help()
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command == "mock":
        from .mock.cli import main as mock_main

        return mock_main(rest)
    if command == "run":
        from .runner import main as run_main

        return run_main(rest)
    if command == "docs":
        from .docsite.cli import main as docs_main

        return docs_main(rest)
    parser.print_usage(sys.stderr)
    print(f"recon-contracts: error: unknown command {command!r} (choose mock, run or docs)", file=sys.stderr)
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
