#!/usr/bin/env python3
"""End-to-end reference for pipelines/image-embedding.yaml on the sample
photos: PIL decode -> torchvision Resize(256, antialias=True) and
CenterCrop(224) on the float tensor (the path image.resize follows to float
rounding) -> Normalize -> the digits CNN in float64 (onnx_ref.py) up to
/features/features.10/Relu_output_0 -> GeM (clamp 1e-6, p = 3) over
height/width -> L2.

  make_embedding_golden.py [OUT]   -> OUT/embedding_ref.npy [n, 64], OUT/embedding_files.txt
"""
import os
import sys

import numpy as np
import torch
import torchvision.transforms as T
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import onnx_ref  # noqa: E402

LAYER = "/features/features.10/Relu_output_0"


def main(out):
    os.makedirs(out, exist_ok=True)
    files = sorted(f for f in os.listdir(os.path.join(ROOT, "samples/images"))
                   if f.endswith((".jpg", ".png")) and not f.startswith("digit"))
    pre = T.Compose([T.Resize(256, antialias=True), T.CenterCrop(224),
                     T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    refs = []
    for f in files:
        img = np.asarray(Image.open(os.path.join(ROOT, "samples/images", f)).convert("RGB"))
        x = pre(torch.from_numpy(img.transpose(2, 0, 1).astype(np.float64) / 255.0)).numpy()
        fm = onnx_ref.run(os.path.join(ROOT, "samples/models/digits_cnn.onnx"), x[None])[LAYER][0]
        g = np.mean(np.clip(fm, 1e-6, None) ** 3, axis=(1, 2)) ** (1 / 3)
        refs.append(g / max(np.linalg.norm(g), 1e-12))
    np.save(os.path.join(out, "embedding_ref.npy"), np.array(refs, dtype=np.float32))
    with open(os.path.join(out, "embedding_files.txt"), "w") as fh:
        fh.write("\n".join(files) + "\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "data"))
