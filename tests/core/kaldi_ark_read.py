#!/usr/bin/env python3
"""Reads a Kaldi feats.scp / feats.ark pair with numpy only, from the
format as Kaldi documents it (no kaldiio), and compares every entry with
the .npy featpipe wrote for the same utterance.

An ark entry: KEY, a space, then the binary matrix as MatrixBase::Write
puts it: b"\\0B", the token b"FM ", the byte 4 and an int32 (rows), the
byte 4 and an int32 (cols), then rows*cols little-endian float32, row-major.
An scp line: "KEY ARK:OFFSET", OFFSET at the b"\\0B".

  kaldi_ark_read.py FEATS.SCP NPY_FOLDER
Prints "N entries equal" and exits 0, or names the first difference.
"""
import os
import sys

import numpy as np


def read_matrix(f):
    if f.read(2) != b"\0B":
        raise ValueError("no binary marker")
    if f.read(3) != b"FM ":
        raise ValueError("not a float matrix")
    dims = []
    for _ in range(2):
        if f.read(1) != b"\x04":
            raise ValueError("int32 not preceded by its size 4")
        dims.append(int(np.frombuffer(f.read(4), dtype="<i4")[0]))
    rows, cols = dims
    data = np.frombuffer(f.read(4 * rows * cols), dtype="<f4")
    if data.size != rows * cols:
        raise ValueError("truncated data")
    return data.reshape(rows, cols)


def walk_ark(path):
    """(key, offset, matrix) for every entry, in file order."""
    out = []
    with open(path, "rb") as f:
        while True:
            key = b""
            while (c := f.read(1)) not in (b" ", b""):
                key += c
            if not key:
                return out
            offset = f.tell()
            out.append((key.decode(), offset, read_matrix(f)))


def main():
    scp, npy_dir = sys.argv[1], sys.argv[2]
    entries = []
    with open(scp) as f:
        for line in f:
            key, rx = line.rstrip("\n").split(" ", 1)
            ark, offset = rx.rsplit(":", 1)
            entries.append((key, ark, int(offset)))
    arks = {ark for _, ark, _ in entries}
    walked = {}
    for ark in arks:
        for key, offset, m in walk_ark(ark):
            walked[key] = (ark, offset, m)
    if sorted(walked) != sorted(k for k, _, _ in entries):
        sys.exit(f"the scp lists {sorted(k for k, _, _ in entries)}, the ark holds {sorted(walked)}")
    for key, ark, offset in entries:
        with open(ark, "rb") as f:
            f.seek(offset)
            m = read_matrix(f)
        if walked[key][1] != offset:
            sys.exit(f"{key}: scp offset {offset}, ark walk {walked[key][1]}")
        want = np.load(os.path.join(npy_dir, key + ".npy"))
        if want.shape != m.shape or want.dtype != np.float32 or not np.array_equal(want.view(np.uint32), m.view(np.uint32)):
            sys.exit(f"{key}: ark {m.shape} differs from npy {want.shape}")
    print(f"{len(entries)} entries equal")


if __name__ == "__main__":
    main()
