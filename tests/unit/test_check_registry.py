"""checks/registry: one declaration of which check applies when, shared by the live suite and the offline checker.

Every rule the offline checker claims is proved by a registered check; every public check is registered (or named
a composite, with the reason); every declared case is applied by some dispatcher; and the dispatch itself honours
what a check declares (its statuses, its context, one run per function).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

from recon_contracts.checks import recorded, registry
from recon_contracts.checks.recorded import OFFLINE_CASES, check_recorded, offline_rules
from recon_contracts.checks.registry import ANY, CASES, COMPOSITES, ERROR, OK, Case, check, declarations, run, run_cases
from recon_contracts.findings import Exchange, Finding, finding
from recon_contracts.truth.rules import catalog

ROOT = Path(__file__).resolve().parents[2]
PC_URL = ("https://pc.example/v1/invoices/unbilled/lineitems?provider=onetime&invoicelineitemtype=billinglineitems"
          "&currencycode=USD&period=current")
# where checks are applied: the offline checker, the composites among the checks, the plugin and the live suite
DISPATCHERS = [*sorted((ROOT / "src/recon_contracts/checks").glob("*.py")), *sorted((ROOT / "src/recon_contracts/plugin").glob("*.py")),
               *sorted((ROOT / "tests/contract").glob("*.py"))]


def _exchange(status: int = 200, body: bytes = b'{"totalCount": 0, "items": []}', url: str = PC_URL) -> Exchange:
    return Exchange(api="partner-center", operation="GET /v1/invoices/{invoice-id}/lineitems", method="GET", url=url,
                    request_headers={}, request_body=None, status=status,
                    response_headers={"content-type": "application/json"}, response_body=body)


# ---------------------------------------------------------------- coverage of the catalog and of the check modules


def test_every_rule_the_offline_checker_claims_is_proved_by_a_registered_check():
    missing = set(offline_rules()) - registry.rules_proved()
    assert not missing, f"claimed offline, proved by no registered check: {sorted(missing)}"


def test_every_rule_the_offline_checker_claims_is_proved_by_a_check_it_runs():
    """A rule claimed for recordings is proved by a check of a case the offline checker tells apart; one that no
    recording can exercise is listed with its reason (recorded.NOT_IN_RECORDINGS), not claimed and then shown as
    "not exercised" for ever."""
    proved = {r for d in declarations() if d.case in OFFLINE_CASES for r in d.rules}
    missing = set(offline_rules()) - proved
    assert not missing, f"claimed offline, but no check the offline checker runs proves them: {sorted(missing)}"


def test_every_declared_rule_is_in_the_catalog():
    rules = set(catalog())
    unknown = {(d.name, r) for d in declarations() for r in d.rules if r not in rules}
    assert not unknown


def unregistered(modules: Mapping[str, object]) -> list[str]:
    """Public ``check_*`` functions of ``modules`` that are neither registered nor named composites."""
    registered = {d.function for d in declarations()}
    out = []
    for short, module in modules.items():
        for name, value in vars(module).items():
            if name.startswith("check_") and inspect.isfunction(value) and value.__module__ == getattr(module, "__name__", ""):
                if value not in registered and f"{short}.{name}" not in COMPOSITES:
                    out.append(f"{short}.{name}")
    return out


def _check_modules() -> dict[str, object]:
    import importlib

    return {m: importlib.import_module(f"recon_contracts.checks.{m}") for m in (*registry.CHECK_MODULES, "baseline")}


def test_every_public_check_is_registered_or_a_named_composite():
    assert unregistered(_check_modules()) == []
    known = {f"{m}.{n}" for m, mod in _check_modules().items() for n in vars(mod)}
    assert set(COMPOSITES) <= known, "a composite that no longer exists"


def test_an_unregistered_check_is_caught(monkeypatch):
    from recon_contracts.checks import partner_center

    def check_something_new(exchange: Exchange) -> list[Finding]:
        return []

    check_something_new.__module__ = partner_center.__name__
    monkeypatch.setattr(partner_center, "check_something_new", check_something_new, raising=False)
    assert unregistered(_check_modules()) == ["partner_center.check_something_new"]


# ---------------------------------------------------------------- every declared case is applied


def applied_cases(sources: Mapping[str, str]) -> set[str]:
    """Names of cases a dispatcher applies: used in code other than their declaration (``@check(...)``) or import."""
    names = {n for n, v in vars(registry).items() if isinstance(v, Case)}
    used: set[str] = set()
    for path, text in sources.items():
        if path.endswith("registry.py"):
            continue
        for line in _code_lines(text):
            used |= {n for n in names if re.search(rf"\b{n}\b", line)}
    return used


def _code_lines(text: str) -> Iterable[str]:
    in_import = in_decorator = False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith(("from ", "import ")):
            in_import = stripped.endswith("(")
            continue
        if in_import:
            in_import = not stripped.startswith(")")
            continue
        if stripped.startswith("@check("):
            in_decorator = not stripped.endswith(")")
            continue
        if in_decorator:
            in_decorator = not stripped.endswith(")")
            continue
        yield line


def test_every_declared_case_is_applied_by_a_dispatcher():
    sources = {str(p): p.read_text(encoding="utf-8") for p in DISPATCHERS}
    names = {v: n for n, v in vars(registry).items() if isinstance(v, Case)}
    declared = {names[d.case] for d in declarations()}
    assert declared == set(names.values()), f"cases no check is declared for: {set(names.values()) - declared}"
    assert declared - applied_cases(sources) == set()


def test_a_case_declared_but_applied_nowhere_is_caught():
    sources = {"live.py": "from recon_contracts.checks.registry import PC_PAGE, run\n"
                          "@check(PC_WALK, rules=('PC-PAGING-TERMINATES',))\ndef check_x(pages): ...\n"
                          "found = run(PC_PAGE, exchange)\n"}
    used = applied_cases(sources)
    assert "PC_PAGE" in used and "PC_WALK" not in used


def test_a_check_cannot_be_declared_for_a_case_no_dispatcher_knows():
    with pytest.raises(ValueError, match="no dispatcher applies"):
        check(Case("PC_LINEITEMS", "a case nobody applies"), rules=("PC-ERROR-SHAPE",))
    with pytest.raises(ValueError):
        check(registry.PC_PAGE, rules=())


def test_cases_name_a_known_shape():
    assert {c.shape for c in CASES} <= set(registry.SHAPES)
    assert OFFLINE_CASES <= set(CASES)


def test_the_offline_checker_asks_only_for_its_own_cases(monkeypatch):
    asked: list[Case] = []
    real = registry.run_cases

    def spy(cases: Iterable[Case], subject: object, /, **context: object) -> list[Finding]:
        cases = list(cases)
        asked.extend(cases)
        return real(cases, subject, **context)

    monkeypatch.setattr(recorded, "run_cases", spy)
    monkeypatch.setattr(registry, "run_cases", spy)  # run() goes through run_cases too
    check_recorded([_exchange(), _exchange(400, b'{"code": 400}', url=PC_URL.replace("&period=current", "")),
                    _exchange(200, url=PC_URL + "&seekOperation=Next")])
    assert asked and set(asked) <= OFFLINE_CASES
    assert {registry.PC_ANSWER, registry.PC_PAGE, registry.PC_INVALID_QUERY, registry.PC_BAD_TOKEN,
            registry.PC_RETRIES} <= set(asked)


# ---------------------------------------------------------------- the dispatch honours the declarations


@pytest.fixture
def scratch(monkeypatch):
    """A registry of two throw-away checks on two cases of their own."""
    first, second = Case("PC_LINEITEMS", "scratch one"), Case("PC_LINEITEMS", "scratch two")
    monkeypatch.setattr(registry, "CASES", (*CASES, first, second))
    monkeypatch.setattr(registry, "_DECLARED", [])
    monkeypatch.setattr(registry, "CHECK_MODULES", ())
    calls: list[str] = []

    @check(first, statuses=OK, rules=("PC-RESPONSE-SCHEMA",))
    @check(second, statuses=ERROR, rules=("PC-RESPONSE-SCHEMA",))
    def check_ok(exchange: Exchange, *, page: int | None = None) -> list[Finding]:
        calls.append(f"ok page={page}")
        return [finding("PC-RESPONSE-SCHEMA", "ok", exchange)]

    @check(first, second, statuses=ANY, rules=("PC-ITEM-CURRENCY",))
    def check_currency(exchange: Exchange, requested: str) -> list[Finding]:
        calls.append(f"currency {requested}")
        return []

    return first, second, calls


def test_a_check_runs_only_on_the_statuses_it_declares(scratch):
    first, second, calls = scratch
    assert [f.rule for f in run(first, _exchange(404))] == []
    assert calls == []  # check_currency needs `requested`: not given, not applied
    assert [f.rule for f in run(first, _exchange(200), page=3)] == ["PC-RESPONSE-SCHEMA"]
    assert calls == ["ok page=3"]


def test_context_goes_to_the_checks_that_take_it_and_a_needed_one_decides_applicability(scratch):
    first, _, calls = scratch
    run(first, _exchange(200), requested="USD", what="ignored by both")
    assert calls == ["ok page=None", "currency USD"]


def test_a_function_declared_for_several_cases_runs_once_per_subject(scratch):
    first, second, calls = scratch
    run_cases((first, second), _exchange(200), requested="EUR")
    assert calls == ["ok page=None", "currency EUR"]
    calls.clear()
    run_cases((first, second), _exchange(500), requested="EUR")  # first's status does not hold, second's does
    assert calls == ["currency EUR", "ok page=None"]


def test_the_live_page_checks_and_the_offline_ones_are_the_same_declarations():
    from recon_contracts.checks.partner_center import check_every_page

    served = _exchange(200, b'{"totalCount": 1, "items": [{"chargeType": "Purchase"}]}')
    live = {f.rule for f in check_every_page([served], currency="USD")}
    offline = {f.rule for f in check_recorded([served]).findings}
    assert "PC-CHARGETYPE-MAPPED" in live and live <= offline


def test_a_recorded_query_that_repeats_a_parameter_is_judged_as_an_answer_not_as_a_walk():
    """size=1&size=2 (the suite's SP-PC-REPEATED-PARAM probe) served 2 items by a last-wins server: no page-size finding."""
    items = b'{"totalCount": 2, "items": [{"chargeType": "New"}, {"chargeType": "New"}], "links": {"self": {"uri": "/x"}}}'
    repeated = check_recorded([_exchange(200, items, url=PC_URL + "&size=1&size=2")])
    once = check_recorded([_exchange(200, items, url=PC_URL + "&size=1")])
    assert "PC-PAGING-PAGE-SIZE" in {f.rule for f in once.findings}
    assert "PC-PAGING-PAGE-SIZE" not in {f.rule for f in repeated.findings}


def test_a_recorded_query_with_an_undocumented_parameter_is_not_judged_as_a_walk():
    """The suite's SP-PC-UNKNOWN-PARAM probe: a server that ignores the parameter may link on without it."""
    linked = (b'{"totalCount": 1, "items": [{"chargeType": "New"}], "links": {"self": {"uri": "/x"}, "next": '
              b'{"uri": "/invoices/unbilled/lineitems?provider=onetime&seekOperation=Next", "method": "GET"}}}')
    probe = check_recorded([_exchange(200, linked, url=PC_URL + "&reconContractsProbe=1")])
    walk = check_recorded([_exchange(200, linked)])
    assert "PC-PAGING-NEXT-QUERY" in {f.rule for f in walk.findings}
    assert "PC-PAGING-NEXT-QUERY" not in {f.rule for f in probe.findings}
