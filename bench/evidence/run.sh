#!/usr/bin/env bash
# Every normalization experiment of bench/evidence, in order; each writes its
# CSV and plots to docs/evidence and prints its Markdown table (about 1.5 min
# in all on 2 cores, after the README's set-up; the spoken-digit corpus is
# made with espeak-ng on first use).
set -euo pipefail
cd "$(dirname "$0")/../.."
for exp in gain spoken_digits digits_cnn photos embeddings; do
  echo "== $exp"
  /usr/bin/python3 "bench/evidence/$exp.py" "$@"
  echo
done
