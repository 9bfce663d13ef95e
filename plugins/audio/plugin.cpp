// featpipe-audio: decoding, resampling and speech features (STFT, mel, dB,
// MFCC, deltas, Kaldi fbank, MFCC and spectrogram) plus CMVN. Spec §5 "Audio".
#include "stages.hpp"

#include <featpipe/sdk.hpp>
#include <featpipe/version.h>  // built-in plugins carry featpipe's version

using namespace featpipe::audio;

FEATPIPE_PLUGIN("featpipe-audio", FEATPIPE_VERSION, decode_stage(), preemphasis_stage(), stft_stage(), mel_stage(),
                db_stage(), mfcc_stage(), deltas_stage(), fbank_stage(), kaldi_mfcc_stage(),
                kaldi_spectrogram_stage(), cmvn_stage())
