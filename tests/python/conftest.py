"""Shared fixtures of the Python package's tests (run by ctest: see
CMakeLists.txt here, which puts the build's python/ folder first on the path
and names the CLI and the source tree)."""
import os
import pathlib
import subprocess

import numpy as np
import pytest
import scipy.io.wavfile as wavfile

import featpipe as fp

SOURCE = pathlib.Path(os.environ.get("FEATPIPE_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
CLI = os.environ.get("FEATPIPE_CLI", str(SOURCE / "build" / "bin" / "featpipe"))
PIPELINES = SOURCE / "pipelines"
SAMPLES = SOURCE / "samples"


def pipeline(name: str) -> fp.Pipeline:
    return fp.Pipeline(PIPELINES / f"{name}.yaml")


def run_cli(*args, check=True):
    r = subprocess.run([CLI, *map(str, args)], capture_output=True, text=True)
    if check and r.returncode != 0:
        raise AssertionError(f"featpipe {' '.join(map(str, args))}: exit {r.returncode}\n{r.stderr}")
    return r


def speech(seconds: float, rate: int, seed: int = 0, channels: int = 1) -> np.ndarray:
    """Speech-like int16: a real recording (samples/audio) cut and tiled,
    with noise so that no two channels are equal."""
    _, s = wavfile.read(SAMPLES / "audio" / "speech_espeak_16k.wav")
    n = int(seconds * rate)
    rng = np.random.default_rng(seed)
    out = np.empty((n, channels), np.int16)
    for c in range(channels):
        base = np.resize(s, n).astype(np.float64) * (0.8 - 0.2 * c)
        out[:, c] = np.clip(base + rng.normal(0, 300, n), -32768, 32767).astype(np.int16)
    return out[:, 0] if channels == 1 else out


@pytest.fixture(scope="session")
def media(tmp_path_factory):
    """Audio files of several rates, channels and sample types, written with
    scipy (what the in-memory tests compare against)."""
    d = tmp_path_factory.mktemp("media")
    files = {}
    files["mono16k"] = d / "mono16k.wav"
    wavfile.write(files["mono16k"], 16000, speech(2.3, 16000, 1))
    files["stereo48k"] = d / "stereo48k.wav"
    wavfile.write(files["stereo48k"], 48000, speech(1.7, 48000, 2, channels=2))
    files["int32_22k"] = d / "int32_22k.wav"
    wavfile.write(files["int32_22k"], 22050, speech(1.1, 22050, 3).astype(np.int32) << 16)
    files["float32_8k"] = d / "float32_8k.wav"
    wavfile.write(files["float32_8k"], 8000, (speech(0.9, 8000, 4) / 32768).astype(np.float32))
    return files
