"""The parts of the run reports: the summary data, the HTML page and spec excerpts.

The public entry point is :mod:`recon_contracts.reports`.
"""
