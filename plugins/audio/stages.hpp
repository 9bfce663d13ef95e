// The audio plugin's stages: one factory per stage, each defined beside
// its code (one .cpp per stage), listed once in plugin.cpp.
#pragma once

#include <featpipe/plugin.h>

namespace featpipe::audio {

fp_stage_desc decode_stage();       // audio.decode
fp_stage_desc preemphasis_stage();  // audio.preemphasis
fp_stage_desc stft_stage();         // audio.stft
fp_stage_desc mel_stage();          // audio.mel
fp_stage_desc db_stage();           // audio.db
fp_stage_desc mfcc_stage();         // audio.mfcc
fp_stage_desc deltas_stage();       // audio.deltas
fp_stage_desc fbank_stage();        // audio.fbank
fp_stage_desc kaldi_mfcc_stage();   // audio.kaldi_mfcc
fp_stage_desc kaldi_spectrogram_stage();  // audio.kaldi_spectrogram
fp_stage_desc cmvn_stage();         // norm.cmvn

}  // namespace featpipe::audio
