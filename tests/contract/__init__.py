"""The contract suite. A checkout runs it as ``tests/contract``; the wheel carries this same folder as
``recon_contracts.suite`` (``pytest --pyargs recon_contracts.suite``, or ``recon-contracts run``)."""
