"""``recon-contracts mock``: serve the reference mock of both APIs (``mock/cli.py``), bad input exiting 4."""

from __future__ import annotations

from .base import bad_input_is_4


def main(argv: list[str]) -> int:
    from ..mock.cli import main as serve

    return bad_input_is_4("recon-contracts mock", serve, argv)
