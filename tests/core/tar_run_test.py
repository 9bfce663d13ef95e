#!/usr/bin/env python3
"""`featpipe run --output-format tar` against the .npy run and Python's tarfile.

Checks, on the fixture plugin's text inputs (test.read, test.trap crashing
on -1 and hanging on -4):
  - every member is byte for byte the .npy a --output-format npy run writes
    for its input; keys keep folders, drop the extension, dots -> '_'; a
    200-byte path survives (pax); shard sizes; data.json (wids index);
    the manifest's `output` names shard#member with the member's size;
  - -j 1 and 2, threads and processes: the same members;
  - a crashing input fails alone; --resume then stores it, completed
    shards untouched (inode, mtime, size);
  - kill -9 mid-run: only whole shards under final names, an ok line only
    for a member stored; --resume completes every input exactly once;
  - refusals: colliding keys, another pipeline's folder, --overwrite and a
    changed input of a completed shard, --dtype against the folder's;
  - --dtype float16: bit for bit numpy's astype(np.float16) (subnormals,
    halfway cases, near overflow), the documented error bounds, and a
    value beyond float16's range failing its input by name.

  tar_run_test.py CLI FIXTURE_PLUGIN
"""
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time

import numpy as np

PIPELINE = """featpipe: 1
name: framed
stages:
  - use: test.read
  - use: test.trap
  - use: test.gain
    with: {factor: %s}
"""
# test.trap acts on -1..-4, which the float16 cases hold.
PLAIN = PIPELINE.replace("  - use: test.trap\n", "")


def fail(msg):
    sys.exit("FAIL: " + msg)


def check(cond, msg):
    if not cond:
        fail(msg)


class Env:
    def __init__(self, root, cli, plugin):
        self.root, self.cli, self.plugin = root, cli, plugin
        self.pipes = {}

    def pipeline(self, factor=3):
        if factor not in self.pipes:
            path = os.path.join(self.root, f"p{factor}.yaml")
            with open(path, "w") as f:
                f.write(PIPELINE % factor if factor != 1 else PLAIN % factor)
            self.pipes[factor] = path
        return self.pipes[factor]

    def cmd(self, inputs, out, *extra, factor=3):
        return [self.cli, "run", self.pipeline(factor), *inputs, "-o", out, "--plugin", self.plugin, "-q", *extra]

    def run(self, inputs, out, *extra, factor=3, expect=None):
        # A crashing input must kill its worker as in a release build, not
        # be caught by AddressSanitizer (when the CLI is built with it).
        env = dict(os.environ)
        env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS"), "handle_segv=0"]))
        p = subprocess.run(self.cmd(inputs, out, *extra, factor=factor), capture_output=True, text=True, timeout=300,
                           env=env)
        if expect is not None and p.returncode != expect:
            fail(f"{' '.join(extra)}: exit {p.returncode}, expected {expect}: {p.stderr}")
        return p


def write_inputs(folder, values):
    for rel, vals in values.items():
        path = os.path.join(folder, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(" ".join(repr(float(v)) for v in vals))


def members(out):
    """{member: (bytes, shard)} over every shard, failing on a key twice."""
    found = {}
    for name in sorted(os.listdir(out)):
        if not name.endswith(".tar"):
            continue
        with tarfile.open(os.path.join(out, name)) as t:
            for m in t.getmembers():
                check(m.isfile(), f"{name}: {m.name} is not a regular file")
                check(m.name not in found, f"{m.name} is stored twice ({found.get(m.name, (0, ''))[1]} and {name})")
                found[m.name] = (t.extractfile(m).read(), name)
    return found


def manifest(out, name="manifest.jsonl"):
    with open(os.path.join(out, name)) as f:
        return [json.loads(line) for line in f]


def stat_of(path):
    st = os.stat(path)
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def shards(out):
    return sorted(n for n in os.listdir(out) if n.endswith(".tar"))


def test_members_equal_npy(env, root):
    long_dir = "d" * 90 + "/" + "e" * 90
    values = {f"sub/clip{k:02d}.txt": [float(k * 10 + j) for j in range(1 + k % 5)] for k in range(20)}
    values["a.b.c.txt"] = [1.5, 2.5]
    values[long_dir + "/x" + "y" * 20 + ".txt"] = [7.0, 8.0, 9.0]
    values["top.txt"] = [-5.0]
    check(len(long_dir + "/x" + "y" * 20 + ".npy") >= 200, "the long name is not long")
    src = os.path.join(root, "in1")
    write_inputs(src, values)
    npy = os.path.join(root, "npy1")
    env.run([src], npy, expect=0)
    ref = {}
    for rel in values:
        with open(os.path.join(npy, rel + ".npy"), "rb") as f:
            ref[rel] = f.read()

    def key(rel):
        d, _, base = rel.rpartition("/")
        base = base[: -len(".txt")].replace(".", "_")
        return (d + "/" if d else "") + base + ".npy"

    want = {key(rel): b for rel, b in ref.items()}
    check(key("a.b.c.txt") == "a_b_c.npy", "key mapping")
    runs = {}
    for iso in ("process", "thread"):
        for j in ("1", "2"):
            out = os.path.join(root, f"tar1-{iso}-{j}")
            env.run([src], out, "--output-format", "tar", "--shard-size", "5", "-j", j, "--isolation", iso, expect=0)
            got = members(out)
            check(set(got) == set(want), f"{iso} -j{j}: members {sorted(set(got) ^ set(want))[:5]} differ from the inputs")
            for m, (b, _) in got.items():
                check(b == want[m], f"{iso} -j{j}: {m} is not the .npy the npy run wrote")
            names = shards(out)
            check(names == [f"data-{k:06d}.tar" for k in range(5)], f"shard names {names}")
            sizes = []
            for n in names:
                with tarfile.open(os.path.join(out, n)) as t:
                    sizes.append(len(t.getmembers()))
            check(sizes == [5, 5, 5, 5, 3], f"shard sizes {sizes}")
            with open(os.path.join(out, "data.json")) as f:
                idx = json.load(f)
            check(idx.get("__kind__") == "wids-shard-index-v1", "data.json kind")
            listed = [(s["url"], s["nsamples"], s["filesize"]) for s in idx["shardlist"]]
            check(listed == [(n, s, os.path.getsize(os.path.join(out, n))) for n, s in zip(names, sizes)],
                  f"data.json lists {listed}")
            lines = manifest(out)
            check(len(lines) == len(values) and all(e["status"] == "ok" for e in lines), "manifest: one ok line per input")
            for e in lines:
                shard, _, member = e["output"].partition("#")
                check(member in got and got[member][1] == shard, f"manifest output {e['output']} is not where the member is")
                check(e["output_bytes"] == len(got[member][0]), f"{e['output']}: output_bytes")
                check(len(e["output_xxh3"]) == 16, f"{e['output']}: no xxh3")
            runs[(iso, j)] = out
    # A completed run resumed: nothing redone, nothing rewritten.
    out = runs[("process", "2")]
    before = {n: stat_of(os.path.join(out, n)) for n in shards(out)}
    env.run([src], out, "--output-format", "tar", "--shard-size", "5", "--resume", expect=0)
    check({n: stat_of(os.path.join(out, n)) for n in shards(out)} == before, "a --resume with nothing to do touched shards")
    check(all(e["status"] == "skipped" or e["status"] == "ok" for e in manifest(out)), "resume lines")
    return src, values, runs


def test_cluster_shards(env, root, src, want_members):
    """--shard K/N: each cluster shard its own family of files and index, in one folder."""
    out = os.path.join(root, "tar-cluster")
    for k in range(3):
        env.run([src], out, "--output-format", "tar", "--shard-size", "4", "--shard", f"{k}/3", expect=0)
    got = members(out)
    check(sorted(got) == sorted(want_members), "cluster shards: not every input once")
    for k in range(3):
        family = f"data-{k}-of-3"
        mine = sorted(n for n in shards(out) if n.startswith(family + "-"))
        with open(os.path.join(out, family + ".json")) as f:
            listed = [s["url"] for s in json.load(f)["shardlist"]]
        check(mine and listed == mine, f"{family}.json lists {listed}, the folder holds {mine}")
        for e in manifest(out, f"manifest-{k}-of-3.jsonl"):
            check(e["output"].split("#")[0] in mine, f"{e['output']} is not a shard of {family}")
    check(sorted(shards(out)) == sorted(n for n in os.listdir(out) if n.endswith(".tar")), "shard names")


def test_refusals(env, root, src, runs):
    out = runs[("thread", "1")]
    p = env.run([src], out, "--output-format", "tar", "--overwrite", factor=4, expect=2)
    check("another pipeline" in p.stderr and "tar" in p.stderr, f"another pipeline's folder: {p.stderr}")
    p = env.run([src], out, "--output-format", "tar", "--dtype", "float16", "--resume", expect=2)
    check("dtype" in p.stderr, f"a rerun with another dtype is not refused by name: {p.stderr}")
    before = {n: stat_of(os.path.join(out, n)) for n in shards(out)}
    p = env.run([src], out, "--output-format", "tar", "--overwrite", expect=1)
    check("never rewrites" in p.stderr, f"--overwrite of a completed shard: {p.stderr}")
    lines = manifest(out)
    check(len(lines) == len(members(out)) and all(e["status"] == "ok" for e in lines),
          "a refused --overwrite dropped the ok lines of members that still hold")
    check({n: stat_of(os.path.join(out, n)) for n in shards(out)} == before, "--overwrite touched completed shards")
    p = env.run([src], os.path.join(root, "ark"), "--output-format", "ark", "--dtype", "float16", expect=2)
    check("float16" in p.stderr, f"ark with float16: {p.stderr}")
    # Keys that collide once dots become '_': refused before any work.
    col = os.path.join(root, "collide")
    write_inputs(col, {"x.y.txt": [1.0], "x_y.txt": [2.0]})
    cout = os.path.join(root, "collide-out")
    p = env.run([col], cout, "--output-format", "tar", expect=2)
    check("x_y.npy" in p.stderr, f"colliding keys: {p.stderr}")
    check(not os.path.exists(cout) or not shards(cout), "a refused run wrote shards")


def test_crash_then_resume(env, root, jobs):
    values = {f"c{k:02d}.txt": [float(k + 1), float(k + 2)] for k in range(12)}
    values["c05.txt"] = [3.0, -1.0]  # test.trap: SIGSEGV
    src = os.path.join(root, "in-crash" + jobs)
    write_inputs(src, values)
    out = os.path.join(root, "tar-crash" + jobs)
    p = env.run([src], out, "--output-format", "tar", "--shard-size", "4", "-j", jobs, expect=1)
    check("SIGSEGV" in p.stderr, f"the crash is not reported: {p.stderr}")
    got = members(out)
    check(set(got) == {f"c{k:02d}.npy" for k in range(12) if k != 5}, f"after a crash: {sorted(got)}")
    lines = {e["input"]: e for e in manifest(out)}
    check(lines[os.path.join(src, "c05.txt")]["status"] == "error", "the crashed input's line")
    check(sum(e["status"] == "ok" for e in lines.values()) == 11, "ok lines after a crash")
    before = {n: stat_of(os.path.join(out, n)) for n in shards(out)}
    write_inputs(src, {"c05.txt": [3.0, 4.0]})
    env.run([src], out, "--output-format", "tar", "--shard-size", "4", "-j", jobs, "--resume", expect=0)
    for n, st in before.items():
        check(stat_of(os.path.join(out, n)) == st, f"--resume rewrote the completed shard {n}")
    got = members(out)
    check(len(got) == 12, f"after --resume: {len(got)} members")
    check(np.array_equal(np.load(io.BytesIO(got["c05.npy"][0])), np.float32([9, 12])), "the redone member's values")
    lines = manifest(out)
    check(len(lines) == 12 and all(e["status"] in ("ok", "skipped") for e in lines),
          f"after --resume: {len(lines)} manifest lines, not one per input")
    # An input changed after its shard was completed is not redone into a
    # second copy: refused by name.
    write_inputs(src, {"c01.txt": [100.0]})
    p = env.run([src], out, "--output-format", "tar", "--shard-size", "4", "--resume", expect=1)
    check("not redone" in p.stderr and "c01" in p.stderr, f"a changed input of a completed shard: {p.stderr}")
    check(len(members(out)) == 12, "a refused redo added a member")


def test_kill(env, root):
    n = 30
    values = {f"k{k:02d}.txt": [float(k), float(k) / 2] for k in range(n)}
    values["k29.txt"] = [1.0, -4.0]  # hangs: the run is killed with the others done
    src = os.path.join(root, "in-kill")
    write_inputs(src, values)
    out = os.path.join(root, "tar-kill")
    args = ["--output-format", "tar", "--shard-size", "4", "-j", "2"]
    proc = subprocess.Popen(env.cmd([src], out, *args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline and len(shards(out) if os.path.isdir(out) else []) < 7:
        time.sleep(0.05)
    time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = shards(out)
    check(len(done) == 7, f"{len(done)} shards complete before the kill, expected 7 (28 of 29 stored, 4 a shard)")
    got = members(out)  # every file under a final name is a whole tar
    ok = [e for e in manifest(out) if e.get("status") == "ok"]
    for e in ok:
        shard, _, member = e["output"].partition("#")
        check(member in got and got[member][1] == shard, f"an ok line for {e['output']}, which is not stored")
    check(len(ok) == 28, f"{len(ok)} ok lines after the kill")
    before = {name: stat_of(os.path.join(out, name)) for name in done}
    write_inputs(src, {"k29.txt": [1.0, 2.0]})
    p = env.run([src], out, *args, "--resume", expect=0)
    for name, st in before.items():
        check(stat_of(os.path.join(out, name)) == st, f"--resume rewrote {name}")
    got = members(out)
    check(sorted(got) == sorted(f"k{k:02d}.npy" for k in range(n)), "after --resume: not every input once")
    for k in range(n):
        vals = [1.0, 2.0] if k == 29 else values[f"k{k:02d}.txt"]
        check(np.array_equal(np.load(io.BytesIO(got[f"k{k:02d}.npy"][0])), np.float32(vals) * 3), f"k{k:02d} values")
    left = [x for x in os.listdir(out) if x.startswith(".")]
    check(not left, f"temporaries left: {left}")


def test_full_disk(env, root):
    """A 160 KB tmpfs (root only) fills mid-run: exit 1, an ok line only for
    members of completed shards, no temporary left; grown, --resume
    completes every input once, completed shards untouched."""
    if os.geteuid() != 0:
        print("note: not root, so no small tmpfs: the full-disk check is left out")
        return
    disk = os.path.join(root, "disk")
    os.makedirs(disk)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=160k", "tmpfs", disk], capture_output=True).returncode != 0:
        print("note: cannot mount a tmpfs: the full-disk check is left out")
        return
    try:
        values = {f"f{k:02d}.txt": [float(k + j) for j in range(1500)] for k in range(40)}  # 6 KB a member
        src = os.path.join(root, "in-disk")
        write_inputs(src, values)
        out = os.path.join(disk, "out")
        args = ["--output-format", "tar", "--shard-size", "5", "-j", "2"]
        p = env.run([src], out, *args, expect=1)
        check("No space left" in p.stderr, f"a full disk is not named: {p.stderr[:500]}")
        got = members(out)
        ok = [e for e in manifest(out) if e["status"] == "ok"]
        check(ok and len(ok) < 40, f"{len(ok)} ok lines on a disk too small for all")
        for e in ok:
            shard, _, member = e["output"].partition("#")
            check(member in got and got[member][1] == shard, f"an ok line for {e['output']}, which is not stored")
        check(len(got) == len(ok), f"{len(got)} members but {len(ok)} ok lines")
        check(not [x for x in os.listdir(out) if x.startswith(".")], "a temporary left on the full disk")
        before = {n: stat_of(os.path.join(out, n)) for n in shards(out)}
        subprocess.run(["mount", "-o", "remount,size=2m", disk], check=True)
        env.run([src], out, *args, "--resume", expect=0)
        for n, st in before.items():
            check(stat_of(os.path.join(out, n)) == st, f"--resume rewrote {n}")
        got = members(out)
        check(sorted(got) == sorted(f"f{k:02d}.npy" for k in range(40)), "after --resume on a grown disk: not every input once")
        for k in range(40):
            a = np.load(io.BytesIO(got[f"f{k:02d}.npy"][0]))
            check(np.array_equal(a, np.float32(values[f"f{k:02d}.txt"]) * 3), f"f{k:02d} values")
    finally:
        subprocess.run(["umount", disk], capture_output=True)


def float16_cases():
    rng = np.random.default_rng(7)
    f16 = np.arange(0, 0x7C00, dtype=np.uint16).view(np.float16).astype(np.float32)  # every finite half >= 0
    nxt = np.arange(1, 0x7C01, dtype=np.uint16).view(np.float16).astype(np.float32)
    nxt[-1] = 65536.0  # the step past 65504
    mid = (f16.astype(np.float64) + nxt.astype(np.float64)) / 2  # halfway cases, all exact in float32
    near = np.concatenate([mid, np.nextafter(mid.astype(np.float32), np.float32(np.inf)),
                           np.nextafter(mid.astype(np.float32), np.float32(0))]).astype(np.float32)
    bits = rng.integers(0x00800000, 0x477FF000, 20000, dtype=np.uint32).view(np.float32)  # random normals below 65520
    vals = np.concatenate([f16, near[near < 65520], bits, np.float32([65519.996, 1e-30, 2.0**-25, 2.0**-24])])
    vals = vals[(vals == 0) | (vals >= np.float32(1.2e-38))]  # float32 subnormals: not read back exactly from text
    signs = rng.choice(np.float32([-1, 1]), vals.size)
    return (vals * signs).astype(np.float32)


def test_float16(env, root):
    vals = float16_cases()
    src = os.path.join(root, "in-f16")
    os.makedirs(src)
    chunks = np.array_split(vals, 6)
    for k, c in enumerate(chunks):
        with open(os.path.join(src, f"v{k}.txt"), "w") as f:
            f.write(" ".join(repr(float(v)) for v in c))  # exact: the float32 value as a double
    with open(os.path.join(src, "over.txt"), "w") as f:
        f.write("1 70000 2")
    for fmt in ("tar", "npy"):
        out = os.path.join(root, f"f16-{fmt}")
        # factor 1 (no test.trap): the value read is the value stored
        p = env.run([src], out, "--output-format", fmt, "--dtype", "float16", factor=1, expect=1)
        check(p.stderr.count("error:") == 1, f"{fmt}: {p.stderr[:2000]}")
        check("70000" in p.stderr and "step 2 'test.gain'" in p.stderr, f"{fmt}: the overflow is not named: {p.stderr}")
        if fmt == "tar":
            got = {m: np.load(io.BytesIO(b)) for m, (b, _) in members(out).items()}
        else:
            got = {n[: -len(".txt.npy")] + ".npy": np.load(os.path.join(out, n)) for n in os.listdir(out) if n.endswith(".npy")}
        check("over.npy" not in got, f"{fmt}: the overflowing input was stored")
        for k, c in enumerate(chunks):
            a = got[f"v{k}.npy"]
            check(a.dtype == np.float16, f"{fmt}: dtype {a.dtype}")
            want = c.astype(np.float16)
            bad = np.flatnonzero(a.view(np.uint16) != want.view(np.uint16))
            check(bad.size == 0, f"{fmt}: {bad.size} values differ from numpy, e.g. {c[bad[:3]]} -> {a[bad[:3]]} not {want[bad[:3]]}")
            x, y = c.astype(np.float64), a.astype(np.float64)
            normal = np.abs(x) >= 2.0**-14
            check(np.all(np.abs(y - x)[normal] <= np.abs(x)[normal] * 2.0**-11), f"{fmt}: relative error beyond 2^-11")
            check(np.all(np.abs(y - x)[~normal] <= 2.0**-25), f"{fmt}: absolute error beyond 2^-25 below 2^-14")
    check(vals.size > 60000, "too few float16 cases")


def main():
    cli, plugin = sys.argv[1], sys.argv[2]
    root = tempfile.mkdtemp(prefix="tar_run_")
    try:
        env = Env(root, cli, plugin)
        src, _, runs = test_members_equal_npy(env, root)
        test_cluster_shards(env, root, src, members(runs[("thread", "1")]).keys())
        test_refusals(env, root, src, runs)
        for jobs in ("1", "2"):  # one child has two jobs queued: the one behind the crash is still done
            test_crash_then_resume(env, root, jobs)
        test_kill(env, root)
        test_full_disk(env, root)
        test_float16(env, root)
        print("ok")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
