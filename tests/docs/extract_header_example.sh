#!/usr/bin/env bash
# Writes the example program of a header's leading comment to a source file,
# so the build compiles it as written (and a test runs it). The example is
# the first run of comment lines indented two spaces past the comment's own
# text ("//   code" or " *   code"), blank comment lines included.
# Usage: extract_header_example.sh HEADER OUT_FILE
set -euo pipefail
awk '
  # Only the leading comment block counts.
  !/^(\/\/| \*|\/\*)/ { exit }
  /^(\/\/|  ?\*)   / { print substr($0, 6); in_example = 1; next }
  in_example && /^(\/\/| \*)$/ { print ""; next }
  in_example { exit }
' "$1" > "$2.tmp"
grep -q "[a-z]" "$2.tmp" || { echo "extract_header_example.sh: no example found in $1" >&2; exit 1; }
mv "$2.tmp" "$2"
