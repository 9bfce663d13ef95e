#!/usr/bin/env bash
# Installs featpipe into a fresh prefix and builds pkg_config_app.cpp with
# nothing but `pkg-config --cflags --libs featpipe` (no CMake, no
# LD_LIBRARY_PATH); its output must equal the installed CLI's, and every
# plugin's version in the provenance must be the package's version.
# Usage: pkg_config.sh SOURCE_DIR BINARY_DIR WORK_DIR CXX
# CXXFLAGS: the build's own flags (a sanitizer build's app needs its runtime).
set -euo pipefail
src=$1 bin=$2 work=$3 cxx=$4
rm -rf "$work"
mkdir -p "$work"
cmake --install "$bin" --prefix "$work/prefix" >/dev/null
pc=$(find "$work/prefix" -name featpipe.pc)
[ -n "$pc" ] || { echo "featpipe.pc not installed" >&2; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$pc")
version=$(pkg-config --modversion featpipe)
# shellcheck disable=SC2046,SC2086  # pkg-config's and CXXFLAGS' words are separate arguments
"$cxx" -std=c++20 ${CXXFLAGS:-} "$src/tests/core/pkg_config_app.cpp" -o "$work/app" $(pkg-config --cflags --libs featpipe)
pipe="$src/pipelines/speech-logmel.yaml"
wav="$src/tests/audio/data/chirp.wav"
env -u LD_LIBRARY_PATH "$work/app" "$pipe" "$wav" "$work/app.npy" >"$work/provenance.json"
"$work/prefix/bin/featpipe" run "$pipe" "$wav" -o "$work/cli" -q
/usr/bin/python3 - "$work/app.npy" "$work/cli/chirp.wav.npy" "$work/provenance.json" "$version" <<'PY'
import json, sys, numpy as np
app, cli = np.load(sys.argv[1]), np.load(sys.argv[2])
assert app.ndim == 2 and app.shape[1] == 80, app.shape
assert app.shape == cli.shape and np.array_equal(app, cli), "app != featpipe run"
prov = json.load(open(sys.argv[3]))
want = sys.argv[4]
assert prov["featpipe_version"] == want, (prov["featpipe_version"], want)
plugins = {p["name"]: p["version"] for p in prov["plugins"]}
assert {"featpipe-audio", "featpipe-norm", "featpipe-math"} <= plugins.keys(), plugins
assert all(v == want for v in plugins.values()), (plugins, want)
print("pkg-config app ok:", app.shape, "plugins", plugins)
PY
