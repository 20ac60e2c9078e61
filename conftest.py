"""Root conftest: loads the recon-contracts pytest plugin, which defines the suite's options.

Options (each also read from its environment variable): --pc-base-url, --graph-base-url, --pc-token,
--graph-token, --invoice-id, --currency, --period, --report-dir, --strict, --max-requests, --thorough,
--examples, --seed, --poll-timeout, --page-budget, --mock-profile, --mock-items.
See ``pytest --help`` (group "recon-contracts") or README.md.
"""

pytest_plugins = ["recon_contracts.plugin.hooks"]
