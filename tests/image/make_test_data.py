#!/usr/bin/env python3
"""Test images and golden references for tests/image/.

  make_test_data.py images          -> tests/image/data/*.{jpg,png,...} (inputs, incl. bad files)
  make_test_data.py goldens [OUT]   -> OUT/cases.txt and OUT/g_*.npy (default tests/image/data)
  make_test_data.py goldens OUT --full  also the ImageNet-size cases on samples/images/

References (independent of featpipe):
  - "pil":    torchvision's PIL path: Image.open().convert(mode) -> Resize ->
              CenterCrop -> ToTensor, stored as uint8 (ToTensor of 8-bit PIL
              images is exactly k/255). Tolerance 1e-2 (spec §7).
  - "tensor": torchvision on float64 tensors (antialias=True, or plain
              interpolation when antialias is off), stored float32. Our float
              pipeline follows that path to float32 rounding: tolerance 1e-5.
  - "exact":  the pixel array the file was written from (lossless formats,
              16-bit), or PIL's decoding of a JPEG (the same libjpeg-turbo).
cases.txt: one case a line, whitespace-separated:
  name image color resize crop interpolation antialias golden scale tol
  (resize: '-' none, 'N' shorter side, 'HxW'; crop: '-', 'N' or 'HxW'; scale:
  the golden's unit, 255 for uint8; image paths relative to the source tree).
"""
import os
import struct
import sys
import zlib

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
DATA = os.path.join(HERE, "data")
SKI = "/usr/lib/python3/dist-packages/skimage/data"
REL = "tests/image/data"


def png16(path, a):
    """Writes a 16-bit gray ([h, w]) or RGB ([h, w, 3]) PNG (PIL cannot write 16-bit RGB)."""
    a = np.asarray(a, dtype=">u2")
    h, w = a.shape[:2]
    color = 2 if a.ndim == 3 else 0
    raw = b"".join(b"\x00" + a[y].tobytes() for y in range(h))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, color, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def make_images():
    os.makedirs(DATA, exist_ok=True)
    d = lambda n: os.path.join(DATA, n)
    coffee = Image.open(f"{SKI}/coffee.png").convert("RGB")
    coffee.resize((301, 199), Image.LANCZOS).save(d("photo_land.jpg"), quality=90)
    astro = Image.open(f"{SKI}/astronaut.png").convert("RGB")
    astro.crop((100, 20, 100 + 314, 20 + 466)).resize((157, 233), Image.LANCZOS).save(d("photo_port.jpg"), quality=90)
    cat = Image.open(f"{SKI}/chelsea.png").convert("RGB")
    cat.resize((50, 37), Image.LANCZOS).save(d("photo_small.png"))
    Image.open(f"{SKI}/camera.png").convert("L").resize((120, 90), Image.LANCZOS).save(d("gray.png"))
    # RGBA with alpha varying across the image (alpha must be dropped, not composited).
    rgba = np.array(cat.resize((60, 44), Image.LANCZOS).convert("RGBA"))
    rgba[..., 3] = np.linspace(0, 255, 60, dtype=np.uint8)[None, :]
    Image.fromarray(rgba, "RGBA").save(d("rgba.png"))
    cat.resize((64, 48), Image.LANCZOS).quantize(64).save(d("palette.png"))
    # The same random pixels in every lossless format.
    rng = np.random.default_rng(7)
    px = rng.integers(0, 256, size=(17, 23, 3), dtype=np.uint8)
    np.save(d("pixels_17x23.npy"), px)
    for ext in ("png", "bmp", "tif"):
        Image.fromarray(px).save(d(f"pixels.{ext}"))
    Image.fromarray(px).save(d("pixels.webp"), lossless=True, quality=100)
    # 16-bit: a smooth image with values across the whole 0..65535 range.
    y, x = np.mgrid[0:30, 0:40]
    rgb16 = np.stack([x * 1680 + y * 3, y * 2259, (x * y * 41) % 65536], -1).clip(0, 65535).astype(np.uint16)
    png16(d("rgb16.png"), rgb16)
    np.save(d("rgb16.npy"), rgb16)
    png16(d("gray16.png"), rgb16[..., 1])
    # EXIF orientation 6 (rotate 90° CW to display): stored 40 wide, 20 high.
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(px).resize((40, 20)).save(d("exif_rot6.jpg"), exif=exif.tobytes(), quality=95)
    # Bad files.
    land = open(d("photo_land.jpg"), "rb").read()
    open(d("bad_truncated.jpg"), "wb").write(land[: len(land) * 6 // 10])
    small = open(d("photo_small.png"), "rb").read()
    open(d("bad_truncated.png"), "wb").write(small[: len(small) // 2])
    open(d("bad_empty.png"), "wb").close()
    open(d("bad_notimage.jpg"), "w").write("this is a text file, not a JPEG\n")
    # Decompression bombs: headers claiming 100000 x 100000 pixels, tiny files.
    def chunk(t, dd):
        return struct.pack(">I", len(dd)) + t + dd + struct.pack(">I", zlib.crc32(t + dd) & 0xFFFFFFFF)
    rows = zlib.compress(b"\x00" * 1000, 9)  # a sliver of the first row
    open(d("bad_bomb.png"), "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0))
                                       + chunk(b"IDAT", rows) + chunk(b"IEND", b""))
    # JPEG: a real small JPEG whose SOF0 claims 65000 x 65000.
    j = bytearray(open(d("exif_rot6.jpg"), "rb").read())
    k = j.find(b"\xff\xc0")
    j[k + 5:k + 9] = struct.pack(">HH", 65000, 65000)
    open(d("bad_bomb.jpg"), "wb").write(bytes(j))


def torch_resize(x, size, interp, antialias):
    import torch
    import torchvision.transforms.functional as F
    from torchvision.transforms import InterpolationMode as IM
    mode = {"bilinear": IM.BILINEAR, "bicubic": IM.BICUBIC, "nearest": IM.NEAREST}[interp]
    return F.resize(torch.from_numpy(x), size, mode, antialias=antialias).numpy()


def goldens(out, full):
    import torchvision.transforms as T
    from torchvision.transforms import InterpolationMode as IM
    os.makedirs(out, exist_ok=True)
    pil_modes = {"bilinear": IM.BILINEAR, "bicubic": IM.BICUBIC, "area": IM.BOX, "nearest": IM.NEAREST}
    lines = []

    def size_arg(s):
        if s == "-":
            return None
        if "x" in s:
            h, w = s.split("x")
            return [int(h), int(w)]
        return int(s)

    def pil_case(name, image, color, resize, crop, interp="bilinear", tol=1e-2):
        mode = {"rgb": "RGB", "gray": "L"}[color]
        img = Image.open(os.path.join(ROOT, image)).convert(mode)
        ops = []
        if resize != "-":
            ops.append(T.Resize(size_arg(resize), pil_modes[interp]))
        if crop != "-":
            ops.append(T.CenterCrop(size_arg(crop)))
        ref = T.Compose(ops + [T.PILToTensor()])(img).numpy().astype(np.uint8)
        np.save(os.path.join(out, f"g_{name}.npy"), ref)
        lines.append(f"{name} {image} {color} {resize} {crop} {interp} true g_{name}.npy 255 {tol}")

    def tensor_case(name, image, src, resize, crop, interp, antialias, tol=1e-5):
        x = src.astype(np.float64)
        if resize != "-":
            x = torch_resize(x, size_arg(resize), interp, antialias)
        if crop != "-":
            import torch
            import torchvision.transforms.functional as F
            c = size_arg(crop)
            x = F.center_crop(torch.from_numpy(x), c if isinstance(c, list) else [c, c]).numpy()
        np.save(os.path.join(out, f"g_{name}.npy"), x.astype(np.float32))
        lines.append(f"{name} {image} rgb {resize} {crop} {interp} {str(antialias).lower()} g_{name}.npy 1 {tol}")

    d = lambda n: f"{REL}/{n}"
    # PIL path (Resize + CenterCrop + ToTensor), bilinear antialiased.
    pil_case("land_64_56", d("photo_land.jpg"), "rgb", "64", "56")
    pil_case("land_hw_40x90_c33x31", d("photo_land.jpg"), "rgb", "40x90", "33x31")
    pil_case("port_80_72", d("photo_port.jpg"), "rgb", "80", "72")
    pil_case("port_37_c37x20", d("photo_port.jpg"), "rgb", "37", "37x20")
    pil_case("small_up_64_56", d("photo_small.png"), "rgb", "64", "56")      # upscale
    pil_case("small_up_hw_61x73", d("photo_small.png"), "rgb", "61x73", "-")
    pil_case("small_pad_16_c20", d("photo_small.png"), "rgb", "16", "20")    # crop > image: padding
    pil_case("small_crop_only_c21x30", d("photo_small.png"), "rgb", "-", "21x30")
    pil_case("gray_33_31", d("gray.png"), "gray", "33", "31")
    pil_case("gray_to_rgb_40", d("gray.png"), "rgb", "40", "-")
    pil_case("rgba_50_48", d("rgba.png"), "rgb", "50", "48")
    pil_case("palette_30_30", d("palette.png"), "rgb", "30", "30")
    pil_case("land_area_50", d("photo_land.jpg"), "rgb", "50", "-", "area")
    # Bicubic overshoots: PIL clamps each pass to 8 bits (match: pil).
    pil_case("land_bicubic_64_56", d("photo_land.jpg"), "rgb", "64", "56", "bicubic")
    pil_case("port_bicubic_40x90", d("photo_port.jpg"), "rgb", "40x90", "-", "bicubic")
    pil_case("small_bicubic_up_61x73", d("photo_small.png"), "rgb", "61x73", "-", "bicubic")
    pil_case("gray_bicubic_33", d("gray.png"), "gray", "33", "-", "bicubic")
    pil_case("land_nearest_45", d("photo_land.jpg"), "rgb", "45", "-", "nearest", 1e-6)
    pil_case("small_nearest_up_56", d("photo_small.png"), "rgb", "56", "-", "nearest", 1e-6)
    # Float paths: torchvision on float tensors.
    land = np.asarray(Image.open(os.path.join(ROOT, d("photo_land.jpg"))).convert("RGB")).transpose(2, 0, 1) / 255.0
    tensor_case("land_bicubic_aa_24", d("photo_land.jpg"), land, "24", "-", "bicubic", True)
    tensor_case("land_bilinear_noaa_24x40", d("photo_land.jpg"), land, "24x40", "-", "bilinear", False)
    tensor_case("land_bilinear_aa_57", d("photo_land.jpg"), land, "57", "29", "bilinear", True)
    rgb16 = np.load(os.path.join(DATA, "rgb16.npy")).transpose(2, 0, 1) / 65535.0
    tensor_case("rgb16_decode", d("rgb16.png"), rgb16, "-", "-", "bilinear", True, 1e-7)
    tensor_case("rgb16_aa_17", d("rgb16.png"), rgb16, "17", "-", "bilinear", True)
    tensor_case("rgb16_up_30x41", d("rgb16.png"), rgb16, "30x41", "-", "bilinear", True)
    px = np.load(os.path.join(DATA, "pixels_17x23.npy")).transpose(2, 0, 1) / 255.0
    for ext in ("png", "bmp", "tif", "webp"):
        tensor_case(f"pixels_{ext}", d(f"pixels.{ext}"), px, "-", "-", "bilinear", True, 1e-7)
    # JPEG decoding equals PIL's (same libjpeg-turbo, same settings).
    pil_case("jpeg_decode_land_c40", d("photo_land.jpg"), "rgb", "-", "40", "bilinear", 1e-7)
    pil_case("jpeg_decode_exif", d("exif_rot6.jpg"), "rgb", "-", "-", "bilinear", 1e-7)
    if full:
        # ImageNet preprocessing on the sample photos (live only: big arrays).
        for f in sorted(os.listdir(os.path.join(ROOT, "samples/images"))):
            if f.endswith((".jpg", ".png")) and not f.startswith("digit"):
                pil_case(f"full_{f.replace('.', '_')}", f"samples/images/{f}", "rgb", "256", "224")
                pil_case(f"full_bicubic_{f.replace('.', '_')}", f"samples/images/{f}", "rgb", "256", "224", "bicubic")
    with open(os.path.join(out, "cases.txt"), "w") as fh:
        fh.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "all"
    if what in ("images", "all"):
        make_images()
    if what in ("goldens", "all"):
        goldens(sys.argv[2] if len(sys.argv) > 2 and not sys.argv[2].startswith("--") else DATA, "--full" in sys.argv)
