#!/usr/bin/python3
"""L2 normalization of a ROWS x COLS float32 matrix in memory, one thread:
numpy, torch.nn.functional.normalize and FAISS normalize_L2 (each skipped
with a note when its module is missing). Prints `<method> <best s> <GB/s>`,
GB/s counting bytes read + written (2 x the matrix), as bench_l2 does."""
import os
import sys
import time

import numpy as np

rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
cols = int(sys.argv[2]) if len(sys.argv) > 2 else 128
repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 10
gb = 2.0 * rows * cols * 4 / 1e9

x = np.random.default_rng(1).standard_normal((rows, cols), dtype=np.float32)


def best(f):
    t = 1e30
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        t = min(t, time.perf_counter() - t0)
    return t


def report(name, t):
    print(f"{name} {t:.6f} {gb / t:.2f}", flush=True)


def check(y):
    n = np.linalg.norm(y.astype(np.float64), axis=1)
    assert np.abs(n - 1).max() < 1e-5, "not unit length"


# numpy: a new array, as users write it.
y = x / np.linalg.norm(x, axis=1, keepdims=True)
check(y)
del y
report("numpy", best(lambda: x / np.linalg.norm(x, axis=1, keepdims=True)))

try:
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(1)
    xt = torch.from_numpy(x)
    check(F.normalize(xt, dim=1).numpy())
    report("torch.nn.functional.normalize", best(lambda: F.normalize(xt, dim=1)))
except ImportError:
    print("# torch: not installed, skipped", file=sys.stderr)

try:
    import faiss

    faiss.omp_set_num_threads(1)
    xf = x.copy()
    faiss.normalize_L2(xf)  # in place
    check(xf)
    report("faiss.normalize_L2(in-place)", best(lambda: faiss.normalize_L2(xf)))
except ImportError:
    print("# faiss: python3-faiss not installed, skipped (apt-get install python3-faiss)", file=sys.stderr)
