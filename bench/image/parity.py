#!/usr/bin/env python3
"""Preprocessing parity on the bench JPEGs: featpipe (decode -> resize 256 ->
center crop 224) against torchvision's PIL path (Resize(256),
CenterCrop(224), ToTensor). Prints the worst max|diff| in [0, 1] units.

  parity.py FEATPIPE_CLI IMAGE_DIR
"""
import glob
import os
import subprocess
import sys
import tempfile

import numpy as np
import torchvision.transforms as T
from PIL import Image

YAML = """featpipe: 1
name: parity
stages:
  - use: image.decode
  - use: image.resize
    with: {size: 256}
  - use: image.center_crop
    with: {size: 224}
"""


def main():
    cli, images = sys.argv[1], sys.argv[2]
    ref_t = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor()])
    with tempfile.TemporaryDirectory() as tmp:
        pipe = os.path.join(tmp, "p.yaml")
        open(pipe, "w").write(YAML)
        subprocess.run([cli, "run", pipe, images, "-o", os.path.join(tmp, "out")], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        worst, mean = 0.0, []
        files = sorted(glob.glob(os.path.join(images, "*.jpg")))
        for f in files:
            ours = np.load(os.path.join(tmp, "out", os.path.basename(f) + ".npy"))
            ref = ref_t(Image.open(f).convert("RGB")).numpy()
            d = np.abs(ours - ref)
            worst = max(worst, float(d.max()))
            mean.append(float(d.mean()))
    print(f"parity vs torchvision PIL path on {len(files)} images: max|diff| {worst:.4f} "
          f"({worst * 255:.2f}/255), mean |diff| {np.mean(mean):.2e}")


if __name__ == "__main__":
    main()
