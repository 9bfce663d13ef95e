"""`cmake --install` puts the package where Debian's python3 looks
(<prefix>/lib/python3.X/dist-packages) and it works from there alone: the
module finds the installed engine and plugins, not the build tree's."""
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import SAMPLES, SOURCE

BINARY = os.environ.get("FEATPIPE_BINARY_DIR", str(SOURCE / "build"))


def test_installed_package_runs_from_its_prefix(tmp_path):
    prefix = tmp_path / "prefix"
    subprocess.run(["cmake", "--install", BINARY, "--prefix", str(prefix)], check=True, capture_output=True)
    site = prefix / "lib" / f"python3.{sys.version_info.minor}" / "dist-packages"
    assert (site / "featpipe" / "__init__.py").is_file() and (site / "featpipe" / "_featpipe.pyi").is_file()
    wav = SAMPLES / "audio" / "speech_espeak_16k.wav"
    pipeline = prefix / "share" / "featpipe" / "pipelines" / "speech-logmel.yaml"
    code = (
        "import sys, numpy as np, featpipe as fp\n"
        "print(fp.__file__); print(fp.plugin_folder())\n"
        f"np.save(sys.argv[1], fp.Pipeline({str(pipeline)!r})({str(wav)!r}))\n"
    )
    # -s and no PYTHONPATH: neither the user's .pth nor the build tree.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "FEATPIPE_PLUGIN_PATH")}
    env["PYTHONPATH"] = str(site)
    r = subprocess.run(["/usr/bin/python3", "-s", "-c", code, str(tmp_path / "x.npy")], cwd=tmp_path, env=env,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    module_file, plugins = r.stdout.split()
    assert module_file.startswith(str(site)) and plugins.startswith(str(prefix)), r.stdout
    cli = subprocess.run([str(prefix / "bin" / "featpipe"), "run", str(pipeline), str(wav), "-o", str(tmp_path / "o"),
                          "-q"], capture_output=True, text=True)
    assert cli.returncode == 0, cli.stderr
    assert np.load(tmp_path / "x.npy").tobytes() == np.load(tmp_path / "o" / "speech_espeak_16k.wav.npy").tobytes()
