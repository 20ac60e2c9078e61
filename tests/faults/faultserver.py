"""A small misbehaving HTTP server on loopback, for the fault-injection suite.

Raw asyncio streams, not an HTTP framework: most faults live below HTTP (a reset in the middle of a
body, a body that never ends, a broken chunked encoding), and a framework would refuse to send them.
The server reads each request (request line, headers, a Content-Length body), records it, and hands
it to the case's handler, which writes whatever bytes it likes. It runs its own event loop in a
daemon thread, on a free port, so cases can run side by side (pytest-xdist).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import struct
import threading
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

Writer = asyncio.StreamWriter


@dataclass
class Seen:
    """One request the server read."""

    method: str
    target: str
    headers: dict[str, str] = field(default_factory=dict)  # names lower-cased

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]


# A handler answers one request; it returns True to keep the connection open for the next request.
Handler = Callable[["FaultServer", Seen, Writer], Awaitable[bool]]


class FaultServer:
    """An HTTP/1.1 listener on 127.0.0.1 whose answers are written by ``handler``."""

    def __init__(self, handler: Handler | None = None) -> None:
        self.handler = handler or answer_404
        self.requests: list[Seen] = []
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="fault-server")
        self._server: asyncio.base_events.Server | None = None
        self.port = 0

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "FaultServer":
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the fault server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        def stop() -> None:
            for task in asyncio.all_tasks(self._loop):
                task.cancel()  # handlers still holding a connection open
            self._loop.call_soon(self._loop.stop)

        self._loop.call_soon_threadsafe(stop)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _serve(self, reader: asyncio.StreamReader, writer: Writer) -> None:
        self.connections += 1
        try:
            while True:
                seen = await _read_request(reader)
                if seen is None:
                    return
                self.requests.append(seen)
                if not await self.handler(self, seen, writer):
                    return
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            return
        finally:
            try:
                writer.close()
            except Exception:  # noqa: BLE001 - the peer may be gone already
                pass


async def _read_request(reader: asyncio.StreamReader) -> Seen | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = (lines[0].split(" ", 2) + ["", ""])[:3]
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    if length:
        await reader.readexactly(length)
    return Seen(method, target, headers)


# ------------------------------------------------------------------ building answers


def response(status: int, body: bytes = b"", *, headers: dict[str, str] | None = None,
             content_type: str | None = "application/json", length: int | None = None) -> bytes:
    """The bytes of a complete HTTP/1.1 answer (``length`` overrides the Content-Length sent)."""
    lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}"]
    if content_type:
        lines.append(f"Content-Type: {content_type}")
    lines.append(f"Content-Length: {len(body) if length is None else length}")
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


REASONS = {200: "OK", 202: "Accepted", 302: "Found", 404: "Not Found", 429: "Too Many Requests"}


def json_response(status: int, value: object, **kwargs: object) -> bytes:
    return response(status, json.dumps(value).encode(), **kwargs)  # type: ignore[arg-type]


def reset(writer: Writer) -> None:
    """Abort the connection with a TCP RST (SO_LINGER 0), not an orderly close."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def answer_404(server: FaultServer, seen: Seen, writer: Writer) -> bool:
    writer.write(json_response(404, {"error": {"code": "NotFound", "message": "nothing here"}}))
    await writer.drain()
    return True


async def hold(seconds: float = 120.0) -> None:
    """Say nothing for a long time (the client is expected to give up first)."""
    await asyncio.sleep(seconds)


def gzip_bomb(inflated: int) -> bytes:
    """A gzip member of ``inflated`` zero bytes, compressed without ever holding them."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1 << 20)
    parts = [packer.compress(zeros) for _ in range(inflated >> 20)]
    return b"".join(parts) + packer.flush()


def jsonl_gzip(rows: list[dict[str, object]]) -> bytes:
    return gzip.compress(b"".join(json.dumps(r).encode() + b"\n" for r in rows))
