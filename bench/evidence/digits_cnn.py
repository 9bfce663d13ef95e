"""Image embeddings (issue 15, part 3): the shipped digits CNN's
intermediate feature map, pooled, on the 297 digits it was not trained on,
with and without L2 normalization.

    /usr/bin/python3 bench/evidence/digits_cnn.py [--out docs/evidence]

The held-out digits are those samples/models/train_digits.py set aside
(scikit-learn's load_digits, the same seeded permutation). Each 8 x 8 image
(0..16, given as float pixels with `scale: 16`) goes through featpipe's
Python package: image.decode (RGB) -> image.resize to 32 x 32 ->
image.normalize (ImageNet) -> cnn.features (the second block's max-pool,
[32, 8, 8]) -> math.pool avg over height and width -> [32], then norm.l2
along channel in the L2 variant. Leave-one-out among the 297: 1-NN and 5-NN
accuracy and precision@10 (same-digit share of the 10 nearest), Euclidean
and cosine distance. Mean over the 297 queries with a 95 % bootstrap
interval (1,000 resamples of the queries).
"""
import os
import sys

import numpy as np
from sklearn.datasets import load_digits

import featpipe as fp

from common import ROOT, arguments, neighbour_order
from plots import bar_chart

PIPE = """featpipe: 1
name: digits-embedding
stages:
  - use: image.decode
    with: {{color: rgb, scale: 16}}
  - use: image.resize
    with: {{size: [32, 32]}}
  - use: image.normalize
    with: {{mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]}}
  - use: cnn.features
    with: {{model: {model}, layer: /features/features.7/MaxPool_output_0, input_size: [32, 32]}}
  - use: math.pool
    with: {{op: avg, axes: [height, width]}}
{l2}"""
L2 = "  - use: norm.l2\n    with: {axis: channel}\n"


def scores(x, y, metric):
    order = neighbour_order(x, metric)
    nn1 = y[order[:, 0]] == y
    vote5 = np.array([np.bincount(y[o[:5]], minlength=10).argmax() for o in order]) == y
    p10 = (y[order[:, :10]] == y[:, None]).mean(1)
    return {"1-NN": nn1.astype(float), "5-NN": vote5.astype(float), "precision@10": p10}


def interval(v, rng):
    means = [v[rng.integers(0, len(v), len(v))].mean() for _ in range(1000)]
    return v.mean(), np.percentile(means, 2.5), np.percentile(means, 97.5)


def main():
    args = arguments()
    d = load_digits()
    order = np.random.default_rng(0).permutation(len(d.target))  # train_digits.py's split
    test = order[:297]
    images, labels = d.images[test].astype(np.float32), d.target[test]
    model = os.path.join(ROOT, "samples", "models", "digits_cnn.onnx")
    rows = []
    rng = np.random.default_rng(1)
    for variant, l2 in (("pooled features", ""), ("pooled + L2 (norm.l2)", L2)):
        pipe = fp.Pipeline.from_yaml(PIPE.format(model=model, l2=l2), name="digits-embedding")
        x = np.stack([pipe(img) for img in images]).astype(np.float64)
        for metric in ("euclidean", "cosine"):
            s = scores(x, labels, metric)
            rows.append((variant, metric, {k: interval(v, rng) for k, v in s.items()}))
    with open(os.path.join(args.out, "digits_cnn.csv"), "w") as f:
        f.write("features,distance,1-NN,5-NN,precision@10\n")
        for variant, metric, r in rows:
            f.write(f"{variant},{metric}," + ",".join(f"{r[k][0]:.4f}" for k in ("1-NN", "5-NN", "precision@10")) + "\n")
    print("297 held-out digits, leave-one-out, mean [95 % bootstrap interval]\n")
    print("| features | distance | 1-NN accuracy | 5-NN accuracy | precision@10 |")
    print("| --- | --- | ---: | ---: | ---: |")
    for variant, metric, r in rows:
        cells = " | ".join(f"{r[k][0]:.3f} [{r[k][1]:.3f}, {r[k][2]:.3f}]" for k in ("1-NN", "5-NN", "precision@10"))
        print(f"| {variant} | {metric} | {cells} |")
    bar_chart(os.path.join(args.out, "digits_cnn.png"), "Held-out digits, shipped digits CNN (featpipe)",
              [f"{v.replace(' (norm.l2)', '')}\n{m}" for v, m, _ in rows],
              {k: [r[k] for _, _, r in rows] for k in ("1-NN", "5-NN", "precision@10")},
              "score (mean, 95 % bootstrap interval)", ylim=(0.6, 1.0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
