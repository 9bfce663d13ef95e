#!/usr/bin/env python3
"""`featpipe cmvn-stats` over real runs, against numpy.

The statistics equal numpy's float64 sums over the same .npy files (in key
order, so bit for bit); the binary file is Kaldi's "DM" matrix byte for
byte, the text one Kaldi's text matrix syntax, the JSON WeNet's keys; ark
outputs give the same bytes as npy outputs; each format read back by
norm.cmvn {stats: FILE} makes the corpus zero mean / unit variance per
dimension. A failed input, a damaged or truncated output, a rank-3 output,
an empty folder, a folder given twice, mixed dimensions and an unwritable
-o each give their message and exit status, and never a partial file.

  cmvn_stats_test.py CLI SOURCE_DIR
"""
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy as np

CLI, SRC = sys.argv[1], sys.argv[2]
AUDIO = os.path.join(SRC, "samples", "audio")
FBANK = os.path.join(SRC, "pipelines", "kaldi-fbank.yaml")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def cli(*args):
    p = subprocess.run([CLI, *args], capture_output=True, text=True)
    return p.returncode, p.stderr


def run(pipeline, out, *inputs, extra=()):
    code, err = cli("run", pipeline, *inputs, "-o", out, "-q", *extra)
    return code, err


def ok_npy(outdir):
    """The ok outputs' arrays, in the key order cmvn-stats reads them."""
    lines = [json.loads(l) for l in open(os.path.join(outdir, "manifest.jsonl"))]
    ok = [l for l in lines if l["status"] == "ok"]
    key = lambda l: l.get("utt_id") or l["output"][: -len(".npy")]
    return [np.load(os.path.join(outdir, l["output"])) for l in sorted(ok, key=lambda l: key(l).encode())]


def numpy_stats(arrays):
    x = np.concatenate(arrays).astype(np.float64)
    return x.sum(axis=0), (x * x).sum(axis=0), x.shape[0]


def read_kaldi_binary(path):
    """Kaldi's binary double matrix, from its documented layout."""
    b = open(path, "rb").read()
    check(b[:5] == b"\0BDM ", f"{path}: starts with \\0B DM (got {b[:5]!r})")
    check(b[5] == 4 and b[10] == 4, f"{path}: int32 sizes after a size byte 4")
    rows, cols = struct.unpack("<i", b[6:10])[0], struct.unpack("<i", b[11:15])[0]
    check(len(b) == 15 + rows * cols * 8, f"{path}: {rows} x {cols} doubles fill the file")
    return np.frombuffer(b[15:], dtype="<f8").reshape(rows, cols)


# One Kaldi text number: Kaldi's reader takes a value starting with a digit or '-'.
NUM = r"-?[0-9][0-9.e+-]*"
TEXT = re.compile(r"^ \[\n  (?:" + NUM + " )+\n  (?:" + NUM + r" )+\]\n$")


def read_kaldi_text(path):
    t = open(path).read()
    check(TEXT.match(t) is not None, f"{path}: Kaldi's text matrix syntax (got {t[:80]!r}...)")
    rows = [r.split() for r in t.strip().strip("[]").strip().split("\n")]
    return np.array([[float(v) for v in r] for r in rows])


def applied(tmp, stats, inputs, name):
    """The corpus through kaldi-fbank + norm.cmvn {stats}: per-dim mean and variance."""
    pipe = os.path.join(tmp, name + ".yaml")
    with open(FBANK) as f, open(pipe, "w") as g:
        g.write(f.read().replace("name: kaldi-fbank", "name: " + name))
        g.write(f"  - use: norm.cmvn\n    with: {{stats: {stats}}}\n")
    out = os.path.join(tmp, name)
    code, err = run(pipe, out, *inputs)
    check(code == 0, f"run with norm.cmvn {{stats: {stats}}}: exit {code} {err}")
    x = np.concatenate(ok_npy(out)).astype(np.float64)
    return x.mean(axis=0), x.var(axis=0)


def main():
    tmp = tempfile.mkdtemp(prefix="cmvn_stats_test.")
    try:
        npy, ark = os.path.join(tmp, "npy"), os.path.join(tmp, "ark")
        check(run(FBANK, npy, AUDIO)[0] == 0, "fbank run to npy")
        check(run(FBANK, ark, AUDIO, extra=("--output-format", "ark"))[0] == 0, "fbank run to ark")

        # The sums, bit for bit numpy's float64 sums in key order.
        kb = os.path.join(tmp, "cmvn.ark")
        code, err = cli("cmvn-stats", npy, "-o", kb)
        check(code == 0, f"cmvn-stats npy: exit {code} {err}")
        check("5 outputs" in err and "of dim 80" in err and "1 file not taken" in err, f"summary line: {err}")
        s, q, n = numpy_stats(ok_npy(npy))
        m = read_kaldi_binary(kb)
        check(m.shape == (2, 81), f"2 x (dim+1): {m.shape}")
        check(np.array_equal(m[0, :80], s), f"sums equal numpy's (max rel diff {np.max(np.abs(m[0, :80] - s) / np.abs(s))})")
        check(np.array_equal(m[1, :80], q), f"sums of squares equal numpy's (max rel diff {np.max(np.abs(m[1, :80] - q) / q)})")
        check(m[0, 80] == n and m[1, 80] == 0, f"count {m[0, 80]} == {n}, then 0: {m[1, 80]}")

        # Text and JSON hold the same numbers exactly.
        kt, wj = os.path.join(tmp, "cmvn.txt"), os.path.join(tmp, "global_cmvn.json")
        check(cli("cmvn-stats", npy, "-o", kt, "--format", "kaldi-text")[0] == 0, "kaldi-text")
        check(np.array_equal(read_kaldi_text(kt), m), "the text matrix reads back as the binary one")
        check(cli("cmvn-stats", npy, "-o", wj)[0] == 0, ".json: WeNet by default")
        j = json.load(open(wj))
        check(list(j) == ["mean_stat", "var_stat", "frame_num"], f"WeNet's keys: {list(j)}")
        check(j["mean_stat"] == list(m[0, :80]) and j["var_stat"] == list(m[1, :80]) and j["frame_num"] == n,
              "the JSON holds the same sums and count")
        wn = os.path.join(tmp, "global_cmvn")
        check(cli("cmvn-stats", npy, "-o", wn, "--format", "wenet")[0] == 0, "--format wenet")
        check(open(wn).read() == open(wj).read(), "--format wenet == the .json default")

        # ark outputs: the same file, byte for byte.
        ka = os.path.join(tmp, "cmvn_from_ark.ark")
        code, err = cli("cmvn-stats", ark, "-o", ka)
        check(code == 0, f"cmvn-stats ark: exit {code} {err}")
        check(open(ka, "rb").read() == open(kb, "rb").read(), "ark outputs give the npy outputs' statistics")

        # Shards (one manifest and archive each) read together; a manifest
        # left uncompacted (every line twice, a torn last line): per output
        # the last line counts, so no frame counts twice.
        shards = os.path.join(tmp, "shards")
        for s in ("0/3", "1/3", "2/3"):
            check(run(FBANK, shards, AUDIO, extra=("--output-format", "ark", "--shard", s))[0] == 0, f"shard {s}")
        ks = os.path.join(tmp, "cmvn_shards.ark")
        check(cli("cmvn-stats", shards, "-o", ks)[0] == 0, "cmvn-stats over shards")
        check(open(ks, "rb").read() == open(kb, "rb").read(), "shards give the whole run's statistics")
        twice = os.path.join(tmp, "twice")
        shutil.copytree(npy, twice)
        lines = open(os.path.join(npy, "manifest.jsonl")).read()
        open(os.path.join(twice, "manifest.jsonl"), "w").write(lines + lines + lines[:40])
        kd = os.path.join(tmp, "cmvn_twice.ark")
        code, err = cli("cmvn-stats", twice, "-o", kd)
        check(code == 0 and "manifest.jsonl:13: not a manifest entry" in err and "1 torn manifest line ignored" in err,
              f"a torn line: warned, exit 0 ({code}: {err})")
        check(open(kd, "rb").read() == open(kb, "rb").read(), "repeated lines count once")

        # Applied by norm.cmvn: zero mean, unit variance per dimension.
        for name, path in (("kaldi", kb), ("text", kt), ("wenet", wj)):
            mean, var = applied(tmp, path, [AUDIO], "applied-" + name)
            check(np.max(np.abs(mean)) < 1e-5, f"{name}: mean {np.max(np.abs(mean))} within 1e-5 of 0")
            check(np.max(np.abs(var - 1)) < 1e-5, f"{name}: variance within 1e-5 of 1 ({np.max(np.abs(var - 1))})")

        # A failed input: named, not counted, exit 1, the rest written.
        scp = os.path.join(tmp, "wav.scp")
        with open(scp, "w") as f:
            f.write(f"u1 {AUDIO}/speech_espeak_16k.wav\nu2 {tmp}/gone.wav\nu3 {AUDIO}/front_center_16k.wav\n")
        failed = os.path.join(tmp, "failed")
        check(run(FBANK, failed, extra=("--inputs-from", scp))[0] == 1, "the run with a missing file exits 1")
        kf = os.path.join(tmp, "failed.ark")
        code, err = cli("cmvn-stats", failed, "-o", kf)
        check(code == 1, f"a failed input: exit 1, got {code}")
        check(f"error: {tmp}/gone.wav failed in the run (no such file): its features are not in the statistics" in err, err)
        check("2 outputs" in err and "1 input failed in the run (not counted)" in err, f"summary: {err}")
        s, q, n = numpy_stats(ok_npy(failed))
        m = read_kaldi_binary(kf)
        check(np.array_equal(m[0, :80], s) and np.array_equal(m[1, :80], q) and m[0, 80] == n, "the ok inputs' statistics")

        # Damaged outputs: named, exit 2, -o left as it was.
        kept = os.path.join(tmp, "kept.ark")
        with open(kept, "wb") as f:
            f.write(b"before")

        def refused(folder, *want, code_wanted=2, out=kept):
            code, err = cli("cmvn-stats", *folder, "-o", out)
            check(code == code_wanted, f"{folder}: exit {code_wanted}, got {code}: {err}")
            for w in want:
                check(w in err, f"{folder}: {w!r} in {err!r}")
            if out == kept:
                check(open(kept, "rb").read() == b"before", f"{folder}: -o unchanged")
            check(not [f for f in os.listdir(tmp) if ".tmp." in f], f"{folder}: no temporary left")

        cut = os.path.join(tmp, "cut")
        shutil.copytree(npy, cut)
        victim = os.path.join(cut, "speech_8k.wav.npy")
        size = os.path.getsize(victim)
        os.truncate(victim, size - 100)
        refused([cut], f"error: {victim}: damaged: {size - 100} bytes, the run wrote {size}", "1 output could not be used",
                "not written")
        flip = os.path.join(tmp, "flip")
        shutil.copytree(npy, flip)
        victim = os.path.join(flip, "stereo_48k.flac.npy")
        b = bytearray(open(victim, "rb").read())
        b[-1] ^= 1
        open(victim, "wb").write(bytes(b))
        refused([flip], f"error: {victim}: damaged: its bytes differ from what the run wrote (XXH3)")
        cut_ark = os.path.join(tmp, "cut_ark")
        shutil.copytree(ark, cut_ark)
        os.truncate(os.path.join(cut_ark, "feats.ark"), os.path.getsize(os.path.join(cut_ark, "feats.ark")) - 100)
        refused([cut_ark], f"error: {cut_ark}/feats.ark#stereo_48k.flac: feats.ark damaged after 4 entries")

        # Features of another rank, refused by name.
        t3 = os.path.join(tmp, "t3")
        os.makedirs(t3)
        np.save(os.path.join(t3, "map.npy"), np.zeros((2, 3, 4), np.float32))
        rank3 = os.path.join(tmp, "rank3")
        check(run(os.path.join(SRC, "pipelines", "tensor-load.yaml"), rank3, t3)[0] == 0, "tensor-load run")
        refused([rank3], f"error: {rank3}/map.npy.npy: features of rank 3", "CMVN statistics are over [frame, dim] matrices")

        # Nothing to read, the same folder twice, two dimensions.
        empty = os.path.join(tmp, "empty")
        os.makedirs(empty)
        refused([empty], f"error: {empty}: no manifest*.jsonl: not a folder written by featpipe run")
        refused([npy, npy + "/"], "given twice")
        mfcc = os.path.join(tmp, "mfcc")
        check(run(os.path.join(SRC, "pipelines", "kaldi-mfcc.yaml"), mfcc, AUDIO)[0] == 0, "mfcc run")
        refused([npy, mfcc], "13 dims, but", "has 80")

        # An unwritable -o: nothing read, nothing left behind.
        refused([npy], "cannot write", "Not a directory", out=os.path.join(kept, "x.ark"))
        refused([npy], "cannot write", "it is a folder", out=npy)
        check(cli("cmvn-stats", npy, "-o", kb, "--format", "htk")[0] == 2, "an unknown --format: exit 2")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print(f"{len(failures)} checks failed")
        return 1
    print("cmvn-stats: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
