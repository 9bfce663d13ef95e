"""For every shipped pipeline: pipe(path) gives exactly the bits `featpipe
run` writes to its .npy, for every input of samples/ that it reads, and the
same error for an input that the run failed."""
import json

import numpy as np
import pytest

import featpipe as fp
from conftest import PIPELINES, SAMPLES, run_cli

SHIPPED = sorted(p.stem for p in PIPELINES.glob("*.yaml"))
INPUTS = {"audio": SAMPLES / "audio", "image": SAMPLES / "images", "tensor": SAMPLES / "tensors"}


def test_every_shipped_pipeline_is_covered():
    assert len(SHIPPED) >= 8


@pytest.mark.parametrize("name", SHIPPED)
def test_call_equals_featpipe_run(name, tmp_path):
    pipe = fp.Pipeline(PIPELINES / f"{name}.yaml")
    family = pipe.steps[0]["use"].split(".")[0]
    folder = INPUTS[family]
    out = tmp_path / "out"
    r = run_cli("run", PIPELINES / f"{name}.yaml", folder, "-o", out, "-j", "2", check=False)
    assert r.returncode in (0, 1), r.stderr
    lines = [json.loads(l) for l in (out / "manifest.jsonl").read_text().splitlines() if l.strip()]
    ok = [l for l in lines if l["status"] == "ok"]
    assert len(ok) >= 3, f"{name}: too few inputs ran ({len(ok)})"
    for line in ok:
        want = np.load(out / line["output"])
        got = pipe(line["input"])
        assert got.dtype == np.float32 and got.shape == want.shape, line["input"]
        assert got.tobytes() == want.tobytes(), f"{name}: {line['input']} differs from featpipe run's output"
        if got.ndim == len(pipe.axes):  # tensor.load declares [row, col]; other ranks name their own
            assert tuple(line["axes"]) == pipe.axes
    # An input the run failed fails the call with the same message.
    for line in lines:
        if line["status"] == "error":
            with pytest.raises(fp.InputError) as e:
                pipe(line["input"])
            assert e.value.text == line["error"] and e.value.input == line["input"]
    # The same through map, two threads.
    for item, line in zip(pipe.map([l["input"] for l in ok], jobs=2), ok):
        assert item.ok and item.path == line["input"]
        assert item.features.tobytes() == np.load(out / line["output"]).tobytes()
