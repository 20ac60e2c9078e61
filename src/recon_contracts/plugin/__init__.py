"""The pytest integration: the suite's options, the fixtures and hooks, and what a contract test records.

``recon_contracts.plugin.hooks`` is the pytest plugin module.
"""
