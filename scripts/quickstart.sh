#!/usr/bin/env bash
# The README's first command: install what is missing (Debian packages),
# build, and run the bundled pipelines on samples/ into out/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
fp=build/bin/featpipe
run() {  # pipeline, inputs, output folder
  echo "== featpipe run $1 $2 -o $3"
  "$fp" run "$1" "$2" -o "$3" --overwrite -j 2
}
run pipelines/speech-logmel.yaml samples/audio out/speech-logmel
run pipelines/kaldi-fbank.yaml samples/audio out/kaldi-fbank
run pipelines/image-embedding.yaml samples/images out/image-embedding
run pipelines/tensor-l2.yaml samples/tensors/embeddings.npy out/tensor-l2
"$fp" plot out/speech-logmel/speech_espeak_16k.wav.npy -o out/speech-logmel/speech_espeak_16k.png
echo
echo "Features are in out/ (one .npy per input, manifest.jsonl, provenance.json):"
/usr/bin/python3 - <<'PY'
import json, numpy as np, pathlib
for m in sorted(pathlib.Path("out").glob("*/manifest.jsonl")):
    lines = [json.loads(l) for l in m.read_text().splitlines() if l.strip()]
    lines = [l for l in lines if l["status"] != "not_taken"]  # other files in the folders, listed with why
    ok = [l for l in lines if l["status"] == "ok"]
    first = np.load(m.parent / ok[0]["output"]) if ok else None
    print(f"  {m.parent}: {len(ok)}/{len(lines)} ok; {ok[0]['output']}: shape {first.shape} axes {ok[0]['axes']}" if ok else f"  {m.parent}: none ok")
PY
