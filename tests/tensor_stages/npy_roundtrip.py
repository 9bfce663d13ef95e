#!/usr/bin/python3
"""tensor.load round trip with numpy (used by load_test.cpp).

    npy_roundtrip.py make DIR    writes random arrays, one per dtype/order
                                 tensor.load takes, and lists them
    npy_roundtrip.py check DIR OUT
                                 numpy reads every OUT/<name>.npy.npy that
                                 `featpipe run` wrote and checks it equals
                                 the input cast to float32, C order
"""
import os
import sys

import numpy as np

DTYPES = ["<f4", "<f8", ">f4", ">f8", "|i1", "<i2", ">i2", "<i4", "<i8", ">i8",
          "|u1", "<u2", "<u4", "<u8", ">u4", "|b1"]
SHAPES = [(5, 7), (4,), (2, 3, 4), (1, 1)]


def make(d):
    rng = np.random.default_rng(11)
    for dt in DTYPES:
        dtype = np.dtype(dt)
        for si, shape in enumerate(SHAPES):
            if dtype.kind == "f":
                a = rng.standard_normal(shape) * 100
            elif dtype.kind == "b":
                a = rng.integers(0, 2, shape)
            else:
                info = np.iinfo(dtype)
                a = rng.integers(max(info.min, -(1 << 40)), min(info.max, 1 << 40), shape, endpoint=True)
            a = a.astype(dtype)
            for order in "CF":
                arr = np.asfortranarray(a) if order == "F" else np.ascontiguousarray(a)
                name = f"{dtype.kind}{dtype.itemsize}{'be' if dt[0] == '>' else ''}_s{si}_{order}"
                np.save(os.path.join(d, name + ".npy"), arr)


def check(d, out):
    n = 0
    for f in sorted(os.listdir(d)):
        if not f.endswith(".npy"):
            continue
        a = np.load(os.path.join(d, f))
        y = np.load(os.path.join(out, f + ".npy"))
        assert y.dtype == np.dtype("<f4"), f"{f}: dtype {y.dtype}"
        assert y.flags["C_CONTIGUOUS"], f"{f}: not C order"
        assert y.shape == a.shape, f"{f}: shape {y.shape} != {a.shape}"
        assert np.array_equal(y, a.astype(np.float32)), f"{f}: values differ"
        n += 1
    assert n > 0, "no files checked"
    print(f"numpy read {n} outputs, all equal to the inputs as float32")


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    else:
        check(sys.argv[2], sys.argv[3])
