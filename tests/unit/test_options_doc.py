"""docs/options.md is what the one option table renders to, and names every option."""

from __future__ import annotations

from recon_contracts.docsite.options_doc import OPTIONS_DOC, render_options
from recon_contracts.options import OPTIONS
from recon_contracts.truth.resources import project_root


def test_options_doc_is_current():
    committed = (project_root() / OPTIONS_DOC).read_text(encoding="utf-8")
    assert committed == render_options(), (
        f"{OPTIONS_DOC} is stale: run python -m recon_contracts.docsite.options_doc and commit it")


def test_every_option_and_its_variable_is_documented():
    text = render_options()
    for opt in OPTIONS:
        assert f"`{opt.name}`" in text and f"`{opt.env}`" in text
