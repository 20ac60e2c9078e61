"""The silent-points register (``contracts/silent-points.yaml``) as typed, read-only data.

A silent point is a behaviour Microsoft's documents leave open, or contradict themselves on, where
the mock or the suite has to take a side. Each point names the answers a docs-following server may
give and the mock knob that serves them; none of them may fail the gate.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import jsonschema

from ..errors import RegisterError
from .rules import Evidence, load_yaml

REGISTER = "silent-points.yaml"
SCHEMA = "silent-points.schema.yaml"


@dataclass(frozen=True)
class Alternative:
    answer: str
    description: str


@dataclass(frozen=True)
class SilentPoint:
    id: str
    api: str
    question: str
    status: str  # silent | disagree | open
    evidence: tuple[Evidence, ...]
    note: str | None
    knob: str
    default: str
    alternatives: tuple[Alternative, ...]
    observe: tuple[str, ...]

    @property
    def answers(self) -> tuple[str, ...]:
        return tuple(a.answer for a in self.alternatives)


def problems(data: Any) -> list[str]:
    """Every way ``data`` breaks the register's schema or its own consistency (empty when it is sound)."""
    validator = jsonschema.Draft202012Validator(load_yaml(SCHEMA))
    found = [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in validator.iter_errors(data)]
    if found:
        return found
    seen: set[str] = set()
    for point in data["points"]:
        pid = point["id"]
        if pid in seen:
            found.append(f"{pid}: the ID is used twice")
        seen.add(pid)
        expected_api = "partner-center" if pid.startswith("SP-PC-") else "graph"
        if point["api"] != expected_api:
            found.append(f"{pid}: api is {point['api']}, but the ID says {expected_api}")
        answers = [a["answer"] for a in point["alternatives"]]
        if len(set(answers)) != len(answers):
            found.append(f"{pid}: an answer is listed twice")
        if point["default"] not in answers:
            found.append(f"{pid}: the default {point['default']!r} is not one of its alternatives")
    return found


def _point(raw: dict[str, Any]) -> SilentPoint:
    docs = raw["docs"]
    return SilentPoint(
        id=raw["id"], api=raw["api"], question=raw["question"], status=docs["status"],
        evidence=tuple(Evidence(e["quote"], e["source"]) for e in docs.get("evidence", ())),
        note=docs.get("note"), knob=raw["knob"], default=str(raw["default"]),
        alternatives=tuple(Alternative(str(a["answer"]), a["description"]) for a in raw["alternatives"]),
        observe=tuple(str(o) for o in raw["observe"]),
    )


@cache
def silent_points() -> dict[str, SilentPoint]:
    """Every silent point by ID, in register order; RegisterError when the register is unsound."""
    data = load_yaml(REGISTER)
    found = problems(data)
    if found:
        raise RegisterError(f"contracts/{REGISTER}: " + "; ".join(found))
    return {raw["id"]: _point(raw) for raw in data["points"]}


def silent_point(point_id: str) -> SilentPoint:
    try:
        return silent_points()[point_id]
    except KeyError:
        raise KeyError(f"unknown silent point {point_id!r}: not in contracts/{REGISTER}") from None
