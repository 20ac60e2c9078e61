"""Where exchanges come from: the bounded HTTP client and token providers, and the live drivers.

Checks never send traffic; they judge the :class:`~recon_contracts.findings.Exchange` records made here.
"""
