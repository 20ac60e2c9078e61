"""The operation state machine (``contracts/operation-states.yaml``) as an inline SVG picture.

The layout is computed here rather than by Graphviz: five states whose columns the file already gives
(``rank``), so a few lines of arithmetic place them, the output is identical on every machine, and the
package needs no system program (``dot``) or extra dependency to draw it. States of one rank share a
column; an edge that skips a column bends around the states in between.
"""

from __future__ import annotations

from html import escape

from ..truth.rules import OperationStates

_BOX_W, _BOX_H = 150, 44
_COL_GAP, _ROW_GAP = 120, 34
_MARGIN = 24


def _positions(states: OperationStates) -> dict[str, tuple[float, float]]:
    columns: dict[int, list[str]] = {}
    for name, rank in states.rank.items():  # file order within a rank
        columns.setdefault(rank, []).append(name)
    tallest = max(len(names) for names in columns.values())
    height = tallest * _BOX_H + (tallest - 1) * _ROW_GAP
    placed = {}
    for column, rank in enumerate(sorted(columns)):
        names = columns[rank]
        block = len(names) * _BOX_H + (len(names) - 1) * _ROW_GAP
        top = _MARGIN + 20 + (height - block) / 2
        for row, name in enumerate(names):
            x = _MARGIN + column * (_BOX_W + _COL_GAP)
            placed[name] = (x, top + 20 + row * (_BOX_H + _ROW_GAP))
    return placed


def state_diagram_svg(states: OperationStates) -> str:
    """An ``<svg>`` element: one box per status (terminal ones drawn double), one arrow per allowed move."""
    pos = _positions(states)
    width = max(x for x, _ in pos.values()) + _BOX_W + _MARGIN
    height = max(y for _, y in pos.values()) + _BOX_H + _MARGIN + 40
    middle = (min(y for _, y in pos.values()) + max(y for _, y in pos.values()) + _BOX_H) / 2
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="state-diagram" role="img" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" aria-labelledby="state-diagram-title">',
        '<title id="state-diagram-title">Status of a Graph billing operation: allowed moves between two polls</title>',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#57606a"/></marker></defs>',
    ]
    for before, afters in states.transitions.items():
        for after in sorted(afters, key=lambda n: (pos[n][1], n)):
            (x1, y1), (x2, y2) = pos[before], pos[after]
            sx, sy = x1 + _BOX_W, y1 + _BOX_H / 2
            ex, ey = x2, y2 + _BOX_H / 2
            skips = states.rank[after] - states.rank[before] > 1
            if skips:  # bend above or below the column in between
                above = ey <= middle
                rows_out = abs(ey - middle) / (_BOX_H + _ROW_GAP)  # farther targets bend farther: arcs do not coincide
                bend = (min(y for _, y in pos.values()) - 8 - 22 * rows_out) if above else (
                    max(y for _, y in pos.values()) + _BOX_H + 8 + 22 * rows_out)
                cx = (sx + ex) / 2
                d = f"M{sx:.0f},{sy:.0f} Q{cx:.0f},{2 * bend - (sy + ey) / 2:.0f} {ex:.0f},{ey:.0f}"
            else:
                d = f"M{sx:.0f},{sy:.0f} L{ex:.0f},{ey:.0f}"
            parts.append(f'<path class="edge" data-from="{escape(before)}" data-to="{escape(after)}" d="{d}" '
                         'fill="none" stroke="#57606a" stroke-width="1.5" marker-end="url(#arrow)"/>')
    for name, (x, y) in pos.items():
        terminal = name in states.terminal
        fill = {"failed": "#ffebe9", "notStarted": "#f6f8fa", "running": "#ddf4ff"}.get(name, "#dafbe1")
        parts.append(f'<g class="state{" terminal" if terminal else ""}" data-state="{escape(name)}">')
        parts.append(f'<rect x="{x:.0f}" y="{y:.0f}" width="{_BOX_W}" height="{_BOX_H}" rx="8" fill="{fill}" stroke="#1b1f24" stroke-width="1.5"/>')
        if terminal:
            parts.append(f'<rect x="{x + 4:.0f}" y="{y + 4:.0f}" width="{_BOX_W - 8}" height="{_BOX_H - 8}" rx="6" fill="none" stroke="#1b1f24"/>')
        parts.append(f'<text x="{x + _BOX_W / 2:.0f}" y="{y + _BOX_H / 2 + 5:.0f}" text-anchor="middle" '
                     f'font-family="system-ui, sans-serif" font-size="15">{escape(name)}</text></g>')
    parts.append(f'<text x="{_MARGIN}" y="{height - 8:.0f}" font-family="system-ui, sans-serif" font-size="12" fill="#57606a">'
                 "Double border: terminal. Staying in the same status between polls is always allowed.</text>")
    parts.append("</svg>")
    return "".join(parts)
