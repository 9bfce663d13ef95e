"""Spoken digits (issue 15, part 2): does normalizing the features help a
classifier tested on voices it was not trained on?

    /usr/bin/python3 bench/evidence/spoken_digits.py [--out docs/evidence]

Corpus (made with espeak-ng on first use, under bench/data/spoken_digits,
git-ignored): the ten digits spoken by 12 voices (4 English accents x 3
variants) at 3 speeds and 2 pitches, 720 clips; each clip gets a random
gain (-30 to +10 dB) and white noise at 20 dB SNR (seeded). Training set:
8 voices; test set: the other 4 (unseen speakers, accents mixed).

Features, through featpipe's Python package: a front end (plain log-mel,
or the shipped speech-logmel with per-frame L2 before the log), mean-pooled
over frames (math.pool) to one 80-value vector per clip, then none, norm.l2,
norm.minmax or norm.standardize on that vector. Classifiers
(scikit-learn): 1-NN Euclidean, 1-NN cosine, logistic regression. Accuracy
on the test voices; the spread (min-max) over 5 seeds of gains and noise.
"""
import itertools
import os
import subprocess
import sys

import numpy as np
from scipy.io import wavfile
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier

from common import ROOT, arguments
from plots import bar_chart
from speech_front_end import L2_PER_FRAME, LOG, speech_pipeline

DATA = os.path.join(ROOT, "bench", "data", "spoken_digits")
WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
VOICES = [f"{lang}+{var}" for lang in ("en", "en-us", "en-gb-scotland", "en-029") for var in ("m3", "f2", "m7")]
TEST_VOICES = {v for v in VOICES if v.endswith("+m7")}
POOL = "  - use: math.pool\n    with: {op: avg, axes: [frame]}\n"
FRONTS = {"log-mel": "", "L2 + log (shipped)": L2_PER_FRAME}
NORMS = {
    "none": "",
    "L2": "  - use: norm.l2\n    with: {axis: mel}\n",
    "min-max": "  - use: norm.minmax\n    with: {axis: mel}\n",
    "z-score": "  - use: norm.standardize\n    with: {axis: mel}\n",
}


def corpus():
    os.makedirs(DATA, exist_ok=True)
    clips = []
    for voice, word, speed, pitch in itertools.product(VOICES, range(10), (130, 170, 210), (35, 65)):
        path = os.path.join(DATA, f"{voice}_{word}_{speed}_{pitch}.wav")
        if not os.path.exists(path):
            subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", path, WORDS[word]],
                           check=True, capture_output=True)
        clips.append((path, voice, word))
    return clips


def degrade(x, rng):
    x = x * np.float32(10 ** (rng.uniform(-30, 10) / 20))
    noise = rng.normal(size=x.shape).astype(np.float32)
    noise *= np.sqrt(np.mean(x ** 2) / np.mean(noise ** 2) / 10 ** (20 / 10))
    return (x + noise).astype(np.float32)


def main():
    args = arguments(seeds=True)
    clips = corpus()
    audio = []
    for path, _, _ in clips:
        rate, x = wavfile.read(path)
        audio.append((rate, x.astype(np.float32) / 32768.0))
    test = np.array([v in TEST_VOICES for _, v, _ in clips])
    y = np.array([w for _, _, w in clips])
    classifiers = {
        "1-NN Euclidean": lambda: KNeighborsClassifier(1),
        "1-NN cosine": lambda: KNeighborsClassifier(1, metric="cosine"),
        "logistic regression": lambda: LogisticRegression(max_iter=5000, C=1.0),
    }
    results = {}
    for seed in range(args.seeds):
        rng = np.random.default_rng(seed)
        noisy = [(rate, degrade(x, rng)) for rate, x in audio]
        for (fname, front), (nname, norm) in itertools.product(FRONTS.items(), NORMS.items()):
            pipe = speech_pipeline("digits", front, LOG, POOL, norm)
            feats = np.stack([pipe(x, sample_rate=rate) for rate, x in noisy]).astype(np.float64)
            for cname, make in classifiers.items():
                acc = (make().fit(feats[~test], y[~test]).predict(feats[test]) == y[test]).mean()
                results.setdefault((fname, nname, cname), []).append(acc)
    with open(os.path.join(args.out, "spoken_digits.csv"), "w") as f:
        f.write("front end,pooled vector,classifier,accuracy mean,min,max\n")
        for (fname, nname, cname), v in results.items():
            f.write(f"{fname},{nname},{cname},{np.mean(v):.4f},{min(v):.4f},{max(v):.4f}\n")
    print(f"{len(clips)} clips, trained on {len(VOICES) - len(TEST_VOICES)} voices, tested on "
          f"{len(TEST_VOICES)} others ({test.sum()} clips); accuracy, mean (min-max) over {args.seeds} seeds\n")
    print("| front end | pooled vector | " + " | ".join(classifiers) + " |")
    print("| --- | --- |" + " ---: |" * len(classifiers))
    for fname, nname in itertools.product(FRONTS, NORMS):
        cells = [results[(fname, nname, c)] for c in classifiers]
        print(f"| {fname} | {nname} | " + " | ".join(f"{np.mean(v):.3f} ({min(v):.3f}–{max(v):.3f})" for v in cells) + " |")
    rows = list(itertools.product(FRONTS, NORMS))
    bar_chart(os.path.join(args.out, "spoken_digits.png"), "Spoken digits, unseen voices (featpipe front ends)",
              [f"{f.replace(' (shipped)', '')}\n{n}" for f, n in rows],
              {c: [(np.mean(v), min(v), max(v)) for v in (results[(f, n, c)] for f, n in rows)] for c in classifiers},
              "accuracy (mean, min-max over seeds)", ylim=(0.5, 0.9))
    return 0


if __name__ == "__main__":
    sys.exit(main())
