"""The Graph partner-billing export family: what differs between its members, and nothing else.

Every export under ``/reports/partners/billing/`` shares the operation, manifest and blob machinery; a member
differs only in its path, its request body and the schema of its rows. One ``ExportKind`` says those three
things; the driver, the row engine, the mock and the reports take a kind and never branch on its name.

    kind = KINDS["unbilled-reconciliation"]
    kind.path("qualified")  # /reports/partners/billing/reconciliation/unbilled/microsoft.graph.partners.billing.export
    kind.body(invoice_id="G1", currency="USD", period="current", attribute_set="basic")
    # {"currencyCode": "USD", "billingPeriod": "current", "attributeSet": "basic"}

Sources (domain notes): [CSDL] the bound actions and their parameters; [DOCS v1.0|beta/api/partners-billing-*-export.md];
[SDKPY] the URL templates (``…/microsoft.graph.partners.billing.export``); msgraph-beta-sdk for the beta-only
``aggregatedUsage/billed`` export ("Added the billedAggregatedUsage resource type … for a specific invoice",
What's new in Microsoft Graph, September 2026: New in preview only).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

QUALIFIED_ACTION = "microsoft.graph.partners.billing.export"
ROOT = "/reports/partners/billing"


@dataclass(frozen=True)
class ExportKind:
    """One member of the export family."""

    name: str  # the --exports spelling, e.g. billed-reconciliation
    segment: str  # path under /reports/partners/billing, e.g. reconciliation/billed
    billed: bool  # {invoiceId} (billed) or {billingPeriod, currencyCode} (unbilled)
    attribute_sets: tuple[str, ...]  # () when the action takes no attributeSet (aggregated usage)
    row_schema: str  # the spec's component schema of one exported row
    versions: tuple[str, ...]  # API versions that serve it ("v1.0", "beta")
    title: str
    doc: str  # the Graph docs page of the action

    def path(self, spelling: str = "short") -> str:
        action = "export" if spelling == "short" else QUALIFIED_ACTION
        return f"{ROOT}/{self.segment}/{action}"

    def operation(self, spelling: str = "short") -> str:
        return f"POST {self.path(spelling)}"

    @property
    def beta_only(self) -> bool:
        return "v1.0" not in self.versions

    def body(self, *, invoice_id: str | None = None, currency: str = "USD", period: str = "current",
             attribute_set: str | None = "full") -> dict[str, Any]:
        """The documented request body (Graph spells ``last`` where Partner Center v1 says ``previous``)."""
        body: dict[str, Any] = {}
        if self.billed:
            body["invoiceId"] = invoice_id
        else:
            body["currencyCode"] = currency.upper()
            body["billingPeriod"] = graph_period(period)
        if self.attribute_sets and attribute_set is not None:
            body["attributeSet"] = attribute_set
        return body

    def label(self, attribute_set: str | None) -> str:
        return f"{self.name}/{attribute_set}" if self.attribute_sets and attribute_set else self.name


def graph_period(period: str) -> str:
    """Partner Center v1 ``period=previous`` is Graph ``billingPeriod: last`` ([PCDOC] "period … example: current,
    previous"; [CSDL] billingPeriod members current, last)."""
    p = period.strip().lower()
    return "last" if p in ("previous", "last") else p


_KINDS = (
    ExportKind("billed-reconciliation", "reconciliation/billed", True, ("full", "basic"), "ExportRow",
               ("v1.0", "beta"), "billed reconciliation", "partners-billing-billedreconciliation-export"),
    ExportKind("unbilled-reconciliation", "reconciliation/unbilled", False, ("full", "basic"), "ExportRow",
               ("v1.0", "beta"), "unbilled reconciliation", "partners-billing-unbilledreconciliation-export"),
    ExportKind("billed-usage", "usage/billed", True, ("full", "basic"), "UsageRow",
               ("v1.0", "beta"), "billed usage", "partners-billing-billedusage-export"),
    ExportKind("unbilled-usage", "usage/unbilled", False, ("full", "basic"), "UsageRow",
               ("v1.0", "beta"), "unbilled usage", "partners-billing-unbilledusage-export"),
    ExportKind("billed-aggregated-usage", "aggregatedUsage/billed", True, (), "AggregatedUsageRow",
               ("beta",), "billed aggregated usage", "partners-billing-billedaggregatedusage-export"),
)
KINDS: dict[str, ExportKind] = {k.name: k for k in _KINDS}
BILLED_RECONCILIATION = KINDS["billed-reconciliation"]
V1_KINDS: tuple[str, ...] = tuple(k.name for k in _KINDS if "v1.0" in k.versions)

_PATH = re.compile(r"/reports/partners/billing/(reconciliation|usage|aggregatedusage)/(billed|unbilled)/+"
                   rf"(export|{re.escape(QUALIFIED_ACTION)})/?$", re.IGNORECASE)


class ExportsError(ValueError):
    """A bad --exports value."""


def parse_exports(text: str | None, *, version: str = "v1.0", beta_available: bool = False) -> tuple[ExportKind, ...]:
    """``--exports a,b`` (or ``all``) as kinds; the default is every v1.0 export, plus the beta ones when a beta
    base is available. A name no member has is an ExportsError."""
    if not text or not text.strip():
        names = [k.name for k in _KINDS if version in k.versions or (beta_available and "beta" in k.versions)]
    elif text.strip().lower() == "all":
        names = list(KINDS)
    else:
        names = [n.strip().lower() for n in text.split(",") if n.strip()]
        unknown = [n for n in names if n not in KINDS]
        if unknown:
            raise ExportsError(f"--exports: unknown export {', '.join(map(repr, unknown))}; choose from "
                               f"{', '.join(KINDS)} (or all)")
    return tuple(KINDS[n] for n in dict.fromkeys(names))


def kind_of_path(path: str) -> tuple[ExportKind, str] | None:
    """(kind, spelling) of an export request path, or None."""
    m = _PATH.search(path)
    if not m:
        return None
    area = {"reconciliation": "reconciliation", "usage": "usage", "aggregatedusage": "aggregatedUsage"}[m.group(1).lower()]
    segment = f"{area}/{m.group(2).lower()}"
    kind = next((k for k in _KINDS if k.segment == segment), None)
    if kind is None:
        return None
    return kind, "short" if m.group(3).lower() == "export" else "qualified"


# rootDirectory containers seen in manifests (docs example and third-party 2024 manifests, domain notes B.1/§8.2);
# the reconciliation and aggregated-usage containers are not documented (no real manifest of them is public), so
# they are told by the names this project's mock uses; --export KIND says it where a container is unknown.
_ROOT_HINTS = (
    ("billedaggregatedusage", "billed-aggregated-usage"),
    ("unbilledusage", "unbilled-usage"),
    ("billedusage", "billed-usage"),
    ("unbilledrecon", "unbilled-reconciliation"),
    ("billedrecon", "billed-reconciliation"),
)


def kind_of_root(root_directory: str) -> ExportKind | None:
    """The kind a manifest's rootDirectory names (its container), or None when it does not say."""
    low = root_directory.lower()
    for hint, name in _ROOT_HINTS:
        if f"/{hint}" in low:
            return KINDS[name]
    return None
