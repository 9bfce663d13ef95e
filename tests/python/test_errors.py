"""Exceptions carry what the C++ side knows: PipelineError the file, line
and column with the text `featpipe validate` prints; InputError the input,
the step and stage at fault. describe() is validate's report."""
import pickle

import pytest

import featpipe as fp
from conftest import PIPELINES, run_cli

BAD = {
    "unknown parameter": ("featpipe: 1\nname: x\nstages:\n  - use: audio.decode\n  - use: audio.stft\n"
                          "    with: {n_fft: 512, hop: 3}\n", 6, "did you mean 'hop_length'"),
    "unknown stage": ("featpipe: 1\nname: x\nstages:\n  - use: audio.decode\n  - use: audio.mell\n", 5, "audio.mel"),
    "wrong type": ("featpipe: 1\nname: x\nstages:\n  - use: audio.decode\n  - use: audio.stft\n"
                   "    with: {n_fft: many}\n", 6, "n_fft"),
    "shapes": ("featpipe: 1\nname: x\nstages:\n  - use: audio.decode\n  - use: image.resize\n"
               "    with: {size: 8}\n", 5, ""),
    "yaml": ("featpipe: 1\nname: x\nstages:\n  - use: audio.decode\n   with: [\n", None, ""),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_pipeline_error_has_the_place_and_validates_text(tmp_path, case):
    text, line, words = BAD[case]
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(fp.PipelineError) as e:
        fp.Pipeline(path)
    err = e.value
    validate = run_cli("validate", path, check=False)
    assert validate.returncode == 2
    assert validate.stderr.strip() == f"error: {err}"
    assert err.file == str(path)
    if line is not None:
        assert err.line == line
    assert err.line is not None and err.column is not None and err.column >= 1
    assert words in err.message and not err.message.startswith(str(path))
    # from_yaml names the text as told, with the same place.
    with pytest.raises(fp.PipelineError) as e2:
        fp.Pipeline.from_yaml(text, name="inline.yaml")
    assert (e2.value.file, e2.value.line, e2.value.column) == ("inline.yaml", err.line, err.column)
    assert pickle.loads(pickle.dumps(err)).line == err.line


def test_missing_pipeline_file(tmp_path):
    with pytest.raises(fp.PipelineError, match="no such pipeline file") as e:
        fp.Pipeline(tmp_path / "nope.yaml")
    assert e.value.line is None and e.value.file == str(tmp_path / "nope.yaml")
    assert isinstance(e.value, fp.Error)


def test_input_error_names_the_input_and_the_stage(tmp_path):
    pipe = fp.Pipeline(PIPELINES / "speech-logmel.yaml")
    bad = tmp_path / "x.wav"
    bad.write_bytes(b"RIFF" + b"\0" * 60)
    with pytest.raises(fp.InputError) as e:
        pipe(bad)
    assert e.value.input == str(bad) and e.value.step == 1 and e.value.stage == "audio.decode"
    assert "x.wav" in e.value.message and str(e.value).startswith(f"{bad}: step 1 'audio.decode': ")
    r = run_cli("run", PIPELINES / "speech-logmel.yaml", bad, "-o", tmp_path / "out", check=False)
    assert r.returncode == 1 and f"error: {e.value}" in r.stderr
    # An error in a later step names that step.
    short = tmp_path / "short.wav"
    import numpy as np, scipy.io.wavfile as wavfile
    wavfile.write(short, 16000, np.zeros(100, np.int16))
    with pytest.raises(fp.InputError) as e:
        fp.Pipeline(PIPELINES / "kaldi-fbank.yaml")(short)
    assert e.value.step == 2 and e.value.stage == "audio.fbank"
    assert pickle.loads(pickle.dumps(e.value)).stage == "audio.fbank"


def test_describe_is_validates_report():
    for p in sorted(PIPELINES.glob("*.yaml")):
        out = run_cli("validate", p).stdout
        assert out == fp.Pipeline(p).describe() + "ok\n"


def test_introspection():
    pipe = fp.Pipeline(PIPELINES / "speech-logmel.yaml")
    assert pipe.name == "speech-logmel" and pipe.axes == ("frame", "mel")
    assert pipe.output_shape == (None, 80)
    assert pipe.latency_samples == 256.0 and pipe.frame_rate == 100.0
    assert pipe.reads_files and "wav" in pipe.extensions and pipe.streamable
    assert [s["use"] for s in pipe.steps][:3] == ["audio.decode", "audio.stft", "audio.mel"]
    assert pipe.provenance["featpipe_version"] == fp.__version__
    assert [s["use"] for s in pipe.provenance["steps"]] == [s["use"] for s in pipe.steps]
    img = fp.Pipeline(PIPELINES / "image-embedding.yaml")
    assert img.output_shape == (64,) and img.frame_rate is None and not img.streamable
    stages = fp.stages()
    names = [s["name"] for s in stages]
    assert "audio.mel" in names and "cnn.features" in names and names == sorted(names)
    mel = fp.stage("audio.mel")
    assert {p["name"] for p in mel["params"]} >= {"n_mels", "f_min", "f_max"}
    with pytest.raises(KeyError, match="did you mean 'audio.mel'"):
        fp.stage("audio.mell")
    assert fp.plugin_folder().endswith("plugins")
    assert fp.__version__.count(".") == 2


def test_pipeline_pickles_as_loaded(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text((PIPELINES / "kaldi-fbank.yaml").read_text())
    pipe = fp.Pipeline(path)
    blob = pickle.dumps(pipe)
    path.write_text("not: a pipeline\n")  # the pickle holds the text it loaded
    again = pickle.loads(blob)
    assert again.describe() == pipe.describe()
