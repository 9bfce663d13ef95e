"""cnn.features on the torchvision classifiers users have, through each backend.

For each model: torchvision builds it with random weights (no download), every
parameter and BatchNorm statistic is perturbed so no two are equal (as in a
trained model: an untrained one has identical BatchNorm parameters, which the
ONNX exporter deduplicates into Identity nodes), and it is exported as a user
would, with default options: torch.onnx.export (ONNX, opset 14 on torch 1.13)
and torch.jit.trace + torch.jit.save (TorchScript). The exported module
returns two outputs, `feat` (an intermediate block, taken with a forward hook)
and `out` (the model's output). Then `featpipe run` runs image.decode ->
image.normalize -> cnn.features on a few photos (cropped and resized here to
SIZE x SIZE PNGs) for each backend and output, and the result is compared
with the same model in float64 on the same pixels: max|featpipe - ref| must
be within 1e-3 * max|ref|.

A backend may fail to load a model (OpenCV DNN 4.6 lacks some operators);
that is reported with featpipe's error, and is a failure only for models
named in --expect-onnx. Every model must load through at least one backend.
Exit status 0: every model held the tolerance on some backend, and no
expectation failed.

usage: cnn_coverage.py --featpipe BIN --work DIR [--models a,b,...|core|extra|all]
                       [--size N] [--vit-size N] [--backends onnx,torch]
                       [--expect-onnx a,b,...] [--reuse]
The README names the full run (all eight models at 224 x 224); the test suite
runs them at a smaller size. `--models extra` runs torchvision's other
classifier families (one or two of each; alexnet, vgg and maxvit_t at 224,
inception_v3 at 75 at least): about 20 minutes on 2 cores (vit_l_16 and vit_l_32
are 1.2 GB models), so it is a manual run named in the README, not a test.
"""
import argparse
import os
import subprocess
import sys
import time

import numpy as np
import torch
import torchvision

MODELS = {  # name -> the intermediate block returned as `feat`
    "resnet18": "layer2",
    "mobilenet_v2": "features.7",
    "mobilenet_v3_small": "features.6",
    "efficientnet_b0": "features.4",
    "regnet_y_400mf": "trunk_output.block2",
    "densenet121": "features.denseblock2",
    "convnext_tiny": "features.3",
    "vit_b_16": "encoder.layers.encoder_layer_5",
}
# The other families of torchvision's classifiers (--models extra, or all).
EXTRA = {
    "alexnet": "features.7",
    "vgg11": "features.10",
    "vgg11_bn": "features.14",
    "squeezenet1_0": "features.5",
    "squeezenet1_1": "features.7",
    "shufflenet_v2_x0_5": "stage3",
    "mnasnet0_5": "layers.10",
    "googlenet": "inception4a",
    "inception_v3": "Mixed_6b",
    "resnet50": "layer2",
    "resnext50_32x4d": "layer2",
    "wide_resnet50_2": "layer2",
    "efficientnet_v2_s": "features.4",
    "regnet_x_400mf": "trunk_output.block2",
    "mobilenet_v3_large": "features.7",
    "swin_t": "features.3",
    "swin_v2_t": "features.3",
    "maxvit_t": "blocks.1",
    "vit_b_32": "encoder.layers.encoder_layer_5",
    "vit_l_16": "encoder.layers.encoder_layer_11",
    "vit_l_32": "encoder.layers.encoder_layer_11",
}
BLOCKS = {**MODELS, **EXTRA}
# The smallest input some models take, used when --size is below it: the
# ONNX exporter writes AdaptiveAvgPool (alexnet's 6 x 6, vgg's 7 x 7) only
# when the output size divides the input's; inception_v3 needs 75 x 75;
# maxvit_t's windows of 7 need 224.
MIN_SIZE = {"alexnet": 224, "vgg11": 224, "vgg11_bn": 224, "inception_v3": 75, "maxvit_t": 224}
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
TOLERANCE = 1e-3  # of max|ref|, per output


class TwoOutputs(torch.nn.Module):
    """The model's output and one block's, as {feat, out}."""

    def __init__(self, model, block):
        super().__init__()
        self.model = model
        self.block = dict(model.named_modules())[block]

    def forward(self, x):
        seen = []
        handle = self.block.register_forward_hook(lambda _m, _i, o: seen.append(o))
        out = self.model(x)
        handle.remove()
        return {"feat": seen[0], "out": out}


def build(name, size, vit_size, seed):
    torch.manual_seed(seed)
    kwargs = {"image_size": vit_size} if name.startswith("vit") else {}
    model = getattr(torchvision.models, name)(weights=None, **kwargs)
    with torch.no_grad():
        for p in model.parameters():
            scale = float(p.std()) if p.numel() > 1 and float(p.std()) > 0 else 0.1
            p.add_(torch.randn_like(p) * 0.1 * scale)
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.weight.copy_(1 + 0.1 * torch.randn_like(m.weight))
                m.bias.copy_(0.1 * torch.randn_like(m.bias))
                m.running_mean.copy_(0.1 * torch.randn_like(m.running_mean))
                m.running_var.copy_(torch.exp(0.2 * torch.randn_like(m.running_var)))
    return TwoOutputs(model.eval(), BLOCKS[name]).eval()


def export(net, name, size, work, reuse, backends):
    """The model files, and the exporter's error for a format it cannot write
    (torch 1.13's ONNX exporter has no aten::zero_, which swin_v2_t uses)."""
    onnx_path, pt_path = f"{work}/{name}-{size}.onnx", f"{work}/{name}-{size}.pt"
    x = torch.randn(1, 3, size, size)
    errors = {}
    if "onnx" in backends and not (reuse and os.path.exists(onnx_path)):
        try:
            # Default options, as a user would; output names only name the two outputs.
            torch.onnx.export(net, x, onnx_path, output_names=["feat", "out"])
        except Exception as e:  # the exporter's own limits, not featpipe's
            errors["onnx"] = f"torch.onnx.export fails: {type(e).__name__}: {str(e).splitlines()[0][:200]}"
            if os.path.exists(onnx_path):
                os.remove(onnx_path)
    if "torch" in backends and not (reuse and os.path.exists(pt_path)):
        with torch.no_grad():
            torch.jit.save(torch.jit.trace(net, x, strict=False), pt_path)
    return onnx_path, pt_path, errors


def photos(size, work):
    """A few real photos (scikit-image's), centre-cropped and resized to size x size PNGs."""
    from PIL import Image
    import skimage.data

    folder = f"{work}/photos-{size}"
    os.makedirs(folder, exist_ok=True)
    pixels = {}
    for name in ("astronaut", "coffee", "chelsea"):
        img = Image.fromarray(getattr(skimage.data, name)()).convert("RGB")
        w, h = img.size
        s = min(w, h)
        img = img.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))
        img = img.resize((size, size), Image.BILINEAR)
        img.save(f"{folder}/{name}.png")
        pixels[name] = np.asarray(img)
    return folder, pixels


def references(net, pixels):
    net64 = net.double()
    mean, std = np.array(MEAN)[:, None, None], np.array(STD)[:, None, None]
    refs = {}
    with torch.no_grad():
        for name, px in pixels.items():
            x = (px.transpose(2, 0, 1) / 255.0 - mean) / std
            out = net64(torch.from_numpy(x[None]))
            refs[name] = {k: v[0].numpy() for k, v in out.items()}
    net.float()
    return refs


def run_featpipe(featpipe, model_path, layer, size, photo_dir, work, tag):
    pipe = f"{work}/{tag}.yaml"
    with open(pipe, "w") as f:
        f.write(f"""featpipe: 1
name: coverage
stages:
  - use: image.decode
  - use: image.normalize
    with: {{mean: {list(MEAN)}, std: {list(STD)}}}
  - use: cnn.features
    with: {{model: {model_path}, layer: {layer}, input_size: [{size}, {size}]}}
""")
    out = f"{work}/{tag}-out"
    t = time.time()
    r = subprocess.run([featpipe, "run", pipe, photo_dir, "-o", out, "--overwrite", "-q"],
                       capture_output=True, text=True)
    secs = time.time() - t
    if r.returncode != 0:
        lines = [line for line in (r.stderr + r.stdout).splitlines() if line.strip()]
        return None, " / ".join(lines[:3])[:400], secs
    # A run that succeeds prints nothing of OpenCV's own log (its import
    # and layer-sizing errors are translated or silenced by the backend).
    logged = [line for line in r.stderr.splitlines() if line.startswith("[ERROR")]
    if logged:
        return None, "exit 0 but OpenCV logged: " + logged[0][:300], secs
    return {f.split(".")[0]: np.load(f"{out}/{f}") for f in os.listdir(out) if f.endswith(".npy")}, "", secs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--featpipe", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--models", default=",".join(MODELS),
                    help="names, or the groups core (the default), extra (the other families), all")
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--vit-size", type=int, default=224, help="the ViTs' image_size (a multiple of their patch: 16, or 32 for the _32 ones)")
    ap.add_argument("--backends", default="onnx,torch")
    ap.add_argument("--expect-onnx", default="", help="models that must load and match through OpenCV")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--reuse", action="store_true", help="keep model files exported by an earlier run")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    torch.set_num_threads(1)
    expect = set(filter(None, args.expect_onnx.split(",")))
    failures = []
    print(f"{'model':20} {'backend':8} {'output':6} {'max|err|/max|ref|':>18} {'shape':>16} {'secs':>6}")
    groups = {"core": list(MODELS), "extra": list(EXTRA), "all": list(BLOCKS)}
    names = [m for g in args.models.split(",") for m in groups.get(g, [g])]
    for name in names:
        size = args.vit_size if name.startswith("vit") else max(args.size, MIN_SIZE.get(name, 0))
        net = build(name, size, args.vit_size, args.seed)
        onnx_path, pt_path, unexported = export(net, name, size, args.work, args.reuse, args.backends.split(","))
        photo_dir, pixels = photos(size, args.work)
        refs = references(net, pixels)
        held = []
        for backend in args.backends.split(","):
            path = onnx_path if backend == "onnx" else pt_path
            ok = backend not in unexported
            if not ok:
                print(f"{name:20} {backend:8} {'':6} {'not exported':>18}  {unexported[backend]}")
            for layer in ("feat", "out") if ok else ():
                got, err, secs = run_featpipe(args.featpipe, path, layer, size, photo_dir, args.work,
                                              f"{name}-{size}-{backend}-{layer}")
                if got is None:
                    print(f"{name:20} {backend:8} {layer:6} {'does not load':>18}  {err}")
                    ok = False
                    break
                worst = 0.0
                for photo, ref in refs.items():
                    r = ref[layer]
                    g = got[photo]
                    if g.shape != r.shape:
                        worst = float("inf")
                        break
                    worst = max(worst, float(np.abs(g - r).max() / np.abs(r).max()))
                shape = "x".join(map(str, got[next(iter(got))].shape))
                print(f"{name:20} {backend:8} {layer:6} {worst:18.2e} {shape:>16} {secs:6.1f}")
                ok = ok and worst <= TOLERANCE
            if ok:
                held.append(backend)
            elif backend == "onnx" and name in expect:
                failures.append(f"{name}: expected to load and match through OpenCV (onnx)")
            elif backend == "torch":
                failures.append(f"{name}: the torch backend did not load or match")
        if not held:
            failures.append(f"{name}: no backend loads it within {TOLERANCE} * max|ref|")
        sys.stdout.flush()
    for f in failures:
        print("FAIL", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
