#!/bin/bash
# stage_reference.sh FEATPIPE DOCS/STAGES.MD: the committed stage reference
# must equal what this build's `featpipe stages --markdown` prints.
set -u
cli=$1 doc=$2
fresh=$(mktemp)
trap 'rm -f "$fresh"' EXIT
# Only the built-in plugins: a user's FEATPIPE_PLUGIN_PATH is not documented here.
if ! env -u FEATPIPE_PLUGIN_PATH "$cli" stages --markdown >"$fresh"; then
  echo "FAIL: featpipe stages --markdown failed"
  exit 1
fi
if ! diff -u "$doc" "$fresh"; then
  echo "FAIL: docs/stages.md is out of date (diff above: - committed, + generated). Regenerate it:"
  echo "  build/bin/featpipe stages --markdown > docs/stages.md"
  exit 1
fi
echo "docs/stages.md is current"
