#!/usr/bin/env bash
# Installs featpipe into a fresh prefix, builds samples/capture against it
# with find_package(featpipe), and runs it:
#  - audio: raw PCM of sample recordings piped through sox into
#    `capture --audio -` (16 kHz in 160- and 1000-sample pushes, and 8 kHz
#    resampled in the stream; speech-logmel.yaml and the sample's own
#    logmel.yaml); the frame count must equal `featpipe run`'s for the same
#    file, and the nearest class of the whole recording must be the
#    recording itself with cosine 1 (its prototype is its batch features);
#  - video: an MJPG .avi made from sample photos; each frame's nearest
#    class must be the photo it shows;
#  - a pipeline that cannot stream, and a missing video, are refused with
#    clear errors.
# Usage: capture_test.sh SOURCE_DIR BINARY_DIR WORK_DIR MAKE_VIDEO
set -euo pipefail
src=$1 bin=$2 work=$3 make_video=$4
rm -rf "$work"
mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }

# --- install, then build the sample out of tree against the install
cmake --install "$bin" --prefix "$work/prefix" >/dev/null
cmake -S "$src/samples/capture" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_FLAGS="${CXXFLAGS:-}" >/dev/null  # a sanitizer build's flags: the app needs its runtime
cmake --build "$work/build" -j2 >/dev/null
app="$work/build/capture"
fp="$work/prefix/bin/featpipe"
# ldd's output is captured before grep reads it: `ldd | grep -q` under
# pipefail fails whenever grep exits at the match while ldd is still
# writing (SIGPIPE), which only a loaded machine lets happen (ctest -j2 on
# shared cores: 42 of 400 `ldd capture | grep -q` calls failed).
libs=$(ldd "$app")
grep -q "$work/prefix/lib/libfeatpipe" <<<"$libs" || fail "capture does not use the installed libfeatpipe: $(grep featpipe <<<"$libs")"

# --- audio through a pipe
audio="$src/samples/audio"
# check_audio PIPELINE NAME RATE CHUNK CLASS_FILE...: pipes samples/audio/NAME.wav
# as raw s16le at RATE through the app in CHUNK-sample pushes; the frames
# must match `featpipe run` in number, the whole input must be nearest to
# its own recording (cosine ~1: its prototype is its batch features), and
# the per-block lines must hold 10 frames each, 0.1 s apart.
check_audio() {
  local pipeline=$1 c=$2 rate=$3 chunk=$4; shift 4
  local class_args=() out="$work/$c.$(basename "$pipeline" .yaml).$chunk.txt"
  for f in "$@"; do class_args+=(--class "$f"); done
  local batch="$work/batch/$(basename "$pipeline" .yaml)"
  [ -f "$batch/$c.wav.npy" ] || "$fp" run "$pipeline" "$audio/$c.wav" -o "$batch" -q >/dev/null
  sox "$audio/$c.wav" -t raw -e signed -b 16 -c 1 - |
    "$app" --audio - --rate "$rate" --chunk "$chunk" --every 10 --pipeline "$pipeline" "${class_args[@]}" >"$out"
  local want summary frames nearest cosine
  want=$(/usr/bin/python3 -c "import numpy, sys; print(numpy.load(sys.argv[1]).shape[0])" "$batch/$c.wav.npy")
  summary=$(grep '^summary ' "$out") || fail "$c: no summary line"
  frames=$(sed -n 's/.*frames=\([0-9]*\).*/\1/p' <<<"$summary")
  nearest=$(sed -n 's/.*nearest=\([^ ]*\).*/\1/p' <<<"$summary")
  cosine=$(sed -n 's/.*cos=\([0-9.]*\).*/\1/p' <<<"$summary")
  [ "$frames" = "$want" ] || fail "$c ($pipeline, chunk $chunk): $frames frames streamed, featpipe run gives $want"
  [ "$nearest" = "$c" ] || fail "$c ($pipeline, chunk $chunk): nearest class $nearest"
  awk -v x="$cosine" 'BEGIN { exit !(x >= 0.99999) }' || fail "$c ($pipeline, chunk $chunk): cosine to its own prototype $cosine"
  awk -v want="$want" '
    /^t=/ { split($2, f, "="); split($1, t, "="); n += f[2]; lines++
            if (sprintf("%.3f", (lines - 1) * 0.1) != t[2]) { print "bad time " $0; exit 1 }
            if (f[2] != 10 && n != want) { print "short block before the end: " $0; exit 1 } }
    END { if (n != want || lines != int((want + 9) / 10)) { print "lines add up to " n " frames in " lines " lines"; exit 1 } }' "$out" ||
    fail "$c ($pipeline, chunk $chunk): per-block lines wrong"
  last_out=$out
}

classes=(front_center_16k rear_right_16k speech_espeak_16k)
files=()
for c in "${classes[@]}"; do files+=("$audio/$c.wav"); done
pipeline="$src/pipelines/speech-logmel.yaml"
for c in "${classes[@]}"; do
  check_audio "$pipeline" "$c" 16000 160 "${files[@]}"
  a=$last_out
  check_audio "$pipeline" "$c" 16000 1000 "${files[@]}"
  # Same features whatever the push size (the input level column aside: it
  # covers the samples pushed between lines).
  cmp -s <(grep -v '^#' "$a" | sed 's/ level=[^ ]*//') <(grep -v '^#' "$last_out" | sed 's/ level=[^ ]*//') ||
    fail "$c: output depends on the push size"
done
# The sample's own pipeline file, and 8 kHz capture resampled in the stream.
check_audio "$src/samples/capture/logmel.yaml" front_center_16k 16000 160 "${files[@]}"
check_audio "$pipeline" speech_8k 8000 80 "${files[@]}" "$audio/speech_8k.wav"
echo "audio: recordings piped, frame counts equal featpipe run, each nearest to itself"

# A pipeline needing the whole input is refused before any audio is read.
cat >"$work/batch_only.yaml" <<'YAML'
featpipe: 1
name: batch-only
stages:
  - use: audio.decode
  - use: audio.stft
  - use: audio.db
    with: {top_db: 80}
YAML
if : | "$app" --audio - --pipeline "$work/batch_only.yaml" --class "$audio/front_center_16k.wav" >/dev/null 2>"$work/err.txt"; then
  fail "a batch-only pipeline was accepted for streaming"
fi
grep -q "needs the whole input" "$work/err.txt" || fail "unclear error for a batch-only pipeline: $(cat "$work/err.txt")"
# A video that does not exist: exit 1, named.
if "$app" --video "$work/missing.avi" >/dev/null 2>"$work/err.txt"; then fail "a missing video was accepted"; fi
grep -q "missing.avi: cannot open" "$work/err.txt" || fail "unclear error for a missing video: $(tail -n1 "$work/err.txt")"

# --- video: sample photos, 3 frames each (cropped to 3:2, resized to
# 480x320, MJPG); the classes are every image in samples/images.
photos=(astronaut chelsea china coffee rocket)
img_files=()
for p in "${photos[@]}"; do img_files+=("$src/samples/images/$p.jpg"); done
"$make_video" "$work/photos.avi" 3 "${img_files[@]}"
"$app" --video "$work/photos.avi" --pipeline "$src/pipelines/image-embedding.yaml" --class "$src/samples/images" >"$work/video.txt"
grep -q "^# classes: .*astronaut.*digit_0_0.*rocket" "$work/video.txt" || fail "video: classes not read from the folder: $(head -n2 "$work/video.txt")"
grep -q "^summary frames=$(( 3 * ${#photos[@]} ))\$" "$work/video.txt" || fail "video: wrong frame count: $(tail -n1 "$work/video.txt")"
for k in $(seq 0 $(( 3 * ${#photos[@]} - 1 ))); do
  want=${photos[$(( k / 3 ))]}
  grep -q "^frame=$k .* nearest=$want " "$work/video.txt" || fail "video frame $k: want nearest $want: $(grep "^frame=$k " "$work/video.txt")"
done
echo "video: $(( 3 * ${#photos[@]} )) frames, each nearest to the photo it shows"
