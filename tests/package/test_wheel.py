"""The wheel is enough: built from this checkout, installed into a fresh virtual environment, it runs the
contract suite from an empty directory, through ``recon-contracts run`` and through ``pytest --pyargs``.

Two ways to install, chosen by ``RECON_WHEEL_FULL_INSTALL``:

* set: ``pip install WHEEL`` into a brand-new venv, dependencies resolved and installed by pip from the
  configured index, as a user would (``.ci/run`` does this as a step of its own, then runs ``recon-contracts
  run`` and ``docs`` from an empty directory);
* unset (the default, to keep the everyday run short): the fresh venv gets only the wheel
  (``pip install --no-deps``); the dependencies it declares are borrowed from this environment through a
  ``.pth`` path entry (which adds that folder, not the editable install of this checkout: ``.pth`` files of
  an added folder are not processed). The test checks that ``recon_contracts`` is imported from the fresh
  venv, never from the checkout.

``RECON_TEST_WHEEL`` names a wheel already built from this checkout, so that ``.ci/run`` builds it once for
this test and for its own install step; without it the test builds one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from recon_contracts.truth.resources import project_root
from support.suiteproc import scrubbed_env

ROOT = project_root()
FULL = os.environ.get("RECON_WHEEL_FULL_INSTALL", "").strip().lower() not in {"", "0", "false", "no"}
# A wheel already built from this checkout (.ci/run builds it once, for this test and for its own install step).
BUILT = os.environ.get("RECON_TEST_WHEEL", "").strip()
TIMEOUT = 600 if FULL else 240

pytestmark = pytest.mark.skipif(not (ROOT / "pyproject.toml").is_file(), reason="needs a checkout to build the wheel from")


def _run(args: list[str], *, cwd: Path, env: dict[str, str] | None = None, timeout: float = TIMEOUT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if BUILT:
        built = Path(BUILT)
        assert built.is_file() and built.name.startswith("recon_contracts-") and built.suffix == ".whl", (
            f"RECON_TEST_WHEEL={BUILT}: expected a recon_contracts wheel file")
        return built
    out = tmp_path_factory.mktemp("dist")
    proc = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(out), str(ROOT)], cwd=out)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    (built,) = out.glob("recon_contracts-*.whl")
    return built


@pytest.fixture(scope="module")
def fresh_venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("venv") / "env"
    venv.EnvBuilder(with_pip=FULL, clear=True).create(home)
    python = home / "bin" / "python"
    if FULL:
        proc = _run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], cwd=home)
    else:
        purelib = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=home).stdout.strip())
        (purelib / "borrowed-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
        proc = _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", str(wheel)], cwd=home)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return home


def _env(home: Path, workdir: Path) -> dict[str, str]:
    env = scrubbed_env(drop=("PYTHON", "VIRTUAL_ENV"))
    env.update(PATH=f"{home / 'bin'}{os.pathsep}{env.get('PATH', '')}", VIRTUAL_ENV=str(home), HOME=str(workdir), CI="true")
    return env


def test_the_wheel_carries_the_suite_the_specs_and_the_plugin(wheel: Path) -> None:
    import zipfile

    names = set(zipfile.ZipFile(wheel).namelist())
    suite = {n.split("/", 2)[2] for n in names if n.startswith("recon_contracts/suite/")}
    assert {p.name for p in (ROOT / "tests" / "contract").glob("*.py")} <= suite  # the one copy, carried whole
    assert "recon_contracts/_data/contracts/rules.yaml" in names
    assert "recon_contracts/docsite/templates/index.html.j2" in names
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "[pytest11]" in text and "recon_contracts.plugin.hooks" in text


def test_recon_contracts_run_from_an_empty_directory(fresh_venv: Path, tmp_path: Path) -> None:
    workdir = tmp_path / "empty"
    workdir.mkdir()
    env = _env(fresh_venv, workdir)
    where = _run([str(fresh_venv / "bin" / "python"), "-c", "import recon_contracts; print(recon_contracts.__file__)"],
                 cwd=workdir, env=env)
    assert where.returncode == 0 and Path(where.stdout.strip()).is_relative_to(fresh_venv), where.stdout + where.stderr

    proc = _run([str(fresh_venv / "bin" / "recon-contracts"), "run", "--examples", "3", "--mock-items", "12"], cwd=workdir, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "verdict: pass" in proc.stdout
    summary = json.loads((workdir / "reports" / "summary.json").read_text(encoding="utf-8"))
    assert summary["verdict"] == "pass" and summary["tests"]["passed"] > 0
    # every rule proven against the conforming mock; the BASELINE-* rules wait for a --baseline file
    statuses = {r["id"]: r["status"] for r in summary["rules"]}
    assert {s for rule_id, s in statuses.items() if not rule_id.startswith("BASELINE-")} == {"passed"}, statuses
    assert {s for rule_id, s in statuses.items() if rule_id.startswith("BASELINE-")} == {"not_exercised"}, statuses
    assert (workdir / "reports" / "report.html").is_file() and (workdir / "reports" / "junit.xml").is_file()
    assert (workdir / "reports" / "reference" / "index.html").is_file()


def test_pytest_pyargs_runs_the_same_suite(fresh_venv: Path, tmp_path: Path) -> None:
    workdir = tmp_path / "empty"
    workdir.mkdir()
    proc = _run([str(fresh_venv / "bin" / "python"), "-m", "pytest", "--pyargs", "recon_contracts.suite", "-q",
                 "-k", "auth or charge", "--strict-drift", "--report-dir", "out", "--examples", "2", "--mock-items", "12"],
                cwd=workdir, env=_env(fresh_venv, workdir))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    summary = json.loads((workdir / "out" / "summary.json").read_text(encoding="utf-8"))
    statuses = {r["id"]: r["status"] for r in summary["rules"]}
    assert statuses["PC-AUTH-401"] == "passed" and statuses["PC-CHARGETYPE-MAPPED"] == "passed"
    assert statuses["PC-PAGING-NEXT-TOKEN"] == "not_exercised"  # deselected by -k: said, not silently passed
    assert summary["strict"] is True


def test_recon_contracts_docs_from_the_wheel(fresh_venv: Path, tmp_path: Path) -> None:
    proc = _run([str(fresh_venv / "bin" / "recon-contracts"), "docs", "--out", "site"], cwd=tmp_path, env=_env(fresh_venv, tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert 'id="rule-PC-PAGING-NEXT-TOKEN"' in (tmp_path / "site" / "index.html").read_text(encoding="utf-8")


def test_recon_contracts_run_against_given_base_urls(fresh_venv: Path, tmp_path: Path) -> None:
    from recon_contracts.mock import MockConfig, serve

    with serve(MockConfig(items=12, retry_after=0, poll_count=1)) as server:
        proc = _run([str(fresh_venv / "bin" / "recon-contracts"), "run", "--pc-base-url", server.pc_base_url,
                     "--graph-base-url", server.graph_base_url, "--pc-token", "token-for-the-mock",
                     "--graph-token", "token-for-the-mock", "--examples", "2", "--", "-k", "auth or items or export_accepted"],
                    cwd=tmp_path, env=_env(fresh_venv, tmp_path))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    summary = json.loads((tmp_path / "reports" / "summary.json").read_text(encoding="utf-8"))
    assert summary["targets"]["partner-center"] == server.pc_base_url and summary["targets"]["mock_profile"] is None
    assert "token-for-the-mock" not in (tmp_path / "reports" / "summary.json").read_text(encoding="utf-8")
