#!/usr/bin/env python3
"""Goldens for image.center_crop where the crop is larger than the image by
an odd amount, from torchvision (run with /usr/bin/python3).

  make_center_crop_golden.py [OUT]   -> OUT/cases.txt and OUT/*.npy
                                        (default tests/image/data/center_crop)

torchvision's CenterCrop pads (crop - size) // 2 zeros before the image (top,
left) and the rest after; an odd difference is where rounding that half up
instead of down shows. The existing preprocessing goldens pad only by even
amounts. Each case crops photo_small.png (37 x 50, lossless) with
T.CenterCrop on the PIL image (the path of spec §7), stored as uint8
[channel, height, width]; the float-tensor path is checked to agree.

cases.txt: one case a line: name image crop_height crop_width golden
(image relative to the source tree).
"""
import os
import sys

import numpy as np
import torch
import torchvision.transforms as T
import torchvision.transforms.functional as F
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
IMAGE = "tests/image/data/photo_small.png"  # 50 wide, 37 high

# name: (crop height, crop width); the image is 37 x 50.
CASES = {
    "pad3_pad3": (40, 53),     # odd padding in both dimensions: 1 before, 2 after
    "pad1_same": (38, 50),     # the smallest odd padding, height only
    "same_pad5": (37, 55),     # width only: 2 before, 3 after
    "pad3_crop21": (40, 21),   # pad the height, crop the width (offset round(14.5) = 14)
    "crop20_pad7": (20, 57),   # crop the height (round(8.5) = 8), pad the width 3 + 4
}


def main(out):
    os.makedirs(out, exist_ok=True)
    img = Image.open(os.path.join(ROOT, IMAGE)).convert("RGB")
    assert img.size == (50, 37), img.size
    lines = []
    for name, (h, w) in CASES.items():
        ref = T.Compose([T.CenterCrop([h, w]), T.PILToTensor()])(img).numpy().astype(np.uint8)
        assert ref.shape == (3, h, w), ref.shape
        as_tensor = F.center_crop(torch.from_numpy(np.asarray(img).transpose(2, 0, 1).copy()), [h, w]).numpy()
        assert (as_tensor == ref).all(), f"{name}: torchvision's PIL and tensor paths differ"
        np.save(os.path.join(out, f"{name}.npy"), ref)
        lines.append(f"{name} {IMAGE} {h} {w} {name}.npy")
    with open(os.path.join(out, "cases.txt"), "w") as fh:
        fh.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "data", "center_crop"))
