#!/usr/bin/python3
"""Peak memory and time of `featpipe run` on long recordings (run by hand;
prints a Markdown table):

    /usr/bin/python3 bench/scale/long_files.py [--build build] [--hours 1 10]

For each length, a 16 kHz 16-bit mono WAV is generated under
bench/data/long/ (speech from samples/audio tiled with noise; 115 MB per
hour, kept for later runs, git-ignored), then run through
pipelines/speech-logmel.yaml and pipelines/kaldi-fbank.yaml (the latter
also into a Kaldi ark and as float16) with -j 1 (a
worker process, the default isolation) under GNU time: peak RSS is the
largest of the runner and its worker. A 1-minute file gives the baseline
(plugins loaded, buffers), and time per hour shows whether time is linear
in length. Last, speech-mfcc.yaml (a whole-input step) on the longest file:
refused, the message printed.
"""
import argparse
import os
import re
import subprocess
import tempfile
import wave

import numpy as np
import scipy.io.wavfile as wavfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DATA = os.path.join(ROOT, "bench", "data", "long")


def make_wav(path, seconds, rate=16000):
    if os.path.exists(path):
        return
    _, s = wavfile.read(os.path.join(ROOT, "samples", "audio", "speech_espeak_16k.wav"))
    rng = np.random.default_rng(0)
    block = 60 * rate
    tmp = path + ".part"
    with wave.open(tmp, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        left, at = int(seconds * rate), 0
        while left > 0:
            n = min(left, block)
            x = np.resize(np.roll(s, at % len(s)), n).astype(np.float64) + rng.normal(0, 300, n)
            w.writeframes(np.clip(x, -32768, 32767).astype("<i2").tobytes())
            left -= n
            at += 7919
    os.replace(tmp, path)


# (pipeline, output label, extra run options)
RUNS = [("speech-logmel", "npy", []), ("kaldi-fbank", "npy", []), ("kaldi-fbank", "ark", ["--output-format", "ark"]),
        ("kaldi-fbank", "float16", ["--dtype", "float16"])]


def measure(cli, pipeline, wav, outdir, extra):
    r = subprocess.run(["/usr/bin/time", "-v", cli, "run", pipeline, wav, "-o", outdir, "-j", "1", "-q", "--overwrite"] + extra,
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"featpipe run failed ({r.returncode}):\n{r.stderr}")
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1))
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", r.stderr).group(1)
    parts = [float(p) for p in wall.split(":")]
    seconds = sum(p * 60 ** k for k, p in enumerate(reversed(parts)))
    return rss_kb / 1024, seconds


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--hours", type=float, nargs="+", default=[1, 10])
    args = ap.parse_args()
    os.makedirs(DATA, exist_ok=True)
    cli = os.path.join(args.build, "bin", "featpipe")
    lengths = [1 / 60] + args.hours
    rows = []
    with tempfile.TemporaryDirectory(dir=DATA) as work:
        for h in lengths:
            wav = os.path.join(DATA, f"speech_{h:g}h.wav")
            make_wav(wav, h * 3600)
            for name, fmt, extra in RUNS:
                out = os.path.join(work, name)
                rss, sec = measure(cli, os.path.join(ROOT, "pipelines", f"{name}.yaml"), wav, out, extra)
                stored = "feats.ark" if fmt == "ark" else os.path.basename(wav) + ".npy"
                feats = os.path.getsize(os.path.join(out, stored)) / 2**20
                rows.append((h, name, fmt, os.path.getsize(wav) / 2**20, feats, rss, sec, sec / h))
                print(f"{h:g} h {name} {fmt}: peak RSS {rss:.1f} MB, {sec:.1f} s", flush=True)
                subprocess.run(["rm", "-rf", out])
        # A whole-input pipeline on the longest file: refused by name.
        wav = os.path.join(DATA, f"speech_{lengths[-1]:g}h.wav")
        r = subprocess.run([cli, "run", os.path.join(ROOT, "pipelines", "speech-mfcc.yaml"), wav, "-o",
                            os.path.join(work, "mfcc"), "-q"], capture_output=True, text=True)
        refusal = f"speech-mfcc.yaml (whole input) on {lengths[-1]:g} h: exit {r.returncode}: " + \
            next((l for l in r.stderr.splitlines() if l.startswith("error:")), r.stderr.strip())
    print()
    print(refusal)
    print()
    print("| input | pipeline | output | WAV MB | features MB | peak RSS MB | time s | s per hour of audio |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for h, name, fmt, wav_mb, feat_mb, rss, sec, per in rows:
        label = "1 min" if h < 0.1 else f"{h:g} h"
        print(f"| {label} | {name} | {fmt} | {wav_mb:,.0f} | {feat_mb:,.0f} | {rss:.1f} | {sec:.1f} | {per:.1f} |")


if __name__ == "__main__":
    main()
