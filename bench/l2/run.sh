#!/usr/bin/env bash
# norm.l2 on a ROWS x COLS float32 matrix in memory, one thread, beside
# memcpy of the same bytes, numpy, torch.nn.functional.normalize and FAISS
# normalize_L2 — all in one run, one table. Not a test: run by hand.
#
#   bench/l2/run.sh [BUILD_DIR] [ROWS] [COLS] [REPEATS]
#
# BUILD_DIR (default: build) is a configured featpipe build tree; the script
# builds bench_l2 and the norm plugin in it. FAISS is optional
# (python3-faiss): its row is skipped with a note when it is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
rows=${2:-1000000}
cols=${3:-128}
repeats=${4:-10}

cmake --build "$build" --target bench_l2 -j2 >/dev/null
bench=$(find "$build" -type f -name bench_l2 -perm -u+x | head -n1)
[ -n "$bench" ] || { echo "run.sh: bench_l2 not found under $build" >&2; exit 1; }

results=$(mktemp)
trap 'rm -f "$results"' EXIT
# Single thread everywhere; the OpenBLAS overrides are dropped for the
# Python side only (they pick a core type that is not this machine's).
OMP_NUM_THREADS=1 taskset -c 0 "$bench" "" "$rows" "$cols" "$repeats" >>"$results"
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
  taskset -c 0 /usr/bin/python3 "$here/bench_py.py" "$rows" "$cols" "$repeats" >>"$results"

echo "L2 normalization, ${rows} x ${cols} float32 ($(awk -v r="$rows" -v c="$cols" 'BEGIN{printf "%.0f", r*c*4/1e6}') MB), single thread, best of ${repeats}"
echo "GB/s = (bytes read + bytes written) / s; ratio = GB/s / memcpy GB/s"
awk '
  $1 == "memcpy" { ref = $3 }
  { name[NR] = $1; sec[NR] = $2; gbs[NR] = $3 }
  END {
    printf "| %-32s | %9s | %7s | %8s |\n", "method", "ms", "GB/s", "vs memcpy"
    printf "|%s|%s|%s|%s|\n", "----------------------------------", "-----------", "---------", "-----------"
    for (k = 1; k <= NR; ++k)
      printf "| %-32s | %9.1f | %7.2f | %8.0f%% |\n", name[k], sec[k] * 1000, gbs[k], 100 * gbs[k] / ref
  }' "$results"
