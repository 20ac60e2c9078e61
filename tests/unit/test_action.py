"""The composite action (action.yml) and the script it runs, against the embedded mock."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import yaml

from recon_contracts.options import OPTIONS
from recon_contracts.truth.resources import project_root

ROOT = project_root()
SCRIPT = ROOT / "action" / "run.sh"


def _env(tmp_path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RECON_", "AZURE_", "GITHUB_", "PYTEST_")) and k != "CI"}
    env.update({"RECON_SKIP_INSTALL": "1", "RECON_PYTHON": sys.executable, "CI": "true",
                "GITHUB_STEP_SUMMARY": str(tmp_path / "step.md"), "GITHUB_OUTPUT": str(tmp_path / "out.txt"),
                "RECON_REPORT_DIR": str(tmp_path / "reports")})
    env.update(extra)
    return env


def _outputs(tmp_path) -> dict[str, str]:
    lines = (tmp_path / "out.txt").read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines)


def test_the_action_passes_the_embedded_mock_and_fills_the_job_page(tmp_path):
    done = subprocess.run(["bash", str(SCRIPT)], cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    outputs = _outputs(tmp_path)
    assert outputs["verdict"] == "pass" and outputs["exit-code"] == "0"
    reports = tmp_path / "reports"
    assert {"junit.xml", "summary.json", "report.html", "report.sarif", "traffic.har"} <= {p.name for p in reports.iterdir()}
    assert outputs["sarif"] == f"{reports}/report.sarif"
    assert json.loads((reports / "report.sarif").read_text(encoding="utf-8"))["version"] == "2.1.0"
    step = (tmp_path / "step.md").read_text(encoding="utf-8")
    assert "## recon-contracts: ✅ pass" in step


def test_the_action_exits_4_on_bad_input(tmp_path):
    done = subprocess.run(["bash", str(SCRIPT)], cwd=tmp_path, env=_env(tmp_path, RECON_PC_BASE_URL="not-a-url"),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 4, done.stdout[-2000:] + done.stderr[-2000:]
    assert _outputs(tmp_path)["exit-code"] == "4"


def test_action_yml_maps_every_input_to_an_option_the_suite_reads():
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    assert action["runs"]["using"] == "composite"
    step = next(s for s in action["runs"]["steps"] if s.get("id") == "suite")
    assert "action/run.sh" in step["run"]
    known = {o.env for o in OPTIONS if o.env} | {"AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET",
                                                  "RECON_STRICT_INPUT", "RECON_PYTHON"}
    assert set(step["env"]) <= known, set(step["env"]) - known
    used = {value.split("inputs.")[1].rstrip(" }") for value in step["env"].values() if "inputs." in str(value)}
    assert used | {"python-version"} == set(action["inputs"])


def test_the_readme_workflow_uses_the_action_by_path_after_a_checkout():
    """The README's CI example runs as written: the checked-out repository's action.yml by `uses: ./`, and no
    owner name that is not this project's (the other `uses:` are GitHub's own actions)."""
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## CI"):]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block is not None
    workflow = yaml.safe_load(block.group(1))
    (job,) = workflow["jobs"].values()
    uses = [step.get("uses", "") for step in job["steps"]]
    local = uses.index("./")
    assert uses[local - 1].startswith("actions/checkout@"), "the action is used from the checkout: check out first"
    assert job["steps"][local]["id"] == "contract" and (ROOT / "action.yml").is_file()
    assert all(u == "./" or u.split("/", 1)[0] in ("actions", "github") for u in uses), uses
    inputs = set(yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))["inputs"])
    assert set(job["steps"][local]["with"]) <= inputs
