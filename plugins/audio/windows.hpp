// The window vocabulary of the audio stages. Every stage that takes a window
// (audio.stft `window`, audio.fbank `window_type`) accepts the same names, so
// a name that works on one works on all and means the same function; the
// aliases are the spellings torch, librosa/scipy and Kaldi users write.
// "sine" is Kaldi's: sin(πn/(N−1)), zero at both ends (periodic: sin(πn/N));
// scipy's "cosine" window, sin(π(n+½)/N), is another function.
#pragma once

#include <string>
#include <string_view>

namespace featpipe::audio {

// The schema's choice list: canonical names first, then aliases. The engine
// refuses any other name with this list and the nearest entry, so an alias
// must be listed here to be suggested ("haning" -> 'hanning', not 'hamming').
inline constexpr const char* kWindowChoices = "hann|hamming|povey|blackman|rectangular|sine|hanning|rect";

// The canonical name of an accepted one (hanning -> hann, rect ->
// rectangular); throws sdk::Error naming the accepted names otherwise.
std::string canonical_window(std::string_view name);

}  // namespace featpipe::audio
