#!/usr/bin/env bash
# The whole test suite, from a fresh checkout: installs what it needs, then lint, types, tests.
# Usage: scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.tools/bin:$PATH"
export MLPLAT_CHECKOV="$PWD/.venv-checkov/bin/checkov"

echo "== ruff"; .venv/bin/ruff check src tests benchmarks
echo "== mypy (strict)"; .venv/bin/mypy
echo "== pytest"
set +e
.venv/bin/pytest "$@"
code=$?
set -e
if [ "$code" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure here" >&2
  exit 1
fi
exit "$code"
