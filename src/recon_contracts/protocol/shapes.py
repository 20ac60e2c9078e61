"""Which API an exchange belongs to, told by the shape of its URL path alone.

Recorded traffic (a browser's devtools, mitmproxy, Schemathesis' ``--report har``, our own
``traffic.har``) carries no label saying which host is Partner Center and which is Graph, and a
proxy or a sovereign cloud may change the host names. The paths do not change:
``/v1/invoices/{invoice-id}/lineitems`` is Partner Center, ``/{v1.0|beta}/reports/partners/billing/...``
is Graph, and a blob is any URL under the ``rootDirectory`` of a manifest seen in the same traffic.
The live run keys its observed behaviour by the same names, so a baseline recorded live compares
with one taken from a HAR file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..truth.exports import KINDS, kind_of_path
from . import graph, partner_center

PC_LINEITEMS = partner_center.LINEITEMS_OPERATION
GRAPH_EXPORT_SHORT = graph.EXPORT_OPERATIONS["short"]
GRAPH_EXPORT_QUALIFIED = graph.EXPORT_OPERATIONS["qualified"]
GRAPH_OPERATION = graph.POLL_OPERATION
GRAPH_MANIFEST = graph.MANIFEST_OPERATION
BLOB = graph.BLOB_OPERATION
# every export member's POST, both spellings (recon_contracts.truth.exports)
GRAPH_EXPORTS = frozenset(k.operation(s) for k in KINDS.values() for s in ("short", "qualified"))

_PC = re.compile(r"^(?P<base>.*?)/v1/+invoices/[^/]+/lineitems/?$", re.IGNORECASE)
_GRAPH = re.compile(
    r"^(?P<base>.*?/(?:v1\.0|beta))/+reports/partners/billing/"
    r"(?:(?P<export>(?:reconciliation|usage|aggregatedUsage)/(?:billed|unbilled)/+(?:export|microsoft\.graph\.partners\.billing\.export))"
    r"|(?P<operation>operations/[^/]+)|(?P<manifest>manifests/[^/]+))/?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Shape:
    """What a URL is: the API, the operation (as the specs name it) and the API's base URL."""

    api: str  # "partner-center" | "graph" | "blob"
    operation: str
    base_url: str  # scheme://host[/prefix] before /v1 (Partner Center) or up to /v1.0|/beta (Graph)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def classify(method: str, url: str, blob_roots: Iterable[str] = ()) -> Shape | None:
    """The API and operation of a request, or None when it belongs to neither API."""
    parts = urlsplit(url)
    path = parts.path
    verb = method.upper()
    pc = _PC.match(path)
    if pc and verb == "GET":
        return Shape("partner-center", PC_LINEITEMS, _origin(url) + pc.group("base"))
    graph = _GRAPH.match(path)
    if graph:
        base = _origin(url) + graph.group("base")
        if graph.group("export") and verb == "POST":
            found = kind_of_path(path)
            if found is not None:  # every member of the export family, named as the spec names it
                kind, spelling = found
                return Shape("graph", kind.operation(spelling), base)
        if graph.group("operation") and verb == "GET":
            return Shape("graph", GRAPH_OPERATION, base)
        if graph.group("manifest") and verb == "GET":
            return Shape("graph", GRAPH_MANIFEST, base)
    if verb == "GET":
        bare = url.split("?", 1)[0]
        for root in blob_roots:
            root = root.rstrip("/")
            if root and bare.startswith(root + "/"):
                return Shape("blob", BLOB, root)
    return None
