#!/usr/bin/env python3
"""Re-encodes a few real photos shipped with Debian's python3-skimage and
python3-sklearn into samples/images/ (small JPEGs, one RGBA PNG).
The digit PNGs come from samples/models/train_digits.py.

Run: /usr/bin/python3 samples/images/make_samples.py
"""
import os

from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
SKI = "/usr/lib/python3/dist-packages/skimage/data"
SKL = "/usr/lib/python3/dist-packages/sklearn/datasets/images"

# (source, output, longest side or None, JPEG quality)
PHOTOS = [
    (f"{SKI}/chelsea.png", "chelsea.jpg", None, 90),    # cat, 451x300 landscape
    (f"{SKI}/coffee.png", "coffee.jpg", None, 88),      # 600x400
    (f"{SKI}/astronaut.png", "astronaut.jpg", 384, 88), # square
    (f"{SKI}/rocket.jpg", "rocket.jpg", 480, 88),       # portrait
    (f"{SKL}/china.jpg", "china.jpg", None, 85),        # 640x427
]


def main():
    for src, out, longest, q in PHOTOS:
        img = Image.open(src).convert("RGB")
        if longest and max(img.size) > longest:
            s = longest / max(img.size)
            img = img.resize((round(img.width * s), round(img.height * s)), Image.LANCZOS)
        img.save(os.path.join(HERE, out), quality=q, optimize=True)
    # A PNG with an alpha channel (alpha is dropped by image.decode).
    logo = Image.open(f"{SKI}/logo.png").convert("RGBA")
    logo = logo.resize((logo.width // 3, logo.height // 3), Image.LANCZOS)
    logo.save(os.path.join(HERE, "logo_rgba.png"), optimize=True)
    total = sum(os.path.getsize(os.path.join(HERE, f)) for f in os.listdir(HERE) if not f.endswith(".py"))
    print("samples/images:", total, "bytes")


if __name__ == "__main__":
    main()
