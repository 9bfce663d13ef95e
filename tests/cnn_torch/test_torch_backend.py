"""cnn.features with TorchScript models (the torch backend): outputs against
PyTorch float64, output selection, errors, `validate`, `run -j 2`, the
Python package, lazy loading of libtorch and an installed prefix.

Tolerance: max|ours - ref| <= 1e-5 max|ref|. The models are small (dot
products of at most 256 terms in float32, eps 6e-8), so the float32 error
is ~1e-6 at most; 1e-5 leaves room for libtorch choosing other kernels
(oneDNN, folded batch norms) yet catches a wrong layer, layout or
normalization, which are off by 1e-2 or more.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("torchvision")

HERE = Path(__file__).resolve().parent
SOURCE = Path(os.environ.get("FEATPIPE_SOURCE_DIR", HERE.parent.parent))
BINARY = Path(os.environ.get("FEATPIPE_BINARY_DIR", SOURCE / "build"))
CLI = os.environ.get("FEATPIPE_CLI", str(BINARY / "bin" / "featpipe"))
TOL = 1e-5


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("models")
    subprocess.run([sys.executable, str(HERE / "make_torch_models.py"), str(d)], check=True, capture_output=True)
    return d


def pipeline(folder, name, cnn, decode=""):
    """A decode + cnn.features pipeline file; `cnn` is the `with:` body's extra keys."""
    p = folder / f"{name}.yaml"
    p.write_text("featpipe: 1\nname: t\nstages:\n  - use: image.decode\n" + (f"    with: {{{decode}}}\n" if decode else "") +
                 f"  - use: cnn.features\n    with: {{input_size: [32, 32], {cnn}}}\n")
    return p


def cli(*args, env=None, timeout=120):
    return subprocess.run([CLI, *map(str, args)], capture_output=True, text=True, env=env, timeout=timeout)


def run_one(models, tmp_path, cnn, image="input.png"):
    p = pipeline(models, f"p{abs(hash(cnn))}", cnn)
    r = cli("run", p, models / image, "-o", tmp_path / "out", "-q")
    assert r.returncode == 0, r.stderr
    return np.load(tmp_path / "out" / f"{image}.npy")


def rel(out, ref):
    assert out.shape == ref.shape and out.dtype == np.float32
    return np.abs(out.astype(np.float64) - ref).max() / np.abs(ref).max()


def test_traced_model_matches_pytorch_float64(models, tmp_path):
    assert rel(run_one(models, tmp_path, "model: small_cnn.pt"), np.load(models / "ref_small_cnn.npy")) <= TOL


@pytest.mark.parametrize("key", ["mid", "out"])
def test_feature_extractor_dict_outputs_by_key(models, tmp_path, key):
    out = run_one(models, tmp_path, f"model: extractor.pt, layer: {key}")
    assert rel(out, np.load(models / f"ref_extractor_{key}.npy")) <= TOL


@pytest.mark.parametrize("index", ["0", "1"])
def test_scripted_model_tuple_outputs_by_index(models, tmp_path, index):
    out = run_one(models, tmp_path, f"model: scripted.pt, layer: '{index}', backend: torch")
    assert rel(out, np.load(models / f"ref_scripted_{index}.npy")) <= TOL


def test_float64_output_is_converted_and_said(models, tmp_path):
    assert rel(run_one(models, tmp_path, "model: float64.pt"), np.load(models / "ref_float64.npy")) <= TOL
    r = cli("validate", pipeline(models, "f64", "model: float64.pt"))
    assert r.returncode == 0 and "output float64 converted to float32" in r.stdout, r.stdout + r.stderr


def test_validate_lists_outputs_with_shapes(models):
    r = cli("validate", pipeline(models, "v", "model: extractor.pt, layer: mid"))
    assert r.returncode == 0, r.stderr
    lines = [l.split() for l in r.stdout.splitlines()]
    assert ["mid", "dict", "entry", "[16,", "16,", "16]"] in lines and ["out", "dict", "entry", "[10]"] in lines, r.stdout
    assert "libtorch 1." in r.stdout and "TorchScript, " in r.stdout and " parameters" in r.stdout, r.stdout


@pytest.mark.parametrize("cnn, decode, words", [
    ("model: missing.pt", "", ["missing.pt", "no such file"]),
    ("model: state_dict.pt", "", ["state_dict.pt is a PyTorch checkpoint", "torch.jit.save(torch.jit.trace("]),
    ("model: eager.pth", "", ["eager.pth is a PyTorch checkpoint", "not TorchScript"]),
    ("model: not_zip.pt", "", ["not_zip.pt is not a TorchScript file (not a zip archive)"]),
    ("model: extractor.pt, layer: nope", "", ["no output 'nope'", "'mid' [16, 16, 16], 'out' [10]"]),
    ("model: extractor.pt", "", ["returns a dict of 2 outputs", "'mid' [16, 16, 16]"]),
    ("model: scripted.pt, layer: '2'", "", ["no output '2'", "'0' [4, 32, 32], '1' [4]"]),
    ("model: small_cnn.pt, layer: '0'", "", ["returns one tensor", "leave `layer` null"]),
    ("model: small_cnn.pt", "color: gray", ["small_cnn.pt failed on an input of [1, 32, 32]", "to have 3 channels"]),
    ("model: small_cnn.pt, backend: opencv", "", ["backend: opencv opens .onnx files", "set backend: torch"]),
    ("model: '{digits}', backend: torch", "", ["backend: torch opens", "set backend: opencv"]),
])
def test_errors_name_the_model_and_the_fix(models, cnn, decode, words):
    cnn = cnn.replace("{digits}", str(SOURCE / "samples" / "models" / "digits_cnn.onnx"))
    r = cli("validate", pipeline(models, "e", cnn, decode))
    assert r.returncode != 0
    for w in words:
        assert w in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and "Exception raised from" not in r.stderr, r.stderr


def test_model_throwing_in_forward_fails_that_input_only(models, tmp_path):
    p = pipeline(models, "throws", "model: throws.pt")
    r = cli("run", p, models / "input.png", models / "bright.png", "-o", tmp_path / "out", "-q")
    assert r.returncode != 0
    assert "throws.pt failed on an input of [3, 32, 32]" in r.stderr and "input value above 0.5" in r.stderr, r.stderr
    assert (tmp_path / "out" / "input.png.npy").is_file() and not (tmp_path / "out" / "bright.png.npy").exists()


def test_two_workers_give_the_bytes_of_one(models, tmp_path):
    """Worker processes are forked after the model is loaded (and run at
    load); each must run it, with its share of the threads, and not hang.
    Worker threads (--isolation thread) share one libtorch."""
    from PIL import Image
    inputs = tmp_path / "in"
    inputs.mkdir()
    rng = np.random.default_rng(5)
    for k in range(6):
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8), "RGB").save(inputs / f"{k}.png")
    p = pipeline(models, "j", "model: extractor.pt, layer: mid")
    outs = []
    for name, flags in (("j1", ["-j", 1]), ("j2", ["-j", 2]), ("threads", ["-j", 2, "--isolation", "thread"])):
        r = cli("run", p, inputs, "-o", tmp_path / name, *flags, "-q", timeout=180)
        assert r.returncode == 0, r.stderr
        outs.append({f.name: f.read_bytes() for f in sorted((tmp_path / name).glob("*.npy"))})
    assert len(outs[0]) == 6 and outs[0] == outs[1] == outs[2]


def libtorch_loaded(*args):
    env = dict(os.environ, LD_DEBUG="files")
    r = cli(*args, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    return "libtorch_cpu.so" in r.stderr


def test_libtorch_loads_only_for_a_torch_model(models, tmp_path):
    assert not libtorch_loaded("stages")
    onnx = pipeline(models, "onnx", f"model: '{SOURCE / 'samples' / 'models' / 'digits_cnn.onnx'}'")
    assert not libtorch_loaded("run", onnx, models / "input.png", "-o", tmp_path / "o1", "-q")
    assert libtorch_loaded("run", pipeline(models, "pt", "model: small_cnn.pt"), models / "input.png",
                           "-o", tmp_path / "o2", "-q")


def test_python_package_runs_a_torch_model(models, tmp_path):
    fp = pytest.importorskip("featpipe")
    out = fp.Pipeline(str(pipeline(models, "py", "model: extractor.pt, layer: out")))(str(models / "input.png"))
    assert rel(np.asarray(out), np.load(models / "ref_extractor_out.npy")) <= TOL


@pytest.mark.skipif(os.environ.get("FEATPIPE_TEST_INSTALL", "1") in ("0", "OFF", "FALSE"), reason="no install target")
def test_installed_prefix_finds_the_torch_module(models, tmp_path):
    prefix = tmp_path / "prefix"
    subprocess.run(["cmake", "--install", str(BINARY), "--prefix", str(prefix)], check=True, capture_output=True)
    module = prefix / "lib" / "featpipe" / "plugins" / "cnn" / "libfeatpipe_cnn_torch.so"
    assert module.is_file()
    fp_bin = prefix / "bin" / "featpipe"
    env = {k: v for k, v in os.environ.items() if k not in ("FEATPIPE_PLUGIN_PATH", "LD_LIBRARY_PATH")}
    p = pipeline(models, "inst", "model: small_cnn.pt")
    r = subprocess.run([fp_bin, "run", p, models / "input.png", "-o", tmp_path / "o", "-q"], capture_output=True,
                       text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert rel(np.load(tmp_path / "o" / "input.png.npy"), np.load(models / "ref_small_cnn.npy")) <= TOL
    # Without the module (libtorch-dev missing at build time): a plain error.
    shutil.rmtree(module.parent)
    r = subprocess.run([fp_bin, "validate", p], capture_output=True, text=True, env=env)
    assert r.returncode != 0 and "small_cnn.pt" in r.stderr and "the torch backend was not built" in r.stderr, r.stderr
