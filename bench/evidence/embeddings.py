"""Embeddings (issue 15, part 4): nearest neighbours among item factor
vectors with and without L2 normalization, and how much popular items
dominate them.

    /usr/bin/python3 bench/evidence/embeddings.py [--out docs/evidence] [--seeds 5]

A ratings-like matrix is generated with a known structure: 3,000 users and
600 items with 16-dimensional true tastes and traits, each item's chance of
being seen following a Zipf popularity (exponent 1.1), a user's count the
affinity of the two times the item's popularity. Item factors come from a
truncated SVD (rank 16) of that matrix, as in classic matrix factorization:
popular items get long factor vectors. featpipe's tensor pipeline
(tensor.load's axes [row, col] -> norm.l2 along col, through the Python
package) normalizes them. For every item, its 10 nearest items by dot
product (raw factors) and by cosine (the L2-normalized ones) are compared:
- popular share: the fraction of neighbour slots taken by the 5 % most
  popular items (5 % if popularity did not matter);
- precision@10 against the neighbours by the items' true traits (cosine).
Mean and the spread (min-max) over --seeds matrices. Writes
embeddings.csv and embeddings.png.
"""
import os
import sys

import numpy as np

import featpipe as fp

from common import arguments, neighbour_order
from plots import plt

L2 = """featpipe: 1
name: item-factors-l2
stages:
  - use: tensor.load
  - use: norm.l2
    with: {axis: col}
"""


def matrix(seed, users=3000, items=600, k=16):
    rng = np.random.default_rng(seed)
    taste = rng.normal(size=(users, k))
    trait = rng.normal(size=(items, k))
    pop = 1.0 / np.arange(1, items + 1) ** 1.1
    pop = pop[rng.permutation(items)]
    affinity = np.exp(taste @ trait.T / np.sqrt(k))
    counts = rng.poisson(affinity * pop[None, :] * items / 20)
    return counts.astype(np.float64), trait, pop


def main():
    args = arguments(seeds=True)
    pipe = fp.Pipeline.from_yaml(L2, name="item-factors-l2")
    rows = {"dot product (raw factors)": [], "cosine (featpipe norm.l2)": []}
    shares = {k: [] for k in rows}
    for seed in range(args.seeds):
        r, trait, pop = matrix(seed)
        u, s, vt = np.linalg.svd(r, full_matrices=False)
        factors = (vt[:16].T * s[:16]).astype(np.float32)
        unit = pipe(factors, axes=("row", "col"))
        # featpipe's L2 is numpy's in float64, to float32 rounding.
        ref = factors / np.linalg.norm(factors.astype(np.float64), axis=1, keepdims=True)
        assert np.abs(unit - ref).max() < 1e-6, "norm.l2 differs from numpy"
        truth = neighbour_order(trait, "cosine")[:, :10]
        top = set(np.argsort(-pop)[: len(pop) // 20])
        for name, x in (("dot product (raw factors)", factors.astype(np.float64)),
                        ("cosine (featpipe norm.l2)", unit.astype(np.float64))):
            nb = neighbour_order(x, "dot")[:, :10]
            share = np.mean([p in top for p in nb.ravel()])
            prec = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(nb, truth)])
            rows[name].append(prec)
            shares[name].append(share)
    with open(os.path.join(args.out, "embeddings.csv"), "w") as f:
        f.write("neighbours by,popular share mean,popular share min,popular share max,precision@10 mean,min,max\n")
        for k in rows:
            f.write(f"{k},{np.mean(shares[k]):.3f},{min(shares[k]):.3f},{max(shares[k]):.3f},"
                    f"{np.mean(rows[k]):.3f},{min(rows[k]):.3f},{max(rows[k]):.3f}\n")
    print(f"10 nearest items of each of 600, {args.seeds} generated matrices (mean, min-max)\n")
    print("| neighbours by | slots taken by the 5 % most popular items | precision@10 against the true traits |")
    print("| --- | ---: | ---: |")
    for k in rows:
        print(f"| {k} | {np.mean(shares[k]):.1%} ({min(shares[k]):.1%}–{max(shares[k]):.1%}) | "
              f"{np.mean(rows[k]):.3f} ({min(rows[k]):.3f}–{max(rows[k]):.3f}) |")
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.2))
    names = list(rows)
    axes[0].bar(range(2), [np.mean(shares[k]) for k in names], color=["tab:gray", "tab:green"])
    axes[0].axhline(0.05, color="k", ls="--", lw=1, label="no popularity effect")
    axes[0].set_title("neighbour slots: 5 % most popular", fontsize=9)
    axes[0].legend(fontsize=7)
    axes[1].bar(range(2), [np.mean(rows[k]) for k in names], color=["tab:gray", "tab:green"])
    axes[1].set_title("precision@10 vs true traits", fontsize=9)
    for ax in axes:
        ax.set_xticks(range(2))
        ax.set_xticklabels(["dot (raw)", "cosine (L2)"], fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "embeddings.png"), dpi=100)
    return 0


if __name__ == "__main__":
    sys.exit(main())
