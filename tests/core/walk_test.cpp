// The folder walk of `featpipe run` matches the first step's extensions
// whatever their case (x.WAV, y.JPG from cameras and Windows tools), so such
// files are taken, not counted as "other files". Files named on the command
// line are taken whatever their extension, so these inputs sit in a folder.
// Real audio and images through the shipped plugins; each output must equal
// the one made from the same file under its original lower-case name.
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <set>
#include <sstream>

using namespace featpipe;

namespace {

struct Copy {
  fs::path from;     // a sample file with a lower-case extension
  std::string rel;   // where it goes in the input folder
};

// Lays out `copies` (and one file the pipeline does not read) in DIR/in, runs
// PIPELINE on the folder, and checks every copy was taken and gives the same
// bytes as its original.
void check_walk(const test::TempDir& dir, const fs::path& pipeline, const std::vector<Copy>& copies) {
  for (const auto& c : copies) {
    fs::create_directories((dir / "in" / c.rel).parent_path());
    fs::copy_file(c.from, dir / "in" / c.rel);
  }
  test::write_text(dir / "in" / "NOTES.TXT", "not an input");
  auto r = test::run_cli({"run", pipeline.string(), (dir / "in").string(), "-o", (dir / "out").string(), "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string n = std::to_string(copies.size());
  EXPECT_NE(r.err.find(n + " inputs: " + n + " ok, 0 failed, 0 skipped (1 other file not taken)"), std::string::npos)
      << r.err;

  std::set<std::string> outputs, want;
  std::istringstream manifest(test::read_text(dir / "out" / "manifest.jsonl"));
  for (std::string line; std::getline(manifest, line);) {
    auto e = nlohmann::json::parse(line);
    if (e["status"] == "not_taken") {  // NOTES.TXT, listed with why
      EXPECT_EQ(e["input"], (dir / "in" / "NOTES.TXT").string()) << line;
      continue;
    }
    EXPECT_EQ(e["status"], "ok") << line;
    outputs.insert(e["output"].get<std::string>());
  }
  for (const auto& c : copies) {
    want.insert(c.rel + ".npy");
    // The original, named directly, written under its own name.
    const fs::path ref = dir / "ref" / c.rel;
    r = test::run_cli({"run", pipeline.string(), c.from.string(), "-o", ref.string(), "-q"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const fs::path got = dir / "out" / (c.rel + ".npy");
    ASSERT_TRUE(fs::exists(got)) << c.rel << " was not taken";
    EXPECT_EQ(test::read_text(got), test::read_text(ref / (c.from.filename().string() + ".npy"))) << c.rel;
  }
  EXPECT_EQ(outputs, want);
}

TEST(FolderWalk, UpperCaseAudioExtensionsAreTaken) {
  test::TempDir dir;
  const fs::path audio = test::source_dir() / "samples" / "audio";
  check_walk(dir, test::source_dir() / "pipelines" / "speech-logmel.yaml",
             {{audio / "front_center_16k.wav", "x.WAV"},
              {audio / "stereo_48k.flac", "sub/y.Flac"},
              {audio / "speech_8k.wav", "z.wav"}});  // lower case still taken
}

TEST(FolderWalk, UpperCaseImageExtensionsAreTaken) {
  test::TempDir dir;
  test::write_text(dir / "image.yaml",
                   "featpipe: 1\nname: image-walk\nstages:\n  - use: image.decode\n    with: {color: rgb}\n"
                   "  - use: image.resize\n    with: {size: 32}\n  - use: image.center_crop\n    with: {size: 32}\n");
  const fs::path images = test::source_dir() / "samples" / "images";
  check_walk(dir, dir / "image.yaml",
             {{images / "astronaut.jpg", "a.JPG"},
              {images / "chelsea.jpg", "sub/b.JPEG"},
              {images / "digit_3_0.png", "c.Png"},
              {test::source_dir() / "tests" / "image" / "data" / "pixels.tif", "d.TIFF"},
              {images / "rocket.jpg", "e.jpg"}});
}

// The converse: an extension the first step does not list is skipped in a
// folder but taken when the file is named on the command line (the user asked;
// libsndfile reads the content whatever the name).
TEST(FolderWalk, FileNamedDirectlyIsTakenWhateverItsExtension) {
  test::TempDir dir;
  const fs::path pipeline = test::source_dir() / "pipelines" / "speech-logmel.yaml";
  const fs::path wav = test::source_dir() / "samples" / "audio" / "front_center_16k.wav";
  fs::create_directories(dir / "in");
  fs::copy_file(wav, dir / "in" / "take.pcm");
  auto r = test::run_cli({"run", pipeline.string(), (dir / "in").string(), "-o", (dir / "folder").string(), "-q"});
  // Inside a folder it is not taken: with nothing else there, nothing runs.
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("no input to take"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("take.pcm: extension .pcm not read"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "folder" / "take.pcm.npy"));

  r = test::run_cli({"run", pipeline.string(), (dir / "in" / "take.pcm").string(), "-o", (dir / "direct").string(), "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = test::run_cli({"run", pipeline.string(), wav.string(), "-o", (dir / "ref").string(), "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(fs::exists(dir / "direct" / "take.pcm.npy"));
  EXPECT_EQ(test::read_text(dir / "direct" / "take.pcm.npy"), test::read_text(dir / "ref" / "front_center_16k.wav.npy"));
}

}  // namespace
