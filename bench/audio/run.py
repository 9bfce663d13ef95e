#!/usr/bin/python3
"""Log-mel benchmark, side by side in one run, one thread each (run by hand):

    /usr/bin/python3 bench/audio/run.py [--build build-audio] [--repeat 5]

1. generates the 30-minute corpus (bench/data/audio_corpus, git-ignored) if
   missing (gen_corpus.py);
2. unpacks OpenBLAS for torch if missing (apt-get download
   libopenblas0-pthread; dpkg-deb -x into bench/data/openblas) and points
   LD_LIBRARY_PATH at it for the torch command only;
3. runs, interleaved, --repeat times each, keeping the best:
   - featpipe, whole process: `featpipe run bench/audio/logmel.yaml CORPUS
     -o OUT -j 1 -q` (the log-mel of pipelines/speech-logmel.yaml without
     its L2 step, i.e. what torchaudio computes), into a fresh folder each
     time, .npy writing included; also pipelines/speech-logmel.yaml itself;
   - torchaudio + OpenBLAS (torch_logmel.py: torchaudio.load + MelSpectrogram
     + log + np.save, torch.set_num_threads(1), its loop timed), and with
     Debian's reference BLAS;
   - featpipe in process (bench_audio_inproc: Pipeline::load once, then
     Session::run_file per file, the loop timed, no .npy writing);
   - the bare FFTW loop (bench_audio_fftw: framing + window + r2c + power on
     samples in memory), the bound;
4. prints the table for bench/audio/README.md (seconds per 30 min of audio,
   per hour, realtime factor, ratios).
"""
import argparse
import glob
import os
import resource
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DATA = os.path.join(ROOT, "bench", "data")
CORPUS = os.path.join(DATA, "audio_corpus")
BLAS = os.path.join(DATA, "openblas", "usr", "lib", "x86_64-linux-gnu", "openblas-pthread")
PY = "/usr/bin/python3"


def ensure_inputs():
    if len(glob.glob(os.path.join(CORPUS, "*.wav"))) < 180:
        subprocess.run([PY, os.path.join(HERE, "gen_corpus.py")], check=True)
    if not os.path.exists(os.path.join(BLAS, "libblas.so.3")):
        os.makedirs(DATA, exist_ok=True)
        subprocess.run(["apt-get", "download", "libopenblas0-pthread"], cwd=DATA, check=True)
        deb = sorted(glob.glob(os.path.join(DATA, "libopenblas0-pthread*.deb")))[-1]
        subprocess.run(["dpkg-deb", "-x", deb, os.path.join(DATA, "openblas")], check=True)


def timed(cmd, env=None):
    """Wall and CPU (user+sys) seconds of a whole child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(cmd), r.stderr))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, r.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build-audio"))
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    ensure_inputs()
    cli = os.path.join(args.build, "bin", "featpipe")
    bare = os.path.join(args.build, "bin", "bench_audio_fftw")
    inproc = os.path.join(args.build, "bin", "bench_audio_inproc")
    # A fresh output folder per run, all removed at the end: deleting 180
    # files just before creating 180 more makes ext4's inode allocator scan
    # for recently deleted inodes, a cost of the benchmark, not of featpipe.
    outs = []
    env1 = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    env_blas = dict(env1, LD_LIBRARY_PATH=BLAS)
    best = {}

    def keep(name, wall, cpu):
        w, c = best.get(name, (float("inf"), float("inf")))
        best[name] = (min(w, wall), min(c, cpu))

    for _ in range(args.repeat):
        for name, yaml in [("featpipe (logmel, no L2)", os.path.join(HERE, "logmel.yaml")),
                           ("featpipe (speech-logmel.yaml)", os.path.join(ROOT, "pipelines", "speech-logmel.yaml"))]:
            out = os.path.join(DATA, "audio_out_%d" % len(outs))
            outs.append(out)
            shutil.rmtree(out, ignore_errors=True)
            wall, cpu, _ = timed([cli, "run", yaml, CORPUS, "-o", out, "-j", "1", "-q"])
            keep(name, wall, cpu)
        _, _, text = timed([inproc, os.path.join(HERE, "logmel.yaml"), CORPUS, "1"])
        loop = float(text.split()[5])
        keep("featpipe in process (API loop, no .npy writing)", loop, loop)
        for name, env in [("torchaudio + OpenBLAS", env_blas), ("torchaudio + reference BLAS", env1)]:
            _, _, text = timed([PY, os.path.join(HERE, "torch_logmel.py"), CORPUS, "--repeat", "1"], env)
            f = text.split()
            keep(name, float(f[1]), float(f[5]))
            if env is env_blas:
                keep("torchaudio + OpenBLAS, features only (no load, no np.save)", float(f[3]), float(f[3]))
        _, _, text = timed([bare, CORPUS, "1"])
        fields = dict(zip(text.split()[::2], text.split()[1::2]))
        keep("bare FFTW loop (bound)", float(fields["loop_estimate_s"]), float(fields["loop_estimate_s"]))
        plan = (float(fields["plan_estimate_s"]), float(fields["plan_measure_s"]), float(fields["loop_measure_s"]))
    for out in outs:
        shutil.rmtree(out, ignore_errors=True)

    audio_s = 1800.0
    ref_ta = best["torchaudio + OpenBLAS"][0]
    ref_bare = best["bare FFTW loop (bound)"][0]
    print("| run (one thread, 30 min of 16 kHz audio) | wall s | CPU s | s per hour | × realtime | vs torchaudio+OpenBLAS | bare FFTW / this |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, (wall, cpu) in best.items():
        print("| %s | %.3f | %.3f | %.2f | %.0f | %.2f× | %.0f%% |" % (
            name, wall, cpu, wall * 3600 / audio_s, audio_s / wall, ref_ta / wall, 100 * ref_bare / wall))
    print()
    print("FFTW planner, n=512: ESTIMATE %.4f s, MEASURE %.3f s; bare loop with the MEASURE plan %.4f s" % plan)


if __name__ == "__main__":
    sys.exit(main())
