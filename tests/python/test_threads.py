"""One Pipeline called from several Python threads at once gives each
thread the results a single thread gets (calls release the GIL and borrow
their own session)."""
import threading

import numpy as np
import scipy.io.wavfile as wavfile

import featpipe as fp
from conftest import SAMPLES, pipeline, speech


def test_threads_share_one_pipeline(media):
    pipe = pipeline("speech-logmel")
    inputs = []
    for k in range(8):  # arrays of different lengths and rates, and files
        rate = (16000, 8000, 22050, 48000)[k % 4]
        inputs.append(("array", speech(0.5 + 0.3 * k, rate, seed=k), rate))
    inputs += [("file", p, None) for p in media.values()]

    def compute(kind, x, rate):
        return pipe(x, sample_rate=rate) if kind == "array" else pipe(x)

    want = [compute(*i) for i in inputs]
    failures = []

    def worker(seed):
        order = np.random.default_rng(seed).permutation(len(inputs))
        for _ in range(6):
            for j in order:
                got = compute(*inputs[j])
                if got.tobytes() != want[j].tobytes():
                    failures.append((seed, j))

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def test_threads_share_one_image_pipeline():
    pipe = pipeline("image-embedding")
    files = sorted((SAMPLES / "images").glob("*.jpg"))
    want = [pipe(f) for f in files]
    failures = []

    def worker():
        for _ in range(3):
            for f, w in zip(files, want):
                if pipe(f).tobytes() != w.tobytes():
                    failures.append(f)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def test_streams_and_maps_in_threads(media):
    pipe = pipeline("kaldi-fbank")
    rate, s = wavfile.read(media["mono16k"])
    whole = pipe(s, sample_rate=rate)
    paths = list(media.values()) * 3
    want = [pipe(p).tobytes() for p in paths]
    failures = []

    def streamer(push):
        with pipe.stream(sample_rate=rate) as st:
            parts = []
            for k in range(0, len(s), push):
                st.push(s[k:k + push])
                parts.append(st.pull())
            parts.append(st.flush())
        if np.concatenate(parts).tobytes() != whole.tobytes():
            failures.append(("stream", push))

    def mapper():
        got = [i.features.tobytes() for i in pipe.map(paths, jobs=2)]
        if got != want:
            failures.append(("map",))

    threads = [threading.Thread(target=streamer, args=(p,)) for p in (160, 333, 4096)]
    threads += [threading.Thread(target=mapper) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
