"""``recon-contracts docs``: the specs and the rule catalog as a static reference site (works from file://)."""

from .render import build_site, render_index

__all__ = ["build_site", "render_index"]
