"""Root conftest of the repository.

The recon-contracts pytest plugin (the suite's options, fixtures and reports) is registered through the
package's ``pytest11`` entry point, so it loads wherever the package is installed (editable here); it is
not listed in ``pytest_plugins`` (that would register it twice). See ``pytest --help`` (group
"recon-contracts") or docs/options.md for the options.
"""
