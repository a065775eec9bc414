#!/usr/bin/env bash
# Rewrites requirements/ci.txt, the versions .ci/run installs, from pyproject.toml, pinning each
# package to the version in the active venv where it has one (run it where the whole suite just
# passed, so CI runs what was tested). Needs uv from PyPI: pip install uv.
set -euo pipefail
cd "$(dirname "$0")/.."
tested=$(mktemp)
trap 'rm -f "$tested"' EXIT
pip freeze --exclude-editable >"$tested"
uv pip compile pyproject.toml --all-extras --python-version 3.11 --constraint "$tested" \
  --no-annotate --custom-compile-command "requirements/lock.sh" --output-file requirements/ci.txt
