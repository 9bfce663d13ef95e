#!/usr/bin/env bash
# find_package(featpipe) against the build tree (no install): builds
# samples/plugin with featpipe_DIR=BINARY_DIR and runs its stage with the
# build tree's CLI.
# Usage: build_tree_package.sh SOURCE_DIR BINARY_DIR WORK_DIR
set -euo pipefail
src=$1 bin=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
cp -r "$src/samples/plugin" "$work/plugin"
cmake -S "$work/plugin" -B "$work/plugin/build" -Dfeatpipe_DIR="$bin" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/plugin/build" >/dev/null
fp="$bin/bin/featpipe"
"$fp" stages norm.softmax --plugin "$work/plugin/build/libfeatpipe_softmax.so" | grep -q "temperature: float"
/usr/bin/python3 - "$work/logits.npy" <<'PY'
import sys, numpy as np
np.save(sys.argv[1], np.array([[0.0, np.log(3.0)]], dtype=np.float32))
PY
"$fp" run "$work/plugin/softmax.yaml" "$work/logits.npy" -o "$work/out" -q
/usr/bin/python3 - "$work/out/logits.npy.npy" <<'PY'
import sys, numpy as np
y = np.load(sys.argv[1])
# softmax([0, ln 3] / 2) = [1, sqrt 3] / (1 + sqrt 3)
ref = np.array([[1.0, np.sqrt(3.0)]]) / (1.0 + np.sqrt(3.0))
assert y.shape == (1, 2) and np.abs(y - ref).max() < 1e-6, (y, ref)
print("build-tree package ok:", y)
PY
