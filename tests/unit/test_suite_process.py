"""The suite-process runner (tests/support/suiteproc.py): the child's own peak memory, the liveness bound and the
kill of the whole process group, the scrubbed environment, the summary read back.

Memory figures: a child's memory is its own and its descendants', never the memory of the process that
started it (``ru_maxrss`` from ``wait4`` would carry the parent's high-water mark over on Linux).
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
import time
from pathlib import Path

import pytest

from support import suiteproc
from support.suiteproc import run, scrubbed_env

pytestmark = pytest.mark.skipif(not suiteproc.can_measure_memory(), reason="no /proc: peak memory is not measured here")

MIB = 1 << 20
TESTS = Path(__file__).resolve().parents[1]
BOUND = 60.0  # liveness bound of each run, not a speed target


def python(code: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(code)]


def hold(mib: int, then: str = "") -> str:
    """Python code that makes ``mib`` MiB resident (every page written), then runs ``then``."""
    return f"import time\nblock = b'x' * ({mib} << 20)\n{then}\n"


def test_a_big_parent_does_not_inflate_its_childs_figure(tmp_path):
    """A parent holding 400 MiB starts a bare interpreter: the child's figure is the child's, a few MiB."""
    parent = python(f"""
        import json, os, sys
        sys.path.insert(0, {str(TESTS)!r})
        from support.suiteproc import run
        {hold(400).strip().replace(chr(10), chr(10) + '        ')}
        finished = run([sys.executable, "-c", "import time; time.sleep(0.5)"], cwd={str(tmp_path)!r}, timeout=60,
                       measure_memory=True)
        status = open("/proc/self/status").read()
        own = int(status.split("VmHWM:")[1].split()[0]) / 1024
        print(json.dumps({{"child": finished.peak_mib, "code": finished.code, "parent": own}}))
    """)
    finished = run(parent, cwd=tmp_path, timeout=BOUND)
    assert finished.code == 0, finished.describe()
    figures = json.loads(finished.stdout.strip().splitlines()[-1])
    assert figures["parent"] >= 400, f"the parent was meant to hold 400 MiB; it held {figures['parent']:.0f} MiB"
    assert figures["code"] == 0
    assert figures["child"] is not None and 0 < figures["child"] < 100, (
        f"expected the child's own figure (a bare interpreter, under 100 MiB), got {figures['child']:.0f} MiB "
        f"from a parent of {figures['parent']:.0f} MiB")


def test_a_child_allocating_300_mib_is_reported_as_at_least_that(tmp_path):
    finished = run(python(hold(300, "time.sleep(1.0)")), cwd=tmp_path, timeout=BOUND, measure_memory=True)
    assert finished.code == 0, finished.describe()
    assert finished.peak_mib is not None and finished.peak_mib >= 300, f"expected >= 300 MiB, got {finished.peak_mib}"


def test_memory_freed_before_the_next_sample_still_counts(tmp_path):
    """The high-water mark of the process (VmHWM) keeps a spike that no sample of VmRSS saw."""
    code = hold(300, "del block\ntime.sleep(1.0)")
    finished = run(python(code), cwd=tmp_path, timeout=BOUND, measure_memory=True)
    assert finished.code == 0, finished.describe()
    assert finished.peak_mib is not None and finished.peak_mib >= 300, f"expected >= 300 MiB, got {finished.peak_mib}"


def test_a_grandchild_allocating_is_counted(tmp_path):
    grandchild = hold(300, "time.sleep(1.0)")
    child = python(f"""
        import subprocess, sys
        sys.exit(subprocess.run([sys.executable, "-c", {grandchild!r}]).returncode)
    """)
    finished = run(child, cwd=tmp_path, timeout=BOUND, measure_memory=True)
    assert finished.code == 0, finished.describe()
    assert finished.peak_mib is not None and finished.peak_mib >= 300, f"expected >= 300 MiB, got {finished.peak_mib}"


def test_children_together_are_summed(tmp_path):
    """Two grandchildren holding 200 MiB each at the same time: the tree held 400 MiB, more than either."""
    grandchild = hold(200, "time.sleep(1.5)")
    child = python(f"""
        import subprocess, sys
        procs = [subprocess.Popen([sys.executable, "-c", {grandchild!r}]) for _ in range(2)]
        sys.exit(max(p.wait() for p in procs))
    """)
    finished = run(child, cwd=tmp_path, timeout=BOUND, measure_memory=True)
    assert finished.code == 0, finished.describe()
    assert finished.peak_mib is not None and finished.peak_mib >= 400, f"expected >= 400 MiB, got {finished.peak_mib}"


def test_the_liveness_bound_kills_the_whole_process_group(tmp_path):
    pid_file = tmp_path / "grandchild.pid"
    child = python(f"""
        import subprocess, sys, time
        grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        open({str(pid_file)!r}, "w").write(str(grandchild.pid))
        print("started", flush=True)
        time.sleep(120)
    """)
    finished = run(child, cwd=tmp_path, timeout=6)  # room for a slow start on a busy machine
    assert finished.code is None and not finished.ended
    assert "started" in finished.stdout and "killed after the liveness bound of 6 s" in finished.stdout, finished.stdout
    grandchild = int(pid_file.read_text())
    for _ in range(50):  # the kill is sent; reaping by init may take a moment
        if not _alive(grandchild):
            break
        time.sleep(0.1)
    assert not _alive(grandchild), f"the grandchild {grandchild} outlived the liveness bound"


def _alive(pid: int) -> bool:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return text[text.rfind(")") + 2] != "Z"


def test_output_exit_code_and_summary_are_read_back(tmp_path):
    reports = tmp_path / "reports"
    code = f"""
        import json, os, sys
        os.makedirs({str(reports)!r})
        open(os.path.join({str(reports)!r}, "summary.json"), "w").write(json.dumps({{"verdict": "fail"}}))
        print("to stdout"); print("to stderr", file=sys.stderr); sys.exit(1)
    """
    merged = run(python(code), cwd=tmp_path, timeout=BOUND, report_dir=reports, output_file=tmp_path / "out.txt")
    assert merged.code == 1 and merged.summary == {"verdict": "fail"} and merged.summary_error is None
    assert "to stdout" in merged.stdout and "to stderr" in merged.stdout
    assert (tmp_path / "out.txt").read_text(encoding="utf-8") == merged.output
    apart = run(python("import sys; print('to stdout'); print('to stderr', file=sys.stderr)"),
                cwd=tmp_path, timeout=BOUND, merge_stderr=False)
    assert apart.stdout.strip() == "to stdout" and apart.stderr.strip() == "to stderr"
    missing = run(python("pass"), cwd=tmp_path, timeout=BOUND, report_dir=tmp_path / "none")
    assert missing.summary is None and missing.summary_error == "no summary.json was written"


def test_the_environment_is_scrubbed(monkeypatch):
    for name, value in {"RECON_PC_BASE_URL": "https://elsewhere.example", "AZURE_CLIENT_SECRET": "s",
                        "PYTEST_ADDOPTS": "-x", "HYPOTHESIS_PROFILE": "p", "RECON_CONTRACTS_HOME": "/h",
                        "PYTHONDONTWRITEBYTECODE": "1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("PYTHONPYCACHEPREFIX", raising=False)
    env = scrubbed_env(CI="true")
    kept = {k for k in env if k.startswith(("RECON_", "AZURE_", "PYTEST_", "HYPOTHESIS"))}
    assert kept == {"RECON_CONTRACTS_HOME"}
    assert env["CI"] == "true" and env["PYTHONUNBUFFERED"] == "1"
    # bytecode is cached again, in a private folder outside the checkout
    assert "PYTHONDONTWRITEBYTECODE" not in env
    cache = Path(env["PYTHONPYCACHEPREFIX"])
    assert cache.is_dir() and cache.stat().st_uid == os.getuid() and not cache.stat().st_mode & 0o022
    monkeypatch.setenv("VIRTUAL_ENV", "/some/venv")
    assert "VIRTUAL_ENV" not in scrubbed_env(drop=("VIRTUAL_ENV",)) and "VIRTUAL_ENV" in scrubbed_env()
    # a command of another venv: the caller's PYTHON* settings go, the bytecode cache stays out of that venv
    other = scrubbed_env(drop=("PYTHON",))
    assert other["PYTHONPYCACHEPREFIX"] == str(cache) and "PYTHONDONTWRITEBYTECODE" not in other
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE")
    assert "PYTHONPYCACHEPREFIX" not in scrubbed_env()  # bytecode where Python puts it, as the caller has it


# ---------------------------------------------------------------------------- warm starts (tests/support/warmserver.py)


def module_at(folder: Path, name: str, code: str) -> list[str]:
    """``python -m NAME`` of a module written into ``folder`` (the run's working directory, as with ``-m``)."""
    (folder / f"{name}.py").write_text(textwrap.dedent(code), encoding="utf-8")
    return [sys.executable, "-m", name]


def test_python_dash_m_runs_warm_and_anything_else_cold(tmp_path):
    assert suiteproc.warm_target([sys.executable, "-m", "pytest", "-q"]) == {"module": "pytest", "args": ["-q"]}
    assert suiteproc.warm_target([sys.executable, "-c", "pass"]) is None
    assert suiteproc.warm_target(["/usr/bin/python3", "-m", "pytest"]) is None or sys.executable == "/usr/bin/python3"
    script = Path(sys.executable).with_name("recon-contracts")
    assert suiteproc.warm_target([str(script), "run"]) == {"call": ["recon_contracts.cli", "main"], "argv0": str(script),
                                                          "args": ["run"]}
    assert suiteproc.warm_target([str(tmp_path / "recon-contracts"), "run"]) is None  # another environment's script


def test_a_warm_run_ends_as_a_cold_one_does(tmp_path, monkeypatch):
    """Exit code, stdout and stderr apart, the working directory, the environment and argv: the same either way."""
    command = module_at(tmp_path, "probe", """
        import os, sys
        print("cwd", os.getcwd(), "argv", sys.argv[1:], "env", os.environ.get("PROBE_VALUE"), "main", __name__)
        print("to stderr", file=sys.stderr)
        print("leader", os.getpgid(0) == os.getpid(), "session", os.getsid(0) == os.getpid())
        sys.exit(3)
    """)
    env = scrubbed_env(PROBE_VALUE="seven")
    warm = run([*command, "a", "b c"], cwd=tmp_path, timeout=BOUND, env=env, merge_stderr=False)
    assert any(s.env == env and not s.broken for s in suiteproc._WARM), "the run did not go to a warm server"
    monkeypatch.setenv(suiteproc.WARM_ENV, "1")
    cold = run([*command, "a", "b c"], cwd=tmp_path, timeout=BOUND, env=env, merge_stderr=False)
    assert warm.code == cold.code == 3
    assert warm.stdout == cold.stdout == (f"cwd {tmp_path} argv ['a', 'b c'] env seven main __main__\n"
                                          "leader True session True\n")
    assert warm.stderr == cold.stderr == "to stderr\n"


@pytest.mark.parametrize(("body", "code", "said"), [
    ("raise SystemExit('no such thing')", 1, "no such thing"),
    ("raise ValueError('broken')", 1, "ValueError: broken"),
    ("import sys; sys.exit(None)", 0, ""),
])
def test_a_warm_child_exits_with_pythons_code_and_words(tmp_path, body, code, said):
    proc = run(module_at(tmp_path, "ends", body), cwd=tmp_path, timeout=BOUND, env=scrubbed_env(WARM_CASE=body))
    assert proc.code == code and said in proc.output


def test_the_bound_kills_a_warm_child_and_its_server_serves_on(tmp_path):
    env = scrubbed_env(WARM_CASE="bound")
    stuck = run(module_at(tmp_path, "stuck", "import time\ntime.sleep(600)\n"), cwd=tmp_path, timeout=1.0, env=env)
    assert stuck.code is None and "liveness bound" in stuck.output
    servers = [s for s in suiteproc._WARM if s.env == env]
    assert len(servers) == 1 and not servers[0].broken
    again = run(module_at(tmp_path, "quick", "print('served')"), cwd=tmp_path, timeout=BOUND, env=env)
    assert again.code == 0 and again.stdout == "served\n"
    assert [s for s in suiteproc._WARM if s.env == env] == servers  # the same server, not a new one


def test_a_warm_child_allocating_300_mib_is_reported_as_at_least_that(tmp_path):
    proc = run(module_at(tmp_path, "big", hold(300, "time.sleep(0.5)")), cwd=tmp_path, timeout=BOUND,
               env=scrubbed_env(WARM_CASE="memory"), measure_memory=True)
    assert proc.code == 0 and proc.peak_mib is not None and proc.peak_mib >= 300


def test_the_server_names_a_child_only_once_it_leads_its_own_session(tmp_path):
    """A kill of the child's group can come at once (a bound already past under load): the child must be the leader
    of its session by the time the server names it, or the kill misses it and the server waits on it."""
    (tmp_path / "naps.py").write_text("import time\ntime.sleep(30)\n", encoding="utf-8")
    server = suiteproc.WarmServer(scrubbed_env(WARM_CASE="leader"))
    try:
        for _ in range(20):
            server.request({"module": "naps", "args": [], "cwd": str(tmp_path), "env": server.env,
                            "stdout": str(tmp_path / "out"), "stderr": None})
            first = server.reply(60)
            assert first is not None
            pid = first["pid"]
            leads = os.getsid(pid) == pid and os.getpgid(pid) == pid
            suiteproc.kill_group(pid)
            assert server.reply(60) == {"pid": pid, "code": None}
            assert leads, "the server named its child before the child led its own session"
    finally:
        server.close()


def test_a_warm_child_killed_at_once_is_killed_with_its_group(tmp_path):
    """The same through the runner: a bound of 0 s kills the child each time, and the server serves on."""
    env = scrubbed_env(WARM_CASE="at-once")
    for _ in range(3):
        stuck = run(module_at(tmp_path, "stuck_at_once", "import time\ntime.sleep(600)\n"), cwd=tmp_path, timeout=0.0,
                    env=env)
        assert stuck.code is None
    servers = [s for s in suiteproc._WARM if s.env == env]
    assert len(servers) == 1 and not servers[0].broken
