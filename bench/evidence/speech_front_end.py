"""The speech front end the evidence scripts share, so that every experiment
compares normalizations on the same STFT (n_fft 512, 25 ms window, 10 ms
hop at 16 kHz) and 80-bin mel filterbank, built as featpipe pipelines."""
import featpipe as fp

HEAD = """featpipe: 1
name: {name}
stages:
  - use: audio.decode
    with: {{sample_rate: 16000}}
  - use: audio.stft
    with: {{n_fft: 512, win_length: 400, hop_length: 160}}
  - use: audio.mel
    with: {{n_mels: 80}}
"""
LOG = "  - use: math.log\n    with: {offset: 1.0e-6}\n"
L2_PER_FRAME = "  - use: norm.l2\n    with: {axis: mel}\n"


def speech_pipeline(name, *steps):
    """Mel power, then `steps` (YAML stage entries), as one pipeline."""
    return fp.Pipeline.from_yaml(HEAD.format(name=name) + "".join(steps), name=name)
