"""Keeping the client on the proxy: upstream URLs rewritten to proxy URLs, with a map for the reports.

The proxy serves Partner Center under ``/v1`` and Graph under ``/v1.0`` and ``/beta``; with ``--proxy-blobs``
it serves the blob origins a manifest from the named Graph upstream announced under ``/_blobs/{n}``. A URL on
any other origin is never rewritten and never forwarded to.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..checks.operations import NAV_LINK

BLOB_PREFIX = "/_blobs/"
PC_PREFIXES = ("/v1",)
GRAPH_PREFIXES = ("/v1.0", "/beta")
MAP_LIMIT = 10_000  # entries kept for the report; a long session keeps its first ones


@dataclass(frozen=True)
class Target:
    """Where one proxied request goes: ``api`` is partner-center, graph or blob."""

    api: str
    url: str


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    lower = path.lower()
    return any(lower == p or lower.startswith(p + "/") for p in prefixes)


class UrlMap:
    """Upstream <-> proxy URLs for one proxy run."""

    def __init__(self, proxy_root: str, *, pc_upstream: str | None, graph_upstream: str | None,
                 proxy_blobs: bool) -> None:
        self.proxy_root = proxy_root.rstrip("/")
        self.pc = pc_upstream.rstrip("/") if pc_upstream else None
        self.graph = graph_upstream.rstrip("/") if graph_upstream else None
        self.proxy_blobs = proxy_blobs
        self.blob_origins: list[str] = []
        self.rewritten: dict[str, str] = {}  # proxy URL -> upstream URL (what the reports show)
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ inbound: proxy path -> upstream URL

    def upstream(self, raw_path: str, query: str) -> Target | None:
        """The upstream URL of a request to the proxy, or None when it is no path the proxy serves."""
        tail = raw_path + (f"?{query}" if query else "")
        if self.pc and _under(raw_path, PC_PREFIXES) and not _under(raw_path, GRAPH_PREFIXES):
            return Target("partner-center", self.pc + tail)
        if self.graph and _under(raw_path, GRAPH_PREFIXES):
            return Target("graph", self.graph + tail)
        if self.proxy_blobs and raw_path.startswith(BLOB_PREFIX):
            index, _, rest = raw_path[len(BLOB_PREFIX):].partition("/")
            with self._lock:
                known = index.isdigit() and int(index) < len(self.blob_origins)
                origin = self.blob_origins[int(index)] if known else None
            if origin is not None:
                return Target("blob", f"{origin}/{rest}" + (f"?{query}" if query else ""))
        return None

    # ------------------------------------------------------------------ outbound: upstream URL -> proxy URL

    def to_proxy(self, url: str) -> str:
        """An absolute URL on a named upstream, as the proxy serves it; anything else unchanged."""
        for root in (self.graph, self.pc):
            if root and (url == root or url.startswith(root + "/")) and (
                    _under(urlsplit(url[len(root):] or "/").path, PC_PREFIXES + GRAPH_PREFIXES)):
                return self._remember(self.proxy_root + url[len(root):], url)
        return url

    def blob_root_to_proxy(self, root: str) -> str:
        """A manifest's rootDirectory on the proxy (``--proxy-blobs``): its origin becomes ``/_blobs/{n}``."""
        parts = urlsplit(root)
        if not self.proxy_blobs or parts.scheme.lower() not in ("http", "https") or not parts.netloc:
            return root
        origin = _origin(root)
        with self._lock:
            if origin not in self.blob_origins:
                self.blob_origins.append(origin)
            index = self.blob_origins.index(origin)
        return self._remember(f"{self.proxy_root}{BLOB_PREFIX}{index}{parts.path}", root)

    def _remember(self, proxy_url: str, upstream_url: str) -> str:
        with self._lock:
            if len(self.rewritten) < MAP_LIMIT:
                self.rewritten.setdefault(proxy_url, upstream_url)
        return proxy_url

    # ------------------------------------------------------------------ bodies

    def rewrite_body(self, api: str, body: Any) -> bool:
        """Rewrite the links of a decoded JSON body in place; True when anything changed."""
        if not isinstance(body, dict):
            return False
        changed = False
        if api == "partner-center":
            links = body.get("links")
            for name in ("next", "self"):
                link = links.get(name) if isinstance(links, dict) else None
                uri = link.get("uri") if isinstance(link, dict) else None
                if isinstance(uri, str) and (new := self.to_proxy(uri)) != uri:
                    link["uri"], changed = new, True
            return changed
        nav = body.get(NAV_LINK)
        if isinstance(nav, str) and (new := self.to_proxy(nav)) != nav:
            body[NAV_LINK], changed = new, True
        for manifest in (body, body.get("resourceLocation")):
            root = manifest.get("rootDirectory") if isinstance(manifest, dict) else None
            if isinstance(root, str) and self.proxy_blobs and (new := self.blob_root_to_proxy(root)) != root:
                manifest["rootDirectory"], changed = new, True
        return changed

    def report(self) -> dict[str, Any]:
        with self._lock:
            return {"proxy": self.proxy_root, "partner-center": self.pc, "graph": self.graph,
                    "blob origins": list(self.blob_origins), "rewritten": dict(self.rewritten)}
