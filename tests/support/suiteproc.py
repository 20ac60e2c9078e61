"""Runs the suite (or any of its commands) in a child process, as a user would, and says how the run ended.

One runner for every test that starts a process of the suite (tests/faults, tests/self, the plugin and
command tests): a scrubbed environment, a liveness bound, the kill of the whole process group at that bound,
the output captured, the run's ``summary.json`` read, and on request the child's own peak memory.

Environment (:func:`scrubbed_env`): the variables that would point the child elsewhere or change its options
(``RECON_*`` but ``RECON_CONTRACTS_HOME``, ``AZURE_*``, ``PYTEST_*``, ``HYPOTHESIS*``) are dropped. Bytecode
caching is turned back on for the child when the caller's environment turned it off
(``PYTHONDONTWRITEBYTECODE``): without a cache every child recompiles, and pytest re-rewrites the assertions
of, some 340 modules (the pytest11 plugins' distributions: recon-contracts, Hypothesis, Schemathesis), about
3 s of CPU per child. The cache then goes to a private folder of the temp dir (``PYTHONPYCACHEPREFIX``), never
into the checkout or the virtual environment, so the caller's wish for a clean tree still holds.

Warm starts: a ``python -m MODULE`` of this interpreter (or this environment's ``recon-contracts`` script) runs
in a child forked from a warm server (tests/support/warmserver.py), one per environment, which imported pytest,
the plugins and the suite once: each run then saves the second or so a fresh interpreter spends importing and
reading the specs. The child is still a process of its own, leader of its own session, with the run's working
directory, environment, argv and output, so the bound, the kill, the memory figure and the exit code are the
same as for a fresh process (tests/unit/test_suite_process.py runs both ways and compares). Anything else, and
every run when ``RECON_TEST_COLD`` is set, starts a fresh interpreter.

Liveness: the child is the leader of a new session; at the bound every process of its group is killed
(SIGKILL), and after a normal exit whatever the child left running in its group is killed too.

Peak memory, the child's own (``measure_memory=True``). ``ru_maxrss`` from ``wait4`` cannot give it on Linux:
a child's maxrss starts at its parent's high-water mark (fork and exec carry it over), so it measures the
process that launched the child. A cgroup v2 ``memory.peak`` would be exact, but it needs a cgroup hierarchy
the runner may create groups in and move the child into before it runs: not there on this project's
machines (cgroup v1, or v2 without delegation in a container) and not something a test should set up as
root. So the runner samples ``/proc``, which every Linux has and needs no privilege: every
``SAMPLE_S`` (0.05 s) it reads, for each process of the child's tree (the child and its descendants, found by
parent pid in a walk of ``/proc`` every 0.25 s), the process's ``VmRSS`` (resident now) and ``VmHWM`` (its own
resident high-water mark since its exec). The figure is the larger of (a) the largest sum of ``VmRSS`` over the tree at one sample and (b) the largest
``VmHWM`` of one process, which catches a spike between two samples. Sampling starts once ``Popen`` has
returned, i.e. after the child's exec: before it, the child's memory is still the parent's. A forked
descendant that has not exec'd counts the pages it shares with its parent twice: the figure may be a little
high for such trees, never the parent's. Where ``/proc`` is missing the figure is ``None``.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCRUBBED_PREFIXES = ("RECON_", "AZURE_", "PYTEST_", "HYPOTHESIS")
KEPT = frozenset({"RECON_CONTRACTS_HOME"})
SAMPLE_S = 0.05  # with a walk of /proc for new descendants every 5th sample: about 1-2 % of a core
PROC = Path("/proc")
TAIL_LINES = 60


# ---------------------------------------------------------------------------- environment


def _pycache_dir() -> Path | None:
    """A bytecode cache folder of this user in the temp dir, or None when it is not safely ours."""
    folder = Path(tempfile.gettempdir()) / f"recon-contracts-pycache-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        info = folder.lstat()
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o022:
        return None
    return folder


def scrubbed_env(*, drop: Sequence[str] = (), **extra: str) -> dict[str, str]:
    """This process's environment without what would steer a child suite run, plus ``extra``.

    ``drop``: more prefixes to remove (e.g. ``PYTHON`` and ``VIRTUAL_ENV`` for a command of another venv).
    """
    prefixes = (*SCRUBBED_PREFIXES, *drop)
    env = {k: v for k, v in os.environ.items() if k in KEPT or not k.startswith(prefixes)}
    # bytecode: cached (see the module docstring), never into the checkout or a virtual environment when the
    # caller asked for no bytecode, also when ``drop`` removed the caller's PYTHON* settings
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if os.environ.get("PYTHONDONTWRITEBYTECODE") and "PYTHONPYCACHEPREFIX" not in env:
        cache = _pycache_dir()
        if cache is None:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        else:
            env["PYTHONPYCACHEPREFIX"] = str(cache)
    env.setdefault("PYTHONUNBUFFERED", "1")
    env.update(extra)
    return env


def command_of(name: str = "recon-contracts") -> list[str]:
    """The ``recon-contracts`` console script of this interpreter's environment (or ``python -m``)."""
    script = Path(sys.executable).with_name(name)
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-m", "recon_contracts.cli"]


# ---------------------------------------------------------------------------- memory


def _status_kib(pid: int) -> tuple[int, int] | None:
    """(VmRSS, VmHWM) of a process in KiB, or None when it is gone (or a zombie, which has neither)."""
    try:
        text = (PROC / str(pid) / "status").read_text()
    except OSError:
        return None
    rss = hwm = None
    for line in text.splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
        elif line.startswith("VmHWM:"):
            hwm = int(line.split()[1])
    return (rss, hwm) if rss is not None and hwm is not None else None


def _parents() -> dict[int, int]:
    """pid -> parent pid of every process."""
    out: dict[int, int] = {}
    for entry in os.scandir(PROC):
        if not entry.name.isdigit():
            continue
        try:
            text = (PROC / entry.name / "stat").read_text()
        except OSError:
            continue
        # the command name is in parentheses and may hold spaces: the fields after its last ")" are fixed
        fields = text[text.rfind(")") + 2:].split()
        if len(fields) > 1:
            out[int(entry.name)] = int(fields[1])
    return out


def process_tree(root: int) -> list[int]:
    """``root`` and all its descendants (by parent pid)."""
    children: dict[int, list[int]] = {}
    for pid, ppid in _parents().items():
        children.setdefault(ppid, []).append(pid)
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, ()))
    return tree


@dataclass
class PeakMemory:
    """The high-water mark of a process tree, from samples of ``/proc`` (see the module docstring)."""

    root: int
    tree_kib: int = 0  # the largest sum of VmRSS over the tree at one sample
    process_kib: int = 0  # the largest VmHWM of one process of the tree
    samples: int = 0
    rescan_every: int = 5  # the walk of /proc for new descendants costs a few ms; the status reads far less
    _tree: list[int] = field(default_factory=list)

    def sample(self) -> None:
        if self.samples % self.rescan_every == 0 or not self._tree:
            self._tree = process_tree(self.root)
        total = 0
        for pid in self._tree:
            status = _status_kib(pid)
            if status is None:
                continue
            rss, hwm = status
            total += rss
            self.process_kib = max(self.process_kib, hwm)
        self.tree_kib = max(self.tree_kib, total)
        self.samples += 1

    @property
    def mib(self) -> float | None:
        if not self.samples:
            return None
        return max(self.tree_kib, self.process_kib) / 1024


def can_measure_memory() -> bool:
    return _status_kib(os.getpid()) is not None


# ---------------------------------------------------------------------------- one run


@dataclass
class Finished:
    """How one child process ended."""

    command: list[str]
    code: int | None  # None: killed at the liveness bound
    stdout: str  # stdout and stderr together unless the run kept them apart
    stderr: str
    seconds: float  # wall time: a liveness figure, not a speed target
    peak_mib: float | None = None
    report_dir: Path | None = None
    summary: dict[str, Any] | None = None
    summary_error: str | None = None
    timeout: float = 0.0

    @property
    def ended(self) -> bool:
        return self.code is not None

    @property
    def returncode(self) -> int | None:
        """The exit code, as ``subprocess.CompletedProcess`` names it (None: killed at the liveness bound)."""
        return self.code

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def tail(self, lines: int = TAIL_LINES) -> str:
        return "\n".join(self.output.rstrip().splitlines()[-lines:])

    def report_texts(self) -> dict[str, str]:
        """Every file the run wrote into its report dir, by name."""
        if self.report_dir is None or not self.report_dir.is_dir():
            return {}
        return {p.name: p.read_text(encoding="utf-8", errors="replace")
                for p in sorted(self.report_dir.rglob("*")) if p.is_file()}

    def describe(self) -> str:
        """Exit code, command and the last lines of output: for a failure message."""
        code = "no exit (killed at the liveness bound)" if self.code is None else f"exit {self.code}"
        return f"{code}; command: {' '.join(self.command)}\nlast {TAIL_LINES} lines:\n{self.tail()}"


def read_summary(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    """The run's summary.json, or why it cannot be read."""
    if not path.is_file():
        return None, f"no {path.name} was written"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return None, f"{path.name} is not readable JSON: {exc}"
    if not isinstance(data, dict):
        return None, f"{path.name} is not a JSON object"
    return data, None


def kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


# ---------------------------------------------------------------------------- warm starts

WARM_SERVER = Path(__file__).with_name("warmserver.py")
WARM_ENV = "RECON_TEST_COLD"  # set (to anything) in the caller's environment: every run starts cold
MAX_WARM_SERVERS = 4  # one per distinct environment a test process uses; the least recently used goes first
WARM_REPLY_S = 30.0  # a started server answers a request within this, or it is not used again
CONSOLE_SCRIPTS = {"recon-contracts": ["recon_contracts.cli", "main"]}  # this environment's scripts a warm child runs


class WarmServer:
    """One ``warmserver.py`` process (see its docstring), serving runs of one environment, one at a time."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = dict(env)
        self.proc = subprocess.Popen([sys.executable, str(WARM_SERVER)], env=self.env, cwd=WARM_SERVER.parent,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.busy = False
        self.broken = False
        self._buffer = b""

    def request(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(message) + "\n").encode())
        self.proc.stdin.flush()

    def reply(self, timeout: float) -> dict[str, Any] | None:
        """The server's next reply line, or None when none came within ``timeout`` (or the server is gone)."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + max(0.0, timeout)
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, 65536)
            if not chunk:
                self.broken = True
                return None
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)

    def close(self) -> None:
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()


_WARM: list[WarmServer] = []
_WARM_LOCK = threading.Lock()


def _close_warm_servers() -> None:
    for server in _WARM:
        server.close()


atexit.register(_close_warm_servers)


def warm_target(command: Sequence[str]) -> dict[str, Any] | None:
    """What a warm child runs for ``command``: ``python -m MODULE ARGS`` of this interpreter, or this
    environment's ``recon-contracts`` script; None for anything else (it starts cold)."""
    if len(command) >= 3 and command[0] == sys.executable and command[1] == "-m":
        return {"module": command[2], "args": list(command[3:])}
    script = Path(command[0]) if command else None
    if script is not None and script.name in CONSOLE_SCRIPTS and script == Path(sys.executable).with_name(script.name):
        return {"call": CONSOLE_SCRIPTS[script.name], "argv0": str(script), "args": list(command[1:])}
    return None


def _warm_server(env: Mapping[str, str]) -> WarmServer | None:
    """An idle server of exactly this environment (started when there is none yet), marked busy; or None."""
    if os.environ.get(WARM_ENV):
        return None
    with _WARM_LOCK:
        for server in _WARM:
            if not server.busy and not server.broken and server.env == dict(env):
                server.busy = True
                _WARM.remove(server)
                _WARM.append(server)  # the most recently used last
                return server
        for gone in [s for s in _WARM if s.broken]:
            _WARM.remove(gone)
            gone.close()
        if len(_WARM) >= MAX_WARM_SERVERS:  # the least recently used idle one makes room, or this run starts cold
            idle = [s for s in _WARM if not s.busy]
            if not idle:
                return None
            _WARM.remove(idle[0])
            idle[0].close()
        try:
            server = WarmServer(env)
        except OSError:
            return None
        server.busy = True
        _WARM.append(server)
        return server


def _run_warm(server: WarmServer, target: dict[str, Any], *, cwd: Path, timeout: float, out: Path, err: Path | None,
              measure_memory: bool) -> tuple[int | None, float, PeakMemory | None] | None:
    """One run in a child of ``server``; None when the server could not start it (the caller starts it cold)."""
    started = time.monotonic()
    server.request({**target, "cwd": str(cwd), "env": server.env, "stdout": str(out),
                    "stderr": str(err) if err is not None else None})
    first = server.reply(WARM_REPLY_S)
    if first is None or "pid" not in first:
        server.broken = True
        return None
    pid = int(first["pid"])
    peak = PeakMemory(pid) if measure_memory and can_measure_memory() else None
    deadline = started + timeout
    code: int | None = None
    while True:
        wait = SAMPLE_S if peak is not None else max(0.0, min(deadline - time.monotonic(), 1.0))
        if peak is not None:
            peak.sample()
        ended = server.reply(wait)
        if ended is not None:
            code = ended.get("code")
            break
        if server.broken:  # the child has started: it is killed, never started a second time cold
            kill_group(pid)
            return None, time.monotonic() - started, peak
        if time.monotonic() >= deadline:
            kill_group(pid)
            ended = server.reply(WARM_REPLY_S)
            if ended is None:
                server.broken = True
            code = None
            break
    kill_group(pid)  # whatever the child left running in its group
    return code, time.monotonic() - started, peak


def _run_cold(command: list[str], *, cwd: Path, timeout: float, env: dict[str, str], merge_stderr: bool,
              measure_memory: bool) -> tuple[int | None, float, PeakMemory | None, str, str]:
    """``command`` in a fresh process (the warm start's fallback, and every command that is not ``python -m``)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        child = subprocess.Popen(
            command, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
            stdout=out, stderr=subprocess.STDOUT if merge_stderr else err, start_new_session=True,
        )
        # Popen returns once the child has exec'd: from here on its memory is its own
        peak = PeakMemory(child.pid) if measure_memory and can_measure_memory() else None
        deadline = started + timeout
        code: int | None = None
        while True:
            if peak is not None:
                peak.sample()
                wait = SAMPLE_S
            else:
                wait = max(0.0, min(deadline - time.monotonic(), 1.0))
            try:
                code = child.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                if time.monotonic() >= deadline:
                    kill_group(child.pid)
                    child.wait()
                    code = None
                    break
        kill_group(child.pid)  # whatever the child left running in its group
        seconds = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    return code, seconds, peak, stdout, stderr


def run(
    command: Sequence[str],
    *,
    cwd: Path,
    timeout: float,
    env: Mapping[str, str] | None = None,
    report_dir: Path | None = None,
    output_file: Path | None = None,
    merge_stderr: bool = True,
    measure_memory: bool = False,
) -> Finished:
    """Run ``command`` until it ends or ``timeout`` seconds pass (then its whole process group is killed).

    ``report_dir``: where the run writes its reports; its summary.json is read. ``output_file``: where the
    output is kept as well (the self-verification keeps it beside the reports).
    """
    command = [str(part) for part in command]
    child_env = dict(env) if env is not None else scrubbed_env()
    target = warm_target(command)
    server = _warm_server(child_env) if target is not None else None
    warm = None
    if server is not None:
        assert target is not None
        try:
            with tempfile.TemporaryDirectory(prefix="recon-run-") as folder:
                out_path = Path(folder) / "stdout"
                err_path = None if merge_stderr else Path(folder) / "stderr"
                warm = _run_warm(server, target, cwd=cwd, timeout=timeout, out=out_path, err=err_path,
                                 measure_memory=measure_memory)
                if warm is not None:
                    stdout = out_path.read_text(encoding="utf-8", errors="replace") if out_path.is_file() else ""
                    stderr = err_path.read_text(encoding="utf-8", errors="replace") if err_path and err_path.is_file() else ""
        finally:
            server.busy = False
    if warm is not None:
        code, seconds, peak = warm
    else:
        code, seconds, peak, stdout, stderr = _run_cold(command, cwd=cwd, timeout=timeout, env=child_env,
                                                        merge_stderr=merge_stderr, measure_memory=measure_memory)
    if code is None:
        stdout += f"\n[killed after the liveness bound of {timeout:g} s]\n"
    if output_file is not None:
        output_file.parent.mkdir(parents=True, exist_ok=True)
        output_file.write_text(stdout + stderr, encoding="utf-8")
    summary, summary_error = read_summary(report_dir / "summary.json") if report_dir is not None else (None, None)
    return Finished(command=command, code=code, stdout=stdout, stderr=stderr, seconds=seconds,
                    peak_mib=peak.mib if peak is not None else None, report_dir=report_dir,
                    summary=summary, summary_error=summary_error, timeout=timeout)


def argv_of_pytest(*args: str) -> list[str]:
    """``python -m pytest ARGS`` with this interpreter."""
    return [sys.executable, "-m", "pytest", *args]
