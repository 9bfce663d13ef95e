#!/usr/bin/python3
"""Runs the README's tour as written, on the bundled samples, in a temp folder.

    readme_tour_test.py SOURCE_DIR BUILD_DIR CXX

Every fenced block of the "A short tour" section is taken in order:
  yaml    written to the file its first line names ("# my-logmel.yaml");
  sh      each command run by bash in the folder (which holds a copy of
          samples/ and a link build -> BUILD_DIR; HOME is the folder too,
          so `~/featpipe` is a fresh prefix; /usr/bin leads PATH, so
          `python3` is Debian's, with numpy);
  python  run by /usr/bin/python3 in the folder, with BUILD_DIR/python on
          its path (what scripts/python-path.sh arranges after the README's
          first command);
  cpp     compiled against the build (a block with main() is linked and
          run; a plugin's class is compiled to an object file);
  none    an output shown in the README: right after an sh block (blank
          lines between), it must be what that block's last command
          printed, exactly; elsewhere (an error message quoted) not run.
A block that fails fails the test, naming it. The only changes made to what
the README says are listed in SUBSTITUTIONS (a microphone is not there on a
test machine) and each is printed when applied.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

# README text -> what the test runs instead, and why.
SUBSTITUTIONS = {
    "arecord -f S16_LE -r 16000 -c 1 -t raw":
        ("sox samples/audio/speech_espeak_16k.wav -t raw -e signed-integer -b 16 -c 1 -r 16000 -",
         "no microphone here: a bundled WAV converted by sox to the same raw PCM"),
}


def tour_blocks(readme):
    text = open(readme, encoding="utf-8").read()
    start = text.index("\n## A short tour")
    end = text.index("\n## ", start + 1)
    section = text[start:end]
    blocks, prev_end = [], None
    for m in re.finditer(r"^```(\w*)\n(.*?)^```", section, re.S | re.M):
        line = section.count("\n", 0, m.start()) + text.count("\n", 0, start) + 2
        follows = prev_end is not None and section[prev_end:m.start()].strip() == ""
        blocks.append((m.group(1), m.group(2), line, follows))
        prev_end = m.end()
    return blocks


def run(cmd, cwd, env, what, stdin=None):
    r = subprocess.run(cmd, cwd=cwd, env=env, shell=isinstance(cmd, str), executable="/bin/bash" if isinstance(cmd, str) else None,
                       capture_output=True, text=True, timeout=900)
    if r.returncode != 0:
        sys.exit(f"FAILED: {what}\n$ {cmd}\nexit {r.returncode}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}")
    return r


def main(src, build, cxx):
    src, build = os.path.abspath(src), os.path.abspath(build)
    blocks = tour_blocks(os.path.join(src, "README.md"))
    kinds = [k for k, _, _, _ in blocks]
    # The tour is what it claims: a pipeline, shell steps, numpy, C++.
    for k in ("yaml", "sh", "python", "cpp"):
        assert k in kinds, f"no {k} block in the README's tour"
    work = tempfile.mkdtemp(prefix="readme-tour-")
    try:
        shutil.copytree(os.path.join(src, "samples"), os.path.join(work, "samples"),
                        ignore=shutil.ignore_patterns("build"))
        os.symlink(build, os.path.join(work, "build"))
        # /usr/bin first: `python3` is Debian's, with numpy (scripts/deps), as on the machine the README starts from.
        env = dict(os.environ, HOME=work, PATH="/usr/bin:" + os.environ.get("PATH", ""))
        env.pop("FEATPIPE_PLUGIN_PATH", None)
        include = [os.path.join(src, "framework/include"), os.path.join(build, "include")]
        lib = os.path.join(build, "lib")
        ran = {k: 0 for k in ("yaml", "sh", "python", "cpp", "output")}
        last_output = None
        for n, (kind, body, line, follows) in enumerate(blocks):
            what = f"README.md:{line} ({kind or 'output'} block {n + 1})"
            if kind == "yaml":
                name = re.match(r"#\s*(\S+\.yaml)", body).group(1)
                open(os.path.join(work, name), "w").write(body)
            elif kind == "sh":
                for cmd in [c for c in body.splitlines() if c.strip() and not c.lstrip().startswith("#")]:
                    for said, (instead, why) in SUBSTITUTIONS.items():
                        if said in cmd:
                            print(f"substituted at README.md:{line}: '{said}' -> '{instead}' ({why})")
                            cmd = cmd.replace(said, instead)
                    last_output = run(cmd, work, env, what).stdout
                    print(f"ran: {cmd}")
            elif kind == "python":
                path = os.path.join(work, f"block{n + 1}.py")
                open(path, "w").write(body)
                py_env = dict(env, PYTHONPATH=os.path.join(build, "python"))
                for kv in os.environ.get("FEATPIPE_PY_ENV", "").split():  # sanitizer runtimes
                    k, v = kv.split("=", 1)
                    py_env[k] = v
                run(["/usr/bin/python3", path], work, py_env, what)
            elif kind == "cpp":
                path = os.path.join(work, f"block{n + 1}.cpp")
                open(path, "w").write(body)
                # CXXFLAGS: a sanitizer build's own flags (its library needs its runtime).
                flags = ["-std=c++20", *os.environ.get("CXXFLAGS", "").split()] + [f"-I{d}" for d in include]
                if re.search(r"^int main\(", body, re.M):
                    exe = os.path.join(work, f"block{n + 1}")
                    run([cxx, *flags, path, "-o", exe, f"-L{lib}", "-lfeatpipe", f"-Wl,-rpath,{lib}"], work, env, what)
                    run([exe], work, env, what)
                else:
                    run([cxx, *flags, "-c", path, "-o", path + ".o"], work, env, what)
            elif follows and blocks[n - 1][0] == "sh":
                if last_output != body:
                    sys.exit(f"FAILED: {what}: the README shows\n{body}but the command printed\n{last_output}")
                kind = "output"
            else:
                continue
            ran[kind] += 1
        # What the tour promises to have made, from the samples.
        for made in ["out/logmel/speech_espeak_16k.wav.npy", "out/logmel/manifest.jsonl", "out/logmel/provenance.json",
                     "speech.png", "live.npy", "logits.npy", "out/probs/logits.npy.npy"]:
            assert os.path.isfile(os.path.join(work, made)), f"the tour did not make {made}"
        check = """
import numpy as np, sys
live, batch = np.load("live.npy"), np.load("out/logmel/speech_espeak_16k.wav.npy")
assert live.shape == batch.shape and live.shape[1] == 80, (live.shape, batch.shape)
assert np.array_equal(live, batch), ("stream != run", np.abs(live - batch).max())  # the README says equal
p = np.load("out/probs/logits.npy.npy")
assert p.shape == (4, 10) and np.allclose(p.sum(axis=1), 1, atol=1e-5), p
"""
        run(["/usr/bin/python3", "-c", check], work, env, "the tour's outputs")
        print("README tour ran:", ", ".join(f"{v} {k}" for k, v in ran.items()))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
