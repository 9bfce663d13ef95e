#!/usr/bin/python3
"""torchaudio's log-mel over the bench corpus, one thread: the same features
as pipelines/speech-logmel.yaml without its L2 step (bench/audio/logmel.yaml):
MelSpectrogram(16000, n_fft=512, win_length=400, hop_length=160, n_mels=80),
log(x + 1e-6). Prints "decode+compute SECONDS compute SECONDS cpu SECONDS"
(wall time of the loop, of its feature part, and the loop's CPU time); the loop
(decode with torchaudio.load, the features, .npy writing as featpipe does)
is timed, imports and start-up are not. Best of --repeat runs."""
import argparse
import glob
import os
import tempfile
import time

import numpy as np
import torch
import torchaudio

ap = argparse.ArgumentParser()
ap.add_argument("corpus")
ap.add_argument("--repeat", type=int, default=3)
args = ap.parse_args()
torch.set_num_threads(1)
files = sorted(glob.glob(os.path.join(args.corpus, "*.wav")))
mel = torchaudio.transforms.MelSpectrogram(16000, n_fft=512, win_length=400, hop_length=160, n_mels=80)
best_all = best_compute = best_cpu = float("inf")
with tempfile.TemporaryDirectory(dir=os.path.join(os.path.dirname(os.path.abspath(args.corpus)))) as out:
    for _ in range(args.repeat):
        compute = 0.0
        t0, c0 = time.perf_counter(), time.process_time()
        for f in files:
            w, sr = torchaudio.load(f)
            t1 = time.perf_counter()
            feats = torch.log(mel(w[0]) + 1e-6).T.contiguous()
            compute += time.perf_counter() - t1
            np.save(os.path.join(out, os.path.basename(f) + ".npy"), feats.numpy())
        best_all = min(best_all, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
        best_compute = min(best_compute, compute)
print("decode+compute %.4f compute %.4f cpu %.4f" % (best_all, best_compute, best_cpu))
