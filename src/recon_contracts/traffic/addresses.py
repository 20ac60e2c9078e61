"""The runner is no proxy into the network it runs in: where a URL the target handed out may lead.

A manifest decides which URLs the suite fetches blobs from, and a hostile or compromised target could
point them at the CI network (a cloud metadata address, a database on 10.x, the runner's own loopback).
A request to another origin than the base URL (a blob download; it carries no credentials) is therefore
fetched only when:

- its scheme is http or https, and https when the base is https (:func:`scheme_problem`);
- every address its host resolves to is public, unless the base itself is on a loopback, link-local or
  private address (a mock or a test double on the runner's own network).

The address is checked after resolving and before connecting, on the connection itself
(:class:`AddressGuard`, httpcore's network backend): the checked address is the one connected to, so a
name that resolves differently the second time (DNS rebinding) gains nothing. TLS still verifies the
URL's host name (httpcore passes the origin's host as the server name, whatever address is dialled).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

Resolver = Callable[[str, int], list[str]]  # (host, port) -> the addresses it resolves to


def system_resolver(host: str, port: int) -> list[str]:
    """The host's addresses, as the system resolves them (no connection is made)."""
    return list(dict.fromkeys(str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)))


def internal_kind(address: str) -> str | None:
    """What kind of non-public address ``address`` is (e.g. "loopback"), or None when it is public."""
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for kind in ("loopback", "unspecified", "link_local", "multicast", "private", "reserved"):
        if getattr(ip, f"is_{kind}"):
            return kind.replace("_", "-")
    return None if ip.is_global else "not globally routable"


def scheme_problem(url: str, *, base_scheme: str) -> str | None:
    """Why ``url`` may not be fetched for its scheme alone, or None."""
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        return f"its scheme is {scheme or '(none)'!r}, and only http(s) is fetched"
    if base_scheme == "https" and scheme != "https":
        return "it is plain http while the API is on https"
    return None


class RefusedAddress(httpcore.ConnectError):
    """The host resolved to an address the runner does not connect to; no connection was made."""


class AddressGuard(httpcore.NetworkBackend):
    """Connects to the base URL's host as asked; to any other host only at a public address it checked."""

    def __init__(self, inner: httpcore.NetworkBackend, *, base_host: str, resolver: Resolver = system_resolver) -> None:
        self._inner = inner
        self.base_host = base_host.lower().strip("[]")
        self.resolver = resolver
        self._base_internal: bool | None = None
        self._lock = threading.Lock()

    def base_is_internal(self) -> bool:
        """Whether the base URL's host is itself on a loopback, link-local or private address (resolved once)."""
        with self._lock:
            if self._base_internal is None:
                try:
                    found = self.resolver(self.base_host, 443)
                except (OSError, UnicodeError, ValueError):
                    found = []
                self._base_internal = any(_internal(a) for a in found)
            return self._base_internal

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        if host.lower().strip("[]") == self.base_host:
            return self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        try:
            found = self.resolver(host, port)
        except (OSError, UnicodeError, ValueError) as exc:
            raise httpcore.ConnectError(f"{host} does not resolve ({exc})") from None
        if not found:
            raise httpcore.ConnectError(f"{host} does not resolve")
        if not self.base_is_internal():
            for address in found:
                kind = _internal(address)
                if kind:
                    raise RefusedAddress(f"its host {host} resolves to {address}, a {kind} address, while the API "
                                         "is on a public one")
        last: Exception | None = None
        for address in found:  # the addresses checked above, and no other
            try:
                return self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                last = exc
        assert last is not None
        raise last

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        raise RefusedAddress("a Unix socket is never connected to")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def _internal(address: str) -> str | None:
    try:
        return internal_kind(address)
    except ValueError:
        return "unreadable"


def install(client: httpx.Client, *, base_url: str, resolver: Resolver = system_resolver) -> AddressGuard:
    """Put the client's connection pool on an :class:`AddressGuard` for ``base_url``; returns the guard.

    httpx has no public hook for its transport's network backend (see ``deadline.install``): the pool
    is reached through httpx's attributes, and a change there fails here, loudly.
    """
    pool = getattr(client._transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if backend is None:
        raise RuntimeError("cannot guard the client's connections: httpx's internals changed")
    guard = AddressGuard(backend, base_host=httpx.URL(base_url).host, resolver=resolver)
    pool._network_backend = guard
    return guard
