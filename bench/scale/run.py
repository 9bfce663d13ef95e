#!/usr/bin/python3
"""Many small inputs: `featpipe run --output-format tar` as a whole process
against the in-process Python API loop and a torchaudio loop writing
np.save files, on N one-second clips (run by hand; prints a Markdown table):

    /usr/bin/python3 bench/scale/run.py [--clips 20000] [--repeat 3] [--shard-size 1000]

The clips (16 kHz, 16-bit WAV, noise and tones; git-ignored under
bench/data/clips_scale) are made on first use. Per pipeline
(speech-logmel, kaldi-fbank), one core each:
  - featpipe run ... --output-format tar -j 1 -q, timed as a process
    (start-up, listing, manifest, shards: all of it), with its default
    worker process and with --isolation thread;
  - featpipe run ... -j 1 -q writing .npy files (the default output);
  - the in-process loop: `pipe(path)` per file in one Python process
    (computes, stores nothing);
  - torchaudio.load + the same features (MelSpectrogram + L2 + log, or
    compliance.kaldi.fbank) + np.save of each into a folder.
Rounds are interleaved and each figure is the best round: the machine is
shared, so only the ratios of one run mean much. Goals (issue 13): tar run
>= 80 % of the in-process loop, >= 4x the torchaudio loop; .npy run >= 2x
the torchaudio loop.
"""
import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CLIPS = os.path.join(ROOT, "bench", "data", "clips_scale")
CLI = os.path.join(ROOT, "build", "bin", "featpipe")
sys.path.insert(0, os.path.join(ROOT, "bench", "audio"))


def reexec():
    """One thread for torch (OpenBLAS as bench/audio sets it up) and build/python on the path."""
    if os.environ.get("FEATPIPE_BENCH_CHILD"):
        return
    import run as audio_bench  # noqa: E402
    env = dict(os.environ, FEATPIPE_BENCH_CHILD="1", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               LD_LIBRARY_PATH=audio_bench.BLAS)
    env["PYTHONPATH"] = os.path.join(ROOT, "build", "python") + os.pathsep + env.get("PYTHONPATH", "")
    os.execve(sys.executable, [sys.executable, *sys.argv], env)


def make_clips(n):
    import numpy as np
    import scipy.io.wavfile as wavfile
    have = sorted(glob.glob(os.path.join(CLIPS, "*", "*.wav")))
    if len(have) >= n:
        return have[:n]
    rng = np.random.default_rng(1)
    t = np.arange(16000) / 16000.0
    for k in range(len(have), n):
        sub = os.path.join(CLIPS, f"{k // 1000:03d}")
        os.makedirs(sub, exist_ok=True)
        f0 = 100 + (k * 37) % 300
        x = 0.3 * np.sin(2 * np.pi * f0 * t) + 0.2 * np.sin(2 * np.pi * 3.1 * f0 * t) + 0.05 * rng.standard_normal(16000)
        wavfile.write(os.path.join(sub, f"clip{k:05d}.wav"), 16000, (x * 32767 / 1.6).astype(np.int16))
    return sorted(glob.glob(os.path.join(CLIPS, "*", "*.wav")))[:n]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--shard-size", type=int, default=1000)
    args = ap.parse_args()
    reexec()
    import numpy as np
    import torch
    import torchaudio
    import featpipe as fp

    torch.set_num_threads(1)
    clips = make_clips(args.clips)
    clip_dirs = sorted({os.path.dirname(c) for c in clips})
    scratch = tempfile.mkdtemp(prefix="bench_scale_", dir=os.path.join(ROOT, "bench", "data"))
    mel = torchaudio.transforms.MelSpectrogram(16000, n_fft=512, win_length=400, hop_length=160, n_mels=80)

    def ta_logmel(w):
        m = mel(w[0]).T
        return torch.log(torch.nn.functional.normalize(m, dim=1, eps=1e-12) + 1e-6)

    def ta_fbank(w):
        return torchaudio.compliance.kaldi.fbank(w * 32768, num_mel_bins=80, frame_length=25, frame_shift=10,
                                                 dither=0.0, energy_floor=0.0, sample_frequency=16000)

    def tar_run(yaml, isolation):
        out = os.path.join(scratch, "tar")
        shutil.rmtree(out, ignore_errors=True)
        t0 = time.perf_counter()
        subprocess.run([CLI, "run", yaml, *clip_dirs, "-o", out, "--output-format", "tar", "--shard-size",
                        str(args.shard_size), "-j", "1", "--isolation", isolation, "-q"], check=True, capture_output=True)
        s = time.perf_counter() - t0
        assert sum(1 for n in os.listdir(out) if n.endswith(".tar")) == -(-len(clips) // args.shard_size)
        return s

    def npy_run(yaml):
        out = os.path.join(scratch, "npy")
        shutil.rmtree(out, ignore_errors=True)
        t0 = time.perf_counter()
        subprocess.run([CLI, "run", yaml, *clip_dirs, "-o", out, "-j", "1", "-q"], check=True, capture_output=True)
        s = time.perf_counter() - t0
        shutil.rmtree(out, ignore_errors=True)
        return s

    def api_loop(pipe):
        t0 = time.perf_counter()
        for c in clips:
            pipe(c)
        return time.perf_counter() - t0

    def ta_loop(fn):
        out = os.path.join(scratch, "ta")
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
        t0 = time.perf_counter()
        for k, c in enumerate(clips):
            w, _ = torchaudio.load(c)
            np.save(os.path.join(out, f"{k:05d}.npy"), fn(w).numpy())
        return time.perf_counter() - t0

    rows = []
    try:
        for name, fn in (("speech-logmel", ta_logmel), ("kaldi-fbank", ta_fbank)):
            yaml = os.path.join(ROOT, "pipelines", name + ".yaml")
            pipe = fp.Pipeline(yaml)
            best = {"tar": float("inf"), "thread": float("inf"), "npy": float("inf"), "api": float("inf"),
                    "ta": float("inf")}
            for _ in range(args.repeat):
                best["tar"] = min(best["tar"], tar_run(yaml, "process"))
                best["thread"] = min(best["thread"], tar_run(yaml, "thread"))
                best["npy"] = min(best["npy"], npy_run(yaml))
                best["api"] = min(best["api"], api_loop(pipe))
                best["ta"] = min(best["ta"], ta_loop(fn))
            rows.append((name, best))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    n = len(clips)
    print(f"{n} clips of 1 s, one core each, best of {args.repeat} interleaved rounds; "
          f"load average {os.getloadavg()[0]:.2f} at the end\n")
    def cell(s):
        return f"{s:.2f} s ({n / s:.0f}/s)"

    print("| pipeline | `featpipe run --output-format tar` (whole process) | the same, `--isolation thread` | "
          "in-process `pipe(path)` loop | torchaudio loop + `np.save` | tar run vs in-process loop (process / thread) "
          "| tar run vs torchaudio (process / thread) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, b in rows:
        print(f"| {name} | {cell(b['tar'])} | {cell(b['thread'])} | {cell(b['api'])} | {cell(b['ta'])} | "
              f"{b['api'] / b['tar'] * 100:.0f} % / {b['api'] / b['thread'] * 100:.0f} % | "
              f"{b['ta'] / b['tar']:.1f}× / {b['ta'] / b['thread']:.1f}× |")
    print()
    print("| pipeline | `featpipe run` writing `.npy` files (whole process) | torchaudio loop + `np.save` | ratio |")
    print("| --- | ---: | ---: | ---: |")
    for name, b in rows:
        print(f"| {name} | {cell(b['npy'])} | {cell(b['ta'])} | {b['ta'] / b['npy']:.1f}× |")


if __name__ == "__main__":
    main()
