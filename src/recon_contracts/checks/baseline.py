"""Checks of a run's observed behaviour against a committed baseline (rules BASELINE-*).

Where Microsoft's docs are silent, the target's own earlier behaviour is the oracle: a property or
export column that was always there and is gone, or that changed its JSON type, breaks
integrations built on it (breaking); a status code, a property, a column or an enum value never
seen before is drift worth reviewing (additive); a silent point answered differently is a change
of behaviour the docs do not settle (breaking: the baseline is the evidence).

Tolerant of what varies by data, and deterministic:
  * a property counts as removed only when the baseline saw it on every object that could carry it,
    on at least ``MIN_EVIDENCE`` of them, and this run saw such objects and not the property on all;
  * value sets only grow: a value not seen this time is data, only a new one is reported;
  * a status code not seen this time is not reported (the run may not have provoked it);
  * a new property is reported once, at the top of what is new;
  * findings come sorted by rule, operation and path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..findings import Finding, finding
from ..observed import COLUMNS, parent_of

MIN_EVIDENCE = 3
# waited out, or a target too busy: throttling and unavailability are not drift (recorded, never compared)
NOT_COMPARED = frozenset({"429", "503"})
BASELINE_TEST = "baseline"


def _f(rule_id: str, message: str, *, api: str, operation: str, path: str = "", expected: str, actual: str) -> Finding:
    return finding(rule_id, message, api=api or "any", operation=operation, expected=expected, actual=actual,
                   test=BASELINE_TEST, path=path)


def _display(path: str) -> str:
    return path or "(the body)"


def _compare_shape(base: Mapping[str, Any], run: Mapping[str, Any], *, kind: str, api: str, operation: str,
                   where: str) -> list[Finding]:
    """Properties (kind PROPERTY) of one status's bodies, or columns (kind COLUMN) of the export's rows."""
    noun = "column" if kind == "COLUMN" else "property"
    carriers = "rows" if kind == "COLUMN" else "objects"
    found: list[Finding] = []
    b_props, r_props = base.get("properties", {}), run.get("properties", {})
    b_objects, r_objects = base.get("objects", {}), run.get("objects", {})
    for path in sorted(b_props):
        bp = b_props[path]
        parent = parent_of(path)
        b_of, r_of = int(b_objects.get(parent, 0)), int(r_objects.get(parent, 0))
        rp = r_props.get(path)
        r_seen = int(rp.get("seen", 0)) if rp else 0
        b_seen = int(bp.get("seen", 0))
        if b_seen >= MIN_EVIDENCE and b_seen == b_of and r_of > 0 and r_seen < r_of:
            found.append(_f(
                f"BASELINE-{kind}-REMOVED",
                f"{noun} {_display(path)} of {where} was on every one of the {b_of} {carriers} in the baseline; "
                f"this run has it on {r_seen} of {r_of}",
                api=api, operation=operation, path=path,
                expected=f"{path} on every {carriers[:-1]} (as in all {b_of} of the baseline)",
                actual=f"on {r_seen} of {r_of}",
            ))
        if rp:
            b_types, r_types = set(bp.get("types", [])), set(rp.get("types", []))
            new = r_types - b_types
            if new == {"null"} and b_seen < MIN_EVIDENCE:
                new = set()  # too few baseline values to say it was never null
            if new and b_types:
                found.append(_f(
                    f"BASELINE-{kind}-RETYPED",
                    f"{noun} {_display(path)} of {where} was {' or '.join(sorted(b_types))} in the baseline; "
                    f"this run also has {' or '.join(sorted(new))}",
                    api=api, operation=operation, path=path,
                    expected=" | ".join(sorted(b_types)), actual=" | ".join(sorted(r_types)),
                ))
    for path in sorted(set(r_props) - set(b_props)):
        parent = parent_of(path)
        if parent and parent not in b_objects:
            continue  # inside something new: its top is reported
        found.append(_f(
            f"BASELINE-{kind}-NEW",
            f"{noun} {_display(path)} of {where} was never seen in the baseline "
            f"(this run: on {r_props[path].get('seen', 0)} of {r_objects.get(parent, 0)} {carriers}, "
            f"{' or '.join(r_props[path].get('types', []))})",
            api=api, operation=operation, path=path,
            expected=f"the baseline's {noun}s", actual=path,
        ))
    b_values, r_values = base.get("values", {}), run.get("values", {})
    for path in sorted(set(b_values) & set(r_values)):
        if b_values[path] is None or r_values[path] is None:
            continue
        new_values = sorted(set(r_values[path]) - set(b_values[path]))
        if new_values:
            found.append(_f(
                "BASELINE-ENUM-NEW",
                f"{noun} {_display(path)} of {where} has value(s) never seen in the baseline: {', '.join(map(repr, new_values))}",
                api=api, operation=operation, path=path,
                expected=f"one of {', '.join(map(repr, b_values[path]))} (or any value the data bring; reported for review)",
                actual=", ".join(map(repr, new_values)),
            ))
    return found


def _compare_headers(base: Mapping[str, Any], run: Mapping[str, Any], *, api: str, operation: str, where: str) -> list[Finding]:
    found = []
    b_count, r_count = int(base.get("count", 0)), int(run.get("count", 0))
    for name, n in sorted(base.get("headers", {}).items()):
        if b_count >= MIN_EVIDENCE and int(n) == b_count and r_count > 0 and not run.get("headers", {}).get(name):
            found.append(_f(
                "BASELINE-HEADER-REMOVED",
                f"response header {name} was on every one of the {b_count} {where} responses in the baseline, "
                f"on none of the {r_count} of this run",
                api=api, operation=operation, path=name,
                expected=f"{name} present", actual="absent",
            ))
    return found


def check_against_baseline(baseline: Mapping[str, Any], run: Mapping[str, Any]) -> list[Finding]:
    """Every BASELINE-* finding of a run's observed behaviour against a baseline, sorted."""
    found: list[Finding] = []
    b_ops, r_ops = baseline.get("operations", {}), run.get("operations", {})
    for operation in sorted(set(b_ops) & set(r_ops)):
        b_op, r_op = b_ops[operation], r_ops[operation]
        api = str(r_op.get("api") or b_op.get("api") or "")
        b_statuses = {k: v for k, v in b_op.get("statuses", {}).items() if k not in NOT_COMPARED}
        r_statuses = {k: v for k, v in r_op.get("statuses", {}).items() if k not in NOT_COMPARED}
        for code in sorted(set(r_statuses) - set(b_statuses)):
            found.append(_f(
                "BASELINE-STATUS-NEW",
                f"{operation} answered {code}, a status the baseline never saw "
                f"(baseline: {', '.join(sorted(b_statuses)) or 'none'})",
                api=api, operation=operation, path=code,
                expected=f"one of {', '.join(sorted(b_statuses))}", actual=f"{code} ({r_statuses[code].get('count', 0)} times)",
            ))
        for code in sorted(set(b_statuses) & set(r_statuses)):
            where = f"{operation} {code}"
            found += _compare_shape(b_statuses[code], r_statuses[code], kind="PROPERTY", api=api, operation=operation, where=where)
            found += _compare_headers(b_statuses[code], r_statuses[code], api=api, operation=operation, where=where)
        if COLUMNS in b_op and COLUMNS in r_op:
            found += _compare_shape(b_op[COLUMNS], r_op[COLUMNS], kind="COLUMN", api=api, operation=operation,
                                    where="the exported rows")
    b_points, r_points = baseline.get("silent_points", {}), run.get("silent_points", {})
    for point in sorted(set(b_points) & set(r_points)):
        before, now = sorted(set(b_points[point])), sorted(set(r_points[point]))
        if before != now:
            found.append(_f(
                "BASELINE-SILENT-POINT-CHANGED",
                f"silent point {point} was answered {', '.join(before)} in the baseline, {', '.join(now)} in this run",
                api="any", operation=point, path=point, expected=", ".join(before), actual=", ".join(now),
            ))
    order = {"breaking": 0, "additive": 1, "advisory": 2}
    return sorted(found, key=lambda f: (order.get(f.severity, 3), f.rule, f.operation, str(f.extra.get("path", ""))))


def diff_lines(findings: list[Finding]) -> list[str]:
    """The findings of a comparison as a short diff, one line each (``--update-baseline`` prints it)."""
    marks = {"NEW": "+", "REMOVED": "-", "RETYPED": "~", "CHANGED": "~"}
    lines = []
    for f in findings:
        mark = next((m for suffix, m in marks.items() if f.rule.endswith(suffix)), "~")
        lines.append(f"{mark} [{f.rule}] {f.message}")
    return lines
