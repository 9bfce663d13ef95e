"""pipe.map equals the loop, keeps input order with bad files among good
ones (each an item carrying its error), and stops cleanly when dropped."""
import gc
import os

import numpy as np
import pytest

import featpipe as fp
from conftest import SAMPLES, pipeline


def corpus(tmp_path, media):
    good = [media[k] for k in ("mono16k", "stereo48k", "int32_22k", "float32_8k")]
    good += sorted((SAMPLES / "audio").glob("*.wav")) + sorted((SAMPLES / "audio").glob("*.flac"))
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "noise.wav").write_bytes(os.urandom(3000))
    truncated = tmp_path / "truncated.wav"
    truncated.write_bytes(media["mono16k"].read_bytes()[:20000])
    bad = [tmp_path / "empty.wav", tmp_path / "noise.wav", truncated, tmp_path / "missing.wav"]
    # Interleaved, each good file twice: order must survive uneven work.
    paths = []
    for k, g in enumerate(good * 2):
        paths.append(g)
        if k % 3 == 1:
            paths.append(bad[(k // 3) % len(bad)])
    return paths


@pytest.mark.parametrize("jobs", [1, 2, 4])
def test_map_equals_loop_in_order_with_bad_files(tmp_path, media, jobs):
    pipe = pipeline("speech-logmel")
    paths = corpus(tmp_path, media)
    it = pipe.map(paths, jobs=jobs)
    assert len(it) == len(paths)
    items = list(it)
    assert [i.path for i in items] == [str(p) for p in paths]
    n_bad = 0
    for item, path in zip(items, paths):
        try:
            want = pipe(path)
        except fp.InputError as e:
            n_bad += 1
            assert not item.ok and item.features is None
            assert isinstance(item.error, fp.InputError)
            assert str(item.error) == str(e) and item.error.input == str(path)
            continue
        assert item.ok and item.error is None
        assert item.features.tobytes() == want.tobytes()
    assert n_bad >= 4


def test_map_small_prefetch_and_pathlike(tmp_path, media):
    pipe = pipeline("kaldi-fbank")
    paths = [media["mono16k"], media["stereo48k"]] * 10  # pathlib.Path objects
    items = list(pipe.map(paths, jobs=3, prefetch=1))
    assert all(i.ok for i in items)
    for i, p in zip(items, paths):
        assert i.features.tobytes() == pipe(p).tobytes()


def test_map_dropped_early_stops_its_threads(media):
    pipe = pipeline("speech-logmel")
    for _ in range(20):
        it = pipe.map([media["mono16k"]] * 200, jobs=2)
        next(it)
        del it
        gc.collect()
    it = pipe.map([media["mono16k"]] * 50, jobs=2)
    next(it)
    it.close()
    assert list(it) == []
    # The map's workers are C++ threads: count them in /proc, not threading.
    tasks = len(os.listdir("/proc/self/task"))
    assert tasks < 12, f"{tasks} threads left"


def test_map_argument_mistakes(media):
    pipe = pipeline("speech-logmel")
    with pytest.raises(ValueError, match="jobs"):
        pipe.map([media["mono16k"]], jobs=0)
    with pytest.raises(ValueError, match="prefetch"):
        pipe.map([media["mono16k"]], prefetch=-1)
    assert list(pipe.map([])) == []
