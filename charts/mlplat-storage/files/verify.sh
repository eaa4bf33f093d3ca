# mlplat storage verification: write a marker named after the run id on the mounted
# model-cache claim, read it back and compare. Prints one machine-readable line:
#   MLPLAT_STORAGE_VERIFY ok=true|false run_id=<id> ...
# and exits 0 only when the round trip succeeded. POSIX sh (busybox ash, dash).
set -eu
run_id="${MLPLAT_RUN_ID:?MLPLAT_RUN_ID is not set}"
cache_dir="${MLPLAT_CACHE_DIR:?MLPLAT_CACHE_DIR is not set}"
dir="$cache_dir/.mlplat-verify"
file="$dir/$run_id"

fail() {
  echo "MLPLAT_STORAGE_VERIFY ok=false run_id=$run_id reason=$1 path=$file"
  exit 1
}

mkdir -p "$dir" || fail mkdir
printf '%s\n' "$run_id" > "$file" || fail write
sync || true
got="$(cat "$file")" || fail read
[ "$got" = "$run_id" ] || fail mismatch
if [ "${MLPLAT_CLEANUP:-true}" = "true" ]; then
  rm -f "$file" || fail cleanup
fi
echo "MLPLAT_STORAGE_VERIFY ok=true run_id=$run_id path=$file"
