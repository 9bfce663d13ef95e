// `featpipe run` as a Kaldi recipe calls it: inputs from a wav.scp (or a
// path list, or stdin), features into feats.ark + feats.scp, read back by
// featpipe's reader and by a numpy reader written from the format alone.
#include "test_support.hpp"

#include <featpipe/kaldi_io.hpp>
#include <featpipe/npy.hpp>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstring>
#include <map>
#include <set>
#include <sstream>

using namespace featpipe;
using nlohmann::json;

namespace {

const fs::path kAudio = test::source_dir() / "samples" / "audio";
const fs::path kPipeline = test::source_dir() / "pipelines" / "kaldi-fbank.yaml";

class KaldiRun : public ::testing::Test {
 protected:
  void SetUp() override {
    scp = dir / "data" / "wav.scp";
    test::write_text(scp, "spk1-utt1 " + (kAudio / "speech_espeak_16k.wav").string() + "\nspk1-utt2 " +
                              (kAudio / "front_center_16k.wav").string() + "\n");
  }
  test::CmdResult run(const std::string& out, std::vector<std::string> extra) {
    std::vector<std::string> args = {"run", kPipeline.string(), "-o", (dir / out).string(), "-q"};
    args.insert(args.end(), extra.begin(), extra.end());
    return test::run_cli(args);
  }
  std::vector<json> manifest(const std::string& out, const std::string& name = "manifest.jsonl") {
    std::vector<json> lines;
    std::istringstream is(test::read_text(dir / out / name));
    for (std::string line; std::getline(is, line);) lines.push_back(json::parse(line));
    return lines;
  }
  std::map<std::string, kaldi::Matrix> ark(const std::string& out, const std::string& scp_name = "feats.scp") {
    std::map<std::string, kaldi::Matrix> m;
    for (const auto& e : kaldi::read_scp((dir / out / scp_name).string())) m[e.key] = kaldi::read_at(e.ark, e.offset);
    return m;
  }
  test::TempDir dir;
  fs::path scp;
};

bool bit_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * 4) == 0;
}

}  // namespace

TEST_F(KaldiRun, WavScpIdsNameTheOutputsAndAppearInTheManifest) {
  auto r = run("npy", {"--inputs-from", scp.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The same features as the file named directly.
  auto direct = run("direct", {(kAudio / "speech_espeak_16k.wav").string()});
  ASSERT_EQ(direct.exit_code, 0) << direct.err;
  const npy::Array a = npy::read((dir / "npy" / "spk1-utt1.npy").string());
  EXPECT_TRUE(bit_equal(a.data, npy::read((dir / "direct" / "speech_espeak_16k.wav.npy").string()).data));
  EXPECT_TRUE(fs::exists(dir / "npy" / "spk1-utt2.npy"));
  auto m = manifest("npy");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0]["utt_id"], "spk1-utt1");
  EXPECT_EQ(m[0]["output"], "spk1-utt1.npy");
  EXPECT_EQ(m[0]["input"], (kAudio / "speech_espeak_16k.wav").string());
  EXPECT_EQ(m[1]["utt_id"], "spk1-utt2");
}

TEST_F(KaldiRun, AMissingFileFailsAloneAndTheOthersRun) {
  test::write_text(scp, test::read_text(scp) + "spk1-utt3 " + (dir / "gone.wav").string() + "\n");
  auto r = run("npy", {"--inputs-from", scp.string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("gone.wav: no such file"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(dir / "npy" / "spk1-utt1.npy"));
  auto m = manifest("npy");
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[2]["status"], "error");
  EXPECT_EQ(m[2]["error"], "no such file");
  EXPECT_EQ(m[2]["utt_id"], "spk1-utt3");
}

TEST_F(KaldiRun, ListsComeFromStdinToo) {
  const std::string cli = test::quote(FEATPIPE_CLI) + " run " + test::quote(kPipeline.string()) + " -q -o ";
  auto r = test::run_shell("cat " + test::quote(scp.string()) + " | " + cli + test::quote((dir / "s").string()) +
                           " --inputs-from - --inputs-format scp");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir / "s" / "spk1-utt2.npy"));
  r = test::run_shell("printf '%s\\n' " + test::quote((kAudio / "speech_8k.wav").string()) + " | " + cli +
                      test::quote((dir / "p").string()) + " --inputs-from -");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir / "p" / "speech_8k.wav.npy"));
}

TEST_F(KaldiRun, BadListsAreRefusedBeforeAnyWork) {
  test::write_text(dir / "piped.scp", "a " + (kAudio / "speech_8k.wav").string() + "\nb sox x.flac -t wav - |\n");
  auto r = run("o", {"--inputs-from", (dir / "piped.scp").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("piped.scp:2: utterance b is a piped command"), std::string::npos) << r.err;
  test::write_text(dir / "dup.scp", "a " + (kAudio / "speech_8k.wav").string() + "\na " + (kAudio / "speech_8k.wav").string() + "\n");
  r = run("o", {"--inputs-from", (dir / "dup.scp").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("dup.scp:2: utterance id a again (first on line 1)"), std::string::npos) << r.err;
  r = run("o", {"--inputs-from", scp.string(), (kAudio / "speech_8k.wav").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("not both"), std::string::npos) << r.err;
  r = run("o", {});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no inputs"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "o"));
}

TEST_F(KaldiRun, ArkHoldsTheNpyFeaturesExactly) {
  ASSERT_EQ(run("npy", {"--inputs-from", scp.string()}).exit_code, 0);
  auto r = run("ark", {"--inputs-from", scp.string(), "--output-format", "ark", "-j", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto got = ark("ark");
  ASSERT_EQ(got.size(), 2u);
  for (const std::string key : {"spk1-utt1", "spk1-utt2"}) {
    const npy::Array want = npy::read((dir / "npy" / (key + ".npy")).string());
    EXPECT_EQ((std::vector<int64_t>{got[key].rows, got[key].cols}), want.shape) << key;
    EXPECT_TRUE(bit_equal(got[key].data, want.data)) << key;
  }
  auto m = manifest("ark");
  ASSERT_EQ(m.size(), 2u);
  for (const auto& line : m) {
    EXPECT_EQ(line["status"], "ok");
    EXPECT_EQ(line["output"], "feats.ark#" + line["utt_id"].get<std::string>());
  }
  // Nothing else in the folder: no staged matrix, no temporary (run.json:
  // the run's record, for featpipe status).
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir / "ark")) names.insert(e.path().filename().string());
  EXPECT_EQ(names, (std::set<std::string>{"feats.ark", "feats.scp", "manifest.jsonl", "provenance.json", "run.json"}));
  if (!test::python_has("numpy")) GTEST_SKIP() << "numpy not available for the format-only reader";
  auto py = test::run_shell(test::quote(test::python()) + " " +
                            test::quote((test::source_dir() / "tests" / "core" / "kaldi_ark_read.py").string()) + " " +
                            test::quote((dir / "ark" / "feats.scp").string()) + " " + test::quote((dir / "npy").string()));
  EXPECT_EQ(py.exit_code, 0) << py.out << py.err;
  EXPECT_EQ(py.out, "2 entries equal\n");
}

TEST_F(KaldiRun, ArkResumeSkipsOverwriteRewritesAndADamagedEntryIsRedone) {
  ASSERT_EQ(run("ark", {"--inputs-from", scp.string(), "--output-format", "ark"}).exit_code, 0);
  const std::string bytes = test::read_text(dir / "ark" / "feats.ark");
  auto r = run("ark", {"--inputs-from", scp.string(), "--output-format", "ark"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("feats.ark entry spk1-utt1 exists (use --resume"), std::string::npos) << r.err;
  EXPECT_EQ(test::read_text(dir / "ark" / "feats.ark"), bytes);
  EXPECT_EQ(manifest("ark").size(), 2u);
  EXPECT_EQ(manifest("ark")[0]["status"], "ok");  // a refusal keeps the ok line

  r = run("ark", {"--inputs-from", scp.string(), "--output-format", "ark", "--resume"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("2 inputs: 0 ok, 0 failed, 2 skipped"), std::string::npos) << r.err;
  EXPECT_EQ(test::read_text(dir / "ark" / "feats.ark"), bytes);

  r = run("ark", {"--inputs-from", scp.string(), "--output-format", "ark", "--overwrite", "-j", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("2 inputs: 2 ok"), std::string::npos) << r.err;
  EXPECT_EQ(test::read_text(dir / "ark" / "feats.ark"), bytes);  // sorted by key: the same bytes whatever the workers

  // One byte of the last entry's data changed in place: --resume redoes it.
  std::string damaged = bytes;
  damaged[damaged.size() - 1] ^= 0x01;
  test::write_text(dir / "ark" / "feats.ark", damaged);
  r = run("ark", {"--inputs-from", scp.string(), "--output-format", "ark", "--resume"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("2 inputs: 1 ok, 0 failed, 1 skipped"), std::string::npos) << r.err;
  EXPECT_EQ(test::read_text(dir / "ark" / "feats.ark"), bytes);
}

TEST_F(KaldiRun, ArkShardsOnePairEachBesideTheirManifests) {
  for (const std::string shard : {"0/2", "1/2"})
    ASSERT_EQ(run("ark", {"--inputs-from", scp.string(), "--output-format", "ark", "--shard", shard}).exit_code, 0);
  std::set<std::string> keys;
  for (const std::string k : {"0", "1"}) {
    const std::string scp_name = "feats-" + k + "-of-2.scp";
    ASSERT_TRUE(fs::exists(dir / "ark" / ("manifest-" + k + "-of-2.jsonl")));
    if (!fs::exists(dir / "ark" / scp_name)) continue;  // a shard that got no input writes no archive
    for (const auto& [key, m] : ark("ark", scp_name)) EXPECT_TRUE(keys.insert(key).second) << key;
  }
  EXPECT_EQ(keys, (std::set<std::string>{"spk1-utt1", "spk1-utt2"}));
}

TEST_F(KaldiRun, ArkRefusesPipelinesThatDoNotMakeMatrices) {
  test::write_text(dir / "wave.yaml", "featpipe: 1\nname: wave\nstages:\n  - use: audio.decode\n    with: {sample_rate: 16000}\n");
  auto r = test::run_cli({"run", (dir / "wave.yaml").string(), "--inputs-from", scp.string(), "--output-format", "ark",
                          "-o", (dir / "o").string(), "-q"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("a Kaldi archive holds matrices ([frame, dim]); use --output-format npy"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "o"));
}

TEST_F(KaldiRun, ArkDoesNotReplaceAnotherPipelinesFeatures) {
  ASSERT_EQ(run("ark", {"--inputs-from", scp.string(), "--output-format", "ark"}).exit_code, 0);
  const std::string bytes = test::read_text(dir / "ark" / "feats.ark");
  auto r = test::run_cli({"run", (test::source_dir() / "pipelines" / "speech-mfcc.yaml").string(), "--inputs-from",
                          scp.string(), "--output-format", "ark", "--overwrite", "-o", (dir / "ark").string(), "-q"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--output-format ark does not replace them"), std::string::npos) << r.err;
  EXPECT_EQ(test::read_text(dir / "ark" / "feats.ark"), bytes);
  EXPECT_EQ(manifest("ark").size(), 2u);
}

TEST_F(KaldiRun, NpyOverwriteDoesNotLeaveAnotherPipelinesArchiveBehind) {
  ASSERT_EQ(run("ark", {"--inputs-from", scp.string(), "--output-format", "ark"}).exit_code, 0);
  auto r = test::run_cli({"run", (test::source_dir() / "pipelines" / "speech-mfcc.yaml").string(), "--inputs-from",
                          scp.string(), "--overwrite", "-o", (dir / "ark").string(), "-q"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("holds Kaldi archives (feats*.ark) of another pipeline"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "ark" / "spk1-utt1.npy"));
  EXPECT_TRUE(fs::exists(dir / "ark" / "feats.scp"));
}
