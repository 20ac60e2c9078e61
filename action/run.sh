#!/usr/bin/env bash
# The script of the composite action (action.yml): runs the contract suite against the targets given as inputs
# (environment variables RECON_* and AZURE_*; none given: the embedded mock), writes every report into
# RECON_REPORT_DIR (the step summary too, when GITHUB_STEP_SUMMARY is set), publishes the verdict as step
# outputs, and exits with the suite's code: 0 pass, 1 fail, 2 inconclusive, 4 bad input.
set -uo pipefail

REPORT_DIR="${RECON_REPORT_DIR:-recon-reports}"
export RECON_REPORT_DIR="$REPORT_DIR"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${RECON_PYTHON:-python3}"

if [ "${RECON_SKIP_INSTALL:-}" != "1" ]; then
    "$PYTHON" -m pip install --quiet --disable-pip-version-check "${GITHUB_ACTION_PATH:-$HERE}" || exit 4
fi

args=(run --report-dir "$REPORT_DIR")
case "${RECON_STRICT_INPUT:-false}" in
    true|1|yes) args+=(--strict) ;;
esac

"$PYTHON" -m recon_contracts.cli "${args[@]}"
code=$?

verdict=$("$PYTHON" - "$REPORT_DIR/summary.json" <<'PY' 2>/dev/null || echo "not run"
import json, sys
print(json.load(open(sys.argv[1], encoding="utf-8")).get("verdict", "fail"))
PY
)
if [ -n "${GITHUB_OUTPUT:-}" ]; then
    {
        echo "verdict=$verdict"
        echo "exit-code=$code"
        echo "report-dir=$REPORT_DIR"
        echo "sarif=$REPORT_DIR/report.sarif"
    } >> "$GITHUB_OUTPUT"
fi
exit "$code"
