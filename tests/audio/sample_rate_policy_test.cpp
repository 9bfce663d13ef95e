// audio.decode without sample_rate keeps each file's rate, so features
// depend on it: `validate` (Pipeline::warnings) says so, each ok manifest
// line records its input's rate, and a run over files of different rates
// warns once naming them. With sample_rate set, none of the warnings.
#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>
#include <fstream>
#include <map>
#include <regex>

#include "audio_support.hpp"

namespace featpipe::test {
namespace {

std::string logmel_yaml(const std::string& decode_with) {
  return "featpipe: 1\nname: rates\nstages:\n  - use: audio.decode\n" + decode_with +
         "  - use: audio.stft\n    with: {n_fft: 256}\n  - use: audio.mel\n    with: {n_mels: 20}\n";
}

void write_tone(const fs::path& p, int rate) {
  std::vector<float> x(static_cast<size_t>(rate / 4));
  for (size_t k = 0; k < x.size(); ++k) x[k] = static_cast<float>(0.3 * std::sin(2 * M_PI * 300.0 * k / rate));
  write_audio(p, SF_FORMAT_WAV | SF_FORMAT_PCM_16, rate, 1, x);
}

// input file name -> its manifest line's sample_rate (-1 when absent)
std::map<std::string, double> manifest_rates(const fs::path& out) {
  std::map<std::string, double> rates;
  std::ifstream in(out / "manifest.jsonl");
  const std::regex input(R"re("input":"[^"]*/([^"/]+)")re"), rate(R"re("sample_rate":([0-9.]+)[,}])re");
  for (std::string line; std::getline(in, line);) {
    std::smatch m, r;
    if (!std::regex_search(line, m, input)) continue;
    rates[m[1]] = std::regex_search(line, r, rate) ? std::stod(r[1]) : -1;
  }
  return rates;
}

TEST(SampleRatePolicy, ValidateWarnsWhenFeaturesDependOnEachFilesRate) {
  auto pipe = Pipeline::parse(logmel_yaml(""), "rates.yaml", source_dir().string());
  ASSERT_EQ(pipe->warnings().size(), 1u);
  const std::string w = pipe->warnings()[0];
  EXPECT_EQ(w.rfind("rates.yaml:4:10: step 1 'audio.decode' keeps each file's sample rate", 0), 0u) << w;
  EXPECT_NE(w.find("set its sample_rate (e.g. with: {sample_rate: 16000})"), std::string::npos) << w;

  pipe = Pipeline::parse(logmel_yaml("    with: {sample_rate: 16000}\n"), "rates.yaml", source_dir().string());
  EXPECT_TRUE(pipe->warnings().empty());

  TempDir dir;
  write_text(dir / "p.yaml", logmel_yaml(""));
  auto r = run_cli({"validate", (dir / "p.yaml").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("warning: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("'audio.decode' keeps each file's sample rate"), std::string::npos) << r.err;
  write_text(dir / "p.yaml", logmel_yaml("    with: {sample_rate: 16000}\n"));
  r = run_cli({"validate", (dir / "p.yaml").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;
}

TEST(SampleRatePolicy, RunRecordsEachRateAndWarnsOnceWhenTheyDiffer) {
  TempDir dir;
  fs::create_directories(dir / "in");
  write_tone(dir / "in" / "a8k.wav", 8000);
  write_tone(dir / "in" / "b16k.wav", 16000);
  write_tone(dir / "in" / "c48k.wav", 48000);
  write_tone(dir / "in" / "d16k.wav", 16000);
  write_text(dir / "p.yaml", logmel_yaml(""));
  auto r = run_cli({"run", (dir / "p.yaml").string(), (dir / "in").string(), "-o", (dir / "out").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(manifest_rates(dir / "out"),
            (std::map<std::string, double>{{"a8k.wav", 8000}, {"b16k.wav", 16000}, {"c48k.wav", 48000}, {"d16k.wav", 16000}}));
  const std::string want = "warning: the inputs had different sample rates (8000, 16000, 48000 Hz)";
  const size_t at = r.err.find(want);
  EXPECT_NE(at, std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(want, at + 1), std::string::npos) << "warned more than once:\n" << r.err;
  EXPECT_NE(r.err.find("set audio.decode's sample_rate"), std::string::npos) << r.err;
  // The line keeps its keys sorted, the rate an integer.
  std::ifstream in(dir / "out" / "manifest.jsonl");
  std::string line;
  std::getline(in, line);
  EXPECT_NE(line.find("\"output_xxh3\":"), std::string::npos) << line;
  EXPECT_LT(line.find("\"output_xxh3\":"), line.find("\"sample_rate\":")) << line;
  EXPECT_LT(line.find("\"sample_rate\":"), line.find("\"seconds\":")) << line;
  EXPECT_NE(line.find("\"sample_rate\":8000,"), std::string::npos) << line;

  // One rate for all: every line says it, no warning.
  write_text(dir / "q.yaml", logmel_yaml("    with: {sample_rate: 16000}\n"));
  r = run_cli({"run", (dir / "q.yaml").string(), (dir / "in").string(), "-o", (dir / "out16").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;
  for (const auto& [input, rate] : manifest_rates(dir / "out16")) EXPECT_EQ(rate, 16000) << input;
}

}  // namespace
}  // namespace featpipe::test
