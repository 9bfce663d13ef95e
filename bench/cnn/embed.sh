#!/usr/bin/env bash
# bench/cnn: image embedding end to end (decode, Resize 256, CenterCrop 224,
# Normalize, the CNN trunk, GeM, L2) with mobilenet_v2 and resnet18 through
# both cnn.features backends (OpenCV DNN on the ONNX export, libtorch on the
# TorchScript export), side by side with PIL + torchvision + torch in the same
# run; then `featpipe run -j 1` against `-j 2` on the same pipelines.
#   bash bench/cnn/embed.sh [BUILD_DIR]         (default build-bench)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build-bench}
data=bench/data
py=/usr/bin/python3
[ -f "$data/resnet18.pt" ] || $py bench/image/make_bench_data.py 100
[ -f "$data/resnet18-features.pt" ] || $py bench/cnn/make_models.py
if [ ! -x "$build/bin/image_bench" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$build" -j2 --target image_bench featpipe_cli featpipe_plugin_index >/dev/null
# One core for the side-by-side figures; the -j runs below set no thread
# variables: featpipe gives each worker its share of the cores itself.
one="env OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 OPENCV_FOR_THREADS_NUM=1 taskset -c 0"

pipeline() {  # NET FORMAT -> the embedding pipeline's path
  local p="$data/embed-$1-$2.yaml"
  cat > "$p" <<YAML
featpipe: 1
name: bench-embed-$1-$2
stages:
  - use: image.decode
  - use: image.resize
    with: {size: 256}
  - use: image.center_crop
    with: {size: 224}
  - use: image.normalize
    with: {mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]}
  - use: cnn.features
    with: {model: $1-features.$2}
  - use: math.pool
    with: {op: gem, axes: [height, width], p: 3}
  - use: norm.l2
    with: {axis: channel}
YAML
  echo "$p"
}

for net in mobilenet_v2 resnet18; do
  echo "== $net embedding, one core, images/s"
  for fmt in onnx pt; do
    $one "$build/bin/image_bench" embed "$data/images" "$(pipeline $net $fmt)"
  done
  $one $py bench/image/torch_bench.py embed "$data/images" $net
done

echo "== featpipe run -j 1 vs -j 2 (2 cores), wall seconds for $(ls "$data"/images/*.jpg | wc -l) images"
for net in mobilenet_v2 resnet18; do
  for fmt in onnx pt; do
    p=$(pipeline $net $fmt)
    $py - "$build/bin/featpipe" "$p" "$data/images" "$net $fmt" <<'PY'
import subprocess, sys, time
featpipe, pipe, images, what = sys.argv[1:]
wall = {}
for j in (1, 2):
    best = 1e9
    for _ in range(2):  # best of 2: the machine is shared
        t = time.perf_counter()
        subprocess.run([featpipe, "run", pipe, images, "-o", "/tmp/featpipe-bench-embed", "-j", str(j),
                        "--overwrite", "-q"], check=True)
        best = min(best, time.perf_counter() - t)
    wall[j] = best
print(f"{what}: -j 1 {wall[1]:.2f} s, -j 2 {wall[2]:.2f} s, speed-up {wall[1] / wall[2]:.2f}x")
PY
  done
done
