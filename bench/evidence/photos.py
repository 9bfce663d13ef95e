"""Photo retrieval (issue 15, part 3): find the other views of the same photo
among views of the photos featpipe ships, with the shipped image-embedding
pipeline, with and without its final L2 normalization.

    /usr/bin/python3 bench/evidence/photos.py [--out docs/evidence] [--seeds 5]

Each photo of samples/images (astronaut, chelsea, china, coffee, rocket)
gives 12 views per seed: a random crop (35-100 % of the area, aspect 3:4 to
4:3) and a horizontal flip half of the time; in the second condition the
same views also get an exposure change (pixel values times 2^u, u uniform
in [-1.5, +0.5] stops, clipped at 255, so bright views also saturate). The
views go through featpipe's Python package as uint8 arrays:

  GeM + L2 (shipped)   pipelines/image-embedding.yaml as it is: resize 256,
                       center crop 224, ImageNet normalize, the digits CNN's
                       last conv block [64, 56, 56], GeM pooling (p = 3),
                       norm.l2 -> [64]
  GeM (no L2)          the same file without its last step

Every view queries the other 59 of its seed; the relevant ones are the 11
other views of its photo. Reported: 1-NN accuracy (the nearest view is of
the same photo), precision@11 (R-precision) and mean average precision,
Euclidean and cosine distance; mean (min-max) over the seeds. Writes
photos.csv and photos.png to --out and prints a Markdown table.
"""
import os
import sys

import numpy as np
from PIL import Image

import featpipe as fp

from common import ROOT, arguments, neighbour_order
from plots import bar_chart

PIPELINES = os.path.join(ROOT, "pipelines")
PHOTOS = ["astronaut.jpg", "chelsea.jpg", "china.jpg", "coffee.jpg", "rocket.jpg"]
VIEWS = 12
CONDITIONS = {"crops": False, "crops + exposure": True}


def pipelines():
    path = os.path.join(PIPELINES, "image-embedding.yaml")
    text = open(path).read()
    last = text.rindex("  - use: norm.l2")
    assert text[last:].count("- use:") == 1, "norm.l2 is no longer the last step of image-embedding.yaml"
    return {
        "GeM (no L2)": fp.Pipeline.from_yaml(text[:last], name="image-embedding-no-l2", base_dir=PIPELINES),
        "GeM + L2 (shipped)": fp.Pipeline(path),
    }


def view(img, rng, exposure):
    h, w = img.shape[:2]
    for _ in range(100):
        area = rng.uniform(0.35, 1.0) * h * w
        aspect = np.exp(rng.uniform(np.log(3 / 4), np.log(4 / 3)))
        cw, ch = int(round(np.sqrt(area * aspect))), int(round(np.sqrt(area / aspect)))
        if cw <= w and ch <= h:
            break
    else:
        cw, ch = w, h
    x0, y0 = rng.integers(0, w - cw + 1), rng.integers(0, h - ch + 1)
    v = img[y0:y0 + ch, x0:x0 + cw]
    if rng.random() < 0.5:
        v = v[:, ::-1]
    gain = 2.0 ** rng.uniform(-1.5, 0.5)  # drawn in both conditions: the same crops in each
    if not exposure:
        return np.ascontiguousarray(v)
    return np.ascontiguousarray(np.clip(v.astype(np.float32) * gain, 0, 255).round().astype(np.uint8))


def scores(x, y, metric):
    order = neighbour_order(x, metric)
    rel = y[order] == y[:, None]
    r = rel.sum(1)
    hits = np.cumsum(rel, axis=1)
    ap = (hits / np.arange(1, rel.shape[1] + 1) * rel).sum(1) / r
    return {"1-NN": rel[:, 0].mean(), "precision@11": (hits[:, VIEWS - 2] / (VIEWS - 1)).mean(), "mAP": ap.mean()}


def main():
    args = arguments(seeds=True)
    images = [np.asarray(Image.open(os.path.join(ROOT, "samples", "images", p)).convert("RGB")) for p in PHOTOS]
    pipes = pipelines()
    keys = ("1-NN", "precision@11", "mAP")
    runs = {}  # (views, variant, metric) -> [scores per seed]
    labels = np.repeat(np.arange(len(images)), VIEWS)
    for seed in range(args.seeds):
        for cond, exposure in CONDITIONS.items():
            rng = np.random.default_rng(seed)
            views = [view(img, rng, exposure) for img in images for _ in range(VIEWS)]
            for variant, pipe in pipes.items():
                x = np.stack([pipe(v) for v in views]).astype(np.float64)
                for metric in ("euclidean", "cosine"):
                    runs.setdefault((cond, variant, metric), []).append(scores(x, labels, metric))
    rows = [(*key, {k: np.array([s[k] for s in per_seed]) for k in keys}) for key, per_seed in runs.items()]
    with open(os.path.join(args.out, "photos.csv"), "w") as f:
        f.write("views,features,distance," + ",".join(f"{k} mean,{k} min,{k} max" for k in keys) + "\n")
        for cond, variant, metric, r in rows:
            f.write(f"{cond},{variant},{metric}," +
                    ",".join(f"{r[k].mean():.4f},{r[k].min():.4f},{r[k].max():.4f}" for k in keys) + "\n")
    print(f"{len(PHOTOS)} photos x {VIEWS} views, each view queries the other {len(PHOTOS) * VIEWS - 1}; "
          f"mean (min-max) over {args.seeds} seeds\n")
    print("| views | features | distance | " + " | ".join(keys) + " |")
    print("| --- | --- | --- |" + " ---: |" * len(keys))
    for cond, variant, metric, r in rows:
        print(f"| {cond} | {variant} | {metric} | " +
              " | ".join(f"{r[k].mean():.3f} ({r[k].min():.3f}–{r[k].max():.3f})" for k in keys) + " |")
    # Paired by seed (the same views): does L2 move precision the same way each time?
    print("\nprecision@11, shipped (L2) minus no L2, both Euclidean, per seed:")
    for cond in CONDITIONS:
        diff = [b["precision@11"] - a["precision@11"]
                for a, b in zip(runs[(cond, "GeM (no L2)", "euclidean")], runs[(cond, "GeM + L2 (shipped)", "euclidean")])]
        print(f"  {cond}: " + " ".join(f"{d:+.3f}" for d in diff) + f"  (mean {np.mean(diff):+.3f})")
    bar_chart(os.path.join(args.out, "photos.png"), "Photo retrieval: views of the shipped photos (featpipe)",
              [f"{c.replace('crops + ', '+ ')}\n{'no L2' if 'no L2' in v else 'L2'}\n{m}" for c, v, m, _ in rows],
              {k: [(r[k].mean(), r[k].min(), r[k].max()) for *_, r in rows] for k in keys},
              "score (mean, min-max over seeds)", ylim=(0.5, 1.02))
    return 0


if __name__ == "__main__":
    sys.exit(main())
