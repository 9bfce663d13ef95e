#!/usr/bin/python3
"""Writes a 30-minute corpus of 16 kHz mono 16-bit WAVs (180 files of 10 s)
into bench/data/audio_corpus/ (git-ignored): the sample recordings and
synthesized speech, resampled to 16 kHz, at random gains and offsets, over
low noise. Deterministic (seeded)."""
import glob
import os
import sys

import numpy as np
import scipy.io.wavfile as wavfile
import scipy.signal as ss

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "bench", "data", "audio_corpus")
FILES, SECONDS, SR = 180, 10, 16000


def load16k(path):
    sr, x = wavfile.read(path)
    x = x.astype(np.float64) / 32768.0
    if x.ndim == 2:
        x = x.mean(1)
    if sr != SR:
        x = ss.resample_poly(x, SR, sr)
    return x


def main():
    os.makedirs(OUT, exist_ok=True)
    clips = [load16k(p) for p in sorted(glob.glob(os.path.join(ROOT, "samples", "audio", "*.wav")))]
    rng = np.random.default_rng(2026)
    n = SECONDS * SR
    for i in range(FILES):
        x = rng.normal(0.0, 0.003, n)
        at = 0
        while at < n:
            c = clips[rng.integers(len(clips))] * rng.uniform(0.2, 1.5)
            m = min(len(c), n - at)
            x[at:at + m] += c[:m]
            at += m + int(rng.integers(0, SR // 2))
        pcm = np.clip(np.round(x * 32768.0), -32768, 32767).astype(np.int16)
        wavfile.write(os.path.join(OUT, "utt%03d.wav" % i), SR, pcm)
    print("wrote %d files, %d s of audio, to %s" % (FILES, FILES * SECONDS, OUT))


if __name__ == "__main__":
    sys.exit(main())
