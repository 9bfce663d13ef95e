#!/usr/bin/env bash
# Installs featpipe into a fresh prefix, checks the shipped pipelines and
# docs are under share/featpipe (every pipeline validating from there),
# builds samples/plugin against it with find_package(featpipe), and runs its
# pipeline with the installed CLI.
# Usage: out_of_tree_plugin.sh SOURCE_DIR BINARY_DIR WORK_DIR
set -euo pipefail
src=$1 bin=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
cmake --install "$bin" --prefix "$work/prefix" >/dev/null
share="$work/prefix/share/featpipe"
for f in "$src"/pipelines/*.yaml; do
  cmp "$f" "$share/pipelines/$(basename "$f")"
  "$work/prefix/bin/featpipe" validate "$share/pipelines/$(basename "$f")" >/dev/null
done
for f in "$src"/docs/*.md; do cmp "$f" "$share/docs/$(basename "$f")"; done
[ -f "$share/docs/README.md" ] || { echo "docs/README.md not installed" >&2; exit 1; }
cp -r "$src/samples/plugin" "$work/plugin"
cmake -S "$work/plugin" -B "$work/plugin/build" -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/plugin/build" >/dev/null
fp="$work/prefix/bin/featpipe"
# The installed CLI finds its own built-in plugins and the new stage.
# Output captured first: `cmd | grep -q` under pipefail fails when grep
# exits at the match while cmd is still writing (SIGPIPE).
doc=$("$fp" stages norm.softmax --plugin "$work/plugin/build/libfeatpipe_softmax.so")
grep -q "temperature: float" <<<"$doc"
stages=$("$fp" stages)
grep -q "^tensor.load" <<<"$stages"
/usr/bin/python3 - "$work/logits.npy" <<'PY'
import sys, numpy as np
np.save(sys.argv[1], np.array([[1.0, 2.0, 3.0], [-5.0, 0.0, 5.0]], dtype=np.float64))
PY
"$fp" run "$work/plugin/softmax.yaml" "$work/logits.npy" -o "$work/out" -q
/usr/bin/python3 - "$work/logits.npy" "$work/out/logits.npy.npy" <<'PY'
import sys, numpy as np, torch
x = np.load(sys.argv[1]); y = np.load(sys.argv[2])
ref = torch.softmax(torch.from_numpy(x) / 2.0, dim=1).numpy()
assert y.dtype == np.float32 and y.shape == (2, 3), (y.dtype, y.shape)
err = np.abs(y - ref).max()
assert err < 1e-6, err
print("out-of-tree plugin ok, max |diff| vs torch.softmax =", err)
PY
