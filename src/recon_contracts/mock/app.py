"""The ASGI app: one starlette application serving Partner Center, Graph and the exported blobs."""

from __future__ import annotations

import logging
import re

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.types import Receive, Scope, Send

from . import blobs, graph, partner_center
from .config import MockConfig
from .responses import finish, graph_error, json_response, not_found, pc_fault, storage_error
from .drift import Drift
from .state import MockState

log = logging.getLogger("recon_contracts.mock")

_SLASHES = re.compile(r"/{2,}")
_PC_LINE_ITEMS = re.compile(r"^/v1/invoices/([^/]+)/lineitems/?$", re.IGNORECASE)
_GRAPH_EXPORT = re.compile(r"^/(v1\.0|beta)/reports/partners/billing/((?:reconciliation|usage|aggregatedUsage)/(?:billed|unbilled))/"
                           r"(export|microsoft\.graph\.partners\.billing\.export)/?$", re.IGNORECASE)
_GRAPH_OPERATION = re.compile(r"^/(v1\.0|beta)/reports/partners/billing/operations/([^/]+)/?$", re.IGNORECASE)
_GRAPH_MANIFEST = re.compile(r"^/(v1\.0|beta)/reports/partners/billing/manifests/([^/]+)/?$", re.IGNORECASE)


class MockDispatcher:
    """Routes a request by API (path prefix) so that every error has that API's shape."""

    def __init__(self, config: MockConfig) -> None:
        self.state = MockState(config)

    def configure(self, config: MockConfig) -> MockState:
        """Serve ``config`` from the next request on, with a fresh state (one process, configuration after
        configuration: the generated servers of tests/generated)."""
        self.state = MockState(config)
        return self.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        path = _SLASHES.sub("/", scope["path"])  # Microsoft's docs and SDK send '//' (v1//invoices, v1.0//reports)
        low = path.lower()
        try:
            if low == "/v1" or low.startswith("/v1/"):
                response = await self._partner_center(request, path)
            elif low in ("/v1.0", "/beta") or low.startswith(("/v1.0/", "/beta/")):
                response = await self._graph(request, path)
            elif low.startswith("/blobs/"):
                response = await self._blobs(request, path)
            else:
                response = not_found(path)
        except Exception:  # noqa: BLE001 - a bug must still answer in the API's shape
            log.exception("mock failed on %s %s", request.method, path)
            response = json_response({"error": {"code": "InternalServerError", "message": "mock failure"}}, 500)
        await finish(response, self.state.knobs, request.headers.get("accept-encoding", ""))(scope, receive, send)

    async def _partner_center(self, request: Request, path: str) -> Response:
        m = _PC_LINE_ITEMS.match(path)
        html = Drift.PC_ERROR_HTML in self.state.drift
        if not m:
            return pc_fault(404, f"The resource {path} was not found.", html=html)
        if request.method != "GET":
            return pc_fault(405, f"The method {request.method} is not allowed on {path}.", headers={"Allow": "GET"},
                            html=html)
        return await partner_center.line_items(request, self.state, m.group(1))

    async def _graph(self, request: Request, path: str) -> Response:
        for pattern, method in ((_GRAPH_EXPORT, "POST"), (_GRAPH_OPERATION, "GET"), (_GRAPH_MANIFEST, "GET")):
            m = pattern.match(path)
            if not m:
                continue
            if request.method != method:
                return graph_error(request, 405, "BadRequest",
                                   f"The method {request.method} is not allowed on this resource.", {"Allow": method})
            denied = graph.gate(request, self.state)
            if denied is not None:
                return denied
            version = m.group(1).lower()
            if pattern is _GRAPH_EXPORT:
                return await graph.export(request, self.state, version, m.group(2),
                                          m.group(3).lower() != "export")
            if pattern is _GRAPH_OPERATION:
                return await graph.get_operation(request, self.state, version, m.group(2))
            return await graph.get_manifest(request, self.state, version, m.group(2))
        segment = path.rstrip("/").rsplit("/", 1)[-1]
        return graph_error(request, 404, "BadRequest", f"Resource not found for the segment '{segment}'.")

    async def _blobs(self, request: Request, path: str) -> Response:
        if request.method != "GET":
            response = storage_error(405, "UnsupportedHttpVerb", "The resource doesn't support the specified HTTP verb.")
            response.headers["Allow"] = "GET"
            return response
        return await blobs.download(request, self.state, path)


def create_app(config: MockConfig | None = None) -> Starlette:
    """The mock as an ASGI app (``app.state.mock`` is its MockState)."""
    dispatcher = MockDispatcher(config or MockConfig())
    app = Starlette(routes=[Mount("/", app=dispatcher)])
    app.state.mock = dispatcher.state
    app.state.dispatcher = dispatcher
    return app
