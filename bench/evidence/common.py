"""What the evidence scripts share: where the repository is, their command
line (--out, and --seeds for those repeated over seeds), and the
nearest-neighbour order their retrieval scores are computed from."""
import argparse
import os

import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def arguments(seeds=False):
    """--out (created) and, with `seeds`, --seeds (default 5)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "evidence"))
    if seeds:
        ap.add_argument("--seeds", type=int, default=5)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    return args


def neighbour_order(x, metric):
    """For each row of `x`, the other rows nearest first (the row itself
    left out): by Euclidean distance, cosine distance, or the largest dot
    product ("dot"). Ties keep index order."""
    if metric == "cosine":
        u = x / np.linalg.norm(x, axis=1, keepdims=True)
        d = 1 - u @ u.T
    elif metric == "dot":
        d = -(x @ x.T)
    else:
        sq = (x ** 2).sum(1)
        d = sq[:, None] + sq[None, :] - 2 * x @ x.T
    np.fill_diagonal(d, np.inf)
    return np.argsort(d, axis=1, kind="stable")[:, :-1]  # the row itself (inf) last, dropped
