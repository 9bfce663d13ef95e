"""A stream equals pipe(whole signal), whatever the buffer sizes, for every
shipped streamable pipeline; int16 and float32 pushes, mono and stereo."""
import numpy as np
import pytest
import scipy.io.wavfile as wavfile

import featpipe as fp
from conftest import PIPELINES, pipeline

STREAMABLE = [p.stem for p in sorted(PIPELINES.glob("*.yaml")) if fp.Pipeline(p).streamable]


def test_the_audio_pipelines_stream():
    assert {"speech-logmel", "kaldi-fbank"} <= set(STREAMABLE)
    assert not pipeline("speech-mfcc").streamable  # audio.db with top_db needs the whole input


def streamed(pipe, samples, rate, push, channels=1):
    parts = []
    with pipe.stream(sample_rate=rate, channels=channels) as s:
        for k in range(0, len(samples), push):
            s.push(samples[k:k + push])
            parts.append(s.pull())
        parts.append(s.flush())
    return np.concatenate(parts)


@pytest.mark.parametrize("name", STREAMABLE)
@pytest.mark.parametrize("push", [1, 7, 160, 16000])
def test_stream_equals_whole_signal(media, name, push):
    pipe = pipeline(name)
    rate, s = wavfile.read(media["mono16k"])
    whole = pipe(s, sample_rate=rate)
    got = streamed(pipe, s if push > 1 else s[:4000], rate, push)
    if push == 1:  # one sample at a time: a shorter clip, same property
        whole = pipe(s[:4000], sample_rate=rate)
    assert got.shape == whole.shape
    assert got.tobytes() == whole.tobytes()


@pytest.mark.parametrize("push", [7, 160, 16000])
def test_stereo_float_stream_at_48k(media, push):
    pipe = pipeline("speech-logmel")
    rate, s = wavfile.read(media["stereo48k"])
    f = (s / 32768.0).astype(np.float32)
    whole = pipe(media["stereo48k"])
    assert streamed(pipe, f, rate, push, channels=2).tobytes() == whole.tobytes()
    assert streamed(pipe, s, rate, push, channels=2).tobytes() == whole.tobytes()


def test_reset_starts_a_new_input(media):
    pipe = pipeline("kaldi-fbank")
    rate, s = wavfile.read(media["mono16k"])
    with pipe.stream(sample_rate=rate) as st:
        st.push(s[:5000])
        st.pull()
        st.reset()
        st.push(s)
        got = np.concatenate([st.pull(), st.flush()])
    assert got.tobytes() == pipe(s, sample_rate=rate).tobytes()
    assert st.axes == pipe.axes
    assert st.latency_samples > 0


def test_stream_mistakes(media):
    pipe = pipeline("speech-logmel")
    with pytest.raises(fp.PipelineError, match="whole input|stream"):
        pipeline("image-embedding").stream()
    with pipe.stream(sample_rate=16000, channels=2) as s:
        with pytest.raises(ValueError, match="2 channel"):
            s.push(np.zeros(100, np.float32))
        with pytest.raises(TypeError, match="uint8"):
            s.push(np.zeros((100, 2), np.uint8))
        empty = s.pull()
        assert empty.shape == (0, 80)
    with pytest.raises(ValueError, match="channels"):
        pipe.stream(channels=0)
