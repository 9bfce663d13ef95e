#!/usr/bin/python3
"""Writes every kind of .npy numpy makes for a range of dtypes and shapes
(npy_test.cpp reads them back with featpipe's reader).

    npy_numpy_cases.py DIR

For each case DIR/<name>.npy is numpy's file and DIR/<name>.want holds what
the reader must do: "read <shape...>\\n" followed by the values cast to
float32 (little-endian, C order), or "refuse\\n" for dtypes featpipe does
not read (it must say "unsupported dtype").
"""
import os
import sys

import numpy as np

READ = ["<f2", ">f2", "<f4", ">f4", "<f8", ">f8", "|i1", "<i2", ">i2", "<i4", ">i4", "<i8", ">i8",
        "|u1", "<u2", ">u2", "<u4", ">u4", "<u8", ">u8", "|b1"]
REFUSED = ["<c8", "<c16", "<U3", "|S4", "<M8[s]", "<m8[ms]", "|V4", [("a", "<f4"), ("b", "<i2")]]
SHAPES = [(1,), (7,), (3, 5), (1, 1), (2, 3, 4), (2, 1, 3, 1, 2), (0,), (0, 4), ()]


def main(d):
    rng = np.random.default_rng(5)
    n = 0
    for dt in READ:
        dtype = np.dtype(dt)
        for shape in SHAPES:
            if dtype.kind == "f":
                a = rng.standard_normal(shape) * 1000
            elif dtype.kind == "b":
                a = rng.integers(0, 2, shape)
            else:
                info = np.iinfo(dtype)
                a = rng.integers(max(info.min, -(1 << 40)), min(info.max, 1 << 40), shape, endpoint=True)
            a = a.astype(dtype)
            for order in "CF":
                # (ascontiguousarray makes a 0-d array 1-d: keep it 0-d)
                arr = a if a.ndim == 0 else np.asfortranarray(a) if order == "F" else np.ascontiguousarray(a)
                for version in [(1, 0), (2, 0), (3, 0)]:
                    name = f"{dtype.str.replace('<', 'le').replace('>', 'be').replace('|', '')}_{len(shape)}d{n}_{order}_v{version[0]}"
                    with open(os.path.join(d, name + ".npy"), "wb") as f:
                        np.lib.format.write_array(f, arr, version=version)
                    with open(os.path.join(d, name + ".want"), "wb") as f:
                        f.write(("read " + " ".join(map(str, arr.shape)) + "\n").encode())
                        f.write(np.ascontiguousarray(a.astype("<f4")).tobytes())
                    n += 1
    # Every float16 bit pattern (subnormals, infinities, NaN payloads): each
    # has an exact float32, which numpy's astype gives bit for bit.
    every_half = np.arange(1 << 16, dtype="<u2").view("<f2")
    np.save(os.path.join(d, "f2_every_bit_pattern.npy"), every_half)
    with open(os.path.join(d, "f2_every_bit_pattern.want"), "wb") as f:
        f.write(f"read {every_half.size}\n".encode())
        f.write(every_half.astype("<f4").tobytes())
    n += 1
    for k, dt in enumerate(REFUSED):
        for shape in [(3,), (2, 2)]:
            a = np.zeros(shape, dtype=np.dtype(dt))
            name = f"refused{k}_{len(shape)}d"
            np.save(os.path.join(d, name + ".npy"), a)
            with open(os.path.join(d, name + ".want"), "wb") as f:
                f.write(b"refuse\n")
            n += 1
    print(f"wrote {n} cases")


if __name__ == "__main__":
    main(sys.argv[1])
