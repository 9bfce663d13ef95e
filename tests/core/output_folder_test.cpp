// One output folder shared by shards and successive runs, as the README
// promises: --resume counts any shard's manifest, a copy of the pipeline at
// another path (another machine) is the same pipeline, and --overwrite lets
// another pipeline replace the folder's provenance.
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <set>
#include <sstream>

using namespace featpipe;
using nlohmann::json;

namespace {

const fs::path kPipeline = test::source_dir() / "pipelines" / "speech-logmel.yaml";

class OutputFolder : public ::testing::Test {
 protected:
  void SetUp() override {
    const fs::path audio = test::source_dir() / "samples" / "audio";
    fs::create_directories(in());
    for (const char* f : {"front_center_16k.wav", "rear_right_16k.wav", "speech_espeak_16k.wav", "speech_8k.wav",
                          "stereo_48k.flac"})
      fs::copy_file(audio / f, in() / f);
  }
  test::CmdResult run(const fs::path& pipeline, std::vector<std::string> extra) {
    std::vector<std::string> args = {"run", pipeline.string(), in().string(), "-o", out().string(), "-q"};
    args.insert(args.end(), extra.begin(), extra.end());
    return test::run_cli(args);
  }
  std::vector<json> lines(const std::string& name) const {
    std::vector<json> v;
    std::istringstream is(test::read_text(out() / name));
    for (std::string line; std::getline(is, line);) v.push_back(json::parse(line));
    return v;
  }
  fs::path in() const { return dir / "in"; }
  fs::path out() const { return dir / "out"; }
  test::TempDir dir;
};

}  // namespace

TEST_F(OutputFolder, ResumeSkipsWhatAnyShardFinished) {
  auto r = run(kPipeline, {"--shard", "0/2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::set<std::string> shard0;
  for (const auto& e : lines("manifest-0-of-2.jsonl")) shard0.insert(e["output"].get<std::string>());
  ASSERT_FALSE(shard0.empty());
  ASSERT_LT(shard0.size(), 5u);  // both shards have inputs

  // An unsharded --resume over the folder: shard 0's outputs are done.
  r = run(kPipeline, {"--resume"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto m = lines("manifest.jsonl");
  ASSERT_EQ(m.size(), 5u);
  for (const auto& e : m)
    EXPECT_EQ(e["status"], shard0.count(e["output"].get<std::string>()) ? "skipped" : "ok") << e.dump();
}

TEST_F(OutputFolder, ShardsWithThePipelineAtDifferentPathsShareTheFolder) {
  // The second machine has its own checkout: same file, another path.
  fs::create_directories(dir / "machine2");
  fs::copy_file(kPipeline, dir / "machine2" / "speech-logmel.yaml");
  auto r = run(kPipeline, {"--shard", "0/2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run(dir / "machine2" / "speech-logmel.yaml", {"--shard", "1/2"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(lines("manifest-0-of-2.jsonl").size() + lines("manifest-1-of-2.jsonl").size(), 5u);

  // The same copy with one parameter changed is another pipeline: refused.
  std::string text = test::read_text(kPipeline);
  text.replace(text.find("n_mels: 80"), 10, "n_mels: 64");
  test::write_text(dir / "machine2" / "speech-logmel.yaml", text);
  r = run(dir / "machine2" / "speech-logmel.yaml", {"--shard", "1/2", "--resume"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("describes features of another pipeline"), std::string::npos) << r.err;
}

TEST_F(OutputFolder, OverwriteReplacesAnotherPipelinesFolder) {
  ASSERT_EQ(run(kPipeline, {}).exit_code, 0);
  const fs::path kaldi = test::source_dir() / "pipelines" / "kaldi-fbank.yaml";
  auto r = run(kaldi, {"--overwrite"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json prov = json::parse(test::read_text(out() / "provenance.json"));
  const auto sum = test::run_shell("sha256sum " + test::quote(kaldi.string()));
  EXPECT_EQ(prov["pipeline"]["sha256"], sum.out.substr(0, 64));
  // Every output was replaced by the new pipeline's: equal to a fresh run of it.
  const fs::path ref = dir / "ref";
  r = test::run_cli({"run", kaldi.string(), in().string(), "-o", ref.string(), "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const auto& e : fs::directory_iterator(in()))
    EXPECT_EQ(test::read_text(out() / (e.path().filename().string() + ".npy")),
              test::read_text(ref / (e.path().filename().string() + ".npy")))
        << e.path().filename();
}
