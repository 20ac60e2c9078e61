"""recon-contracts: contract tests for Microsoft's partner billing reconciliation APIs."""

__version__ = "0.1.0"
