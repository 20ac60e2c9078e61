"""The commands of ``recon-contracts``: one module per command, each with ``main(argv) -> int``."""
