"""The rule catalog (``contracts/*.yaml``) as typed, read-only data."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Literal


from . import yamlio
from .resources import contracts_dir

Severity = Literal["breaking", "additive", "advisory"]
SEVERITIES: tuple[Severity, ...] = ("breaking", "additive", "advisory")


@dataclass(frozen=True)
class Evidence:
    """A short verbatim quote of a doc sentence, example or SDK line, and where it comes from."""

    quote: str
    source: str


@dataclass(frozen=True)
class Rule:
    id: str
    api: str
    severity: Severity
    statement: str
    source: str
    test: str
    tolerance: str | None = None
    spec: str | None = None
    evidence: tuple[Evidence, ...] = ()
    reasoning: str | None = None
    mapping: str | None = None
    states: str | None = None


def load_yaml(name: str) -> Any:
    """A data file of ``contracts/``, parsed."""
    return yamlio.load_file(contracts_dir() / name)


@cache
def catalog() -> dict[str, Rule]:
    """Every rule by ID, in catalog order."""
    fields = set(Rule.__dataclass_fields__)
    rules = {}
    for raw in load_yaml("rules.yaml")["rules"]:
        values = {k: v for k, v in raw.items() if k in fields}
        values["evidence"] = tuple(Evidence(str(e["quote"]), str(e["source"])) for e in raw.get("evidence") or ())
        rules[raw["id"]] = Rule(**values)
    return rules


def rules_enforced_by(test: str) -> list[str]:
    """IDs of the rules whose enforcing test is ``test`` (a node id; parameters and class parts ignored).

    ``tests/contract/test_pc_query.py::test_invalid_queries_rejected[case3]`` names the rules of
    ``tests/contract/test_pc_query.py::test_invalid_queries_rejected``.
    """
    file, _, rest = test.replace("\\", "/").partition("::")
    function = rest.split("::")[-1].split("[", 1)[0]
    return [r.id for r in catalog().values() if r.test == f"{file}::{function}" or r.test.endswith(f"/{file}::{function}")]


def rule(rule_id: str) -> Rule:
    try:
        return catalog()[rule_id]
    except KeyError:
        raise KeyError(f"unknown rule ID {rule_id!r}: not in contracts/rules.yaml") from None


@dataclass(frozen=True)
class ChargeTypes:
    mapping: dict[str, str]
    known: tuple[str, ...]

    def forbidden(self) -> frozenset[str]:
        """Values that must never be reported (compared case-insensitively)."""
        return frozenset(v.casefold() for v in self.mapping)

    def is_known(self, value: str) -> bool:
        return value.casefold() in {k.casefold() for k in self.known}


@cache
def charge_types() -> ChargeTypes:
    raw = load_yaml("charge-types.yaml")
    return ChargeTypes(mapping=dict(raw["mapping"]), known=tuple(k["value"] for k in raw["known"]))


@dataclass(frozen=True)
class OperationStates:
    rank: dict[str, int]
    terminal: frozenset[str]
    success: frozenset[str]  # terminal statuses whose export has data
    odata_type: dict[str, str]
    transitions: dict[str, frozenset[str]]

    def allowed(self, before: str, after: str) -> bool:
        return before == after or after in self.transitions.get(before, frozenset())


@cache
def operation_states() -> OperationStates:
    raw = load_yaml("operation-states.yaml")
    statuses = raw["statuses"]
    return OperationStates(
        rank={name: s["rank"] for name, s in statuses.items()},
        terminal=frozenset(name for name, s in statuses.items() if s["terminal"]),
        success=frozenset(name for name, s in statuses.items() if s.get("success")),
        odata_type={name: s["odata_type"] for name, s in statuses.items()},
        transitions={name: frozenset(t) for name, t in raw["transitions"].items()},
    )
