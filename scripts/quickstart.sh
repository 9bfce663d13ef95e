#!/usr/bin/env bash
# The README's first command: install what is missing (Debian packages),
# build, make `import featpipe` work for python3, and run the bundled
# pipelines on samples/ into out/ (and once from Python).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
scripts/python-path.sh
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
echo
echo "The same pipeline from Python (any folder, Debian's python3):"
root=$PWD
(cd / && /usr/bin/python3 - "$root/pipelines/speech-logmel.yaml" "$root/samples/audio/speech_espeak_16k.wav" "$root/out/speech-logmel/speech_espeak_16k.wav.npy" <<'PY'
import sys, numpy as np, featpipe as fp
pipe = fp.Pipeline(sys.argv[1])
x = pipe(sys.argv[2])
same = np.array_equal(x, np.load(sys.argv[3]))
print(f"  fp.Pipeline('speech-logmel.yaml')('speech_espeak_16k.wav'): shape {x.shape} axes {pipe.axes}; "
      f"{'identical to' if same else 'DIFFERENT FROM'} featpipe run's .npy")
sys.exit(0 if same else 1)
PY
)
