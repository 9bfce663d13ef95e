#!/usr/bin/python3
"""Before/after of the log-mel benchmark for two (or more) builds, interleaved
run by run so that both see the same machine and file-system state:

    /usr/bin/python3 bench/audio/compare_builds.py before=/tmp/base/build after=build-perf [--repeat 9]

For each build: the whole `featpipe run bench/audio/logmel.yaml CORPUS -o OUT
-j 1 -q` process (into a fresh folder each time: wall and CPU seconds, the
CPU those of the run and its workers) and bench_audio_inproc (one pass over
the corpus in process), best of --repeat. The corpus is the one
run.py generates (bench/data/audio_corpus). The output folders are removed at
the end; wait a minute before timing again (ext4 scans recently deleted
inodes when creating files, which slows the next runs' output writing).
"""
import argparse
import os
import random
import resource
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DATA = os.path.join(ROOT, "bench", "data")
CORPUS = os.path.join(DATA, "audio_corpus")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("builds", nargs="+", help="name=BUILD_DIR")
    ap.add_argument("--repeat", type=int, default=9)
    args = ap.parse_args()
    builds = dict(b.split("=", 1) for b in args.builds)
    if not os.path.isdir(CORPUS):
        sys.exit("no corpus: run bench/audio/run.py once first")
    yaml = os.path.join(HERE, "logmel.yaml")
    whole, cpu, inproc, outs = {}, {}, {}, []
    for _ in range(args.repeat):
        for name, build in builds.items():
            out = os.path.join(DATA, "compare_%s" % random.randrange(1 << 40))
            outs.append(out)
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            subprocess.run([os.path.join(build, "bin", "featpipe"), "run", yaml, CORPUS, "-o", out, "-j", "1", "-q"],
                           check=True, capture_output=True)
            whole[name] = min(whole.get(name, 1e9), time.perf_counter() - t0)
            # CPU seconds of the run and its worker processes: less moved
            # than wall time by other load on a shared machine.
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            used = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
            cpu[name] = min(cpu.get(name, 1e9), used)
            r = subprocess.run([os.path.join(build, "bin", "bench_audio_inproc"), yaml, CORPUS, "1"],
                               check=True, capture_output=True, text=True)
            inproc[name] = min(inproc.get(name, 1e9), float(r.stdout.split()[5]))
    for out in outs:
        shutil.rmtree(out, ignore_errors=True)
    print("| build | whole process s | whole process CPU s | in process s |")
    print("| --- | ---: | ---: | ---: |")
    for name in builds:
        print("| %s | %.3f | %.3f | %.4f |" % (name, whole[name], cpu[name], inproc[name]))


if __name__ == "__main__":
    sys.exit(main())
