"""``recon-contracts mock``: options, --list-profiles, serving in a subprocess, stopping on a signal."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from recon_contracts.mock import PROFILES
from recon_contracts.mock.cli import main

CMD = [sys.executable, "-m", "recon_contracts.cli", "mock"]


def test_list_profiles(capsys) -> None:
    assert main(["--list-profiles"]) == 0
    out = capsys.readouterr().out
    for profile in PROFILES.values():
        line = next(line for line in out.splitlines() if line.split()[0] == profile.name)
        assert profile.description in line
        assert profile.kind in line
        for rule_id in profile.breaks:
            assert rule_id in line


@pytest.mark.parametrize("argv", [["--port", "x"], ["--port", "70000"], ["--profile", "nope"], ["--items", "-1"],
                                  ["--retry-after", "soon"], ["--poll-count", "-2"], ["--bogus"]])
def test_bad_options_exit_2_with_one_line(argv, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("recon-contracts mock: error:")


def _start(*args: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([*CMD, "--port", "0", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    lines = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith("Press Ctrl-C"):
            break
    text = "".join(lines)
    m = re.search(r"base URL:\s+(http://127\.0\.0\.1:\d+)", text)
    assert m, text + proc.stderr.read() if proc.poll() is not None else text
    return proc, text


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_serves_and_stops_cleanly(sig) -> None:
    proc, text = _start("--profile", "conforming", "--seed", "3", "--items", "5", "--retry-after", "0",
                        "--poll-count", "1")
    try:
        base = re.search(r"base URL:\s+(\S+)", text).group(1)
        assert f"{base}/v1/invoices/unbilled/lineitems" in text
        assert f"{base}/v1.0/" in text and f"{base}/beta/" in text
        r = httpx.get(f"{base}/v1/invoices/unbilled/lineitems?provider=onetime&invoicelineitemtype=billinglineitems"
                      "&currencycode=usd&period=current", headers={"Authorization": "Bearer t"})
        assert r.status_code == 200 and r.json()["totalCount"] == 5
        r = httpx.post(f"{base}/v1.0//reports/partners/billing/reconciliation/billed/export",
                       json={"invoiceId": "G016907411"}, headers={"Authorization": "Bearer t"})
        assert r.status_code == 202
        assert httpx.get(r.headers["location"], headers={"Authorization": "Bearer t"}).headers["retry-after"] == "0"
    finally:
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "Traceback" not in out


def test_port_in_use() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run([*CMD, "--port", str(port)], capture_output=True, text=True, timeout=20)
    assert proc.returncode != 0
    assert "address already in use" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_dispatched_from_the_main_command() -> None:
    proc = subprocess.run([sys.executable, "-m", "recon_contracts.cli", "mock", "--list-profiles"],
                          capture_output=True, text=True, timeout=20, env={**os.environ})
    assert proc.returncode == 0 and "pc-no-auth" in proc.stdout and "PC-AUTH-401" in proc.stdout
