#!/usr/bin/env python3
"""samples/cluster run as a scheduler would run them.

The Slurm script: `bash -n`, then run as plain bash with the variables
sbatch sets (an array of 3 tasks starting at 1), and a partial resubmission
with FEATPIPE_SHARDS; `featpipe status` says complete. The Kubernetes Job:
parsed, the fields that matter checked (Indexed, --shard-count equal to
completions, every path on a mounted volume, $(VAR)s defined), then its
container's command run locally once per index with JOB_COMPLETION_INDEX,
the volume mapped to a folder holding the shipped pipeline and the sample
audio; `featpipe status` says complete and every file was taken once.

  samples_test.py CLI FIXTURE_PLUGIN SOURCE_DIR
"""
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

PIPELINE = """featpipe: 1
name: scaled
stages:
  - use: test.read
  - use: test.gain
    with: {factor: 2}
"""


def fail(msg):
    sys.exit("FAIL: " + msg)


def check(cond, msg):
    if not cond:
        fail(msg)


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_") and k != "JOB_COMPLETION_INDEX"}
    env.update(extra)
    return env


def status(cli, out, *extra):
    p = subprocess.run([cli, "status", out, "--json", *extra], capture_output=True, text=True)
    check(p.returncode in (0, 1), f"status exited {p.returncode}: {p.stderr}")
    return p.returncode, json.loads(p.stdout)


def test_slurm(cli, plugin, src, root):
    script = os.path.join(src, "samples", "cluster", "featpipe-array.sbatch")
    p = subprocess.run(["bash", "-n", script], capture_output=True, text=True)
    check(p.returncode == 0, f"bash -n {script}: {p.stderr}")
    with open(script) as f:
        text = f.read()
    directives = re.findall(r"^#SBATCH (\S+)", text, re.M)
    check(any(d.startswith("--cpus-per-task") for d in directives) and "--requeue" in directives, f"{directives}")

    corpus = os.path.join(root, "slurm-corpus")
    os.makedirs(corpus)
    for k in range(20):
        with open(os.path.join(corpus, f"u{k:02d}.txt"), "w") as f:
            f.write(f"{k} {k + 1}")
    pipeline = os.path.join(root, "scaled.yaml")
    with open(pipeline, "w") as f:
        f.write(PIPELINE)

    def task(out, task_id, count, **more):
        slurm = dict(SLURM_ARRAY_TASK_ID=str(task_id), SLURM_ARRAY_TASK_COUNT=str(count), SLURM_ARRAY_TASK_MIN="1",
                     SLURM_CPUS_PER_TASK="2", SLURM_MEM_PER_CPU="1024")
        slurm.update(more)
        env = clean_env(FEATPIPE=cli, **slurm)
        return subprocess.Popen(["bash", script, pipeline, corpus, out, "--plugin", plugin, "-q"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=root)

    out = os.path.join(root, "slurm-out")
    procs = [task(out, k, 3) for k in (1, 2, 3)]
    for p in procs:
        _, err = p.communicate()
        check(p.returncode == 0, f"the array task exited {p.returncode}: {err.decode()}")
    code, s = status(cli, out)
    check(code == 0 and s["shard_count"] == 3 and s["complete"], f"status after the array: {s}")
    check(sum(sh["done"] for sh in s["shards"]) == 20, f"{s}")
    with open(os.path.join(out, "run-1-of-3.json")) as f:
        command = json.load(f)["command"]
    def after(flag):
        return command[command.index(flag) + 1] if flag in command else None

    check(after("--shard") == "auto" and "--resume" in command and after("-j") == "2"
          and after("--max-memory") == "1024M", f"the task's command: {command}")

    # --mem instead of --mem-per-cpu: the job's memory shared by its workers.
    out3 = os.path.join(root, "slurm-mem")
    p = task(out3, 1, 1, SLURM_MEM_PER_CPU="", SLURM_MEM_PER_NODE="3000", SLURM_CPUS_PER_TASK="3")
    _, err = p.communicate()
    check(p.returncode == 0, err.decode())
    with open(os.path.join(out3, "run.json")) as f:
        command = json.load(f)["command"]
    check(after("-j") == "3" and after("--max-memory") == "1000M", f"with SLURM_MEM_PER_NODE: {command}")

    # A resubmission of shard 1 alone (sbatch --array=1 --export=ALL,FEATPIPE_SHARDS=3):
    # SLURM_ARRAY_TASK_COUNT is 1 then; the script takes the count given.
    out2 = os.path.join(root, "slurm-partial")
    for k in (0, 2):
        p = task(out2, k, 3, SLURM_ARRAY_TASK_MIN="0")
        p.communicate()
        check(p.returncode == 0, "partial array")
    code, s = status(cli, out2)
    check(code == 1 and s["rerun_shards"] == [1], f"{s}")
    p = task(out2, 1, 1, SLURM_ARRAY_TASK_MIN="1", FEATPIPE_SHARDS="3")
    _, err = p.communicate()
    check(p.returncode == 0, err.decode())
    code, s = status(cli, out2)
    check(code == 0 and s["shard_count"] == 3, f"after resubmitting shard 1: {s}")

    p = subprocess.run(["bash", script, pipeline], capture_output=True, text=True, env=clean_env(FEATPIPE=cli))
    check(p.returncode == 2 and "usage" in p.stderr, f"too few arguments: {p.returncode} {p.stderr}")
    print("ok: the Slurm script as an array of 3, and one shard resubmitted")


def expand(arg, env):
    def one(m):
        check(m.group(1) in env, f"$({m.group(1)}) in the args is not in the container's env")
        return env[m.group(1)]

    return re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", one, arg)


def cpu_count(quantity):
    q = str(quantity)
    return str(math.ceil(int(q[:-1]) / 1000 if q.endswith("m") else float(q)))


def test_k8s(cli, src, root):
    with open(os.path.join(src, "samples", "cluster", "featpipe-indexed-job.yaml")) as f:
        job = yaml.safe_load(f)
    check(job["apiVersion"] == "batch/v1" and job["kind"] == "Job", "not a batch/v1 Job")
    spec = job["spec"]
    check(spec["completionMode"] == "Indexed", "completionMode is not Indexed")
    completions = spec["completions"]
    check(1 <= spec.get("parallelism", completions) <= completions, "parallelism")
    pod = spec["template"]["spec"]
    if "backoffLimitPerIndex" in spec:
        check(pod["restartPolicy"] == "Never", "backoffLimitPerIndex needs restartPolicy: Never")
    (c,) = pod["containers"]
    argv = c["command"] + c["args"]
    check(argv[:2] == ["featpipe", "run"], f"{argv[:2]}")
    check(argv[argv.index("--shard") + 1] == "auto", "--shard auto")
    check(int(argv[argv.index("--shard-count") + 1]) == completions, "--shard-count differs from completions")
    check("--resume" in argv, "a retried pod must continue: --resume")

    env = {}
    for e in c.get("env", []):
        if "value" in e:
            env[e["name"]] = e["value"]
        else:
            ref = e["valueFrom"]["resourceFieldRef"]
            check(ref["resource"] == "limits.cpu", f"{ref}")
            env[e["name"]] = cpu_count(c["resources"]["limits"]["cpu"])
    volumes = {v["name"] for v in pod["volumes"]}
    mounts = {}
    for m in c["volumeMounts"]:
        check(m["name"] in volumes, f"mount of an undefined volume {m['name']}")
        mounts[m["mountPath"]] = os.path.join(root, "volume-" + m["name"])
    argv = [expand(a, env) for a in argv]

    def local(path):
        for mount, here in mounts.items():
            if path == mount or path.startswith(mount.rstrip("/") + "/"):
                return here + path[len(mount.rstrip("/")):]
        fail(f"{path} is on no mounted volume")

    paths = [a for a in argv if a.startswith("/")]
    check(paths, "no paths in the command")
    local_argv = [cli] + [local(a) if a.startswith("/") else a for a in argv[1:]]
    # The volume as the Job expects it: a shipped pipeline and a corpus.
    pipeline, corpus, out = local(argv[2]), local(argv[3]), local(argv[argv.index("-o") + 1])
    shipped = os.path.join(src, "pipelines", os.path.basename(pipeline))
    check(os.path.exists(shipped), f"{argv[2]} is not a shipped pipeline")
    os.makedirs(os.path.dirname(pipeline), exist_ok=True)
    shutil.copy(shipped, pipeline)
    shutil.copytree(os.path.join(src, "samples", "audio"), corpus, ignore=shutil.ignore_patterns("*.md"))
    audio = sorted(os.listdir(corpus))

    for k in range(completions):
        p = subprocess.run(local_argv, env=clean_env(JOB_COMPLETION_INDEX=str(k)), capture_output=True, text=True)
        check(p.returncode == 0, f"index {k}: {' '.join(local_argv)} exited {p.returncode}: {p.stderr}")
    code, s = status(cli, out)
    check(code == 0 and s["complete"] and s["shard_count"] == completions, f"status after the Job: {s}")
    check(sum(sh["done"] for sh in s["shards"]) == len(audio), f"{len(audio)} files, done: {s}")
    print(f"ok: the Indexed Job's command over {completions} indexes, {len(audio)} files")


def main():
    cli, plugin, src = (os.path.abspath(a) for a in sys.argv[1:4])
    root = tempfile.mkdtemp(prefix="featpipe-samples-cluster-")
    try:
        test_slurm(cli, plugin, src, root)
        test_k8s(cli, src, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print("cluster samples: all ok")


if __name__ == "__main__":
    main()
