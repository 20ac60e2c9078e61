"""A warm start for suite processes: one server per environment imports the suite once, then forks a child per run.

Started by :mod:`support.suiteproc` as ``python warmserver.py`` with the environment of the runs it will serve,
it imports pytest, its plugins (Hypothesis, Schemathesis, ours), the mock and the command layer, and reads the
specs and the rule catalog. Then, for each request (one JSON line on stdin), it forks: the child becomes the
leader of a new session, takes the request's working directory, environment, argv and output file, runs
``python -m MODULE`` (or a console script's function) as a fresh interpreter would, and exits with its code.
The server answers ``{"pid": N}`` when the child started and ``{"pid": N, "code": C}`` when it ended (C is
None when a signal ended it), and serves the next request. End of stdin ends the server.

What a child does not share with a fresh interpreter, and why that is fine for these runs:
- modules imported before pytest's assertion-rewriting hook existed are not rewritten: our package and the
  plugins' (their asserts are not the tests' own; pytest's warning that says so is turned off here). The test
  modules themselves are imported by the child, under the hook, as in a fresh process.
- settings read when the interpreter starts (``PYTHON*`` variables, Hypothesis's CI profile) are the server's:
  the client keeps one server per environment, so they are the run's own.
"""

from __future__ import annotations

import atexit
import gc
import importlib
import json
import os
import pkgutil
import runpy
import signal
import sys
import traceback
from typing import Any, NoReturn

PRELOAD = (
    "pytest", "_pytest.python", "_pytest.terminal", "_pytest.junitxml", "_pytest.fixtures", "_pytest.runner",
    "_pytest.skipping", "_pytest.warnings", "_pytest.logging", "_pytest.capture", "_pytest.tmpdir",
    "_pytest.assertion.rewrite", "_pytest.pytester_assertions", "_hypothesis_pytestplugin", "xdist.looponfail",
    "hypothesis", "hypothesis.strategies", "requests", "urllib3", "httpx", "jsonschema", "referencing", "yaml",
    "orjson", "werkzeug", "werkzeug.wrappers", "werkzeug.test", "starlette.applications", "harfile",
)
# every module of these packages (what a suite run imports sooner or later: measured, about 370 modules)
PRELOAD_PACKAGES = ("recon_contracts", "schemathesis", "anyio", "uvicorn")


def _preload() -> None:
    names = list(PRELOAD)
    for package in PRELOAD_PACKAGES:
        try:
            root = importlib.import_module(package)
        except ImportError:
            continue
        names += [info.name for info in pkgutil.walk_packages(root.__path__, f"{package}.", onerror=lambda _: None)
                  if not info.name.rsplit(".", 1)[-1].startswith(("__main__", "test"))]
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - an optional part (a missing extra): the child imports what it needs
            continue
    try:
        from recon_contracts.truth.rules import catalog
        from recon_contracts.truth.spec import SPEC_FILES, load_spec

        catalog()
        for spec in SPEC_FILES:
            load_spec(spec)
    except Exception:  # noqa: BLE001 - a warm-up only: the child reads (and reports) them itself
        pass


def _quiet_rewrite_warning() -> None:
    try:
        from _pytest.assertion.rewrite import AssertionRewritingHook
    except ImportError:
        return
    AssertionRewritingHook._warn_already_imported = lambda self, name: None  # type: ignore[method-assign]


def _exit_code(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    print(value, file=sys.stderr)
    return 1


def _child(request: dict[str, Any], started: int) -> NoReturn:
    code = 1
    try:
        os.setsid()
        os.write(started, b"s")  # the server answers with our pid only now: a kill of our group reaches us
        os.close(started)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        null = os.open(os.devnull, os.O_RDONLY)
        out = os.open(request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        err = os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600) if request.get("stderr") else out
        os.dup2(null, 0)
        os.dup2(out, 1)
        os.dup2(err, 2)
        for fd in {null, out, err}:
            os.close(fd)
        _quiet_rewrite_warning()
        sys.path[0] = os.getcwd()  # as ``python -m`` has it
        if "module" in request:
            sys.argv = [request["module"], *request["args"]]
            # ``python -m X`` runs X as __main__ before anything imports X: a preloaded X would make runpy warn
            sys.modules.pop(request["module"], None)
            try:
                runpy.run_module(request["module"], run_name="__main__", alter_sys=True)
                code = 0
            except SystemExit as exc:
                code = _exit_code(exc.code)
        else:
            module, function = request["call"]
            sys.argv = [request["argv0"], *request["args"]]
            try:
                code = _exit_code(getattr(importlib.import_module(module), function)())
            except SystemExit as exc:
                code = _exit_code(exc.code)
    except BaseException:  # noqa: BLE001 - the child's own crash, told on its stderr as Python would
        traceback.print_exc()
        code = 1
    try:
        atexit._run_exitfuncs()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def serve() -> None:
    _preload()
    # Everything imported so far lives as long as the server: out of the collector's sight (gc.freeze, made for a
    # server that forks), a child's collections walk only its own objects. pytest collects five times over at a
    # session's end; over the preloaded heap that was a fifth of a short run's CPU.
    gc.collect()
    gc.freeze()
    replies = sys.stdout
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        replies.flush()
        sys.stderr.flush()
        ready, started = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(ready)
            _child(request, started)
        os.close(started)
        os.read(ready, 1)  # the child leads its own session (or is gone: end of file)
        os.close(ready)
        replies.write(json.dumps({"pid": pid}) + "\n")
        replies.flush()
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        replies.write(json.dumps({"pid": pid, "code": code if code >= 0 else None}) + "\n")
        replies.flush()


if __name__ == "__main__":
    serve()
