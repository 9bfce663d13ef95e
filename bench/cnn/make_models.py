"""The embedding benchmark's models: mobilenet_v2's and resnet18's
convolutional trunks (the weights bench/image/make_bench_data.py saved), each
exported as a user would, with default options: ONNX through
torch.onnx.export (opset 14 on torch 1.13) and TorchScript through
torch.jit.trace + torch.jit.save, to bench/data/<name>-features.{onnx,pt}.

usage: make_models.py
"""
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "image"))
import torch_bench  # noqa: E402  (the same trunks the torch side runs)

DATA = torch_bench.DATA


def main():
    x = torch.zeros(1, 3, 224, 224)
    for name in ("mobilenet_v2", "resnet18"):
        trunk = torch_bench.features(torch_bench.model(name)).eval()
        torch.onnx.export(trunk, x, os.path.join(DATA, f"{name}-features.onnx"))
        with torch.no_grad():
            torch.jit.save(torch.jit.trace(trunk, x), os.path.join(DATA, f"{name}-features.pt"))
    print("models in", DATA)


if __name__ == "__main__":
    main()
