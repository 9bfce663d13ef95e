#!/usr/bin/env python3
"""Cluster array jobs over one output folder, checked by `featpipe status`.

N simulated array tasks (Slurm's SLURM_ARRAY_TASK_ID/_COUNT/_MIN, Kubernetes'
JOB_COMPLETION_INDEX) run `--shard auto` concurrently and one after the other:
every input is processed exactly once across the shard manifests, in the
shard its path hashes to, with the right values; status exits 0. A shard
killed with -9 mid-run: status names it killed with the missing inputs
(counted from the manifest the kill left) and exit 1; the command status
prints, run as printed, completes it. A shard never started, shards of two
pipelines merged into one folder, and usage errors are reported as such.

  cluster_test.py CLI FIXTURE_PLUGIN
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

PIPELINE = """featpipe: 1
name: scaled
stages:
  - use: test.read
  - use: test.trap
  - use: test.gain
    with: {factor: %s}
"""
N_INPUTS = 48
N_SHARDS = 4
HANG = -4  # test.trap sleeps a minute on it: a shard to kill mid-run


def fail(msg):
    sys.exit("FAIL: " + msg)


def check(cond, msg):
    if not cond:
        fail(msg)


def fnv1a64(s):
    # plan.cpp's in_shard hash (util::fnv1a64, its own offset basis),
    # recomputed here so the test does not take the shards from featpipe.
    h = 1469598103934665603
    for c in s.encode():
        h = ((h ^ c) * 1099511628211) % (1 << 64)
    return h


class World:
    def __init__(self, root, cli, plugin):
        self.root, self.cli, self.plugin = root, cli, plugin
        self.corpus = os.path.join(root, "corpus")
        self.values = {}
        for k in range(N_INPUTS):
            self.write_input(f"{'ab'[k % 2]}/utt{k:03d}.txt", [float(k * 10 + j) for j in range(3 + k % 5)])
        self.pipelines = {}
        for factor in (2, 3):
            path = os.path.join(root, f"x{factor}.yaml")
            with open(path, "w") as f:
                f.write(PIPELINE % factor)
            self.pipelines[factor] = path

    def write_input(self, rel, vals):
        path = os.path.join(self.corpus, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(" ".join(str(v) for v in vals))
        self.values[rel] = vals

    def shard_of(self, rel):
        return fnv1a64(rel) % N_SHARDS

    def command(self, out, factor=2, *extra):
        return [self.cli, "run", self.pipelines[factor], self.corpus, "-o", out, "--plugin", self.plugin, "-q", *extra]

    def status(self, out, *extra):
        p = subprocess.run([self.cli, "status", out, *extra], capture_output=True, text=True, cwd=self.root)
        return p.returncode, p.stdout, p.stderr

    def status_json(self, out, *extra):
        code, text, err = self.status(out, "--json", *extra)
        check(code in (0, 1), f"status --json exited {code}: {err}")
        return code, json.loads(text)

    def check_exactly_once(self, out, factor=2):
        """Every input's latest line is ok in exactly one manifest, its shard's, with its values."""
        seen = {}
        for name in sorted(os.listdir(out)):
            if not (name.startswith("manifest") and name.endswith(".jsonl")):
                continue
            shard = int(name.split("-")[1])
            with open(os.path.join(out, name)) as f:
                latest = {}
                for line in f:
                    e = json.loads(line)
                    latest[e["input"]] = e
            for inp, e in latest.items():
                rel = os.path.relpath(inp, self.corpus)
                check(e["status"] in ("ok", "skipped"), f"{name}: {rel} is {e['status']}: {e.get('error')}")
                check(rel not in seen, f"{rel} is in {seen.get(rel)} and in {name}")
                check(self.shard_of(rel) == shard, f"{rel} hashes to shard {self.shard_of(rel)}, found in {name}")
                seen[rel] = name
                x = np.load(os.path.join(out, e["output"]))
                want = np.array(self.values[rel], dtype=np.float32) * np.float32(factor)
                check(np.array_equal(x, want), f"{e['output']}: {x} != {want}")
        missing = sorted(set(self.values) - set(seen))
        check(not missing, f"inputs in no manifest: {missing[:5]}")


def array_env(k, kind):
    env = {k_: v for k_, v in os.environ.items() if not k_.startswith("SLURM_") and k_ != "JOB_COMPLETION_INDEX"}
    if kind == "slurm":  # an array submitted as --array=1-4
        env.update(SLURM_ARRAY_TASK_ID=str(k + 1), SLURM_ARRAY_TASK_COUNT=str(N_SHARDS), SLURM_ARRAY_TASK_MIN="1")
    elif kind == "k8s":
        env.update(JOB_COMPLETION_INDEX=str(k))
    return env


def auto_args(kind):
    return ["--shard", "auto"] + (["--shard-count", str(N_SHARDS)] if kind == "k8s" else [])


def test_array(w, kind, concurrent):
    out = os.path.join(w.root, f"out-{kind}-{'concurrent' if concurrent else 'sequential'}")
    procs = []
    for k in range(N_SHARDS):
        p = subprocess.Popen(w.command(out, 2, *auto_args(kind), "-j", "2"), env=array_env(k, kind),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=w.root)
        if not concurrent:
            p.wait()
        procs.append(p)
    for k, p in enumerate(procs):
        _, err = p.communicate()
        check(p.returncode == 0, f"{kind} task {k} exited {p.returncode}: {err.decode()}")
    w.check_exactly_once(out)
    code, text, err = w.status(out)
    check(code == 0, f"status of a complete {kind} run exited {code}:\n{text}{err}")
    check("complete: every input of the 4 shards is done" in text, f"status text:\n{text}")
    code, s = w.status_json(out)
    check(s["complete"] and s["shard_count"] == N_SHARDS and s["same_provenance"], f"status --json: {s}")
    by_shard = {k: sum(1 for r in w.values if w.shard_of(r) == k) for k in range(N_SHARDS)}
    for sh in s["shards"]:
        check(sh["state"] == "complete", f"shard {sh['shard']}: {sh['state']}")
        check(sh["planned"] == by_shard[sh["shard"]] == sh["done"] and sh["missing"] == 0,
              f"shard {sh['shard']}: planned {sh['planned']}, done {sh['done']}, expected {by_shard[sh['shard']]}")
    print(f"ok: {kind} array, {'concurrent' if concurrent else 'sequential'}: every input once, status complete")


def manifest_inputs(path):
    """Inputs with a whole line in a manifest a kill may have torn."""
    found = set()
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                try:
                    found.add(json.loads(line)["input"])
                except ValueError:
                    pass
    return found


def test_kill_and_resume(w):
    out = os.path.join(w.root, "out-killed")
    victim = 2
    mine = sorted(r for r in w.values if w.shard_of(r) == victim)
    check(len(mine) >= 4, f"shard {victim} has only {len(mine)} inputs")
    hung = mine[1:3]  # both workers of -j 2 end up asleep on these
    saved = {r: w.values[r] for r in hung}
    for r in hung:
        w.write_input(r, [1.0, float(HANG), 2.0])
    for k in range(N_SHARDS):
        if k == victim:
            continue
        p = subprocess.run(w.command(out, 2, *auto_args("slurm"), "-j", "2"), env=array_env(k, "slurm"),
                           capture_output=True, cwd=w.root)
        check(p.returncode == 0, f"task {k}: {p.stderr.decode()}")
    p = subprocess.Popen(w.command(out, 2, *auto_args("slurm"), "-j", "2"), env=array_env(victim, "slurm"),
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=w.root, start_new_session=True)
    manifest = os.path.join(out, f"manifest-{victim}-of-{N_SHARDS}.jsonl")
    # Killed once both workers sleep: the lines stop growing short of the shard.
    deadline = time.monotonic() + 40
    last, steady = None, 0
    while time.monotonic() < deadline:
        n = len(manifest_inputs(manifest))
        steady = steady + 1 if n == last and n > 0 else 0
        last = n
        if steady >= 10:
            break
        time.sleep(0.1)
    if p.poll() is not None:  # (its stderr is read only then: reading blocks while it runs)
        fail(f"the shard ended before it was killed: {p.stderr.read().decode()}")
    code, s = w.status_json(out)
    check(code == 1 and s["shards"][victim]["state"] == "running", f"while it runs: {s['shards'][victim]}")
    code, text, _ = w.status(out)
    check(f"shard {victim}/{N_SHARDS}: still running (pid {p.pid}" in text, f"status while it runs:\n{text}")
    os.killpg(p.pid, signal.SIGKILL)
    p.wait()

    done = {os.path.relpath(i, w.corpus) for i in manifest_inputs(manifest)}
    expected_missing = sorted(set(mine) - done)
    check(set(hung) <= set(expected_missing), f"the hanging inputs have lines: {done}")
    code, text, err = w.status(out)
    check(code == 1, f"status after a kill exited {code}:\n{text}{err}")
    check(f"killed" in text and f"missing in shard {victim}/{N_SHARDS}: {len(expected_missing)} input" in text,
          f"status text after the kill:\n{text}")
    code, s = w.status_json(out)
    check(not s["complete"] and s["rerun_shards"] == [victim], f"rerun_shards: {s['rerun_shards']}")
    sh = s["shards"][victim]
    check(sh["state"] == "killed", f"the killed shard is '{sh['state']}'")
    check(sh["missing"] == len(expected_missing), f"status says {sh['missing']} missing, the manifest {len(expected_missing)}")
    check(sh["planned"] == len(mine) and sh["done"] == len(mine) - len(expected_missing), f"killed shard: {sh}")
    for ex in sh["missing_examples"]:
        check(os.path.relpath(ex, w.corpus) in expected_missing, f"{ex} is named missing but has a line")
    for other in s["shards"]:
        check(other["shard"] == victim or other["state"] == "complete", f"shard {other['shard']}: {other['state']}")
    rerun = sh["rerun"]
    check(rerun[-3:] == ["--shard", f"{victim}/{N_SHARDS}", "--resume"] and "auto" not in rerun,
          f"rerun command: {rerun}")
    check(" ".join(rerun[1:3]) in text, f"the text does not print the rerun command:\n{text}")

    for r, vals in saved.items():
        w.write_input(r, vals)
    p = subprocess.run(rerun, capture_output=True, cwd=w.root, env=array_env(victim, "none"))
    check(p.returncode == 0, f"the rerun status printed exited {p.returncode}: {p.stderr.decode()}")
    w.check_exactly_once(out)
    code, text, err = w.status(out)
    check(code == 0, f"status after the rerun exited {code}:\n{text}{err}")
    print(f"ok: kill -9 of shard {victim}: {len(expected_missing)} missing reported, the printed rerun completes it")


def test_not_started(w):
    out = os.path.join(w.root, "out-partial")
    for k in (0, 1, 3):
        p = subprocess.run(w.command(out, 2, "--shard", f"{k}/{N_SHARDS}"), capture_output=True, cwd=w.root)
        check(p.returncode == 0, p.stderr.decode())
    for extra in ([], ["--shard-count", str(N_SHARDS)]):
        code, text, _ = w.status(out, *extra)
        check(code == 1 and "2/4    not started" in text, f"status {extra} with shard 2 never run:\n{text}")
        code, s = w.status_json(out, *extra)
        check(s["rerun_shards"] == [2] and s["shards"][2]["state"] == "not started", f"{s}")
        check(s["shards"][2]["rerun"][-3:] == ["--shard", "2/4", "--resume"], f"{s['shards'][2]['rerun']}")
    # Before any shard has started: only --shard-count can say what is missing.
    empty = os.path.join(w.root, "out-empty")
    os.makedirs(empty)
    code, _, err = w.status(empty)
    check(code == 2 and "--shard-count" in err, f"status of an empty folder: {code} {err}")
    code, s = w.status_json(empty, "--shard-count", "3")
    check(code == 1 and [x["state"] for x in s["shards"]] == ["not started"] * 3, f"{s}")
    # Runs of two shard counts in one folder: which one is asked for.
    p = subprocess.run(w.command(out, 2, "--shard", "0/2", "--resume"), capture_output=True, cwd=w.root)
    code, _, err = w.status(out)
    check(code == 2 and "holds runs of 2, 4 shards" in err, f"two shard counts: {code} {err}")
    code, s = w.status_json(out, "--shard-count", "4")
    check(s["other_shard_counts"] == [2] and s["rerun_shards"] == [2], f"{s}")
    code, _, err = w.status(os.path.join(w.root, "no-such-folder"))
    check(code == 2 and "not a folder" in err, f"a missing folder: {code} {err}")
    print("ok: shards never started are reported, with and without --shard-count")


def test_merged_provenance(w):
    """Shards on two machines, each into its own copy of the folder, merged after."""
    a, b = os.path.join(w.root, "machine-a"), os.path.join(w.root, "machine-b")
    for k in range(2):
        p = subprocess.run(w.command(a if k == 0 else b, 2 if k == 0 else 3, "--shard", f"{k}/2"), capture_output=True,
                           cwd=w.root)
        check(p.returncode == 0, p.stderr.decode())
    # A run refused (exit 2: the folder holds another pipeline's features)
    # leaves no record, and no temporary of one.
    p = subprocess.run(w.command(a, 3, "--shard", "1/2"), capture_output=True, cwd=w.root)
    check(p.returncode == 2 and not [n for n in os.listdir(a) if n.startswith(("run-1", ".run-1"))],
          f"a refused run: exit {p.returncode}, {sorted(os.listdir(a))}")
    for d, _, files in os.walk(b):
        for f in files:
            src = os.path.join(d, f)
            dst = os.path.join(a, os.path.relpath(src, b))
            if not os.path.exists(dst):
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                shutil.copy2(src, dst)
    code, text, err = w.status(a)
    check(code == 1, f"status of shards of two pipelines exited {code}:\n{text}")
    want = "provenance: shard 1/2"
    check(want in text and "step 3 'test.gain' parameter factor: 2.0 -> 3.0" in text, f"status text:\n{text}")
    code, s = w.status_json(a)
    sh = s["shards"][1]
    check(not s["same_provenance"] and "factor: 2.0 -> 3.0" in (sh["provenance_difference"] or ""), f"{s}")
    check(s["shards"][0]["ok"] and s["rerun_shards"] == [1], f"{s}")
    # Its outputs pass --resume's checks (their lines are true of them):
    # redone with shard 0's command (the folder's pipeline) and --overwrite.
    check(sh["state"] == "other pipeline", f"state {sh['state']}")
    check(sh["rerun"][-1] == "--overwrite" and w.pipelines[2] in sh["rerun"] and a in sh["rerun"] and b not in sh["rerun"],
          f"rerun: {sh['rerun']}")
    p = subprocess.run(sh["rerun"], capture_output=True, cwd=w.root)
    check(p.returncode == 0, p.stderr.decode())
    code, text, _ = w.status(a)
    check(code == 0, f"after the rerun:\n{text}")
    # The test's own account: every output now made by x2.
    for d in (a,):
        for name in os.listdir(d):
            if name.startswith("manifest-"):
                with open(os.path.join(d, name)) as f:
                    for line in f:
                        e = json.loads(line)
                        x = np.load(os.path.join(d, e["output"]))
                        rel = os.path.relpath(e["input"], w.corpus)
                        check(np.array_equal(x, np.float32(2) * np.array(w.values[rel], dtype=np.float32)), rel)
    print("ok: shards of two pipelines merged into one folder: status names the parameter")


def test_failed_inputs(w):
    out = os.path.join(w.root, "out-failed")
    broken = sorted(w.values)[:3]
    saved = {r: w.values[r] for r in broken}
    for r in broken:
        with open(os.path.join(w.corpus, r), "w") as f:
            f.write("corrupt")
    for k in range(2):
        subprocess.run(w.command(out, 2, "--shard", f"{k}/2"), capture_output=True, cwd=w.root)
    code, text, _ = w.status(out)
    check(code == 1 and "failed: 3 x step 1 'test.read'" in text, f"{text}")
    code, s = w.status_json(out)
    groups = [g for sh in s["shards"] for g in sh["errors"]]
    check(sum(g["count"] for g in groups) == 3, f"error groups: {groups}")
    check(all(g["reason"].count("<input>") <= 1 for g in groups), f"{groups}")
    check(sum(sh["failed"] for sh in s["shards"]) == 3 and sum(sh["done"] for sh in s["shards"]) == N_INPUTS - 3, f"{s}")
    for r, vals in saved.items():
        w.write_input(r, vals)
    for sh in s["shards"]:
        if not sh["ok"]:
            subprocess.run(sh["rerun"], capture_output=True, cwd=w.root)
    code, text, _ = w.status(out)
    check(code == 0, f"after fixing the inputs and the printed reruns:\n{text}")
    print("ok: failed inputs grouped by reason, their shards rerun")


def test_unsharded_and_no_record(w):
    out = os.path.join(w.root, "out-plain")
    p = subprocess.run(w.command(out, 2), capture_output=True, cwd=w.root)
    check(p.returncode == 0, p.stderr.decode())
    code, s = w.status_json(out)
    check(code == 0 and s["shard_count"] == 1 and s["shards"][0]["done"] == N_INPUTS, f"an unsharded run: {s}")
    # A manifest without its record (an older featpipe): what it planned is unknown.
    os.remove(os.path.join(out, "run.json"))
    code, s = w.status_json(out)
    sh = s["shards"][0]
    check(code == 1 and sh["state"] == "no record" and sh["missing"] is None and sh["done"] == N_INPUTS, f"{s}")
    check(sh["rerun"] == [] and "--shard" not in sh["rerun"], f"{sh['rerun']}")
    code, text, _ = w.status(out)
    check("PIPELINE INPUT... -o" in text and "--resume" in text, f"no command recorded:\n{text}")
    print("ok: an unsharded run, and a manifest without a record")


def main():
    cli, plugin = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    root = tempfile.mkdtemp(prefix="featpipe-cluster-")
    try:
        w = World(root, cli, plugin)
        test_array(w, "slurm", concurrent=True)
        test_array(w, "slurm", concurrent=False)
        test_array(w, "k8s", concurrent=True)
        test_array(w, "k8s", concurrent=False)
        test_kill_and_resume(w)
        test_not_started(w)
        test_merged_provenance(w)
        test_failed_inputs(w)
        test_unsharded_and_no_record(w)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print("cluster: all ok")


if __name__ == "__main__":
    main()
