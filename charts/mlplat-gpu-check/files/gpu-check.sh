# mlplat GPU check: report every GPU this pod was given, one machine-readable line each,
#   MLPLAT_GPU node=<node> index=<i> uuid=<uuid> model="<name>" driver=<version> cuda=<version> image_cuda=<version> memory_mib=<MiB>
# then one summary line,
#   MLPLAT_GPU_SUMMARY node=<node> run_id=<id> ok=true|false gpus=<seen> expected=<wanted> ...
# and exit 0 only when nvidia-smi works and shows exactly the expected number of GPUs.
# Values are bare words except model, which is double-quoted (split lines with shlex).
# POSIX sh + sed + awk (the CUDA base images are Ubuntu: dash and mawk).
set -eu
node="${MLPLAT_NODE_NAME:-unknown}"
run_id="${MLPLAT_RUN_ID:-}"
expected="${MLPLAT_EXPECTED_GPUS:-1}"
image_cuda="${CUDA_VERSION:-unknown}"
count=0

fail() {
  echo "MLPLAT_GPU_SUMMARY node=$node run_id=$run_id ok=false gpus=$count expected=$expected reason=$1"
  exit 1
}

command -v nvidia-smi >/dev/null 2>&1 || fail nvidia-smi-not-found
# The human-readable table goes to the log too; its header carries the driver's CUDA version.
header="$(nvidia-smi 2>&1)" || { printf '%s\n' "$header"; fail nvidia-smi-failed; }
printf '%s\n' "$header"
cuda="$(printf '%s\n' "$header" | sed -n 's/.*CUDA Version: *\([0-9][0-9.]*\).*/\1/p' | head -n 1)"
if [ -z "$cuda" ]; then
  cuda="$(nvidia-smi -q 2>/dev/null | sed -n 's/^ *CUDA Version *: *\([0-9][0-9.]*\).*/\1/p' | head -n 1)" || true
fi
[ -n "$cuda" ] || cuda=unknown

rows="$(nvidia-smi --query-gpu=index,uuid,name,driver_version,memory.total --format=csv,noheader,nounits)" \
  || fail query-failed
lines="$(printf '%s\n' "$rows" | awk -F',' -v node="$node" -v cuda="$cuda" -v image_cuda="$image_cuda" '
  function field(s) { gsub(/^[ \t]+|[ \t\r]+$/, "", s); gsub(/[ \t]/, "_", s); return s == "" ? "unknown" : s }
  function quoted(s) { gsub(/^[ \t]+|[ \t\r]+$/, "", s); gsub(/"/, "", s); return s }
  NF >= 5 {
    printf "MLPLAT_GPU node=%s index=%s uuid=%s model=\"%s\" driver=%s cuda=%s image_cuda=%s memory_mib=%s\n",
      node, field($1), field($2), quoted($3), field($4), cuda, image_cuda, field($5)
  }')"
if [ -n "$lines" ]; then
  printf '%s\n' "$lines"
  count="$(printf '%s\n' "$lines" | wc -l | tr -d ' ')"
fi
[ "$count" -gt 0 ] || fail no-gpu-visible
driver="$(printf '%s\n' "$lines" | sed -n 's/.* driver=\([^ ]*\).*/\1/p' | head -n 1)"
[ "$count" -eq "$expected" ] || fail gpu-count-mismatch
echo "MLPLAT_GPU_SUMMARY node=$node run_id=$run_id ok=true gpus=$count expected=$expected driver=$driver cuda=$cuda"
