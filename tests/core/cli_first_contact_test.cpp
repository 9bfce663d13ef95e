// What a new user meets first on the command line: `stages` by family and as
// JSON/Markdown, `validate` with resolved parameters, frame rate and --json,
// readable option errors and defaults in --help, `--version`, and the
// refusals of `stream` (an image pipeline, a whole-input step, a WAV header).
#include "test_support.hpp"

#include <featpipe/plugin.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace featpipe;
using nlohmann::json;

namespace {

std::string pipeline(const std::string& name) { return (test::source_dir() / "pipelines" / name).string(); }

json parse(const test::CmdResult& r) {
  json j = json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.out;
  return j;
}

const json* find_by(const json& list, const std::string& key, const std::string& value) {
  for (const auto& e : list)
    if (e.value(key, "") == value) return &e;
  return nullptr;
}

// stdin from a shell pipeline into `featpipe stream ARGS`.
test::CmdResult stream_from(const std::string& producer, const std::vector<std::string>& args) {
  std::string cmd = producer + " | " + test::quote(FEATPIPE_CLI) + " stream";
  for (const auto& a : args) cmd += " " + test::quote(a);
  return test::run_shell(cmd);
}

}  // namespace

TEST(CliStages, AFamilyListsItsStagesOnly) {
  auto r = test::run_cli({"stages", "audio"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("audio.stft"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("audio.decode"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("image."), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("norm."), std::string::npos) << r.out;

  r = test::run_cli({"stages", "audoi"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no stage or family 'audoi'; did you mean audio?"), std::string::npos) << r.err;
}

TEST(CliStages, JsonCarriesEverySchemaField) {
  auto r = test::run_cli({"stages", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = parse(r);
  EXPECT_EQ(j["featpipe_version"], FEATPIPE_VERSION);
  const json& stages = j["stages"];
  EXPECT_EQ(find_by(stages, "name", "test.read"), nullptr) << "fixtures are loaded explicitly only";

  const json* decode = find_by(stages, "name", "audio.decode");
  ASSERT_NE(decode, nullptr);
  EXPECT_EQ((*decode)["family"], "audio");
  EXPECT_EQ((*decode)["flags"]["source"], true);
  EXPECT_NE(std::find((*decode)["extensions"].begin(), (*decode)["extensions"].end(), "wav"), (*decode)["extensions"].end());
  EXPECT_EQ((*decode)["plugin"]["name"], "featpipe-audio");
  EXPECT_NE((*decode)["plugin"]["file"].get<std::string>().find("libfeatpipe_audio.so"), std::string::npos);

  const json* stft = find_by(stages, "name", "audio.stft");
  ASSERT_NE(stft, nullptr);
  EXPECT_EQ((*stft)["flags"]["source"], false);
  EXPECT_TRUE((*stft)["extensions"].empty());
  EXPECT_FALSE((*stft)["doc"].get<std::string>().empty());
  const json* n_fft = find_by((*stft)["params"], "name", "n_fft");
  ASSERT_NE(n_fft, nullptr);
  EXPECT_EQ((*n_fft)["type"], "int");
  EXPECT_EQ((*n_fft)["required"], false);
  EXPECT_TRUE((*n_fft)["default"].is_string());
  EXPECT_TRUE((*n_fft)["min"].is_number()) << *n_fft;
  const json* window = find_by((*stft)["params"], "name", "window");
  ASSERT_NE(window, nullptr);
  EXPECT_EQ((*window)["type"], "choice");
  EXPECT_NE(std::find((*window)["choices"].begin(), (*window)["choices"].end(), "hann"), (*window)["choices"].end());

  // A required parameter: no default.
  const json* minmax = find_by(stages, "name", "norm.minmax");
  ASSERT_NE(minmax, nullptr);
  const json* axis = find_by((*minmax)["params"], "name", "axis");
  ASSERT_NE(axis, nullptr);
  EXPECT_EQ((*axis)["required"], true);
  EXPECT_TRUE((*axis)["default"].is_null());

  // One stage, and an explicit plugin's stages.
  r = test::run_cli({"stages", "audio.stft", "--json"});
  ASSERT_EQ(parse(r)["stages"].size(), 1u) << r.out;
  r = test::run_cli({"stages", "test", "--json", "--plugin", FIXTURE_STAGES});
  const json fixture = parse(r);
  ASSERT_FALSE(fixture["stages"].empty()) << r.out;
  for (const auto& s : fixture["stages"]) EXPECT_EQ(s["family"], "test");
}

TEST(CliStages, MarkdownHasASectionPerFamilyAndATablePerStage) {
  auto r = test::run_cli({"stages", "--markdown"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* family : {"audio", "image", "math", "norm", "tensor"})
    EXPECT_NE(r.out.find(std::string("\n## ") + family + "\n"), std::string::npos) << family;
  EXPECT_NE(r.out.find("\n### audio.stft\n"), std::string::npos);
  EXPECT_NE(r.out.find("| parameter | type | default | allowed | unit | description |"), std::string::npos);
  EXPECT_NE(r.out.find("| `n_fft` | int |"), std::string::npos) << r.out.substr(0, 3000);
  EXPECT_EQ(r.out.find(test::binary_dir().string()), std::string::npos) << "no build paths in the reference";
  EXPECT_EQ(test::run_cli({"stages", "--json", "--markdown"}).exit_code, 2);

  r = test::run_cli({"stages", "norm", "--markdown"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("# Stages: norm\n", 0), 0u) << r.out.substr(0, 200);
  EXPECT_NE(r.out.find("\n### norm.cmvn\n"), std::string::npos);
  EXPECT_EQ(r.out.find("\n## audio\n"), std::string::npos);
}

TEST(CliValidate, ShowsResolvedParametersAndFrameRate) {
  auto r = test::run_cli({"validate", pipeline("speech-logmel.yaml")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("hop_length: 160"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("window: hann"), std::string::npos) << r.out;  // a default, not written in the file
  EXPECT_NE(r.out.find("100 frames per second"), std::string::npos) << r.out;

  test::TempDir dir;
  test::write_text(dir / "one.yaml", "featpipe: 1\nname: one\nstages:\n  - use: audio.decode\n    with: {sample_rate: 8000}\n");
  r = test::run_cli({"validate", (dir / "one.yaml").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("'one', 1 step\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("8000 frames per second"), std::string::npos) << r.out;
}

TEST(CliValidate, NamesTheParameterThatPreventsStreaming) {
  auto r = test::run_cli({"validate", pipeline("speech-mfcc.yaml")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("streaming: no — step 4 'audio.db' needs the whole input (batch only): top_db is set"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("remove top_db, or set it to null, to stream"), std::string::npos) << r.out;
}

TEST(CliValidate, JsonGivesTheChain) {
  auto r = test::run_cli({"validate", pipeline("speech-logmel.yaml"), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = parse(r);
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["streamable"], true);
  EXPECT_TRUE(j["not_streamable_because"].is_null());
  EXPECT_EQ(j["sample_rate"], 16000.0);
  EXPECT_EQ(j["frame_rate"], 100.0);
  EXPECT_GT(j["latency_samples"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(j["latency_ms"].get<double>(), 1000.0 * j["latency_samples"].get<double>() / 16000.0);
  EXPECT_NE(std::find(j["extensions"].begin(), j["extensions"].end(), "wav"), j["extensions"].end());
  const json* stft = find_by(j["steps"], "use", "audio.stft");
  ASSERT_NE(stft, nullptr) << j.dump(1);
  EXPECT_EQ((*stft)["params"]["hop_length"], 160);
  EXPECT_EQ((*stft)["output"]["axes"].back(), "freq") << *stft;
  EXPECT_TRUE((*stft)["output"]["shape"][0].is_null());  // frames: unknown until data flows
  EXPECT_NE((*stft)["plugin"]["file"].get<std::string>().find("libfeatpipe_audio.so"), std::string::npos);

  r = test::run_cli({"validate", pipeline("speech-mfcc.yaml"), "--json"});
  const json m = parse(r);
  EXPECT_EQ(m["streamable"], false);
  EXPECT_NE(m["not_streamable_because"].get<std::string>().find("top_db"), std::string::npos) << m.dump(1);
  EXPECT_EQ(m["frame_rate"], 100.0);

  r = test::run_cli({"validate", pipeline("image-embedding.yaml"), "--json"});
  const json im = parse(r);
  EXPECT_EQ(im["streamable"], false);
  EXPECT_TRUE(im["frame_rate"].is_null());
  EXPECT_TRUE(im["latency_samples"].is_null());
}

TEST(CliValidate, JsonErrorHasItsLocation) {
  test::TempDir dir;
  test::write_text(dir / "bad.yaml",
                   "featpipe: 1\nname: bad\nstages:\n  - use: audio.decode\n  - use: audio.stft\n    with: {n_fft: -3}\n");
  auto r = test::run_cli({"validate", (dir / "bad.yaml").string(), "--json"});
  EXPECT_EQ(r.exit_code, 2);
  const json j = parse(r);
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["error"]["line"], 6) << r.out;
  EXPECT_TRUE(j["error"]["col"].is_number()) << r.out;
  EXPECT_NE(j["error"]["file"].get<std::string>().find("bad.yaml"), std::string::npos) << r.out;
  EXPECT_NE(j["error"]["message"].get<std::string>().find("n_fft"), std::string::npos) << r.out;
}

TEST(CliOptions, ErrorsAreShortAndSayWhatIsExpected) {
  test::TempDir dir;
  const std::string p = pipeline("speech-logmel.yaml"), o = (dir / "o").string();
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"run", p, "x", "-o", o, "-j", "-1"}, "--jobs: expected a whole number of at least 1, got -1"},
      {{"run", p, "x", "-o", o, "-j", "0"}, "--jobs: expected a whole number of at least 1, got 0"},
      {{"run", p, "x", "-o", o, "-j", "two"}, "--jobs: expected a whole number of at least 1, got two"},
      {{"stream", p, "--rate", "16k", "-o", o}, "--rate: expected a number above 0 (Hz, e.g. 16000), got 16k"},
      {{"stream", p, "--rate", "0", "-o", o}, "--rate: expected a number above 0 (Hz, e.g. 16000), got 0"},
      {{"stream", p, "--rate", "16000", "--chunk", "0", "-o", o}, "--chunk: expected a whole number from 1 to"},
      {{"stream", p, "--rate", "16000", "--channels", "0", "-o", o},
       "--channels: expected a whole number from 1 to 64, got 0"},
  };
  for (const auto& c : cases) {
    auto r = test::run_cli(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.message;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("179769"), std::string::npos) << r.err;
  }
}

TEST(CliOptions, HelpShowsDefaults) {
  auto r = test::run_cli({"run", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("-j,--jobs INT:INT >= 1=1 "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("{process,thread}=process"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("physical memory / workers"), std::string::npos) << r.out;  // --max-memory
  r = test::run_cli({"stream", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* d : {"--channels INT:INT in 1..64=1", "{s16le,f32le}=s16le", "=160"})
    EXPECT_NE(r.out.find(d), std::string::npos) << d << "\n" << r.out;
}

TEST(CliVersion, NamesThePluginFolderAndAbi) {
  auto r = test::run_cli({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("featpipe " FEATPIPE_VERSION), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("plugin ABI " FP_ABI_VERSION_STRING), std::string::npos) << r.out;
  const std::string key = "built-in plugins: ";
  const size_t at = r.out.find(key);
  ASSERT_NE(at, std::string::npos) << r.out;
  const fs::path folder = r.out.substr(at + key.size(), r.out.find('\n', at) - at - key.size());
  EXPECT_TRUE(fs::exists(folder / "libfeatpipe_audio.so")) << folder;
}

TEST(CliStream, AnImagePipelineIsPointedToRun) {
  test::TempDir dir;
  auto r = stream_from("printf ''", {pipeline("image-embedding.yaml"), "--rate", "16000", "-o", (dir / "o.npy").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("`featpipe stream` reads raw PCM audio from stdin; "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("starts with image.decode"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("`featpipe run`"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("Session::run"), std::string::npos) << r.err;
}

TEST(CliStream, AWholeInputStepNamesItsParameterAndTheFix) {
  test::TempDir dir;
  auto r = stream_from("printf ''", {pipeline("speech-mfcc.yaml"), "--rate", "16000", "-o", (dir / "o.npy").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("step 4 'audio.db' needs the whole input"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("remove top_db, or set it to null, to stream"), std::string::npos) << r.err;
}

TEST(CliStream, AWavHeaderIsRefusedAndRawPcmStreams) {
  test::TempDir dir;
  const std::string wav = (test::source_dir() / "samples" / "audio" / "speech_espeak_16k.wav").string();
  const std::string out = (dir / "o.npy").string();
  for (const char* chunk : {"160", "1"}) {  // the check does not depend on the push size
    auto r = stream_from("cat " + test::quote(wav),
                         {pipeline("speech-logmel.yaml"), "--rate", "16000", "--chunk", chunk, "-o", out});
    EXPECT_EQ(r.exit_code, 2) << chunk;
    EXPECT_NE(r.err.find("starts with a WAV header"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("sox x.wav -t raw"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("arecord -t raw"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(out)) << "a refused input leaves no output";
  }
  // The same samples without their header: 0.5 s of 16-bit PCM, 50 frames.
  auto r = stream_from("tail -c +45 " + test::quote(wav) + " | head -c 16000",
                       {pipeline("speech-logmel.yaml"), "--rate", "16000", "-o", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("streamed 8000 samples"), std::string::npos) << r.err;
  const auto arr = npy::read(out);
  EXPECT_EQ(arr.shape.size(), 2u);
  EXPECT_GT(arr.shape[0], 0);
}
