"""A total deadline per request: connect, TLS, sending, headers and the whole body together.

httpx's timeouts apply to each socket operation, so a server that drips its body one byte at a time
never trips them. Here every socket operation of a request gets at most the time left until the
request's deadline: the deadline is set per thread around the request (:func:`deadline`), and the
network backend of the client's connection pools clamps each connect, read and write to it
(:func:`install`). Past the deadline the operation raises httpcore's timeout, which httpx maps to
``httpx.ReadTimeout`` / ``ConnectTimeout`` / ``WriteTimeout`` as for any other timeout.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import httpcore
import httpx

_LOCAL = threading.local()


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Every socket operation of this thread inside the block ends by ``seconds`` from now."""
    previous = getattr(_LOCAL, "end", None)
    _LOCAL.end = time.monotonic() + seconds
    try:
        yield
    finally:
        _LOCAL.end = previous


def _left(timeout: float | None, error: type[Exception]) -> float | None:
    """``timeout`` clamped to the time left until this thread's deadline; raises ``error`` past it."""
    end = getattr(_LOCAL, "end", None)
    if end is None:
        return timeout
    left = end - time.monotonic()
    if left <= 0:
        raise error("the request's total deadline passed")
    return left if timeout is None else min(timeout, left)


class DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write ends by the current request's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, _left(timeout, httpcore.ConnectTimeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """Opens connections (TCP or Unix socket) that keep to the current request's deadline."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(host, port, _left(timeout, httpcore.ConnectTimeout), local_address, socket_options)
        return DeadlineStream(stream)

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        return DeadlineStream(self._inner.connect_unix_socket(path, _left(timeout, httpcore.ConnectTimeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def install(client: httpx.Client) -> None:
    """Put every connection pool of ``client`` (its transport and any proxy mounts) on the deadline backend.

    httpx has no public hook for the network backend of its default transport; the pools are reached
    through httpx's attributes (httpx is pinned below 1.0), and a change there fails here, loudly,
    instead of silently losing the deadline.
    """
    transports = [client._transport, *(t for t in client._mounts.values() if t is not None)]
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if backend is None:
            raise RuntimeError(f"cannot put {type(transport).__name__} on a request deadline: httpx's internals changed")
        if not isinstance(backend, DeadlineBackend):
            pool._network_backend = DeadlineBackend(backend)
