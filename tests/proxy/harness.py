"""A real proxy process on loopback in front of a real mock; and the clients the tests drive through it."""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.proxy-test-token-4f1c9a7e"
STARTUP_S = 30.0
END_S = 120.0  # liveness bound: a proxy run ends


@dataclass
class RunningProxy:
    process: subprocess.Popen[str]
    base_url: str
    report_dir: Path
    lines: list[str] = field(default_factory=list)
    pump: threading.Thread | None = None

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.wait()

    def wait(self) -> int:
        try:
            return self.process.wait(timeout=END_S)
        finally:
            if self.process.poll() is None:
                self.process.kill()
            if self.pump is not None:
                self.pump.join(timeout=10)  # every line the process printed is in .lines

    @property
    def output(self) -> str:
        return "\n".join(self.lines)


def start_proxy(report_dir: Path, *args: str) -> RunningProxy:
    """``recon-contracts proxy --port 0 ...`` in a subprocess; returns once it listens."""
    command = [sys.executable, "-m", "recon_contracts.cli", "proxy", "--port", "0", "--report-dir", str(report_dir), *args]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    lines: queue.Queue[str | None] = queue.Queue()
    running = RunningProxy(process, "", report_dir)

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            running.lines.append(line.rstrip("\n"))
            lines.put(line)
        lines.put(None)

    running.pump = threading.Thread(target=pump, daemon=True)
    running.pump.start()
    while True:
        try:
            line = lines.get(timeout=STARTUP_S)
        except queue.Empty:
            process.kill()
            raise RuntimeError("the proxy did not start: " + running.output) from None
        if line is None:
            raise RuntimeError("the proxy exited at start: " + running.output)
        if "listening on " in line:
            running.base_url = line.split("listening on ", 1)[1].strip()
            return running


@contextlib.contextmanager
def proxy(report_dir: Path, *args: str) -> Iterator[RunningProxy]:
    running = start_proxy(report_dir, *args)
    try:
        yield running
    finally:
        if running.process.poll() is None:
            running.stop()


def pc_walk(base_url: str, *, size: int = 7, pages_max: int = 50) -> list[httpx.Response]:
    """A Partner Center client: mixed-case query, small pages, following links.next by its token."""
    responses = []
    url = (f"{base_url}/v1/invoices/unbilled/lineitems?Provider=OneTime&InvoiceLineItemType=BillingLineItems"
           f"&CurrencyCode=USD&Period=Current&Size={size}")
    headers = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"}
    with httpx.Client(timeout=30.0) as client:
        for _ in range(pages_max):
            r = client.get(url, headers=headers)
            responses.append(r)
            if r.status_code != 200:
                break
            link = (r.json().get("links") or {}).get("next")
            if not link:
                break
            uri = link["uri"]
            assert not uri.startswith("http") or uri.startswith(base_url), f"the client left the proxy: {uri}"
            url = uri if uri.startswith("http") else (
                f"{base_url}{uri}" if uri.lower().startswith("/v1/") else f"{base_url}/v1{uri if uri.startswith('/') else '/' + uri}")
            headers = {**headers, **{h["key"]: h["value"] for h in link.get("headers", []) if "key" in h}}
    return responses


def read_json(path: Path) -> Any:
    import json

    return json.loads(path.read_text(encoding="utf-8"))
