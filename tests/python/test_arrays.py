"""In-memory inputs give the same bits as the files they were read from:
audio samples (int16, int32, float32, float64; mono and [time, channel])
and images (uint8, uint16, float; RGB, gray, RGBA; as PIL gives them)."""
import numpy as np
import pytest
import scipy.io.wavfile as wavfile
from PIL import Image

import featpipe as fp
from conftest import SAMPLES, pipeline

AUDIO_PIPELINES = ["speech-logmel", "kaldi-fbank", "speech-mfcc"]


@pytest.mark.parametrize("name", AUDIO_PIPELINES)
@pytest.mark.parametrize("key", ["mono16k", "stereo48k", "int32_22k", "float32_8k"])
def test_audio_array_equals_file(media, name, key):
    pipe = pipeline(name)
    rate, samples = wavfile.read(media[key])
    want = pipe(media[key])
    got = pipe(samples, sample_rate=rate)
    assert got.tobytes() == want.tobytes()
    assert got.shape == want.shape and want.shape[0] > 10


def test_results_are_independent_writable_arrays(media):
    pipe = pipeline("speech-logmel")
    a, b = pipe(media["mono16k"]), pipe(media["mono16k"])
    assert a.flags.writeable and a.flags.c_contiguous and a.dtype == np.float32
    keep = b.copy()
    a[:] = 0  # a later call, or writing to one result, leaves the others alone
    pipe(media["stereo48k"])
    assert np.array_equal(b, keep) and not np.shares_memory(a, b)


def test_audio_float_forms_of_int16_equal_the_file(media):
    pipe = pipeline("speech-logmel")
    rate, s = wavfile.read(media["stereo48k"])
    want = pipe(media["stereo48k"])
    # soundfile.read's default (float64) and torchaudio's float32, both x / 32768.
    assert pipe(s / 32768.0, sample_rate=rate).tobytes() == want.tobytes()
    assert pipe((s / 32768.0).astype(np.float32), sample_rate=rate).tobytes() == want.tobytes()
    # A non-contiguous view (a channel-last slice of a bigger array) too.
    wide = np.zeros((s.shape[0], 5), np.int16)
    wide[:, 1], wide[:, 3] = s[:, 0], s[:, 1]
    assert pipe(wide[:, 1::2], sample_rate=rate).tobytes() == want.tobytes()


def test_audio_array_mistakes_are_refused(media):
    pipe = pipeline("speech-logmel")
    rate, s = wavfile.read(media["stereo48k"])
    with pytest.raises(ValueError, match="sample_rate"):
        pipe(s)
    with pytest.raises(ValueError, match=r"x\.T"):
        pipe(np.ascontiguousarray(s.T), sample_rate=rate)  # torchaudio's [channel, time]
    with pytest.raises(TypeError, match="uint8"):
        pipe(np.zeros(1000, np.uint8), sample_rate=16000)
    with pytest.raises(ValueError, match="dimensions"):
        pipe(np.zeros((10, 10, 2), np.float32), sample_rate=16000)
    nan = (s[:, 0] / 32768.0).astype(np.float32)
    nan[1234] = np.nan
    with pytest.raises(fp.InputError, match="non-finite") as e:
        pipe(nan, sample_rate=rate)
    assert e.value.input == "<array>"
    with pytest.raises(TypeError):
        pipe(12345)


def image_files(tmp_path):
    """PNGs of each kind PIL writes (RGB, gray, RGBA, 16-bit gray) and the
    bundled JPEG photos."""
    rng = np.random.default_rng(7)
    photo = np.asarray(Image.open(SAMPLES / "images" / "chelsea.jpg"))
    files = {}
    files["rgb.png"] = photo
    files["gray.png"] = np.asarray(Image.fromarray(photo).convert("L"))
    rgba = np.dstack([photo, rng.integers(0, 256, photo.shape[:2], dtype=np.uint8)])
    files["rgba.png"] = rgba
    for n, a in files.items():
        Image.fromarray(a).save(tmp_path / n)
    g16 = (files["gray.png"].astype(np.uint16) * 257 + rng.integers(0, 257, photo.shape[:2])).astype(np.uint16)
    Image.fromarray(g16).save(tmp_path / "gray16.png")
    return tmp_path


def pil_pixels(path):
    img = Image.open(path)
    if img.mode == "I;16" or img.mode == "I":
        return np.asarray(img).astype(np.uint16)
    return np.asarray(img)


GRAY = """featpipe: 1
name: gray
stages:
  - use: image.decode
    with: {color: gray}
  - use: image.resize
    with: {size: 64}
"""
SCALED = """featpipe: 1
name: scaled
stages:
  - use: image.decode
    with: {scale: 100.0, color: COLOR}
"""


@pytest.mark.parametrize("make", [
    lambda: pipeline("image-embedding"),
    lambda: fp.Pipeline.from_yaml(GRAY),
    lambda: fp.Pipeline.from_yaml(SCALED.replace("COLOR", "rgb")),
    lambda: fp.Pipeline.from_yaml(SCALED.replace("COLOR", "gray")),
    lambda: fp.Pipeline.from_yaml(SCALED.replace("COLOR", "bgr")),
], ids=["embedding", "gray", "scaled-rgb", "scaled-gray", "scaled-bgr"])
def test_image_array_equals_file(tmp_path, make):
    pipe = make()
    folder = image_files(tmp_path)
    paths = sorted(folder.glob("*.png")) + sorted((SAMPLES / "images").glob("*.jpg"))
    for path in paths:
        want = pipe(path)
        pixels = pil_pixels(path)
        got = pipe(pixels)
        assert got.tobytes() == want.tobytes(), path.name


def test_image_layouts_and_mistakes():
    pipe = fp.Pipeline.from_yaml(SCALED.replace("COLOR", "rgb"))  # values pass raw: easy to compare
    hwc = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
    a = pipe(hwc)
    assert a.shape == (3, 4, 5)
    np.testing.assert_array_equal(a, np.transpose(hwc, (2, 0, 1)).astype(np.float32) * np.float32(1 / 100.0))
    assert pipe(np.ascontiguousarray(np.transpose(hwc, (2, 0, 1))), layout="chw").tobytes() == a.tobytes()
    with pytest.raises(ValueError, match="layout='chw'"):
        pipe(np.zeros((3, 8, 8), np.uint8))
    with pytest.raises(ValueError, match="layout"):
        pipe(hwc, layout="nhwc")
    with pytest.raises(TypeError, match="int64"):
        pipe(np.zeros((4, 4, 3), np.int64))
    with pytest.raises(TypeError, match="sample_rate"):
        pipe(hwc, sample_rate=16000)


def test_tensor_arrays_equal_files(tmp_path):
    pipe = pipeline("tensor-powernorm")
    rng = np.random.default_rng(3)
    for dtype in (np.float32, np.float64, np.int16):
        x = (rng.normal(size=(7, 12)) * 100).astype(dtype)
        np.save(tmp_path / "x.npy", x)
        assert pipe(x).tobytes() == pipe(tmp_path / "x.npy").tobytes()
    x = rng.normal(size=(2, 3, 4)).astype(np.float32)
    with pytest.raises(fp.InputError, match="axis 'col'"):
        pipe(x)  # named [axis0, axis1, axis2], as a file of that rank
    out = pipe(x, axes=["a", "b", "col"])
    np.testing.assert_allclose(np.linalg.norm(out, axis=-1), 1.0, rtol=1e-6)
    with pytest.raises(ValueError, match="axis names"):
        pipe(x, axes=["a", "col"])
