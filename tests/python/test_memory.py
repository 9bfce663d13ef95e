"""100,000 calls on a 1 s clip leave the resident memory flat: results,
sessions, streams and map iterators are all freed."""
import gc
import os

import numpy as np

from conftest import pipeline, speech


def rss_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


# Under AddressSanitizer (ci-asan.sh) each call is ~10x slower: 20,000 calls
# there (a leaked result would still show as 800 MB); 100,000 otherwise.
CALLS = 20_000 if os.environ.get("FEATPIPE_SANITIZED") else 100_000


def test_100000_calls_leave_rss_flat():
    pipe = pipeline("speech-logmel")
    clip = speech(1.0, 16000, seed=5)
    for _ in range(5000):  # warm: buffers, allocator pools
        pipe(clip, sample_rate=16000)
    gc.collect()
    base = rss_mib()
    kept = None
    for k in range(CALLS):
        x = pipe(clip, sample_rate=16000)
        if k == 0:
            kept = x.copy()
    gc.collect()
    grown = rss_mib() - base
    # A leaked 40 KB result per call would be 4 GB; a leaked session far more.
    assert grown < 16, f"RSS grew by {grown:.1f} MiB over {CALLS:,} calls"
    assert np.array_equal(x, kept)


def test_streams_maps_and_errors_leave_rss_flat(tmp_path):
    pipe = pipeline("kaldi-fbank")
    clip = speech(1.0, 16000, seed=6)
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"\0" * 100)

    def cycle():
        with pipe.stream(sample_rate=16000) as s:
            s.push(clip)
            s.flush()
        for item in pipe.map([bad, bad], jobs=2):
            assert item.error is not None
        try:
            pipe(np.full(1000, np.nan, np.float32), sample_rate=16000)
        except Exception:
            pass

    for _ in range(300):
        cycle()
    gc.collect()
    base = rss_mib()
    for _ in range(3000):
        cycle()
    gc.collect()
    grown = rss_mib() - base
    assert grown < 16, f"RSS grew by {grown:.1f} MiB over 3,000 stream/map/error cycles"
