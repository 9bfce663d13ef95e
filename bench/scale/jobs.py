#!/usr/bin/python3
"""How `featpipe run` scales with -j on this machine's cores (run by hand;
prints a Markdown table):

    /usr/bin/python3 bench/scale/jobs.py [--build build] [--repeat 3] [--max-jobs N]

Two workloads, each through pipelines/speech-logmel.yaml and
pipelines/kaldi-fbank.yaml with .npy output, the whole process timed (start-
up, decoding, features, writing, manifest) into a fresh folder each time:
- the 30-minute corpus (bench/data/audio_corpus, from bench/audio/run.py's
  set-up: a few hundred clips of 2-10 s);
- 2,000 one-second clips (bench/data/clips_1s, cut from that corpus as
  bench/python/run.py does).
-j 1, 2, ... up to the cores (--max-jobs), interleaved, best of --repeat.
Speed-up is -j 1's time over -j N's.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "bench", "audio"))
import run as audio_bench  # noqa: E402


def clips():
    import importlib.util
    spec = importlib.util.spec_from_file_location("python_bench", os.path.join(ROOT, "bench", "python", "run.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.make_clips()
    return mod.CLIPS


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--max-jobs", type=int, default=os.cpu_count())
    args = ap.parse_args()
    audio_bench.ensure_inputs()
    inputs = {"30-min corpus": audio_bench.CORPUS, "2,000 × 1 s clips": clips()}
    cli = os.path.join(args.build, "bin", "featpipe")
    jobs = list(range(1, args.max_jobs + 1))
    best = {}
    work = tempfile.mkdtemp(prefix="bench-jobs-", dir=os.path.join(ROOT, "bench", "data"))
    try:
        for r in range(args.repeat):
            for label, folder in inputs.items():
                for name in ["speech-logmel", "kaldi-fbank"]:
                    for j in jobs:
                        out = os.path.join(work, f"out-{r}-{j}")
                        t = time.perf_counter()
                        subprocess.run([cli, "run", os.path.join(ROOT, "pipelines", f"{name}.yaml"), folder, "-o", out,
                                        "-j", str(j), "-q"], check=True, capture_output=True)
                        dt = time.perf_counter() - t
                        shutil.rmtree(out)
                        key = (label, name, j)
                        best[key] = min(best.get(key, float("inf")), dt)
                        print(f"{label} {name} -j {j}: {dt:.2f} s", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print()
    print("| input | pipeline | " + " | ".join(f"-j {j} s" for j in jobs) + " | " +
          " | ".join(f"-j {j} speed-up" for j in jobs[1:]) + " |")
    print("| --- | --- | " + " | ".join("---:" for _ in jobs) + " | " + " | ".join("---:" for _ in jobs[1:]) + " |")
    for label in inputs:
        for name in ["speech-logmel", "kaldi-fbank"]:
            t = [best[(label, name, j)] for j in jobs]
            print(f"| {label} | {name} | " + " | ".join(f"{x:.2f}" for x in t) + " | " +
                  " | ".join(f"{t[0] / x:.2f}×" for x in t[1:]) + " |")


if __name__ == "__main__":
    main()
