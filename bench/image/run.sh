#!/usr/bin/env bash
# bench/image: featpipe vs PIL + torchvision (+ PyTorch with OpenBLAS), one
# thread each, on ~100 real-size JPEGs. Run by hand from the source tree:
#   bash bench/image/run.sh [BUILD_DIR]      (default build-bench)
# Makes bench/data/ (git-ignored) on first use: the JPEGs, mobilenet_v2 as
# ONNX and as PyTorch weights, and OpenBLAS unpacked from its Debian package
# (apt-get download + dpkg-deb -x, used through LD_LIBRARY_PATH by the torch
# commands only: Debian's torch otherwise runs on the reference BLAS).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build-bench}
data=bench/data
py=/usr/bin/python3
[ -f "$data/resnet18.onnx" ] || $py bench/image/make_bench_data.py 100
if [ ! -d "$data/openblas" ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download libopenblas0-pthread >/dev/null 2>&1) ||
    { apt-get update -q >/dev/null && (cd "$tmp" && apt-get download libopenblas0-pthread >/dev/null 2>&1); }
  dpkg-deb -x "$tmp"/libopenblas0-pthread_*.deb "$data/openblas"
  rm -rf "$tmp"
fi
oblas=$(dirname "$(find "$PWD/$data/openblas" -name libblas.so.3 | head -1)")
if [ ! -x "$build/bin/image_bench" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" -j2 --target image_bench featpipe_cli featpipe_math featpipe_norm >/dev/null
fi
bench="$build/bin/image_bench"
one="taskset -c 0"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 OPENCV_FOR_THREADS_NUM=1
echo "== parity (decode, Resize 256, CenterCrop 224 vs torchvision's PIL path)"
$py bench/image/parity.py "$build/bin/featpipe" "$data/images"
echo "== decode (JPEG -> RGB)"
$one "$bench" decode "$data/images"
$one "$bench" turbojpeg "$data/images"
$one "$bench" imread "$data/images"
$one $py bench/image/torch_bench.py decode "$data/images"
echo "== preprocessing (decode, Resize 256, CenterCrop 224, ToTensor, Normalize)"
$one "$bench" preprocess "$data/images"
$one $py bench/image/torch_bench.py preprocess "$data/images"
for net in mobilenet_v2 resnet18; do
  echo "== $net forward, batch 1"
  $one "$bench" cnn "$data/$net.onnx"
  $one "$bench" layers "$data/$net.onnx"
  LD_LIBRARY_PATH="$oblas" $one $py bench/image/torch_bench.py cnn $net
  $one $py bench/image/torch_bench.py cnn $net | sed 's/^/(reference BLAS) /'
done
echo "== image embedding (preprocessing + mobilenet_v2 features + GeM + L2)"
$one "$bench" embed "$data/images"
LD_LIBRARY_PATH="$oblas" $one $py bench/image/torch_bench.py embed "$data/images"
