#!/usr/bin/python3
"""Golden references for the norm.* and math.* stages (tests/tensor_stages).

    make_golden.py [OUTDIR]     (default: the golden/ folder beside this file)

Writes the float32 inputs x2.npy [6, 10] and x3.npy [3, 4, 5], and for every
case in CASES the reference output <case>.npy, computed in float64 with
torch (torch.nn.functional.normalize, torch.log, ...) or numpy where torch
has no such function. norm_test.cpp runs the same cases through featpipe and
compares; when torch is installed it also reruns this script into a temp
folder and compares against that live output.
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden")
os.makedirs(out, exist_ok=True)

rng = np.random.default_rng(20261126)
x2 = rng.standard_normal((6, 10)).astype(np.float32) * 3
x2[2] = 0.0          # a zero row (l2: stays zero)
x2[4] = 1.25         # a constant row (minmax -> min, standardize -> 0)
x3 = (rng.standard_normal((3, 4, 5)) * 2 + 0.5).astype(np.float32)
x3[1, :, 2] = 0.0    # a zero vector along the middle axis
np.save(os.path.join(out, "x2.npy"), x2)
np.save(os.path.join(out, "x3.npy"), x3)

t2 = torch.from_numpy(x2).double()
t3 = torch.from_numpy(x3).double()


def minmax(t, dim, lo=0.0, hi=1.0):
    mn = t.amin(dim=dim, keepdim=True)
    mx = t.amax(dim=dim, keepdim=True)
    rng_ = mx - mn
    scaled = (t - mn) / torch.where(rng_ > 0, rng_, torch.ones_like(rng_))
    scaled = torch.where(rng_ > 0, scaled, torch.zeros_like(scaled))  # constant slice -> lo
    return lo + scaled * (hi - lo)


def standardize(t, dim, eps=1e-8):
    mean = t.mean(dim=dim, keepdim=True)
    std = t.std(dim=dim, unbiased=False, keepdim=True)
    return (t - mean) / (std + eps)


def gem(t, dims, p=3.0, eps=1e-6):
    return t.clamp(min=eps).pow(p).mean(dim=dims).pow(1.0 / p)


CASES = {
    # norm.l2 ≡ torch.nn.functional.normalize
    "l2_x2_last": F.normalize(t2, dim=-1, eps=1e-12),
    "l2_x2_axis0": F.normalize(t2, dim=0, eps=1e-12),
    "l2_x3_mid": F.normalize(t3, dim=1, eps=1e-12),
    "l2_x2_all": t2 / t2.norm().clamp(min=1e-12),
    "l2_x2_eps": F.normalize(t2, dim=-1, eps=5.0),
    # norm.minmax
    "minmax_x2_last": minmax(t2, -1, -1.0, 2.0),
    "minmax_x2_axis0": minmax(t2, 0),
    "minmax_x3_mid": minmax(t3, 1),
    "minmax_x2_all": minmax(t2.reshape(-1), 0).reshape(t2.shape),
    # norm.standardize (population std)
    "standardize_x2_last": standardize(t2, -1),
    "standardize_x2_axis0": standardize(t2, 0),
    "standardize_x3_mid": standardize(t3, 1),
    "standardize_x2_all": standardize(t2.reshape(-1), 0).reshape(t2.shape),
    # norm.power: sign(x)|x|^alpha
    "power_x2_05": torch.sign(t2) * t2.abs().pow(0.5),
    "power_x2_03": torch.sign(t2) * t2.abs().pow(0.3),
    "power_x2_2": torch.sign(t2) * t2.abs().pow(2.0),
    # math.log: natural log of (x + offset), on |x|
    "log_absx2": torch.log(t2.abs() + 1e-6),
    "log_absx2_offset1": torch.log(t2.abs() + 1.0),
    # math.pool
    "pool_avg_x3_hw": t3.mean(dim=(1, 2)),
    "pool_max_x3_0": t3.amax(dim=0),
    "pool_gem_x3_hw": gem(t3, (1, 2)),
    "pool_gem_x3_last_p2": gem(t3, (2,), p=2.0),
    "pool_avg_x2_all": t2.mean().reshape(()),
}

for name, value in CASES.items():
    np.save(os.path.join(out, name + ".npy"), value.numpy().astype(np.float64))
print(f"wrote {len(CASES)} cases to {out}")
