"""Batch-1 forward time of torchvision classifiers, one core, side by side in
one run: featpipe's cnn.features with its torch backend (TorchScript,
libtorch) and its OpenCV backend (ONNX), and PyTorch's own eager forward
from Python.

    /usr/bin/python3 bench/cnn/forward.py [--build build] [--runs 30] [--models mobilenet_v2 resnet18]

Each model is built with weights=None (seeded, batch-norm statistics
perturbed as in a trained model; the time does not depend on the values), exported once to TorchScript (torch.jit.trace) and ONNX
(torch.onnx.export with default options, and with opset_version=10) in a
temporary folder. Times are the
median CPU ms of RUNS passes after 3 warm-up passes (process CPU
time: the machine may be shared), with the fastest pass's wall ms beside it; featpipe's come from
bench/cnn/cnn_forward (Session::run on a [3, 224, 224] tensor, input and
output copies included), PyTorch's from model(x) under torch.inference_mode.
One thread everywhere: torch.set_num_threads(1), FEATPIPE_THREADS=1.

To add a column, add a function to SIDES; to add a model, to MODELS.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
import torchvision

HERE = Path(__file__).resolve().parent
MODELS = {
    "mobilenet_v2": torchvision.models.mobilenet_v2,
    "resnet18": torchvision.models.resnet18,
}


def timed(fn, runs):
    """(median CPU ms, min wall ms) per call, as cnn_forward measures."""
    for _ in range(3):
        fn()
    cpu, wall = [], []
    for _ in range(runs):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        wall.append((time.perf_counter() - t0) * 1e3)
        cpu.append((time.process_time() - c0) * 1e3)
    return statistics.median(cpu), min(wall)


def torch_eager(m, args):
    x = torch.rand(1, 3, args.size, args.size)
    with torch.inference_mode():
        return timed(lambda: m["model"](x), args.runs)


def torch_script(m, args):
    """The same TorchScript file from Python, optimized as the torch backend does it."""
    ts = torch.jit.optimize_for_inference(torch.jit.load(str(m["pt"])).eval())
    x = torch.rand(1, 3, args.size, args.size)
    with torch.inference_mode():
        return timed(lambda: ts(x), args.runs)


def featpipe_side(key):
    def side(m, args):
        env = dict(os.environ, FEATPIPE_THREADS="1", OMP_NUM_THREADS="1")
        exe = Path(args.build) / "bin" / "cnn_forward"
        r = subprocess.run([str(exe), str(m[key]), str(args.size), str(args.size), str(args.runs)], env=env,
                           capture_output=True, text=True)
        if r.returncode != 0:
            return "error: " + " ".join(r.stderr.split())[-60:]
        cpu, wall, _ = r.stdout.split()
        return float(cpu), float(wall)
    return side


# Column name -> function(model dict, args) -> (median CPU ms, min wall ms), or an error text.
SIDES = {
    "featpipe torch (C++)": featpipe_side("pt"),
    "PyTorch eager (Python)": torch_eager,
    "PyTorch optimize_for_inference (Python)": torch_script,
    "featpipe OpenCV (ONNX, default export)": featpipe_side("onnx"),
    "featpipe OpenCV (ONNX, opset 10)": featpipe_side("onnx10"),
}


def export(name, folder, size):
    torch.manual_seed(0)
    model = MODELS[name](weights=None).eval()
    # weights=None leaves every batch norm at mean 0, var 1, bias 0: the
    # ONNX export folds them into identical conv biases, stored once behind
    # Identity nodes, which trained models do not have (and OpenCV 4.6
    # cannot import). Trained-like statistics avoid that.
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.1, 0.1)
                mod.running_var.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.1, 0.1)
    x = torch.rand(1, 3, size, size)
    files = {k: folder / f"{name}{suffix}" for k, suffix in (("pt", ".pt"), ("onnx", ".onnx"), ("onnx10", "_10.onnx"))}
    with torch.no_grad():
        torch.jit.save(torch.jit.trace(model, x), files["pt"])
    torch.onnx.export(model, x, files["onnx"])
    # What OpenCV 4.6 imports without featpipe normalizing the graph
    # (tests/image and bench/image export this way too).
    torch.onnx.export(model, x, files["onnx10"], opset_version=10)
    return {"model": model, **files}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=str(HERE.parent.parent / "build"))
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--models", nargs="+", default=list(MODELS))
    args = ap.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        cols = list(SIDES)
        print(f"batch-1 forward, CPU ms median of {args.runs} (fastest wall ms), one thread, {args.size}x{args.size}, "
              f"torch {torch.__version__}")
        print("| model | " + " | ".join(cols) + " | torch C++ / Python speed-up |")
        print("|---" * (len(cols) + 2) + "|")
        for name in args.models:
            m = export(name, Path(tmp), args.size)
            t = {c: SIDES[c](m, args) for c in cols}
            fmt = lambda v: f"{v[0]:.1f} ({v[1]:.1f})" if isinstance(v, tuple) else v
            a, b = t[cols[0]], t[cols[1]]
            ratio = f"{b[0] / a[0]:.2f}x" if isinstance(a, tuple) and isinstance(b, tuple) else "-"
            print(f"| {name} | " + " | ".join(fmt(t[c]) for c in cols) + f" | {ratio} |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
