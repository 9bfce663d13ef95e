#!/usr/bin/env python3
"""The PIL + torchvision + PyTorch side of bench/image (one thread).

  torch_bench.py decode|preprocess|embed DIR   images/s over every *.jpg in DIR
  torch_bench.py embed DIR resnet18            the same with resnet18's last block (bench/cnn)
  torch_bench.py cnn [mobilenet_v2|resnet18]   batch-1 forward, ms

embed = PIL open -> Resize(256) -> CenterCrop(224) -> ToTensor -> Normalize
-> mobilenet_v2 features (same weights as bench/data/mobilenet_v2.onnx) ->
GeM (p=3) -> L2, as pipelines/bench-embedding-mobilenet.yaml does.
"""
import glob
import os
import sys
import time

import torch
import torch.nn.functional as F
import torchvision
import torchvision.transforms as T
from PIL import Image

DATA = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data"))
PRE = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(),
                 T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])


def model(name="mobilenet_v2"):
    m = getattr(torchvision.models, name)()
    m.load_state_dict(torch.load(os.path.join(DATA, f"{name}.pt")))
    return m.eval()


def features(m):
    """The convolutional trunk: the last block's feature map."""
    if hasattr(m, "features"):
        return m.features
    return torch.nn.Sequential(*list(m.children())[:-2]).eval()  # resnet: without avgpool and fc


def main():
    torch.set_num_threads(1)
    mode = sys.argv[1]
    if mode == "cnn":
        name = sys.argv[2] if len(sys.argv) > 2 else "mobilenet_v2"
        m = model(name)
        x = torch.randn(1, 3, 224, 224)
        with torch.no_grad():
            for _ in range(3):
                m(x)
            best = (1e9, 1e9)
            for _ in range(3):  # best of 3 rounds of 10: the machine is shared
                n, t, c = 10, time.perf_counter(), time.process_time()
                for _ in range(n):
                    m(x)
                best = min(best, ((time.process_time() - c) / n, (time.perf_counter() - t) / n))
        print(f"torch {name} forward: {best[0] * 1e3:.1f} ms CPU ({best[1] * 1e3:.1f} ms wall)")
        return
    files = sorted(glob.glob(os.path.join(sys.argv[2], "*.jpg")))
    net = sys.argv[3] if len(sys.argv) > 3 else "mobilenet_v2"
    m = features(model(net)) if mode == "embed" else None
    best = (1e9, 1e9)
    with torch.no_grad():
        for _ in range(3):  # best of 3 passes: the machine is shared
            t, c = time.perf_counter(), time.process_time()
            for f in files:
                img = Image.open(f).convert("RGB")
                if mode == "decode":
                    continue
                x = PRE(img)
                if mode == "embed":
                    fm = m(x[None]).clamp(min=1e-6)
                    e = fm.pow(3).mean(dim=(2, 3)).pow(1 / 3)
                    F.normalize(e, dim=1)
            best = min(best, (time.process_time() - c, time.perf_counter() - t))
    print(f"PIL+torchvision{'+torch' if mode == 'embed' else ''} {mode}: {len(files) / best[0]:.1f} images/s CPU "
          f"({len(files) / best[1]:.1f} wall; {len(files)} images)")


if __name__ == "__main__":
    main()
