#!/usr/bin/env python3
"""Train the small digits CNN shipped in samples/models/ and export it to ONNX.

Data: scikit-learn's bundled handwritten digits (load_digits: 1797 images of
8x8 pixels, 0..16). Each image is scaled to [0, 1], upsampled to 32x32
(bilinear), replicated to 3 channels and normalized with the ImageNet
mean/std, so the model takes exactly what image.decode -> image.resize ->
image.normalize produce in pipelines/ (ink bright on a dark background).

The network is fully convolutional up to a global average pool, and the ONNX
file has dynamic height/width: cnn.features can run it at 32x32 (the size it
was trained at, for classification) or at 224x224 (as a generic feature
extractor in pipelines/image-embedding.yaml).

Run:  /usr/bin/python3 samples/models/train_digits.py
Writes: samples/models/digits_cnn.onnx and a few held-out test digits as PNG
in samples/images/ (digit_<label>_<n>.png, 32x32 gray).
Deterministic on one machine (fixed seeds, single thread).
"""
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image
from sklearn.datasets import load_digits

HERE = os.path.dirname(os.path.abspath(__file__))
IMAGES = os.path.join(HERE, "..", "images")
MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


class DigitsNet(nn.Module):
    """conv-bn-relu x3 with max pools, global average pool, linear."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(inplace=True),
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(64, 10)

    def forward(self, x):
        x = self.features(x)
        x = torch.flatten(self.pool(x), 1)
        return self.classifier(x)


def to_input(x8):
    """[n, 8, 8] in 0..16 -> [n, 3, 32, 32] normalized."""
    x = torch.tensor(x8, dtype=torch.float32).unsqueeze(1) / 16.0
    x = F.interpolate(x, size=(32, 32), mode="bilinear", align_corners=False)
    return (x.repeat(1, 3, 1, 1) - MEAN) / STD


def main():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    d = load_digits()
    images, labels = d.images, d.target
    order = rng.permutation(len(labels))
    test_idx, train_idx = order[:297], order[297:]

    xtr, ytr = to_input(images[train_idx]), torch.tensor(labels[train_idx])
    xte, yte = to_input(images[test_idx]), torch.tensor(labels[test_idx])

    model = DigitsNet()
    epochs = 25
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(ytr))
        for k in range(0, len(perm), 64):
            b = perm[k:k + 64]
            xb = xtr[b]
            # light augmentation: shifts of up to 2 pixels
            dx, dy = rng.integers(-2, 3, size=2)
            xb = torch.roll(xb, shifts=(int(dy), int(dx)), dims=(2, 3))
            loss = F.cross_entropy(model(xb), ytr[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
        model.eval()
        with torch.no_grad():
            acc = (model(xte).argmax(1) == yte).float().mean().item()
        print(f"epoch {epoch + 1}: loss {loss.item():.3f}, held-out accuracy {acc:.3f}")

    model.eval()
    out = os.path.join(HERE, "digits_cnn.onnx")
    torch.onnx.export(model, torch.zeros(1, 3, 32, 32), out, opset_version=11,
                      input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {2: "height", 3: "width"}},
                      do_constant_folding=True)
    print("wrote", out, os.path.getsize(out), "bytes")

    # A few held-out digits as 32x32 gray PNGs (what the pipelines read).
    os.makedirs(IMAGES, exist_ok=True)
    shown = {}
    for i in test_idx:
        lab = int(labels[i])
        if lab in (0, 3, 7) and shown.get(lab, 0) < 1:
            x = torch.tensor(images[i], dtype=torch.float32)[None, None] / 16.0
            x = F.interpolate(x, size=(32, 32), mode="bilinear", align_corners=False)
            png = np.clip(np.round(x[0, 0].numpy() * 255), 0, 255).astype(np.uint8)
            path = os.path.join(IMAGES, f"digit_{lab}_{shown.get(lab, 0)}.png")
            Image.fromarray(png, "L").save(path)
            shown[lab] = shown.get(lab, 0) + 1
            print("wrote", path)


if __name__ == "__main__":
    main()
