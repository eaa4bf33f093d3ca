#!/usr/bin/env bash
# The README's main command: install mlplat, then build and inspect the `local` environment
# (the production Terraform against mlplat's embedded AWS emulator; no AWS account needed).
set -euo pipefail
cd "$(dirname "$0")/.."
MLPLAT_SKIP_CHECKOV=1 bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PWD/.tools/bin:$PATH"
mlplat up --env local --yes
mlplat status --env local
