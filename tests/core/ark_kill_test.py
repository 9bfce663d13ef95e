#!/usr/bin/env python3
"""kill -9 against `featpipe run --output-format ark` at random moments.

After each kill: an scp present indexes the archive beside it (every line
points at a matrix whose key the archive walk finds there), the archive is
whole, and every output the manifest's latest line calls ok is stored
(staged or in the archive) holding exactly the features of its input.
Then `--resume` exits 0, and the archive holds every input exactly, with
nothing staged or temporary left. One input hangs (test.trap) in the first
round, so that round is killed with the others done.

  ark_kill_test.py CLI FIXTURE_PLUGIN [--rounds N] [--seed S]
"""
import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kaldi_ark_read import read_matrix, walk_ark  # noqa: E402

PIPELINE = """featpipe: 1
name: framed
stages:
  - use: test.read
  - use: test.trap
  - use: test.frame
    with: {size: 2}
  - use: test.gain
    with: {factor: 3}
"""


def fail(msg):
    sys.exit("FAIL: " + msg)


class World:
    def __init__(self, root, cli, plugin, n):
        self.root, self.cli, self.plugin = root, cli, plugin
        self.out = os.path.join(root, "out")
        self.pipeline = os.path.join(root, "p.yaml")
        with open(self.pipeline, "w") as f:
            f.write(PIPELINE)
        self.values = {}
        self.changed = set()  # inputs edited since the last finished run: their ok lines may be stale
        lines = []
        for k in range(n):
            key = f"utt{k:03d}"
            vals = [float(k * 100 + j) for j in range(2 * (1 + k % 7))]
            path = os.path.join(root, "in", key + ".txt")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(" ".join(str(v) for v in vals))
            self.values[key] = vals
            lines.append(f"{key} {path}\n")
        self.scp_in = os.path.join(root, "wav.scp")
        with open(self.scp_in, "w") as f:
            f.writelines(lines)

    def set_input(self, key, vals):
        with open(os.path.join(self.root, "in", key + ".txt"), "w") as f:
            f.write(" ".join(str(v) for v in vals))
        self.values[key] = vals
        self.changed.add(key)

    def expected(self, key):
        return (np.array(self.values[key], dtype=np.float32) * np.float32(3)).reshape(-1, 2)

    def start(self, *extra):
        cmd = [self.cli, "run", self.pipeline, "--inputs-from", self.scp_in, "--output-format", "ark", "-o", self.out,
               "--plugin", self.plugin, "-q", "-j", "2", *extra]
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)

    def manifest_lines(self):
        path = os.path.join(self.out, "manifest.jsonl")
        if not os.path.exists(path):
            return []
        out = []
        with open(path, "rb") as f:
            for raw in f:
                try:
                    out.append(json.loads(raw))
                except ValueError:
                    pass  # a torn line of a killed run
        return out

    def check(self, when):
        ark = os.path.join(self.out, "feats.ark")
        scp = os.path.join(self.out, "feats.scp")
        walked = {}
        if os.path.exists(ark):
            try:
                for key, offset, m in walk_ark(ark):
                    walked[key] = (offset, m)
            except Exception as e:  # noqa: BLE001
                fail(f"{when}: feats.ark is not whole: {e}")
        if os.path.exists(scp):
            if not os.path.exists(ark):
                fail(f"{when}: feats.scp without feats.ark")
            with open(scp) as f:
                for line in f:
                    key, rx = line.rstrip("\n").split(" ", 1)
                    path, offset = rx.rsplit(":", 1)
                    if os.path.realpath(path) != os.path.realpath(ark) or key not in walked or walked[key][0] != int(offset):
                        fail(f"{when}: scp line {line!r} does not index the archive")
        staging = os.path.join(self.out, ".feats.ark.parts")
        latest = {}
        for e in self.manifest_lines():
            if e.get("status") in ("ok", "skipped", "error"):
                latest.setdefault(e["output"], [])
                if e["status"] == "ok" or not latest[e["output"]]:
                    latest[e["output"]] = [e]
                elif e["status"] == "error":
                    latest[e["output"]] = [e]
        for output, (e,) in latest.items():
            if e["status"] != "ok":
                continue
            key = e["utt_id"]
            staged = os.path.join(staging, key)
            if os.path.exists(staged):
                with open(staged, "rb") as f:
                    m = read_matrix(f)
            elif key in walked:
                m = walked[key][1]
            else:
                fail(f"{when}: the manifest calls {output} ok, but it is neither staged nor in the archive")
            want = self.expected(key)
            if m.shape != want.shape or not np.array_equal(m, want):
                if key in self.changed:
                    continue  # edited before a run killed before it got to it
                fail(f"{when}: {output} holds {m.shape}, not its input's features {want.shape}")
        return walked


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cli")
    ap.add_argument("plugin")
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--seed", type=int, default=12)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    root = tempfile.mkdtemp(prefix="ark_kill_")
    try:
        w = World(root, a.cli, a.plugin, 40)
        # Round 0: one input hangs; everything else finishes; kill -9.
        w.set_input("utt017", [1.0, -4.0])
        p = w.start()
        deadline = time.time() + 60
        while time.time() < deadline and len([e for e in w.manifest_lines() if e.get("status") == "ok"]) < 39:
            time.sleep(0.05)
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        walked = w.check("killed with one input hanging")
        if os.path.exists(os.path.join(w.out, "feats.scp")) or walked:
            fail("a run killed before its end presented an archive")
        w.set_input("utt017", [5.0, 6.0, 7.0, 8.0])
        for r in range(a.rounds):
            if r % 3 == 2:
                w.set_input(f"utt{rng.randrange(40):03d}", [float(rng.randrange(1000)) for _ in range(2 * rng.randrange(1, 6))])
            p = w.start("--resume" if r % 2 else "--overwrite")
            time.sleep(rng.uniform(0.0, 0.4))
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            w.check(f"round {r} killed")
        p = w.start("--resume")
        out, err = p.communicate(timeout=120)
        if p.returncode != 0:
            fail(f"the final --resume exited {p.returncode}: {err.decode()}")
        w.changed.clear()  # a finished run redid every edited input
        walked = w.check("after the final --resume")
        if sorted(walked) != sorted(w.values):
            fail(f"the archive holds {len(walked)} keys, not the {len(w.values)} inputs")
        for key, (_, m) in walked.items():
            if not np.array_equal(m, w.expected(key)):
                fail(f"{key}: the archive's matrix is not its input's features")
        left = [n for n in os.listdir(w.out)
                if n not in ("feats.ark", "feats.scp", "manifest.jsonl", "provenance.json", "run.json")]
        if left:
            fail(f"left behind after a finished run: {left}")
        with open(os.path.join(w.out, "run.json")) as f:
            if json.load(f)["ended"] is None:
                fail("run.json does not record the final --resume as ended")
        print(f"ok: {a.rounds + 1} kills, {len(walked)} entries exact after --resume")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
