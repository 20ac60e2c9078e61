"""Serving the mock with uvicorn: in a background thread (``serve``) or in the foreground (the CLI)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from .app import create_app
from .config import MockConfig


@dataclass(frozen=True)
class RunningMock:
    """Where a started mock answers."""

    host: str
    port: int
    config: MockConfig
    app: Any = field(default=None, repr=False, compare=False)

    def configure(self, config: MockConfig) -> Any:
        """Serve ``config`` from the next request on (a fresh state; the port stays): returns the new MockState."""
        state = self.app.state.dispatcher.configure(config)
        self.app.state.mock = state
        return state

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pc_base_url(self) -> str:
        return self.base_url

    @property
    def graph_base_url(self) -> str:
        return self.base_url + "/v1.0"

    @property
    def graph_beta_url(self) -> str:
        return self.base_url + "/beta"


class QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to its owner (no re-raised SIGINT, no traceback)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def bind(host: str, port: int) -> socket.socket:
    """A listening socket (OSError when the address is taken)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP so that asyncio turns Nagle off on accepted connections (else ~40 ms per response)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def make_server(config: MockConfig, log_level: str = "warning") -> QuietServer:
    uv = uvicorn.Config(create_app(config), log_level=log_level, access_log=False, lifespan="off",
                        timeout_keep_alive=30)
    return QuietServer(uv)


@contextlib.contextmanager
def serve(config: MockConfig | None = None, host: str = "127.0.0.1", port: int = 0,
          startup_timeout: float = 10.0) -> Iterator[RunningMock]:
    """Start the mock on ``host`` (a free port by default) in a background thread; stop it on exit."""
    config = config or MockConfig()
    sock = bind(host, port)
    actual_port = sock.getsockname()[1]
    server = make_server(config)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(server.serve(sockets=[sock]))
        except BaseException as exc:  # noqa: BLE001 - reported to the caller below
            errors.append(exc)

    thread = threading.Thread(target=run, name=f"recon-mock-{actual_port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    try:
        while not server.started:
            if errors or not thread.is_alive():
                raise RuntimeError(f"the mock failed to start: {errors[0] if errors else 'thread ended'}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the mock did not start within {startup_timeout} s")
            time.sleep(0.01)
        yield RunningMock(host=host, port=actual_port, config=config, app=server.config.app)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
