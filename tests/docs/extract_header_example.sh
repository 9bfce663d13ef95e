#!/usr/bin/env bash
# Writes the example plugin from the comment at the top of sdk.hpp to a
# .cpp file, so the build compiles it and a test runs it as written.
# Usage: extract_sdk_example.sh SDK_HPP OUT_CPP
set -euo pipefail
awk '
  /^\/\/ A stage is one small class/ { seen = 1; next }
  seen && /^\/\/   / { print substr($0, 6); in_example = 1; next }
  in_example && /^\/\/$/ { print ""; next }
  in_example { exit }
' "$1" > "$2.tmp"
grep -q "FEATPIPE_PLUGIN(" "$2.tmp" || { echo "extract_sdk_example.sh: no example found in $1" >&2; exit 1; }
mv "$2.tmp" "$2"
