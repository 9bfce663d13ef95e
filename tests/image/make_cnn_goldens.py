#!/usr/bin/env python3
"""References for cnn.features: the ONNX model run in float64 by PyTorch
(onnx_ref.py, node by node), on the same input tensor featpipe gets.

  make_cnn_goldens.py digits [OUT]   -> the shipped digits CNN: inputs, the
      output and intermediate layers (default OUT: tests/image/data, committed)
  make_cnn_goldens.py mobilenet OUT  -> exports torchvision's mobilenet_v2
      (random init, fixed seed, opset 10: OpenCV 4.6 cannot import opset-11
      Clip with min/max inputs) into OUT with its references (live test only;
      the model is 14 MB and not committed)

Writes OUT/cnn_cases.txt: one line per comparison,
  model input.npy layer ref.npy     (layer '-' = the model output)
with paths relative to OUT's parent source tree (digits) or absolute (OUT).
"""
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import onnx_ref  # noqa: E402

MEAN = np.array([0.485, 0.456, 0.406])[:, None, None]
STD = np.array([0.229, 0.224, 0.225])[:, None, None]


def photo_input(size):
    """A real photo preprocessed as the pipelines do (torchvision, float)."""
    import torchvision.transforms as T
    from PIL import Image
    img = Image.open(os.path.join(ROOT, "samples/images/chelsea.jpg")).convert("RGB")
    x = T.Compose([T.Resize(size), T.CenterCrop(size), T.ToTensor()])(img).numpy().astype(np.float64)
    return ((x - MEAN) / STD).astype(np.float32)


def write_cases(out, model, cases, rel):
    lines = []
    for name, x, layers in cases:
        np.save(os.path.join(out, f"cnn_in_{name}.npy"), x)
        refs = onnx_ref.run(model, x[None])
        for layer in layers:
            key = layer if layer != "-" else "logits"
            tag = key.strip("/").replace("/", "_")
            np.save(os.path.join(out, f"cnn_ref_{name}_{tag}.npy"), refs[key][0].astype(np.float32))
            p = (lambda f: os.path.relpath(os.path.join(out, f), ROOT)) if rel else (lambda f: os.path.join(out, f))
            m = os.path.relpath(model, ROOT) if rel else model
            lines.append(f"{m} {p(f'cnn_in_{name}.npy')} {layer} {p(f'cnn_ref_{name}_{tag}.npy')}")
    with open(os.path.join(out, "cnn_cases.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


def digits(out):
    model = os.path.join(ROOT, "samples/models/digits_cnn.onnx")
    rng = np.random.default_rng(3)
    cases = [
        ("photo_32", photo_input(32), ["-", "/features/features.4/Conv_output_0", "/features/features.10/Relu_output_0"]),
        ("noise_48x64", rng.standard_normal((3, 48, 64)).astype(np.float32),
         ["-", "/features/features.7/MaxPool_output_0"]),
    ]
    write_cases(out, model, cases, rel=True)


def seeded_model(models, name):
    """A torchvision architecture with a fixed random init (no pretrained
    weights here): variance-preserving convolutions and non-trivial
    BatchNorm statistics, so activations stay O(1) through deep nets
    (torchvision's default init makes a random mobilenet's logits ~1e-9), and
    no two BatchNorms alike (identical folded weights become ONNX Identity
    nodes on initializers, which OpenCV 4.6 cannot import). In eval mode."""
    torch.manual_seed(0)
    m = getattr(models, name)()
    g = torch.Generator().manual_seed(0)
    for mod in m.modules():
        if isinstance(mod, torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(mod.weight, mode="fan_in", nonlinearity="relu")
        elif isinstance(mod, torch.nn.BatchNorm2d):
            with torch.no_grad():
                mod.running_mean.uniform_(-0.1, 0.1, generator=g)
                mod.running_var.uniform_(0.5, 2.0, generator=g)
                mod.weight.uniform_(0.5, 1.5, generator=g)
                mod.bias.uniform_(-0.2, 0.2, generator=g)
    return m.eval()


def mobilenet(out):
    import torchvision
    m = seeded_model(torchvision.models, "mobilenet_v2")
    os.makedirs(out, exist_ok=True)
    model = os.path.join(out, "mobilenet_v2.onnx")
    torch.onnx.export(m, torch.zeros(1, 3, 224, 224), model, opset_version=10,
                      input_names=["image"], output_names=["logits"])
    cases = [("photo_224", photo_input(224),
              ["-", "/features/features.0/features.0.0/Conv_output_0",
               "/features/features.3/conv/conv.0/conv.0.2/Clip_output_0",
               "/features/features.6/Add_output_0"])]
    write_cases(out, model, cases, rel=False)


if __name__ == "__main__":
    torch.set_num_threads(1)
    what = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "data")
    {"digits": digits, "mobilenet": mobilenet}[what](out)
