#!/usr/bin/env bash
# Streaming cost of a speech pipeline: per-push time for 10 ms pushes,
# allocations per steady-state push, RSS over a simulated hour, and the
# latency `featpipe validate` reports. Not a test: run by hand.
#
#   bench/stream/run.sh [BUILD_DIR] [SECONDS] [PIPELINE] [AUDIO]
#
# BUILD_DIR (default: build) is a configured featpipe build tree; the script
# builds stream_bench and the CLI in it. SECONDS (default 3600) of AUDIO
# (default samples/audio/speech_espeak_16k.wav, looped) are pushed through
# PIPELINE (default pipelines/speech-logmel.yaml, else
# samples/capture/logmel.yaml) in 160-sample pushes; then SECONDS/6 of
# 48 kHz capture (480-sample pushes, resampled inside the stream).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
seconds=${2:-3600}
pipeline=${3:-$root/pipelines/speech-logmel.yaml}
[ -f "$pipeline" ] || pipeline=$root/samples/capture/logmel.yaml
audio=${4:-$root/samples/audio/speech_espeak_16k.wav}

cmake --build "$build" --target stream_bench featpipe_cli -j2 >/dev/null
echo "\$ featpipe validate $pipeline"
"$build/bin/featpipe" validate "$pipeline"
echo
echo "\$ stream_bench $pipeline $audio $seconds 160   (pinned to one core)"
taskset -c 0 "$build/bin/stream_bench" "$pipeline" "$audio" "$seconds" 160
echo
echo "\$ stream_bench $pipeline $audio $(( seconds / 6 )) 480 48000   (48 kHz capture, pinned to one core)"
taskset -c 0 "$build/bin/stream_bench" "$pipeline" "$audio" "$(( seconds / 6 ))" 480 48000
