#!/usr/bin/python3
"""Tiny .npy fixtures for tensor.load: one per dtype and memory order that
it reads, each a 2x3 array of known values (tests/tensor_stages/load_test.cpp holds
the same values), plus a few 1-D/3-D and big-endian files, and a small
embeddings matrix for pipelines/tensor-l2.yaml. Rerun to regenerate."""
import os

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
SIGNED = [[0, -1, 2], [-3, 4, -5]]
UNSIGNED = [[0, 1, 2], [3, 4, 250]]
FLOAT = [[0.5, -1.5, 2.0], [-3.0, 4.25, -5.0]]
BOOL = [[False, True, True], [True, False, True]]


def save(name, a):
    np.save(os.path.join(here, name + ".npy"), a)


for code, values in [("f4", FLOAT), ("f8", FLOAT), ("i1", SIGNED), ("i2", SIGNED), ("i4", SIGNED),
                     ("i8", SIGNED), ("u1", UNSIGNED), ("u2", UNSIGNED), ("u4", UNSIGNED),
                     ("u8", UNSIGNED), ("b1", BOOL)]:
    a = np.array(values, dtype=np.dtype(code if code != "b1" else "?"))
    save(f"dtype_{code}_c", np.ascontiguousarray(a))
    save(f"dtype_{code}_f", np.asfortranarray(a))
save("dtype_be_f4_c", np.array(FLOAT, dtype=">f4"))
save("dtype_be_i2_f", np.asfortranarray(np.array(SIGNED, dtype=">i2")))
save("rank1_f8", np.arange(5, dtype=np.float64) - 2)          # [-2, -1, 0, 1, 2]
save("rank3_i4_f", np.asfortranarray(np.arange(24, dtype=np.int32).reshape(2, 3, 4)))
rng = np.random.default_rng(7)
emb = rng.standard_normal((16, 8)).astype(np.float32)
emb[3] = 0.0  # a zero row: stays zero under norm.l2
save("embeddings", emb)
