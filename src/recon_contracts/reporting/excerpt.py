"""The part of a spec a rule points at (``specs/FILE.yaml#/json/pointer``), as the spec spells it.

The excerpt is cut from the YAML file's own text (comments and layout kept), from the line of the
key that holds the target to the target's last line, dedented and trimmed.
"""

from __future__ import annotations

import textwrap
from functools import lru_cache
from pathlib import Path

import yaml

from ..truth import yamlio
from ..truth.resources import project_root

MAX_LINES = 40


@lru_cache(maxsize=8)
def _compose(path: Path) -> tuple[list[str], yaml.Node | None]:
    text = path.read_text(encoding="utf-8")
    return text.splitlines(), yamlio.compose(text)


def _locate(root: yaml.Node | None, pointer: str) -> tuple[int, int]:
    """First and last line (0-based) of the node at ``pointer``, its key line included."""
    node, first = root, 0
    if node is None:
        raise KeyError(pointer)
    first = node.start_mark.line
    for raw in pointer.split("/")[1:] if pointer else []:
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == token:
                    node, first = value, key.start_mark.line
                    break
            else:
                raise KeyError(token)
        elif isinstance(node, yaml.SequenceNode):
            node = node.value[int(token)]
            first = node.start_mark.line
        else:
            raise KeyError(token)
    return first, max(first, _last_line(node))


def _last_line(node: yaml.Node) -> int:
    """The last line a node's own text is on (a block collection's end mark is the next key's start)."""
    children: list[yaml.Node] = []
    if isinstance(node, yaml.MappingNode) and not node.flow_style:
        children = [value for _, value in node.value]
    elif isinstance(node, yaml.SequenceNode) and not node.flow_style:
        children = list(node.value)
    if children:
        return _last_line(children[-1])
    end = node.end_mark
    return end.line - 1 if end.column == 0 and end.line > node.start_mark.line else end.line


def spec_excerpt(reference: str | None, *, max_lines: int = MAX_LINES, root: Path | None = None) -> str | None:
    """The YAML text under ``reference``, trimmed to ``max_lines``; None when there is no reference.

    A reference that cannot be resolved gives a one-line note instead of an error: the report is
    still written when a spec moved.
    """
    if not reference:
        return None
    file_part, _, pointer = reference.partition("#")
    try:
        lines, node = _compose((root or project_root()) / file_part)
        first, last = _locate(node, pointer)
    except (OSError, yaml.YAMLError, KeyError, IndexError, ValueError):
        return f"(excerpt unavailable: {reference} was not found)"
    chosen = lines[first : last + 1]
    while chosen and not chosen[-1].strip():
        chosen.pop()
    chosen = textwrap.dedent("\n".join(chosen)).splitlines()
    if len(chosen) > max_lines:
        more = len(chosen) - max_lines
        chosen = chosen[:max_lines] + [f"# ... {more} more line{'s' if more != 1 else ''} in {file_part}"]
    return "\n".join(chosen)


def spec_line(reference: str | None, *, root: Path | None = None) -> tuple[str, int] | None:
    """(spec file, 1-based line) of the node ``reference`` points at; None when there is none or it moved."""
    if not reference:
        return None
    file_part, _, pointer = reference.partition("#")
    try:
        _lines, node = _compose((root or project_root()) / file_part)
        first, _last = _locate(node, pointer)
    except (OSError, yaml.YAMLError, KeyError, IndexError, ValueError):
        return None
    return file_part, first + 1
