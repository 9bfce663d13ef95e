// One window vocabulary across the audio stages (plugins/audio/windows.hpp):
// every stage that takes a window accepts the same names, an alias gives
// the very bits of its canonical name, and an unknown name is answered
// with the accepted names and the nearest one.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "audio_support.hpp"

namespace featpipe::test {
namespace {

// (stage, its window parameter)
const std::vector<std::pair<std::string, std::string>> kWindowStages = {{"audio.stft", "window"},
                                                                        {"audio.fbank", "window_type"},
                                                                        {"audio.kaldi_mfcc", "window_type"},
                                                                        {"audio.kaldi_spectrogram", "window_type"}};

Tensor signal() {
  std::vector<float> x(4000);
  for (size_t k = 0; k < x.size(); ++k)
    x[k] = static_cast<float>(0.3 * std::sin(0.031 * static_cast<double>(k)) + 0.1 * std::cos(0.7 * static_cast<double>(k)));
  return tensor({static_cast<int64_t>(x.size())}, {"time"}, x, {{"sample_rate", 16000.0}});
}

Tensor run_with_window(const std::string& stage, const std::string& param, const std::string& name) {
  return run_tensor_steps("  - use: " + stage + "\n    with: {" + param + ": " + name + "}\n", signal(), "time");
}

std::string load_error(const std::string& stage, const std::string& param, const std::string& name) {
  try {
    run_with_window(stage, param, name);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(WindowNames, EveryStageTakesEveryName) {
  for (const auto& [stage, param] : kWindowStages)
    for (const char* name : {"hann", "hanning", "hamming", "povey", "blackman", "rectangular", "rect", "sine"})
      EXPECT_EQ(load_error(stage, param, name), "") << stage << " " << name;
}

TEST(WindowNames, AliasesAreBitIdenticalToTheirCanonicalName) {
  for (const auto& [stage, param] : kWindowStages) {
    for (auto [alias, canonical] : {std::pair{"hanning", "hann"}, {"rect", "rectangular"}}) {
      const Tensor a = run_with_window(stage, param, alias);
      const Tensor c = run_with_window(stage, param, canonical);
      ASSERT_EQ(a.shape, c.shape) << stage << " " << alias;
      ASSERT_FALSE(a.data.empty());
      EXPECT_EQ(0, std::memcmp(a.data.data(), c.data.data(), a.data.size() * sizeof(float))) << stage << " " << alias;
    }
    // And the windows differ from each other: the name reaches the stage.
    EXPECT_NE(run_with_window(stage, param, "hann").data, run_with_window(stage, param, "hamming").data) << stage;
    EXPECT_NE(run_with_window(stage, param, "hann").data, run_with_window(stage, param, "rect").data) << stage;
  }
}

TEST(WindowNames, UnknownNamesListTheVocabularyAndTheNearestName) {
  for (const auto& [stage, param] : kWindowStages) {
    std::string e = load_error(stage, param, "haning");
    EXPECT_NE(e.find("must be one of hann|hamming|povey|blackman|rectangular|sine|hanning|rect, got 'haning'"), std::string::npos)
        << e;
    EXPECT_NE(e.find("(did you mean 'hanning'?)"), std::string::npos) << e;
    e = load_error(stage, param, "hammin");
    EXPECT_NE(e.find("(did you mean 'hamming'?)"), std::string::npos) << e;
    e = load_error(stage, param, "rectangle");
    EXPECT_NE(e.find("(did you mean 'rectangular'?)"), std::string::npos) << e;
  }
}

}  // namespace
}  // namespace featpipe::test
