#!/usr/bin/env python3
"""Bench inputs (git-ignored, in bench/data/): ~100 real-size JPEGs made from
the photos shipped with python3-skimage / python3-sklearn (upscaled with
Lanczos, randomly cropped and flipped, quality 90, sizes from 1024x768 to
2000x1500, some portrait), and mobilenet_v2 (torchvision, random init with a
fixed seed) exported to ONNX for both sides of the CNN comparison.

Run: /usr/bin/python3 bench/image/make_bench_data.py [N | model]
"""
import os
import sys

import numpy as np
import torch
import torchvision
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.abspath(os.path.join(HERE, "..", "data"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "image"))
import make_cnn_goldens  # noqa: E402
SKI = "/usr/lib/python3/dist-packages/skimage/data"
SKL = "/usr/lib/python3/dist-packages/sklearn/datasets/images"
SOURCES = [f"{SKI}/astronaut.png", f"{SKI}/coffee.png", f"{SKI}/chelsea.png", f"{SKI}/rocket.jpg",
           f"{SKI}/motorcycle_left.png", f"{SKI}/hubble_deep_field.jpg", f"{SKL}/china.jpg", f"{SKL}/flower.jpg"]
SIZES = [(1024, 768), (1280, 960), (1600, 1200), (2000, 1500), (1200, 1600), (1280, 853)]


def images(n):
    d = os.path.join(OUT, "images")
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(0)
    srcs = [Image.open(s).convert("RGB") for s in SOURCES if os.path.exists(s)]
    for k in range(n):
        img = srcs[k % len(srcs)]
        w, h = SIZES[k % len(SIZES)]
        s = max(w / img.width, h / img.height) * rng.uniform(1.0, 1.3)
        big = img.resize((int(img.width * s) + 1, int(img.height * s) + 1), Image.LANCZOS)
        x0 = rng.integers(0, big.width - w + 1)
        y0 = rng.integers(0, big.height - h + 1)
        crop = big.crop((x0, y0, x0 + w, y0 + h))
        if rng.random() < 0.5:
            crop = crop.transpose(Image.FLIP_LEFT_RIGHT)
        crop.save(os.path.join(d, f"img_{k:03d}.jpg"), quality=90)


def export(name):
    m = make_cnn_goldens.seeded_model(torchvision.models, name)  # the tests' seeded init
    torch.save(m.state_dict(), os.path.join(OUT, f"{name}.pt"))
    torch.onnx.export(m, torch.zeros(1, 3, 224, 224), os.path.join(OUT, f"{name}.onnx"), opset_version=10,
                      input_names=["image"], output_names=["logits"])


if __name__ == "__main__":
    if sys.argv[1:2] != ["model"]:
        images(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
    export("mobilenet_v2")
    export("resnet18")
    print("bench data in", OUT)
