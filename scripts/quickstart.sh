#!/usr/bin/env bash
# The README's main command: install mlplat, then build and inspect the `local` environment
# (the production Terraform against mlplat's embedded AWS emulator; no AWS account needed).
set -euo pipefail
cd "$(dirname "$0")/.."
# the test-only tools (checkov, tritonserver, promtool/amtool) are not needed to run mlplat
MLPLAT_SKIP_CHECKOV=1 MLPLAT_SKIP_TRITON=1 MLPLAT_SKIP_PROMETHEUS=1 bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PWD/.tools/bin:$PATH"
mlplat up --env local --yes
mlplat status --env local
