#!/usr/bin/python3
"""float16 .npy and .npz inputs for tensor.load (load_test.cpp).

    npz_cases.py make DIR        writes the inputs numpy makes
    npz_cases.py check DIR OUT   checks featpipe's outputs in OUT against numpy

Inputs: half.npy (float16, finite values over its whole range, subnormals
included), one.npz (np.savez, one float16 array), PACKED.NPZ
(np.savez_compressed, one float64 array, so deflated; the extension in upper case), two.npz (two arrays:
refused without `key`, read with `key: b`), and damaged archives.
"""
import os
import sys

import numpy as np


def arrays():
    bits = np.arange(1 << 16, dtype="<u2").view("<f2")
    half = bits[np.isfinite(bits)].reshape(-1, 8)  # every finite half, 2-D
    rng = np.random.default_rng(7)
    return {
        "half.npy": half,
        "one.npz": rng.standard_normal((5, 4)).astype(np.float16),
        "PACKED.NPZ": rng.standard_normal((300, 16)),
        "two.npz:b": np.arange(12, dtype=np.int32).reshape(3, 4),
    }


def make(d):
    a = arrays()
    np.save(os.path.join(d, "half.npy"), a["half.npy"])
    np.savez(os.path.join(d, "one.npz"), a["one.npz"])
    with open(os.path.join(d, "PACKED.NPZ"), "wb") as f:  # a file object: numpy would append ".npz" to the name
        np.savez_compressed(f, x=a["PACKED.NPZ"])
    np.savez(os.path.join(d, "two.npz"), a=np.zeros((2, 2)), b=a["two.npz:b"])
    raw = open(os.path.join(d, "PACKED.NPZ"), "rb").read()
    open(os.path.join(d, "truncated.npz"), "wb").write(raw[: len(raw) // 2])
    stored = bytearray(open(os.path.join(d, "one.npz"), "rb").read())
    stored[200] ^= 0xFF  # inside the stored array data: the CRC-32 no longer matches
    open(os.path.join(d, "flipped.npz"), "wb").write(bytes(stored))


def check(d, out):
    n = 0
    for name, want in arrays().items():
        path = name.split(":")[0]
        got = np.load(os.path.join(out, path + ".npy"))
        ref = want.astype(np.float32)  # float16 -> float32 is exact; float64 -> float32 rounds as featpipe does
        assert got.dtype == np.float32 and got.shape == ref.shape, (name, got.dtype, got.shape, ref.shape)
        assert np.array_equal(got.view(np.uint32), ref.view(np.uint32)), name
        n += 1
    print(f"numpy agrees on {n} arrays")


if __name__ == "__main__":
    make(sys.argv[2]) if sys.argv[1] == "make" else check(sys.argv[2], sys.argv[3])
