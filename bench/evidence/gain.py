"""Gain invariance (issue 15, part 1): how much each speech front end's
features move when the same recording is played louder or softer.

    /usr/bin/python3 bench/evidence/gain.py [--out docs/evidence]

Each shipped speech recording (samples/audio, 16 kHz) is scaled by gains
from -40 dB to +20 dB in memory (float samples, so +20 dB does not clip: a
pure gain) and run through five front ends built on the same STFT (n_fft
512, 25 ms window, 10 ms hop) and 80-bin mel filterbank, with featpipe's
Python package:

  log-mel             math.log(mel + 1e-6)
  log-mel + CMVN      ... then norm.cmvn per utterance (means and variances)
  L2 mel power        norm.l2 over mels per frame (no log)
  L2 + log (shipped)  pipelines/speech-logmel.yaml: norm.l2 per frame, then log
  min-max log-mel     ... then norm.minmax over the whole utterance

The distance is ||F(g x) - F(x)|| / ||F(x)|| (Frobenius, per recording, the
largest over the recordings). Writes gain.csv and gain.png to --out and
prints a Markdown table. It also renders one recording's log-mel and
shipped features at 0 dB and -30 dB with `featpipe plot`, each pair on one
color scale (the 0 dB array's 1st..99th percentile), as
gain_<front end>_<gain>.png.
"""
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
from scipy.io import wavfile

from common import ROOT, arguments
from plots import plt
from speech_front_end import L2_PER_FRAME, LOG, speech_pipeline

TAILS = {
    "log-mel": [LOG],
    "log-mel + CMVN": [LOG, "  - use: norm.cmvn\n    with: {norm_vars: true}\n"],
    "L2 mel power": [L2_PER_FRAME],
    "L2 + log (shipped)": [L2_PER_FRAME, LOG],
    "min-max log-mel": [LOG, "  - use: norm.minmax\n    with: {axis: all}\n"],
}
GAINS_DB = [-40, -30, -20, -10, -6, 6, 10, 20]


def recordings():
    folder = os.path.join(ROOT, "samples", "audio")
    for name in sorted(os.listdir(folder)):
        if not name.endswith("_16k.wav"):
            continue
        rate, x = wavfile.read(os.path.join(folder, name))
        if x.ndim > 1:
            x = x.mean(axis=1)
        yield name, rate, (x / 32768.0 if x.dtype == np.int16 else x).astype(np.float32)


def featpipe_cli():
    if os.environ.get("FEATPIPE_CLI"):
        return os.environ["FEATPIPE_CLI"]
    built = os.path.join(ROOT, "build", "bin", "featpipe")
    return built if os.access(built, os.X_OK) else shutil.which("featpipe")


def plot_pairs(pipes, recs, out):
    """One recording at 0 dB and -30 dB through log-mel and the shipped front
    end, rendered by `featpipe plot` with one color range per front end."""
    cli = featpipe_cli()
    if cli is None:
        sys.exit("gain.py: no featpipe command (build/bin/featpipe, FEATPIPE_CLI or PATH) for the spectrogram images")
    name, rate, x = next(r for r in recs if r[0].startswith("front_center"))
    with tempfile.TemporaryDirectory() as tmp:
        for front, tag in (("log-mel", "logmel"), ("L2 + log (shipped)", "shipped")):
            ref = pipes[front](x, sample_rate=rate)
            lo, hi = np.percentile(ref, [1, 99])
            for db, arr in ((0, ref), (-30, pipes[front](x * np.float32(10 ** (-30 / 20)), sample_rate=rate))):
                npy = os.path.join(tmp, f"{tag}{db}.npy")
                np.save(npy, arr)
                png = os.path.join(out, f"gain_{tag}_{'0' if db == 0 else 'minus30'}dB.png")
                r = subprocess.run([cli, "plot", npy, "-o", png, "--range", f"{lo:.4g}:{hi:.4g}"],
                                   capture_output=True, text=True)
                if r.returncode != 0:
                    sys.exit(f"gain.py: featpipe plot failed: {r.stderr.strip()}")
    print(f"\n{name}: featpipe plot images gain_{{logmel,shipped}}_{{0,minus30}}dB.png in {out}")


def main():
    args = arguments()
    pipes = {k: speech_pipeline(k.replace(" ", "-"), *t) for k, t in TAILS.items()}
    recs = list(recordings())
    table = {k: [] for k in pipes}
    for k, pipe in pipes.items():
        for db in GAINS_DB:
            g = np.float32(10 ** (db / 20))
            worst = 0.0
            for _, rate, x in recs:
                ref = pipe(x, sample_rate=rate).astype(np.float64)
                got = pipe(x * g, sample_rate=rate).astype(np.float64)
                worst = max(worst, float(np.linalg.norm(got - ref) / np.linalg.norm(ref)))
            table[k].append(worst)
    with open(os.path.join(args.out, "gain.csv"), "w") as f:
        f.write("front end," + ",".join(f"{d:+d} dB" for d in GAINS_DB) + "\n")
        for k, row in table.items():
            f.write(k + "," + ",".join(f"{v:.3g}" for v in row) + "\n")
    print(f"relative change of the features, ||F(g x) - F(x)|| / ||F(x)||, worst of {len(recs)} recordings\n")
    print("| front end | " + " | ".join(f"{d:+d} dB" for d in GAINS_DB) + " |")
    print("| --- |" + " ---: |" * len(GAINS_DB))
    for k, row in table.items():
        print(f"| {k} | " + " | ".join(f"{v:.2g}" for v in row) + " |")
    plot_pairs(pipes, recs, args.out)
    fig, ax = plt.subplots(figsize=(7, 4))
    for k, row in table.items():
        ax.semilogy(GAINS_DB, [max(v, 1e-9) for v in row], marker="o", label=k)
    ax.set_xlabel("gain (dB)")
    ax.set_ylabel("relative feature change")
    ax.set_title("Gain invariance of speech front ends (featpipe)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "gain.png"), dpi=100)
    return 0


if __name__ == "__main__":
    sys.exit(main())
