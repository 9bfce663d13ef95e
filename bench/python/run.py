#!/usr/bin/python3
"""featpipe from Python against its peers, in one process, one thread unless
said (run by hand; prints a Markdown table):

    /usr/bin/python3 bench/python/run.py [--rounds 5]

1. Per-call latency on a 1 s, 16 kHz clip in memory:
   - pipelines/kaldi-fbank.yaml, pipe(samples), against
     torchaudio.compliance.kaldi.fbank with the same options;
   - pipelines/speech-logmel.yaml, pipe(samples), against a reused
     torchaudio.transforms.MelSpectrogram doing the same work (mel power,
     L2 over mels, log(x + 1e-6)), and MelSpectrogram alone.
2. Python overhead: pipe(samples) against the same work through the C++ API
   (one Session, Session::run on a view, looped in C++).
3. pipe.map over 2,000 one-second WAV files, jobs=2 against jobs=1.
4. One DataLoader epoch over the same 2,000 files (batch 32, padded):
   featpipe.torch.FeatureDataset against a Dataset of torchaudio.load +
   MelSpectrogram (same work), num_workers 0 and 2.

Torch runs with OpenBLAS, one thread, as bench/audio does (the script
re-executes itself with LD_LIBRARY_PATH set to it). Rounds are interleaved
(peer, featpipe, peer, ...) and each figure is the best round: the machine
is shared, so only the ratios of one run mean much.
"""
import argparse
import glob
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "bench", "audio"))
import run as audio_bench  # noqa: E402  (the corpus and OpenBLAS set-up)

CLIPS = os.path.join(ROOT, "bench", "data", "clips_1s")
N_CLIPS = 2000


def reexec_with_openblas():
    if os.environ.get("FEATPIPE_BENCH_CHILD"):
        return
    audio_bench.ensure_inputs()
    env = dict(os.environ, FEATPIPE_BENCH_CHILD="1", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               LD_LIBRARY_PATH=audio_bench.BLAS)
    build_python = os.path.join(ROOT, "build", "python")
    env["PYTHONPATH"] = build_python + os.pathsep + env.get("PYTHONPATH", "")
    os.execve(sys.executable, [sys.executable, *sys.argv], env)


def make_clips():
    """2,000 one-second 16-bit WAVs cut from the bench corpus (git-ignored)."""
    import numpy as np
    import scipy.io.wavfile as wavfile
    if len(glob.glob(os.path.join(CLIPS, "*.wav"))) >= N_CLIPS:
        return sorted(glob.glob(os.path.join(CLIPS, "*.wav")))[:N_CLIPS]
    os.makedirs(CLIPS, exist_ok=True)
    k = 0
    for offset in (0, 8000):
        for f in sorted(glob.glob(os.path.join(audio_bench.CORPUS, "*.wav"))):
            _, x = wavfile.read(f)
            for s in range(offset, len(x) - 16000 + 1, 16000):
                if k < N_CLIPS:
                    wavfile.write(os.path.join(CLIPS, f"clip{k:05d}.wav"), 16000, x[s:s + 16000])
                    k += 1
    return sorted(glob.glob(os.path.join(CLIPS, "*.wav")))[:N_CLIPS]


def per_call(fn, calls):
    fn()
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - t0) / calls


def best_interleaved(rounds, named):
    """{name: best per-call seconds} over `rounds` interleaved rounds."""
    best = {n: float("inf") for n, _ in named}
    for _ in range(rounds):
        for n, f in named:
            best[n] = min(best[n], f())
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--calls", type=int, default=1000)
    args = ap.parse_args()
    reexec_with_openblas()

    import numpy as np
    import scipy.io.wavfile as wavfile
    import torch
    import torchaudio
    from torch.utils.data import DataLoader, Dataset
    import featpipe as fp
    from featpipe import _featpipe
    from featpipe.torch import FeatureDataset, pad_collate

    torch.set_num_threads(1)
    clips = make_clips()
    _, x16 = wavfile.read(clips[0])
    x = (x16 / 32768.0).astype(np.float32)
    xt = torch.from_numpy(x)
    fbank = fp.Pipeline(os.path.join(ROOT, "pipelines", "kaldi-fbank.yaml"))
    logmel = fp.Pipeline(os.path.join(ROOT, "pipelines", "speech-logmel.yaml"))
    mel = torchaudio.transforms.MelSpectrogram(16000, n_fft=512, win_length=400, hop_length=160, n_mels=80)

    def ta_fbank():
        return torchaudio.compliance.kaldi.fbank(xt[None] * 32768, num_mel_bins=80, frame_length=25,
                                                 frame_shift=10, dither=0.0, energy_floor=0.0,
                                                 sample_frequency=16000)

    def ta_logmel(w=xt):
        m = mel(w).T
        return torch.log(torch.nn.functional.normalize(m, dim=1, eps=1e-12) + 1e-6)

    # The peers compute what featpipe does (a sanity check, not the test suite's).
    np.testing.assert_allclose(fbank(x, sample_rate=16000), ta_fbank().numpy(), atol=2e-3, rtol=1e-3)
    np.testing.assert_allclose(logmel(x, sample_rate=16000), ta_logmel().numpy(), atol=2e-3, rtol=1e-3)

    c = args.calls
    lat = best_interleaved(args.rounds, [
        ("ta_fbank", lambda: per_call(ta_fbank, c // 2)),
        ("fp_fbank", lambda: per_call(lambda: fbank(x, sample_rate=16000), c)),
        ("ta_logmel", lambda: per_call(ta_logmel, c)),
        ("ta_mel", lambda: per_call(lambda: mel(xt), c)),
        ("fp_logmel", lambda: per_call(lambda: logmel(x, sample_rate=16000), c)),
        ("cpp_logmel", lambda: _featpipe._cpp_loop_seconds(logmel, x, 16000, c) / c),
        ("cpp_fbank", lambda: _featpipe._cpp_loop_seconds(fbank, x, 16000, c) / c),
    ])

    def map_seconds(jobs):
        t0 = time.perf_counter()
        n = sum(1 for item in logmel.map(clips, jobs=jobs) if item.ok)
        assert n == len(clips)
        return time.perf_counter() - t0

    maps = best_interleaved(max(2, args.rounds // 2), [("map1", lambda: map_seconds(1)), ("map2", lambda: map_seconds(2))])

    class TorchaudioDataset(Dataset):
        def __init__(self, files):
            self.files = files
            self.mel = torchaudio.transforms.MelSpectrogram(16000, n_fft=512, win_length=400, hop_length=160, n_mels=80)

        def __len__(self):
            return len(self.files)

        def __getitem__(self, i):
            w, _ = torchaudio.load(self.files[i])
            m = self.mel(w[0]).T
            return torch.log(torch.nn.functional.normalize(m, dim=1, eps=1e-12) + 1e-6)

    def epoch(ds, workers):
        dl = DataLoader(ds, batch_size=32, num_workers=workers, collate_fn=pad_collate,
                        worker_init_fn=lambda _: torch.set_num_threads(1))
        t0 = time.perf_counter()
        n = sum(f.shape[0] for f, _ in dl)
        assert n == len(clips)
        return time.perf_counter() - t0

    fds, tds = FeatureDataset(logmel, clips), TorchaudioDataset(clips)
    loaders = best_interleaved(max(2, args.rounds // 2), [
        ("ta_dl0", lambda: epoch(tds, 0)), ("fp_dl0", lambda: epoch(fds, 0)),
        ("ta_dl2", lambda: epoch(tds, 2)), ("fp_dl2", lambda: epoch(fds, 2)),
    ])

    us = lambda s: f"{s * 1e6:.0f} µs"  # noqa: E731
    print(f"featpipe {fp.__version__}, torch {torch.__version__}, torchaudio {torchaudio.__version__}; "
          f"best of {args.rounds} interleaved rounds; load average {os.getloadavg()[0]:.2f} at the end\n")
    print("| measurement (one thread unless said) | peer | featpipe | featpipe is |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| kaldi fbank, 1 s clip in memory, per call: `torchaudio.compliance.kaldi.fbank` vs `pipe(samples)` "
          f"| {us(lat['ta_fbank'])} | {us(lat['fp_fbank'])} | {lat['ta_fbank'] / lat['fp_fbank']:.1f}× faster |")
    print(f"| log-mel + L2 + log, 1 s clip, per call: reused `MelSpectrogram` + normalize + log vs `pipe(samples)` "
          f"| {us(lat['ta_logmel'])} | {us(lat['fp_logmel'])} | {lat['ta_logmel'] / lat['fp_logmel']:.1f}× faster |")
    print(f"| the same, peer `MelSpectrogram` alone (less work) "
          f"| {us(lat['ta_mel'])} | {us(lat['fp_logmel'])} | {lat['ta_mel'] / lat['fp_logmel']:.1f}× faster |")
    print(f"| Python overhead, speech-logmel: C++ API loop vs `pipe(samples)` "
          f"| {us(lat['cpp_logmel'])} (C++) | {us(lat['fp_logmel'])} | {lat['fp_logmel'] / lat['cpp_logmel']:.2f}× the C++ time |")
    print(f"| Python overhead, kaldi-fbank: C++ API loop vs `pipe(samples)` "
          f"| {us(lat['cpp_fbank'])} (C++) | {us(lat['fp_fbank'])} | {lat['fp_fbank'] / lat['cpp_fbank']:.2f}× the C++ time |")
    print(f"| `pipe.map` over {len(clips)} files of 1 s, speech-logmel: jobs=1 vs jobs=2 "
          f"| {maps['map1']:.2f} s (jobs=1) | {maps['map2']:.2f} s | {maps['map1'] / maps['map2']:.2f}× faster |")
    for w in (0, 2):
        print(f"| DataLoader epoch, {len(clips)} files of 1 s, batch 32, num_workers={w}: torchaudio Dataset vs "
              f"`FeatureDataset` | {loaders[f'ta_dl{w}']:.2f} s | {loaders[f'fp_dl{w}']:.2f} s "
              f"| {loaders[f'ta_dl{w}'] / loaders[f'fp_dl{w}']:.1f}× faster |")


if __name__ == "__main__":
    main()
