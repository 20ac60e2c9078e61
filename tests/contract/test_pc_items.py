"""Partner Center line items: charge types, currency and dates over every page of a walk.

Rules PC-CHARGETYPE-MAPPED, PC-CHARGETYPE-KNOWN, PC-ITEM-CURRENCY and PC-ITEM-DATES. The walks are
cached per query for the session (the paging tests walk on their own).
"""

from __future__ import annotations

import pytest

from recon_contracts.checks.paging import first_per_rule
from recon_contracts.checks.partner_center import (
    check_charge_types,
    check_every_page,
    check_item_dates,
    check_items,
)


def _casings(code: str) -> list[str]:
    """The currency code as configured, in upper, lower and mixed case (distinct spellings only)."""
    spellings = [code, code.upper(), code.lower(), code[:1].upper() + code[1:].lower(), code[:1].lower() + code[1:].upper()]
    return list(dict.fromkeys(spellings))


def _pages(lineitems, contract, **query):
    return lineitems.first_page_ok(lineitems.cached_walk(lineitems.query(**query)), contract)


@pytest.mark.partner_center
def test_charge_types_mapped(lineitems, contract):
    """No item carries Purchase or Refund; values outside the documented set are reported as drift."""
    contract.check(check_items(_pages(lineitems, contract), check_charge_types))


@pytest.mark.partner_center
def test_items_in_requested_currency(lineitems, target, contract):
    """Every item's currency is the requested currencycode, whatever its letter case.

    The code as configured is walked to the end, every page of it with every check (the walk the other item tests
    share). Each other spelling is one request: its first page, with every check. The server's currency filter
    answers each query as a whole, so a spelling it does not honour shows on the first page; walking a large
    tenant once per spelling would cost the partner three more full walks to prove nothing more."""
    findings = check_every_page(_pages(lineitems, contract, currency=target.currency), currency=target.currency)
    for currency in _casings(target.currency)[1:]:
        first = lineitems.get(lineitems.query(currency=currency))
        if first.status != 200:
            pytest.fail(f"the documented query with currencycode={currency} was not served: {first.method} {first.url} "
                        f"answered {first.summary(300)}", pytrace=False)
        findings += check_every_page([first], currency=currency)
    contract.check(first_per_rule(findings))


@pytest.mark.partner_center
def test_item_dates(lineitems, contract):
    """Every date-time parses and chargeStartDate is not after chargeEndDate."""
    contract.check(check_items(_pages(lineitems, contract), check_item_dates))
