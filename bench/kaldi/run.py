#!/usr/bin/python3
"""compute-fbank-feats over the 30-minute bench corpus into a Kaldi archive:
featpipe against torchaudio.compliance.kaldi.fbank, one thread each, in the
same run (run by hand; prints a Markdown table):

    /usr/bin/python3 bench/kaldi/run.py [--build build] [--repeat 5]

- featpipe, whole process: `featpipe run pipelines/kaldi-fbank.yaml
  --inputs-from wav.scp --output-format ark -o OUT -j 1` (start-up, decode,
  fbank, archive and scp, manifest);
- featpipe in process: the Python package's pipe(path) over the same files
  (decode and fbank, no writing);
- torchaudio (bench/kaldi/torch_fbank.py): torchaudio.load + kaldi.fbank +
  the same archive bytes, its loop timed (imports not), and its fbank calls
  alone; with OpenBLAS, one thread, as bench/audio does.
The corpus and OpenBLAS come from bench/audio/run.py's set-up. Runs are
interleaved and each figure is the best of --repeat.
"""
import argparse
import glob
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "bench", "audio"))
import run as audio_bench  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    audio_bench.ensure_inputs()
    files = sorted(glob.glob(os.path.join(audio_bench.CORPUS, "*.wav")))
    work = tempfile.mkdtemp(prefix="bench-kaldi-", dir=os.path.join(ROOT, "bench", "data"))
    scp = os.path.join(work, "wav.scp")
    with open(scp, "w") as f:
        for p in files:
            f.write(f"{os.path.basename(p)[:-4]} {p}\n")
    cli = os.path.join(args.build, "bin", "featpipe")
    pipeline = os.path.join(ROOT, "pipelines", "kaldi-fbank.yaml")
    env1 = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    env_blas = dict(env1, LD_LIBRARY_PATH=audio_bench.BLAS)
    env_py = dict(env1, PYTHONPATH=os.path.join(args.build, "python"))
    inproc = ("import sys, time, featpipe as fp\n"
              "pipe = fp.Pipeline(sys.argv[1]); files = sys.argv[2:]\n"
              "pipe(files[0]); best = 1e9\n"
              "for _ in range(3):\n"
              "    t = time.perf_counter()\n"
              "    for f in files: pipe(f)\n"
              "    best = min(best, time.perf_counter() - t)\n"
              "print(best)\n")
    best = {}

    def keep(name, v):
        best[name] = min(best.get(name, float("inf")), v)

    for r in range(args.repeat):
        out = os.path.join(work, f"out{r}")
        wall, _, _ = audio_bench.timed([cli, "run", pipeline, "--inputs-from", scp, "--output-format", "ark",
                                        "-o", out, "-j", "1", "-q"])
        keep("featpipe run → ark", wall)
        _, _, o = audio_bench.timed([audio_bench.PY, "-c", inproc, pipeline, *files], env_py)
        keep("featpipe in process", float(o))
        _, _, o = audio_bench.timed([audio_bench.PY, os.path.join(HERE, "torch_fbank.py"), scp, "--repeat", "1"],
                                    env_blas)
        f = o.split()
        keep("torchaudio → ark", float(f[1]))
        keep("torchaudio fbank calls only", float(f[3]))
    subprocess.run(["rm", "-rf", work])
    ref = best["torchaudio → ark"]
    print(f"30 min of 16 kHz audio (180 × 10 s), kaldi-fbank (80 bins, Kaldi's defaults, dither 0), one thread, "
          f"best of {args.repeat}; load average {os.getloadavg()[0]:.2f} at the end\n")
    print("| run | s per 30 min | × realtime | vs torchaudio → ark |")
    print("| --- | ---: | ---: | ---: |")
    rows = [("**featpipe run** `--inputs-from wav.scp --output-format ark` (whole process)", "featpipe run → ark"),
            ("featpipe in process (`pipe(path)` loop, no writing)", "featpipe in process"),
            ("torchaudio.load + `compliance.kaldi.fbank` + the same ark (its loop)", "torchaudio → ark"),
            ("torchaudio `compliance.kaldi.fbank` calls alone", "torchaudio fbank calls only")]
    for label, key in rows:
        print(f"| {label} | {best[key]:.3f} | {1800 / best[key]:,.0f}× | {ref / best[key]:.2f}× |")


if __name__ == "__main__":
    main()
