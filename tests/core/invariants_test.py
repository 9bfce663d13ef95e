#!/usr/bin/env python3
"""Property test of `featpipe run`'s promises about an output folder.

Drives random sequences of what users do to a folder of features - `run`,
`--resume`, `--overwrite`, another pipeline, kill -9 at a random moment, a
worker that crashes, a disk that fills (a small tmpfs), inputs edited,
broken and fixed, outputs truncated or replaced - and after every command
checks the invariants the README states:

  (a) every output a manifest line calls ok is whole and holds what the
      pipeline in provenance.json makes of the input as it is now;
  (b) after a run that finishes, every input given is accounted for: its
      latest manifest line says ok or error with a reason (or, when even
      that line could not be written, stderr names it); other files are
      not_taken with a reason;
  (c) exit status 0 means (a) and (b) hold with every input ok.

Plus: a refused run (exit 2) changes nothing; a finished run leaves no
temporary file; the manifest of a run that exits 0 has one line per input;
at the end of each sequence, with inputs fixed and space freed, --overwrite
exits 0 and a --resume after it rewrites nothing.

The stages are the test fixtures (test.read -> test.trap -> test.gain), so
the expected features are exact: factor * the numbers in the file.

  invariants_test.py CLI FIXTURE_PLUGIN [--seed S] [--sequences N] [--steps M]
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

PAGE = 4096
GOOD, CORRUPT, CRASH = "good", "corrupt", "crash"


class Violation(AssertionError):
    pass


def pipeline_text(factor, variant):
    # Variants of one meaning: a comment, another name, 2 vs 2.0e0. The
    # resume check must accept them as the same pipeline.
    fac = {0: str(factor), 1: f"{float(factor):.1e}"}[variant]
    name = "gain" if variant == 0 else "gain-renamed"
    comment = "# edited: same meaning\n" if variant else ""
    return (f"featpipe: 1\n{comment}name: {name}\nstages:\n  - use: test.read\n  - use: test.trap\n"
            f"  - use: test.gain\n    with: {{factor: {fac}}}\n")


class World:
    """The inputs, the pipelines, the output folder and what we know of them."""

    def __init__(self, root, cli, plugin, rng, disk_ok):
        self.root, self.cli, self.plugin, self.rng = root, cli, plugin, rng
        self.inp = os.path.join(root, "in")
        self.out = os.path.join(root, "disk", "out")
        self.filler = os.path.join(root, "disk", "filler")
        self.disk_ok = disk_ok
        self.content = {}  # relative input path -> (kind, numbers)
        self.changed = set()  # inputs edited since the last run that finished
        self.durations = [0.05]
        self.log = []
        os.makedirs(self.inp)
        for i in range(24):
            rel = f"s{i % 3}/x{i:02d}.txt"
            os.makedirs(os.path.dirname(os.path.join(self.inp, rel)), exist_ok=True)
            self.write_input(rel, GOOD)
        # Not taken: another extension.
        with open(os.path.join(self.inp, "notes.dat"), "w") as f:
            f.write("not an input\n")

    # ---- inputs ---------------------------------------------------------
    def write_input(self, rel, kind):
        path = os.path.join(self.inp, rel)
        nums = [round(self.rng.uniform(0.5, 99.5), 2) for _ in range(self.rng.randint(1, 40))]
        text = {GOOD: " ".join(map(str, nums)), CORRUPT: "1 2 corrupt 3", CRASH: "5 -1 6"}[kind]
        old = os.stat(path).st_mtime_ns if os.path.exists(path) else 0
        with open(path, "w") as f:
            f.write(text + "\n")
        # A later mtime than the last, whatever the clock's granularity.
        st = os.stat(path)
        if st.st_mtime_ns <= old:
            os.utime(path, ns=(st.st_atime_ns, old + 1_000_000_000))
        if rel in self.content:
            self.changed.add(rel)
        self.content[rel] = (kind, nums if kind == GOOD else None)

    def expected(self, rel, factor):
        kind, nums = self.content[rel]
        return None if kind != GOOD else (np.array(nums, dtype=np.float32) * np.float32(factor)).astype(np.float32)

    # ---- the disk -------------------------------------------------------
    def fill_disk(self, pages_left):
        self.free_disk()
        st = os.statvfs(os.path.dirname(self.filler))
        size = max(0, st.f_bavail * st.f_frsize - pages_left * PAGE)
        with open(self.filler, "wb") as f:
            f.write(b"\0" * size)

    def free_disk(self):
        if os.path.exists(self.filler):
            os.remove(self.filler)

    # ---- commands -------------------------------------------------------
    def command(self, factor, variant, mode, jobs, isolation):
        pfile = os.path.join(self.root, f"p{factor}-{variant}.yaml")
        with open(pfile, "w") as f:
            f.write(pipeline_text(factor, variant))
        args = [self.cli, "run", pfile, self.inp, "-o", self.out, "--plugin", self.plugin, "-q",
                "-j", str(jobs), "--isolation", isolation]
        if mode:
            args.append(mode)
        return args

    def run(self, args, kill_after=None):
        env = dict(os.environ)
        # A crashing input must kill its worker as in a release build, not
        # be caught by AddressSanitizer (when the CLI is built with it).
        env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS"), "handle_segv=0"]))
        start = time.monotonic()
        p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                             start_new_session=True)
        killed = False
        if kill_after is not None:
            try:
                p.wait(timeout=kill_after)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)  # the run and its workers, as an OOM killer or a node loss would
                killed = True
        out, err = p.communicate(timeout=300)
        if not killed:
            self.durations.append(time.monotonic() - start)
        return p.returncode, out.decode(errors="replace"), err.decode(errors="replace"), killed

    # ---- what the folder says -------------------------------------------
    def manifest_lines(self):
        lines = []
        if not os.path.isdir(self.out):
            return lines
        for name in sorted(os.listdir(self.out)):
            if not (name.startswith("manifest") and name.endswith(".jsonl")):
                continue
            with open(os.path.join(self.out, name), "rb") as f:
                for raw in f.read().split(b"\n"):
                    try:
                        lines.append((name, json.loads(raw)))
                    except ValueError:
                        pass  # a torn last line of a killed run: ignored by design
        return lines

    def provenance_factor(self):
        path = os.path.join(self.out, "provenance.json")
        if not os.path.exists(path):
            return None
        prov = json.load(open(path))
        return [s["params"]["factor"] for s in prov["steps"] if s["use"] == "test.gain"][0]

    def snapshot(self):
        snap = {}
        if os.path.isdir(self.out):
            for d, _, files in os.walk(self.out):
                for f in files:
                    p = os.path.join(d, f)
                    if ".tmp-" in f:
                        continue
                    with open(p, "rb") as fh:
                        snap[os.path.relpath(p, self.out)] = fh.read()
        return snap

    # ---- the invariants -------------------------------------------------
    def fail(self, what):
        raise Violation(what + "\n  steps so far:\n    " + "\n    ".join(self.log[-12:]))

    def check_ok_lines(self, processed, every_line):
        """(a). `processed`: the command ran its inputs to the end (exit 0 or
        1), so an input edited before it must have been redone. Each
        output's state (`latest`) is checked; `every_line`: after exit 0 the
        manifest is compacted and every ok line in it must hold."""
        factor = self.provenance_factor()
        lines = [("manifest.jsonl", e) for e in self.latest().values()]
        if every_line:
            lines = self.manifest_lines()
        for name, e in lines:
            if e.get("status") != "ok":
                continue
            if factor is None:
                self.fail(f"(a) {name} calls {e['output']} ok but the folder has no provenance.json")
            rel = e["output"][:-len(".npy")]
            path = os.path.join(self.out, e["output"])
            try:
                got = np.load(path, allow_pickle=False)
            except Exception as ex:  # noqa: BLE001 - any failure to read is the finding
                if rel in self.changed and not processed:
                    continue  # damaged by hand before a run that did not get to it
                self.fail(f"(a) {name} calls {e['output']} ok but it is not a whole .npy: {ex}")
            want = self.expected(rel, factor)
            if want is None or got.shape != want.shape or not np.array_equal(got, want):
                if rel in self.changed and not processed:
                    continue  # edited before a run that was killed or refused before reaching it
                kind = self.content[rel][0]
                self.fail(f"(a) {name} calls {e['output']} ok but it is not factor {factor} x the input "
                          f"as it is now (input {kind}; got {got.shape} {got[:4]}, want "
                          f"{None if want is None else want[:4]})")

    def latest(self):
        """Each output's state, as the README tells a reader of a manifest
        that a killed run left uncompacted: its last line, where a `skipped`
        line (a resume that checked it) stands for the latest ok line before it."""
        last, last_ok = {}, {}
        for _, e in self.manifest_lines():
            if "output" not in e:
                continue
            out = e["output"]
            if e.get("status") == "skipped" and out in last_ok:
                last[out] = last_ok[out]
                continue
            if e.get("status") == "ok":
                last_ok[out] = e
            last[out] = e
        return last

    def check_finished(self, code, err):
        if code not in (0, 1, 2):
            self.fail(f"a finished run exited {code}:\n{err}")
        last = self.latest()
        bad = [rel for rel, (kind, _) in self.content.items() if kind != GOOD]
        if code == 0 and bad:
            self.fail(f"(c) exit 0 with broken inputs {bad}")
        if code in (0, 1):
            for rel in self.content:
                e = last.get(rel + ".npy")
                if e is None:
                    if rel not in err:
                        self.fail(f"(b) {rel} has no manifest line and stderr does not name it:\n{err}")
                    continue
                if e["status"] == "ok":
                    continue
                if code == 0:
                    self.fail(f"(c) exit 0 but {rel}'s latest line is {e}")
                if e["status"] != "error" or not e.get("error"):
                    self.fail(f"(b) {rel}'s latest line gives no reason: {e}")
            nt = last.get("notes.dat") or [e for _, e in self.manifest_lines() if e.get("status") == "not_taken"]
            if code == 0 and not nt:
                self.fail("(b) notes.dat (another extension) is not listed as not_taken")
        if code == 0:
            outs = [e.get("output") for n, e in self.manifest_lines() if n == "manifest.jsonl" and "output" in e]
            if len(outs) != len(set(outs)):
                self.fail("a run that exited 0 left more than one line per input in manifest.jsonl")
        for d, _, files in os.walk(self.out) if os.path.isdir(self.out) else []:
            for f in files:
                if ".tmp-" in f:
                    self.fail(f"a finished run left a temporary file {os.path.join(d, f)}")


def one_sequence(cli, plugin, seed, steps, can_mount):
    rng = random.Random(seed)
    root = tempfile.mkdtemp(prefix="featpipe-invariants-")
    disk = os.path.join(root, "disk")
    os.makedirs(disk)
    mounted = False
    if can_mount:
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", disk],
                                 capture_output=True).returncode == 0
    try:
        w = World(root, cli, plugin, rng, mounted)
        rels = sorted(w.content)
        for step in range(steps):
            # Between commands: what users and machines do to the folders.
            for _ in range(rng.choice([0, 0, 1, 2])):
                what = rng.random()
                rel = rng.choice(rels)
                if what < 0.35:
                    w.write_input(rel, GOOD)
                    w.log.append(f"edit {rel}")
                elif what < 0.5:
                    kind = rng.choice([CORRUPT, CRASH])
                    w.write_input(rel, kind)
                    w.log.append(f"break {rel} ({kind})")
                elif what < 0.65:
                    out = os.path.join(w.out, rel + ".npy")
                    if os.path.exists(out):
                        how = rng.choice(["empty", "half", "other"])
                        if how == "other":
                            np.save(out, np.arange(rng.randint(1, 9), dtype=np.float32))
                        else:
                            size = os.path.getsize(out)
                            os.truncate(out, 0 if how == "empty" else size // 2)
                        w.changed.add(rel)  # its ok line is stale until a run checks it
                        w.log.append(f"damage output {rel}.npy ({how})")
                elif what < 0.8 and mounted:
                    left = rng.choice([0, 1, 2, 4, 8])
                    w.fill_disk(left)
                    w.log.append(f"fill the disk ({left} pages left)")
                elif mounted:
                    w.free_disk()
                    w.log.append("free the disk")
            factor = rng.choice([2, 2, 2, 3])
            variant = rng.choice([0, 1])
            mode = rng.choice([None, "--resume", "--resume", "--overwrite"])
            jobs = rng.choice([1, 2])
            isolation = rng.choice(["process", "process", "thread"])
            kill = rng.random() < 0.4
            kill_after = rng.uniform(0, 1.5 * sum(w.durations[-5:]) / len(w.durations[-5:])) if kill else None
            args = w.command(factor, variant, mode, jobs, isolation)
            before = w.snapshot()
            code, _, err, killed = w.run(args, kill_after)
            crashed = code < 0 and not killed  # a thread-isolated run whose crashing input took the process
            first = err.strip().splitlines()[0] if err.strip() else ""
            w.log.append(f"run x{factor} v{variant} {mode or ''} -j{jobs} {isolation}"
                         f"{' killed after %.3fs' % kill_after if killed else ''} -> {code} {first[:150]}")
            finished = not killed and not crashed
            if crashed and isolation != "thread":
                w.fail(f"a run with process isolation died of signal {-code}:\n{err}")
            w.check_ok_lines(finished and code in (0, 1), finished and code == 0)
            if finished:
                w.check_finished(code, err)
                if code == 2:
                    after = w.snapshot()
                    if after != before:
                        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
                        w.fail(f"a refused run (exit 2) changed the folder: {changed[:5]}\n{err}")
                if code in (0, 1):
                    w.changed.clear()
        # The way out: fix every input, free the disk, overwrite, resume.
        w.free_disk()
        for rel in rels:
            if w.content[rel][0] != GOOD:
                w.write_input(rel, GOOD)
        for mode in ("--overwrite", "--resume"):
            before = w.snapshot()
            code, _, err, _ = w.run(w.command(2, 0, mode, 2, "process"))
            w.log.append(f"final run x2 {mode} -> {code}")
            if code != 0:
                w.fail(f"with every input fixed and space free, {mode} exited {code}:\n{err}")
            w.check_ok_lines(True, True)
            w.check_finished(code, err)
            w.changed.clear()
        after = w.snapshot()
        rewritten = [k for k in after if k.endswith(".npy") and before.get(k) != after[k]]
        if rewritten:
            w.fail(f"--resume after a clean --overwrite rewrote {rewritten[:5]}")
        return len(w.log)
    finally:
        if mounted:
            subprocess.run(["umount", disk])
        shutil.rmtree(root, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cli")
    ap.add_argument("plugin")
    ap.add_argument("--seed", type=int, default=int(os.environ.get("INVARIANTS_SEED", "1")))
    ap.add_argument("--sequences", type=int, default=int(os.environ.get("INVARIANTS_SEQUENCES", "6")))
    ap.add_argument("--steps", type=int, default=int(os.environ.get("INVARIANTS_STEPS", "25")))
    a = ap.parse_args()
    seed = a.seed
    can_mount = os.geteuid() == 0
    if not can_mount:
        print("note: not root, so no small tmpfs: the full-disk steps are left out")
    print(f"seed {seed} (rerun: INVARIANTS_SEED={seed}), {a.sequences} sequences of {a.steps} steps")
    total = 0
    for k in range(a.sequences):
        try:
            total += one_sequence(a.cli, a.plugin, seed + k, a.steps, can_mount)
        except Violation as v:
            print(f"VIOLATION in sequence {k} (seed {seed + k}):\n{v}")
            return 1
    print(f"ok: {total} steps, every invariant held after each")
    return 0


if __name__ == "__main__":
    sys.exit(main())
