#!/usr/bin/python3
"""The peer of `featpipe run pipelines/kaldi-fbank.yaml --inputs-from
wav.scp --output-format ark`: for each wav.scp line, torchaudio.load and
torchaudio.compliance.kaldi.fbank with the pipeline's options (Kaldi's
compute-fbank-feats defaults, 80 bins, dither 0), appended to a Kaldi
archive (binary float matrices, the same bytes featpipe writes) with its
scp. One thread. Prints "all SECONDS compute SECONDS" (best of --repeat):
the whole loop, and its fbank calls alone."""
import argparse
import os
import struct
import tempfile
import time

import torch
import torchaudio

ap = argparse.ArgumentParser()
ap.add_argument("scp")
ap.add_argument("--repeat", type=int, default=3)
args = ap.parse_args()
torch.set_num_threads(1)
lines = [l.split(None, 1) for l in open(args.scp) if l.strip()]


def matrix_bytes(key, m):
    rows, cols = m.shape
    return key.encode() + b" \0BFM " + struct.pack("<bibi", 4, rows, 4, cols) + m.numpy().astype("<f4").tobytes()


best_all = best_compute = float("inf")
with tempfile.TemporaryDirectory() as out:
    for _ in range(args.repeat):
        compute = 0.0
        t0 = time.perf_counter()
        with open(os.path.join(out, "feats.ark"), "wb") as ark, open(os.path.join(out, "feats.scp"), "w") as scp:
            for key, path in lines:
                w, sr = torchaudio.load(path.strip())
                t1 = time.perf_counter()
                f = torchaudio.compliance.kaldi.fbank(w * 32768, num_mel_bins=80, frame_length=25, frame_shift=10,
                                                      dither=0.0, energy_floor=0.0, sample_frequency=sr)
                compute += time.perf_counter() - t1
                scp.write(f"{key} {ark.name}:{ark.tell() + len(key) + 1}\n")
                ark.write(matrix_bytes(key, f))
        best_all = min(best_all, time.perf_counter() - t0)
        best_compute = min(best_compute, compute)
print("all %.4f compute %.4f" % (best_all, best_compute))
