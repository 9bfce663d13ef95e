#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang, ASan and UBSan in
# ./build-fuzz — the engine and the plugins they load, nothing else — and
# runs each for FUZZ_SECONDS (default 45) from its committed seeds, with
# libFuzzer's -seed=FUZZ_SEED (default 1). Fails on
# any crash, sanitizer report, leak, timeout or oversized allocation; the
# input is left in build-fuzz/crashes/.
#
#   scripts/ci-fuzz.sh                 all targets
#   FUZZ_SECONDS=10 scripts/ci-fuzz.sh npy pipeline
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-45}
# A fixed seed: the same binary explores the same inputs in the same order,
# so a CI run (a prefix of a longer local run with this seed) is
# reproducible; FUZZ_SEED=random explores anew.
seed=${FUZZ_SEED:-1}
[ "$seed" = random ] && seed=$RANDOM
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(pipeline npy npz kaldi_ark audio_decode image_decode)

san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
compat="-include $PWD/fuzz/clang14_compat.h"  # see that file
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG" \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ "${launcher[@]}" \
  -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link $san $compat" -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link $san $compat" \
  -DCMAKE_EXE_LINKER_FLAGS="$san" -DCMAKE_MODULE_LINKER_FLAGS="" -DCMAKE_SHARED_LINKER_FLAGS="" \
  -DFEATPIPE_TESTS=OFF -DFEATPIPE_BENCH=OFF -DFEATPIPE_FUZZ=ON >/dev/null
cmake --build build-fuzz -j"${JOBS:-2}" --target "${targets[@]/#/fuzz_}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/scripts/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
for t in "${targets[@]}"; do
  work=build-fuzz/corpus/$t
  mkdir -p "$work" build-fuzz/crashes
  echo "== fuzz_$t: ${secs}s from fuzz/corpus/$t"
  # -rss_limit_mb/-malloc_limit_mb: an input that makes a stage allocate
  # more than 2 GB (a header's claim, not the data) counts as a crash.
  if ! build-fuzz/bin/fuzz_"$t" -seed="$seed" -max_total_time="$secs" -timeout=30 -rss_limit_mb=3072 -malloc_limit_mb=2048 \
      -max_len=65536 -print_final_stats=1 -artifact_prefix="build-fuzz/crashes/$t-" "$work" "fuzz/corpus/$t" \
      >"build-fuzz/$t.log" 2>&1; then
    echo "FAILED: fuzz_$t (log: build-fuzz/$t.log)"
    grep -E "ERROR|SUMMARY|Test unit written|runtime error" "build-fuzz/$t.log" | head -20 || true
    status=1
  else
    grep -E "^stat::number_of_executed_units|Done [0-9]+ runs" "build-fuzz/$t.log" | tail -1 || true
  fi
done
[ $status -eq 0 ] && echo "ci-fuzz: ${#targets[@]} targets, no crash in ${secs}s each"
exit $status
