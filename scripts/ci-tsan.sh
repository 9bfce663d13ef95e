#!/usr/bin/env bash
# ThreadSanitizer run: the engine, the plugins, the CLI and the test binaries
# with threaded tests, built with -fsanitize=thread in build-tsan, then those
# tests: many threads on one loaded pipeline, Streams and Sessions, and
# `featpipe run -j N` (the CLI is instrumented too, so a race in a worker
# fails the test that ran it). Any report fails the run (exit status 66).
# JOBS sets the build's parallelism (default 2). On the 2-core machine: about
# 1 min with a warm ccache (the tests ~45 s), up to ~40 min cold.
set -euo pipefail
cd "$(dirname "$0")/.."
build=build-tsan

launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
tsan=-fsanitize=thread
# -O1 -g1 (as in ci-asan.sh): reports keep file:line, the build takes half the time.
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFEATPIPE_BENCH=OFF -DFEATPIPE_TESTS=ON \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
  -DCMAKE_C_FLAGS="$tsan" -DCMAKE_CXX_FLAGS="$tsan" -DCMAKE_EXE_LINKER_FLAGS="$tsan" \
  -DCMAKE_SHARED_LINKER_FLAGS="$tsan" -DCMAKE_MODULE_LINKER_FLAGS="$tsan" "${launcher[@]}" >/dev/null
# featpipe_plugin_index builds every plugin and the CLI (it runs it).
cmake --build "$build" -j"${JOBS:-2}" --target featpipe featpipe_cli featpipe_plugin_index \
  concurrency_tests stream_tests core_tests audio_tests

export TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1"
tests='^(Concurrency\.|StreamEqualsBatch\.|Stream\.|Session\.|Run\.|AudioCli\.ThreadsGiveTheSameBits$)'
ctest --test-dir "$build" -R "$tests" --output-on-failure -j"${JOBS:-2}" --no-tests=error
