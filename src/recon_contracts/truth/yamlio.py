"""YAML read the one way every module reads it: PyYAML's safe loader, in C when PyYAML was built with libyaml.

The specs and the register are read by every run, and by every suite process the self-verification starts; the
pure-Python loader spent about 0.7 s of CPU on them per process, libyaml about a tenth of that. Both loaders build
the same data from our files (tests/unit/test_specs.py compares them file by file).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

__all__ = ["FAST", "SafeLoader", "compose", "load", "load_file"]

SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # type: ignore[assignment]
FAST = SafeLoader is not yaml.SafeLoader  # libyaml is in use


def load(text: str | bytes) -> Any:
    """One YAML document, parsed safely (no Python objects)."""
    return yaml.load(text, Loader=SafeLoader)  # noqa: S506 - a safe loader


def load_file(path: Path) -> Any:
    """A YAML file, read as UTF-8 and parsed safely."""
    return load(path.read_text(encoding="utf-8"))


def compose(text: str) -> yaml.Node | None:
    """The node tree of one YAML document, with line marks (for pointing at a line of a spec)."""
    return yaml.compose(text, Loader=SafeLoader)
