"""Long inputs in bounded memory: a pipeline that can stream reads a file in
chunks and `featpipe run` writes its .npy as the frames come. What must hold:
the bytes equal those of the whole signal pushed at once (the in-memory API,
an independent path through the decoder), files longer than an hour are
taken, and a whole-input pipeline refuses them naming the limit."""
import json
import wave

import numpy as np
import pytest
import scipy.io.wavfile as wavfile

import featpipe as fp
from conftest import CLI, PIPELINES, pipeline, run_cli, speech

# speech-mfcc needs the whole input (audio.db top_db): decoded whole.
STREAMED = ["speech-logmel", "kaldi-fbank", "kaldi-mfcc"]


def npy_bytes(a: np.ndarray) -> bytes:
    """The bytes featpipe writes for `a` (numpy's own .npy layout)."""
    import io
    b = io.BytesIO()
    np.save(b, np.ascontiguousarray(a, dtype="<f4"))
    return b.getvalue()


@pytest.fixture(scope="module")
def long_media(tmp_path_factory):
    """Files several decode chunks long (131072 frames each) whose last
    chunk is partial: mono 16 kHz PCM, stereo 44.1 kHz float (resampled and
    mixed), 3-channel 48 kHz PCM."""
    d = tmp_path_factory.mktemp("long")
    files = {}
    files["mono16k.wav"] = (16000, speech(61.3, 16000, 1))
    files["stereo44k.wav"] = (44100, (speech(23.9, 44100, 2, channels=2) / 32768).astype(np.float32))
    files["three48k.wav"] = (48000, speech(17.05, 48000, 3, channels=3))
    for name, (rate, x) in files.items():
        wavfile.write(d / name, rate, x)
    return d, files


@pytest.mark.parametrize("name", STREAMED)
def test_streamed_run_equals_the_whole_signal(long_media, tmp_path, name):
    d, files = long_media
    pipe = pipeline(name)
    assert pipe.streams_files
    run_cli("run", PIPELINES / f"{name}.yaml", d, "-o", tmp_path / "out", "-q")
    manifest = [json.loads(l) for l in open(tmp_path / "out" / "manifest.jsonl")]
    assert sorted(e["status"] for e in manifest) == ["ok"] * 3
    for fname, (rate, x) in files.items():
        whole = pipe(x, sample_rate=rate)  # one push of every sample
        assert whole.shape[0] > 100
        got = (tmp_path / "out" / f"{fname}.npy").read_bytes()
        assert got == npy_bytes(whole), f"{name} {fname}: the streamed file differs from the whole signal's"
        assert np.array_equal(pipe(d / fname), whole)  # the API's file path streams too


def ark_matrix(scp_line: str) -> np.ndarray:
    """The matrix an scp line points at, read from Kaldi's binary layout:
    b"\\0BFM ", then rows and cols each as the byte 4 and an int32."""
    key, where = scp_line.split(" ", 1)
    ark, offset = where.rsplit(":", 1)
    with open(ark, "rb") as f:
        f.seek(int(offset))
        head = f.read(15)
        assert head[:5] == b"\0BFM " and head[5] == 4 and head[10] == 4, head
        rows, cols = np.frombuffer(head[6:10], "<i4")[0], np.frombuffer(head[11:15], "<i4")[0]
        return np.frombuffer(f.read(4 * rows * cols), "<f4").reshape(rows, cols)


def test_ark_and_float16_runs_equal_the_whole_signal(long_media, tmp_path):
    """Both formats are written as frames come: the ark's matrices are the
    whole signal's float32 values, the float16 files numpy's rounding of them."""
    d, files = long_media
    pipe = pipeline("kaldi-fbank")
    run_cli("run", PIPELINES / "kaldi-fbank.yaml", d, "-o", tmp_path / "ark", "--output-format", "ark", "-q")
    run_cli("run", PIPELINES / "kaldi-fbank.yaml", d, "-o", tmp_path / "f16", "--dtype", "float16", "-q")
    scp = {l.split(" ", 1)[0]: l.rstrip("\n") for l in open(tmp_path / "ark" / "feats.scp")}
    assert sorted(scp) == sorted(files)
    for fname, (rate, x) in files.items():
        whole = pipe(x, sample_rate=rate)
        got = ark_matrix(scp[fname])
        assert got.shape == whole.shape and np.array_equal(got.view("<u4"), whole.view("<u4")), fname
        half = np.load(tmp_path / "f16" / f"{fname}.npy")
        assert half.dtype == np.float16
        assert np.array_equal(half.view("<u2"), whole.astype(np.float16).view("<u2")), fname


def test_validate_says_how_files_are_read(tmp_path):
    r = run_cli("validate", PIPELINES / "kaldi-fbank.yaml")
    assert "files: read in chunks" in r.stdout, r.stdout
    assert "--output-format tar holds each input's features" in r.stdout, r.stdout
    whole = tmp_path / "cmvn.yaml"
    whole.write_text(open(PIPELINES / "speech-logmel.yaml").read() + "  - use: norm.standardize\n    with: {axis: frame}\n")
    r = run_cli("validate", whole)
    assert "files: decoded whole" in r.stdout and "norm.standardize" in r.stdout, r.stdout
    js = json.loads(run_cli("validate", whole, "--json").stdout)
    assert js["files"]["chunked"] is False and "needs the whole input" in js["files"]["why"]


def write_wav(path, rate, seconds):
    """A 16-bit mono WAV of `seconds` at `rate`, written in blocks (a tone)."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        block = (3000 * np.sin(np.arange(rate * 60) * 0.3)).astype("<i2").tobytes()
        left = int(rate * seconds)
        while left > 0:
            n = min(left, rate * 60)
            w.writeframes(block[: 2 * n])
            left -= n


def test_over_an_hour_streams_and_whole_input_names_the_limit(tmp_path):
    # 3601 s at 1 kHz (7 MB): over the hour a whole-input pipeline holds.
    f = tmp_path / "in" / "long.wav"
    f.parent.mkdir()
    write_wav(f, 1000, 3601)
    streamed = tmp_path / "streamed.yaml"
    streamed.write_text("featpipe: 1\nname: long\nstages:\n  - use: audio.decode\n  - use: audio.stft\n    with: {n_fft: 64, hop_length: 50}\n")
    run_cli("run", streamed, f.parent, "-o", tmp_path / "a", "-q")
    out = np.load(tmp_path / "a" / "long.wav.npy")
    assert out.shape == (3601 * 1000 // 50 + 1, 33)
    whole = tmp_path / "whole.yaml"
    whole.write_text(streamed.read_text() + "  - use: norm.standardize\n    with: {axis: frame}\n")
    r = run_cli("run", whole, f.parent, "-o", tmp_path / "b", "-q", check=False)
    assert r.returncode == 1
    assert "over max_duration (3600 s when not set and a later step needs the whole input" in r.stderr, r.stderr
    assert "raise it with audio.decode's max_duration" in r.stderr
    raised = tmp_path / "raised.yaml"
    raised.write_text(whole.read_text().replace("- use: audio.decode\n", "- use: audio.decode\n    with: {max_duration: 7200}\n"))
    run_cli("run", raised, f.parent, "-o", tmp_path / "c", "-q")
    assert np.load(tmp_path / "c" / "long.wav.npy").shape == out.shape
    # Set explicitly, the limit holds for a streamed file too.
    capped = tmp_path / "capped.yaml"
    capped.write_text(streamed.read_text().replace("- use: audio.decode\n", "- use: audio.decode\n    with: {max_duration: 60}\n"))
    r = run_cli("run", capped, f.parent, "-o", tmp_path / "d", "-q", check=False)
    assert r.returncode == 1 and "over max_duration (60 s)" in r.stderr, r.stderr


def test_a_failure_late_in_a_long_file_leaves_nothing(tmp_path):
    """NaN samples after many chunks: the input fails naming them, no output
    and no temporary file is left, and the other input is written."""
    d = tmp_path / "in"
    d.mkdir()
    x = (speech(30, 16000, 7) / 32768).astype(np.float32)
    x[25 * 16000 + 17] = np.nan
    wavfile.write(d / "nan.wav", 16000, x)
    wavfile.write(d / "ok.wav", 16000, speech(3, 16000, 8))
    r = run_cli("run", PIPELINES / "speech-logmel.yaml", d, "-o", tmp_path / "out", "-q", check=False)
    assert r.returncode == 1
    assert "'nan.wav' contains NaN samples (first at frame 400017)" in r.stderr, r.stderr
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["manifest.jsonl", "ok.wav.npy", "provenance.json", "run.json"], names
