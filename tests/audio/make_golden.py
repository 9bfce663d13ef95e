#!/usr/bin/python3
"""Reference outputs for the audio stages, from torchaudio in float64.

    /usr/bin/python3 tests/audio/make_golden.py            # rewrite tests/audio/golden/
    /usr/bin/python3 tests/audio/make_golden.py --out DIR --full  # the live test
    /usr/bin/python3 tests/audio/make_golden.py --signals  # also rewrite tests/audio/data/*.wav

Inputs: the synthetic signals in tests/audio/data/ (16 kHz 16-bit WAV, made
by --signals: tone, chirp, white noise, silence, clipped sine) and a real
recording (samples/audio/front_center_16k.wav). Samples are read as
int16 / 32768 — exactly the float32 values libsndfile hands featpipe — and
every reference is computed in float64 (torch default dtype float64, so
torchaudio's internal tables are float64 too).

For each signal, <name>/<stage>.npy holds the reference (float32, layout
[frame, ...] as featpipe emits) and tolerances.txt a line "<name> <stage>
<tolerance> <max|ref|>" with the tolerance of spec §7: the base
bound, or 3x how far torchaudio's own float32 computation is from the
float64 reference when that is larger (it is, on pure tones and chirps).

Stages and settings (the C++ test runs the same):
  stft    Spectrogram(n_fft=512, win_length=400, hop_length=160, power=2)
  mel     stft @ melscale_fbanks(257, 0, 8000, 80, 16000)  (htk, no norm)
  mel_slaney  the same with mel_scale="slaney", norm="slaney", 40 bands
  db      AmplitudeToDB("power", top_db=80)(mel)
  logmel  log(mel + 1e-6)
  mfcc    MFCC(16000, n_mfcc=13, melkwargs n_fft 512, win 400, hop 160, 80 mels)
  deltas  [x, Δx, Δ²x] with compute_deltas (win_length 5) of x = float32(mfcc)
  fbank   kaldi.fbank(32768·x, num_mel_bins=80, dither=0)
  fbank_nosnip  ... snip_edges=False, use_energy=True, window_type="hamming", 40 bins
  cmvn, cmvn_sliding, cmvn_center  of y = float32(fbank[:, :20]): per utterance
          (x − mean)/std; sliding_window_cmn(y, 50, 20, center=False,
          norm_vars=True); sliding_window_cmn(y, 40, center=True, norm_vars=True)
          — the sliding ones with each window's mean and variance by two
          passes (see sliding_stable; checked equal to torchaudio's where
          torchaudio's own float64 running sums are well conditioned)

Live only (--full): preemphasis (torchaudio.functional.preemphasis's formula,
0.97, as torchaudio 0.13 lacks the function;
committed for the noise signal), stft_hamming_mag (n_fft 400, win 300,
hop 100, hamming, power 1, constant padding), stft_blackman_nocenter
(n_fft 256, hop 64, blackman, center False), stft_povey (hann^0.85),
db_magnitude (AmplitudeToDB("magnitude") of stft_hamming_mag),
fbank_options (30 bins, blackman, no power-of-two padding, energy after the
window as the last column (htk_compat), no DC removal, no pre-emphasis,
100 Hz to Nyquist − 500 Hz, magnitude, no energy floor) and fbank_linear
(use_log_fbank False, hanning, snip_edges False; tolerance 1e-4·max|ref| as
for mel energies).

Kaldi's programs (each on every signal, the kaldi_mfcc one committed, the
others live only): kaldi_mfcc = kaldi.mfcc(32768·x, use_energy=True) with
everything else at Kaldi's defaults (compute-mfcc-feats; energy_floor 1 as
featpipe's), kaldi_mfcc_htk (htk_compat without energy: C0 last ×√2; 40
bins, 20 cepstra, lifter 30, hamming, snip_edges False), kaldi_mfcc_energy
(htk_compat with the windowed energy, no floor, sine window, 100 Hz to
Nyquist − 400 Hz), fbank_vtln09 / fbank_vtln10 / fbank_vtln11 (40 bins,
vtln_warp 0.9 / 1.0 / 1.1, vtln_low 200, vtln_high −800), kaldi_mfcc_vtln
(vtln_warp 0.95), fbank_sine, kaldi_spectrogram = kaldi.spectrogram(32768·x)
and kaldi_spectrogram_options (windowed energy, no floor, sine window, 20 ms
frames unpadded, snip_edges False). torchaudio has no sine window: it is
added as Kaldi's (sin(πn/(N−1)), feature-window.cc) to torchaudio's window
function. A stereo 48 kHz file (samples/audio/stereo_48k.flac, both
channels, live only) gets the Kaldi stages per channel, as [channel, frame,
...] (featpipe: audio.decode {mono: false}).

To stay within the data budget the committed set leaves out speech/stft,
speech/mel_slaney, speech/logmel and the all-zero silence/stft, mel,
mel_slaney (--full, used by the live test, keeps everything), and CMVN is
computed on the first 20 fbank columns.

Kaldi floors the log of mel energies (and the energy) at the float32
epsilon whatever the precision (feature-fbank.cc); torchaudio uses the
epsilon of the tensor's dtype, which for a float64 reference would be
2.2e-16. The reference uses float32's, as Kaldi and as torchaudio on
float32 input (what models are trained on).

Resampling (resample/): the 8 kHz speech sample and the stereo 48 kHz
FLAC (mixed to mono) are resampled to 16 kHz by torchaudio (kaiser sinc,
width 64) and by the sox command line (rate -v); the "resample <name> D" line gives D, the largest
log-mel difference between the two over mel bands centred below 7 kHz,
resample/ref_<name>.npy the log-mel from torchaudio's resampling (and, with
--full, resample/sox_<name>.npy the samples sox made: libsoxr at very high
quality should agree with them to ~1e-4, a check that featpipe resamples
with that quality and compensates the filter delay).
"""
import argparse
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import scipy.io.wavfile as wavfile
import torch
import torchaudio
import torchaudio.compliance.kaldi as kaldi
import torchaudio.functional as AF
import torchaudio.transforms as T

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SR = 16000
N_SYNTH = 4000  # 0.25 s
# Variants recomputed by the live test only (the committed set keeps
# preemphasis for the noise signal alone).
LIVE_ONLY = ("preemphasis", "stft_hamming_mag", "stft_blackman_nocenter", "stft_povey", "db_magnitude",
             "fbank_options", "fbank_linear", "kaldi_mfcc_htk", "kaldi_mfcc_energy", "fbank_vtln09", "fbank_vtln10",
             "fbank_vtln11", "kaldi_mfcc_vtln", "fbank_sine", "kaldi_spectrogram", "kaldi_spectrogram_options")
CMVN_COLS = 20  # CMVN is tested on the first 20 fbank columns (data budget)

SYNTH = ["tone", "chirp", "noise", "silence", "clipped"]
REAL = {"speech": os.path.join(ROOT, "samples", "audio", "front_center_16k.wav")}
STEREO = os.path.join(ROOT, "samples", "audio", "stereo_48k.flac")


def make_signals():
    t = np.arange(N_SYNTH) / SR
    sig = {
        "tone": 0.5 * np.sin(2 * np.pi * 440.0 * t),
        "chirp": 0.5 * np.sin(2 * np.pi * (100.0 * t + 0.5 * (7000.0 - 100.0) / t[-1] * t * t)),
        "noise": np.random.default_rng(1234).uniform(-0.3, 0.3, N_SYNTH),
        "silence": np.zeros(N_SYNTH),
        "clipped": np.clip(3.0 * np.sin(2 * np.pi * 300.0 * t), -1.0, 1.0),
    }
    os.makedirs(os.path.join(HERE, "data"), exist_ok=True)
    for name, x in sig.items():
        pcm = np.clip(np.round(x * 32768.0), -32768, 32767).astype(np.int16)
        wavfile.write(os.path.join(HERE, "data", name + ".wav"), SR, pcm)


def read_wav(path):
    sr, pcm = wavfile.read(path)
    assert pcm.dtype == np.int16 and pcm.ndim == 1, path
    return sr, pcm.astype(np.float64) / 32768.0


def kaldi_eps_float32():
    # See the module doc: Kaldi's log floor is float32's epsilon.
    kaldi._get_epsilon = lambda device, dtype: torch.tensor(np.finfo(np.float32).eps, device=device, dtype=dtype)


_torchaudio_window = kaldi._feature_window_function


def _window_with_sine(window_type, window_size, blackman_coeff, device, dtype):
    if window_type == "sine":  # Kaldi's (feature-window.cc); torchaudio lacks it
        n = torch.arange(window_size, device=device, dtype=dtype)
        return torch.sin(math.pi * n / (window_size - 1))
    return _torchaudio_window(window_type, window_size, blackman_coeff, device, dtype)


kaldi._feature_window_function = _window_with_sine


def kaldi_stages(w, sr):
    """The Kaldi programs' references for one channel w (tensor, in [-1, 1])."""
    kaldi_eps_float32()
    x = (32768.0 * w)[None]
    out = {}
    out["kaldi_mfcc"] = kaldi.mfcc(x, sample_frequency=sr, dither=0.0, use_energy=True)
    out["kaldi_mfcc_htk"] = kaldi.mfcc(x, sample_frequency=sr, dither=0.0, htk_compat=True, use_energy=False,
                                       num_mel_bins=40, num_ceps=20, cepstral_lifter=30.0, window_type="hamming",
                                       snip_edges=False)
    out["kaldi_mfcc_energy"] = kaldi.mfcc(x, sample_frequency=sr, dither=0.0, htk_compat=True, use_energy=True,
                                          raw_energy=False, energy_floor=0.0, window_type="sine", low_freq=100.0,
                                          high_freq=-400.0)
    for name, warp in (("fbank_vtln09", 0.9), ("fbank_vtln10", 1.0), ("fbank_vtln11", 1.1)):
        out[name] = kaldi.fbank(x, sample_frequency=sr, dither=0.0, num_mel_bins=40, vtln_warp=warp, vtln_low=200.0,
                                vtln_high=-800.0)
    out["kaldi_mfcc_vtln"] = kaldi.mfcc(x, sample_frequency=sr, dither=0.0, use_energy=True, vtln_warp=0.95)
    out["fbank_sine"] = kaldi.fbank(x, sample_frequency=sr, dither=0.0, num_mel_bins=40, window_type="sine")
    out["kaldi_spectrogram"] = kaldi.spectrogram(x, sample_frequency=sr, dither=0.0)
    out["kaldi_spectrogram_options"] = kaldi.spectrogram(x, sample_frequency=sr, dither=0.0, raw_energy=False,
                                                         energy_floor=0.0, window_type="sine", frame_length=20.0,
                                                         round_to_power_of_two=False, snip_edges=False)
    return out


def stages(x, dtype):
    """Every stage's reference for signal x (numpy float64) computed in dtype."""
    torch.set_default_dtype(dtype)
    w = torch.tensor(x, dtype=dtype)
    out = {}
    spec = T.Spectrogram(n_fft=512, win_length=400, hop_length=160, power=2.0)(w)  # [freq, frame]
    out["stft"] = spec.T
    fb = AF.melscale_fbanks(257, 0.0, 8000.0, 80, SR)
    mel = spec.T @ fb
    out["mel"] = mel
    fb_s = AF.melscale_fbanks(257, 0.0, 8000.0, 40, SR, norm="slaney", mel_scale="slaney")
    out["mel_slaney"] = spec.T @ fb_s
    out["db"] = T.AmplitudeToDB("power", top_db=80.0)(mel)
    out["logmel"] = torch.log(mel + 1e-6)
    mfcc = T.MFCC(sample_rate=SR, n_mfcc=13, melkwargs=dict(n_fft=512, win_length=400, hop_length=160, n_mels=80))(w)
    out["mfcc"] = mfcc.T
    kaldi_eps_float32()
    out["fbank"] = kaldi.fbank((32768.0 * w)[None], num_mel_bins=80, dither=0.0)
    out["fbank_nosnip"] = kaldi.fbank((32768.0 * w)[None], num_mel_bins=40, dither=0.0, snip_edges=False,
                                      use_energy=True, window_type="hamming")
    # torchaudio.functional.preemphasis (torchaudio >= 2.0; Debian 12 has 0.13):
    # y[0] = x[0], y[t] = x[t] - 0.97 x[t-1].
    out["fbank_options"] = kaldi.fbank((32768.0 * w)[None], num_mel_bins=30, dither=0.0, window_type="blackman",
                                       round_to_power_of_two=False, raw_energy=False, use_energy=True, htk_compat=True,
                                       remove_dc_offset=False, preemphasis_coefficient=0.0, low_freq=100.0,
                                       high_freq=-500.0, use_power=False, energy_floor=0.0)
    out["fbank_linear"] = kaldi.fbank((32768.0 * w)[None], num_mel_bins=23, dither=0.0, use_log_fbank=False,
                                      window_type="hanning", snip_edges=False)
    out.update(kaldi_stages(w, SR))
    out["preemphasis"] = torch.cat([w[:1], w[1:] - 0.97 * w[:-1]])
    # Window/padding/power variants of the spectrogram.
    mag = T.Spectrogram(n_fft=400, win_length=300, hop_length=100, window_fn=torch.hann_window, power=1.0,
                        pad_mode="constant")
    mag.window = torch.hamming_window(300, dtype=dtype)
    out["stft_hamming_mag"] = mag(w).T
    out["stft_blackman_nocenter"] = T.Spectrogram(n_fft=256, hop_length=64, window_fn=torch.blackman_window,
                                                  center=False)(w).T
    out["stft_povey"] = T.Spectrogram(n_fft=512, win_length=400, hop_length=160,
                                      window_fn=lambda n, **kw: torch.hann_window(n, **kw).pow(0.85))(w).T
    out["db_magnitude"] = T.AmplitudeToDB("magnitude")(out["stft_hamming_mag"])
    return {k: v.detach().double().numpy() for k, v in out.items()}


def deltas(m, dtype):
    x = torch.tensor(m, dtype=dtype).T  # [feature, frame]
    d1 = AF.compute_deltas(x, win_length=5)
    d2 = AF.compute_deltas(d1, win_length=5)
    return torch.cat([x, d1, d2], dim=0).T.double().numpy()


def kaldi_window(t, n, w, min_w, center):
    """Frames [start, end) normalizing frame t of n (Kaldi's apply-cmvn-sliding,
    as torchaudio.functional.sliding_window_cmn)."""
    if center:
        start = t - w // 2
        end = start + w
    else:
        start = t - w
        end = t + 1
    if start < 0:
        end -= start
        start = 0
    if not center and end > t:
        end = max(t + 1, min_w)
    if end > n:
        start -= end - n
        end = n
        start = max(start, 0)
    return start, end


def sliding_stable(y, w, min_w, center):
    """sliding_window_cmn(norm_vars=True) with each window's statistics by
    two passes in float64: torchaudio's running E[x²] − E[x]² cancels
    catastrophically on near-constant features (a steady tone's fbank
    columns: std 2e-5 around −15), even in float64."""
    y = y.astype(np.float64)
    out = np.zeros_like(y)
    for t in range(len(y)):
        s, e = kaldi_window(t, len(y), w, min_w, center)
        seg = y[s:e]
        mean = seg.mean(0)
        out[t] = 0.0 if e - s == 1 else (y[t] - mean) / np.sqrt(np.maximum(((seg - mean) ** 2).mean(0), 1e-20))
    return out


def cmvn(f, dtype):
    y = torch.tensor(f, dtype=dtype)
    out = {}
    mean = y.double().mean(0)
    var = torch.clamp(((y.double() - mean) ** 2).mean(0), min=1e-20)
    out["cmvn"] = ((y.double() - mean) / var.sqrt()).to(dtype).double().numpy()
    settings = {"cmvn_sliding": (50, 20, False), "cmvn_center": (40, 100, True)}
    for name, (w, min_w, center) in settings.items():
        ta = AF.sliding_window_cmn(y, cmn_window=w, min_cmn_window=min_w, center=center, norm_vars=True).double().numpy()
        if dtype == torch.float64:
            ref = sliding_stable(f, w, min_w, center)
            # Same windows and formula as torchaudio: where a column is well
            # conditioned (std > 1e-3 |mean| in every window), they agree.
            ok = f.astype(np.float64).std(0) > 1e-3 * np.abs(f).mean(0)
            assert np.abs(ta[:, ok] - ref[:, ok]).max() < 1e-6, (name, np.abs(ta[:, ok] - ref[:, ok]).max())
            out[name] = ref
        else:
            out[name] = ta
    return out


BASE = {  # spec §7: (kind, bound)
    "preemphasis": ("one", 1e-5), "stft_hamming_mag": ("rel", 1e-4), "stft_blackman_nocenter": ("rel", 1e-4),
    "stft_povey": ("rel", 1e-4), "db_magnitude": ("abs", 1e-3),
    "fbank_options": ("abs", 1e-3), "fbank_linear": ("rel", 1e-4),
    "stft": ("rel", 1e-4), "mel": ("rel", 1e-4), "mel_slaney": ("rel", 1e-4),
    "db": ("abs", 1e-3), "logmel": ("abs", 1e-3), "mfcc": ("abs", 1e-3),
    "fbank": ("abs", 1e-3), "fbank_nosnip": ("abs", 1e-3),
    "kaldi_mfcc": ("abs", 1e-3), "kaldi_mfcc_htk": ("abs", 1e-3), "kaldi_mfcc_energy": ("abs", 1e-3),
    "fbank_vtln09": ("abs", 1e-3), "fbank_vtln10": ("abs", 1e-3), "fbank_vtln11": ("abs", 1e-3),
    "kaldi_mfcc_vtln": ("abs", 1e-3), "fbank_sine": ("abs", 1e-3),
    "kaldi_spectrogram": ("abs", 1e-3), "kaldi_spectrogram_options": ("abs", 1e-3),
    "deltas": ("one", 1e-5), "cmvn": ("one", 1e-5), "cmvn_sliding": ("one", 1e-5), "cmvn_center": ("one", 1e-5),
}


def tolerance(stage, ref, err32):
    kind, bound = BASE[stage]
    scale = {"rel": np.abs(ref).max(), "abs": 1.0, "one": max(1.0, np.abs(ref).max())}[kind]
    return max(bound * scale, 3.0 * err32)


def golden_for(x):
    ref = stages(x, torch.float64)
    f32 = stages(np.float32(x).astype(np.float64), torch.float32)
    mfcc32 = ref["mfcc"].astype(np.float32)
    ref["deltas"] = deltas(mfcc32, torch.float64)
    f32["deltas"] = deltas(mfcc32, torch.float32)
    fb32 = ref["fbank"][:, :CMVN_COLS].astype(np.float32)
    if np.ptp(fb32, axis=0).min() > 0:  # CMVN of a constant column is undefined in torchaudio
        ref.update(cmvn(fb32, torch.float64))
        f32.update(cmvn(fb32, torch.float32))
    res = {}
    for k, v in ref.items():
        err32 = float(np.abs(f32[k] - v).max()) if np.isfinite(f32[k]).all() else 0.0
        res[k] = v.astype(np.float32) if k not in ("deltas_in",) else v
        res["tol_" + k] = np.float64(tolerance(k, v, err32))
        res["ref64_max_" + k] = np.float64(np.abs(v).max())
    return res


def golden_stereo(path):
    """The Kaldi stages per channel of a multi-channel file: [channel, frame, ...]."""
    w, sr = torchaudio.load(path)  # float32, int16 / 32768 as libsndfile reads it

    def per_channel(dtype):
        torch.set_default_dtype(dtype)
        chans = [kaldi_stages(w[c].to(dtype), sr) for c in range(w.shape[0])]
        return {k: np.stack([ch[k].detach().double().numpy() for ch in chans]) for k in chans[0]}

    ref, f32 = per_channel(torch.float64), per_channel(torch.float32)
    res = {}
    for k, v in ref.items():
        err32 = float(np.abs(f32[k] - v).max())
        res[k] = v.astype(np.float32)
        res["tol_" + k] = np.float64(tolerance(k, v, err32))
        res["ref64_max_" + k] = np.float64(np.abs(v).max())
    return res


def logmel16k(x):
    torch.set_default_dtype(torch.float64)
    w = torch.tensor(x, dtype=torch.float64)
    spec = T.Spectrogram(n_fft=512, win_length=400, hop_length=160, power=2.0)(w)
    fb = AF.melscale_fbanks(257, 0.0, 8000.0, 80, SR)
    return torch.log(spec.T @ fb + 1e-6).numpy()


def low_bands():
    """Indices of the 80 HTK mel bands (0..8 kHz) centred below 7 kHz."""
    mel = lambda f: 2595.0 * math.log10(1.0 + f / 700.0)
    pts = np.linspace(0.0, mel(8000.0), 82)
    centers = 700.0 * (10.0 ** (pts[1:-1] / 2595.0) - 1.0)
    return np.nonzero(centers < 7000.0)[0]


def resample_refs(full):
    out = {}
    files = {
        "speech_8k": os.path.join(ROOT, "samples", "audio", "speech_8k.wav"),
        "stereo_48k": os.path.join(ROOT, "samples", "audio", "stereo_48k.flac"),
    }
    bands = low_bands()
    for name, path in files.items():
        w, sr = torchaudio.load(path)  # float32 in [-1, 1], [channel, time]
        x = w.double().mean(0)  # mono: mean of channels (float64)
        x32 = x.float().double()  # what featpipe mixes in float32, to float32 precision
        ta = AF.resample(x32, sr, SR, lowpass_filter_width=64, rolloff=0.9475, resampling_method="kaiser_window",
                         beta=14.769656459379492).numpy()
        with tempfile.TemporaryDirectory() as tmp:
            src, dst = os.path.join(tmp, "in.wav"), os.path.join(tmp, "out.wav")
            wavfile.write(src, sr, x32.numpy().astype(np.float32))
            subprocess.run(["sox", "-q", src, "-e", "floating-point", "-b", "32", dst, "rate", "-v", str(SR)], check=True)
            _, sx = wavfile.read(dst)
        a, b = logmel16k(ta), logmel16k(sx.astype(np.float64))
        n = min(len(a), len(b)) - 1  # the last frame sees each resampler's end
        out["D_" + name] = np.float64(np.abs(a[:n][:, bands] - b[:n][:, bands]).max())
        out["ref_" + name] = a.astype(np.float32)
        if full:  # the sox-resampled samples themselves (live test only: too big to commit)
            out["sox_" + name] = sx.astype(np.float32)
    out["bands"] = bands.astype(np.int64)
    return out


def save(out_dir, name, arrays, lines):
    """<out>/<name>/<stage>.npy (float32) and "name stage tolerance ref_max" lines."""
    os.makedirs(os.path.join(out_dir, name), exist_ok=True)
    for k, v in arrays.items():
        if k.startswith(("tol_", "ref64_max_", "D_")):
            continue
        np.save(os.path.join(out_dir, name, k + ".npy"), np.ascontiguousarray(v, dtype=np.float32))
        if "tol_" + k in arrays:
            lines.append("%s %s %.9g %.9g" % (name, k, arrays["tol_" + k], arrays["ref64_max_" + k]))
    for k, v in arrays.items():
        if k.startswith("D_"):
            lines.append("%s %s %.9g 0" % (name, k[2:], v))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(HERE, "golden"))
    ap.add_argument("--signals", action="store_true")
    ap.add_argument("--full", action="store_true", help="every stage for every signal (the live test)")
    args = ap.parse_args()
    if args.signals:
        make_signals()
    os.makedirs(args.out, exist_ok=True)
    inputs = {n: os.path.join(HERE, "data", n + ".wav") for n in SYNTH}
    inputs.update(REAL)
    lines = []
    for name, path in inputs.items():
        sr, x = read_wav(path)
        assert sr == SR, path
        g = golden_for(x)
        if not args.full:  # keep the committed goldens small (data budget)
            drop = {"speech": ("stft", "mel_slaney", "logmel"), "silence": ("stft", "mel", "mel_slaney")}.get(name, ())
            drop += LIVE_ONLY[1:] if name == "noise" else LIVE_ONLY
            stage = lambda key: key.removeprefix("tol_").removeprefix("ref64_max_")
            g = {k: v for k, v in g.items() if stage(k) not in drop}
        save(args.out, name, g, lines)
    if args.full:  # multi-channel: live only (data budget)
        save(args.out, "stereo", golden_stereo(STEREO), lines)
    save(args.out, "resample", resample_refs(args.full), lines)
    with open(os.path.join(args.out, "tolerances.txt"), "w") as f:
        f.write("# signal stage tolerance max|ref64|  (resample: signal name D 0), from make_golden.py\n")
        f.write("\n".join(lines) + "\n")
    print("wrote", args.out)


if __name__ == "__main__":
    sys.exit(main())
