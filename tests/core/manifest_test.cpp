// The manifest's typed entry (its line format is what users' scripts read),
// the appending writer, and the resume index read back from manifests.
#include "test_support.hpp"

#include "batch/manifest.hpp"
#include "batch/resume_index.hpp"

#include <gtest/gtest.h>

using namespace featpipe;
using Status = ManifestEntry::Status;

TEST(ManifestEntry, LineFormat) {
  ManifestEntry ok;
  ok.input = "in/sub/a.wav";
  ok.output = "sub/a.wav.npy";
  ok.shape = {98, 80};
  ok.axes = {"frame", "mel"};
  ok.seconds = 0.25;
  ok.media_seconds = 1;
  EXPECT_EQ(ok.line(),
            "{\"axes\":[\"frame\",\"mel\"],\"error\":null,\"input\":\"in/sub/a.wav\",\"output\":\"sub/a.wav.npy\","
            "\"seconds\":0.25,\"shape\":[98,80],\"status\":\"ok\"}\n");
  ManifestEntry bad = ok;
  bad.status = Status::error;
  bad.error = "step 1 'audio.decode': not a WAV";
  EXPECT_EQ(bad.line(),
            "{\"error\":\"step 1 'audio.decode': not a WAV\",\"input\":\"in/sub/a.wav\",\"output\":\"sub/a.wav.npy\","
            "\"seconds\":0.25,\"status\":\"error\"}\n");
  ManifestEntry skipped = ok;
  skipped.status = Status::skipped;
  EXPECT_EQ(skipped.to_json().dump(),
            "{\"error\":null,\"input\":\"in/sub/a.wav\",\"output\":\"sub/a.wav.npy\",\"seconds\":0.25,\"status\":\"skipped\"}");
  // Bytes that are not UTF-8 (a Latin-1 file name) do not break the line.
  ManifestEntry latin = ok;
  latin.input = "in/caf\xe9.wav";
  EXPECT_NE(latin.line().find("caf\xef\xbf\xbd.wav"), std::string::npos) << latin.line();
}

TEST(ManifestEntry, RoundTrip) {
  ManifestEntry e;
  e.input = "x.wav";
  e.output = "x.wav.npy";
  e.shape = {3, 4};
  e.axes = {"a", "b"};
  e.seconds = 1.5;
  auto back = ManifestEntry::parse(e.line());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->input, e.input);
  EXPECT_EQ(back->output, e.output);
  EXPECT_EQ(back->status, Status::ok);
  EXPECT_EQ(back->shape, e.shape);
  EXPECT_EQ(back->axes, e.axes);
  EXPECT_TRUE(back->error.empty());
  EXPECT_DOUBLE_EQ(back->seconds, 1.5);
  e.status = Status::error;
  e.error = "boom";
  back = ManifestEntry::parse(e.line());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->status, Status::error);
  EXPECT_EQ(back->error, "boom");
  EXPECT_TRUE(back->shape.empty());

  EXPECT_FALSE(ManifestEntry::parse("{\"input\": \"x\", \"outp"));                      // torn
  EXPECT_FALSE(ManifestEntry::parse("[1, 2]"));                                          // not an object
  EXPECT_FALSE(ManifestEntry::parse("{\"output\": 3, \"status\": \"ok\"}"));             // no string output
  EXPECT_FALSE(ManifestEntry::parse("{\"output\": \"x.npy\", \"status\": \"maybe\"}"));  // unknown status
  EXPECT_FALSE(ManifestEntry::parse("{\"output\": \"x.npy\"}"));
}

// The features' sample rate, on ok lines only and only when they carry one
// (so lines of tensor or image pipelines read as before); it survives the
// round trip worker processes make.
TEST(ManifestEntry, SampleRateWhenTheFeaturesCarryOne) {
  ManifestEntry ok;
  ok.input = "a.wav";
  ok.output = "a.wav.npy";
  ok.shape = {98, 80};
  ok.axes = {"frame", "mel"};
  ok.seconds = 0.25;
  ok.sample_rate = 16000;
  EXPECT_EQ(ok.line(),
            "{\"axes\":[\"frame\",\"mel\"],\"error\":null,\"input\":\"a.wav\",\"output\":\"a.wav.npy\","
            "\"sample_rate\":16000,\"seconds\":0.25,\"shape\":[98,80],\"status\":\"ok\"}\n");
  auto back = ManifestEntry::parse(ok.line());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->sample_rate, 16000);
  ok.sample_rate = 100.5;  // a frame rate of a hop that does not divide
  EXPECT_NE(ok.line().find("\"sample_rate\":100.5,"), std::string::npos) << ok.line();
  ManifestEntry bad = ok;
  bad.status = Status::error;
  bad.error = "boom";
  EXPECT_EQ(bad.line().find("sample_rate"), std::string::npos) << bad.line();
  ok.sample_rate = 0;
  EXPECT_EQ(ok.line().find("sample_rate"), std::string::npos) << ok.line();
  back = ManifestEntry::parse(ok.line());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->sample_rate, 0);
}

TEST(Manifest, AppendsWholeLinesAfterATornOne) {
  test::TempDir dir;
  const fs::path path = dir / "manifest.jsonl";
  test::write_text(path, "{\"input\": \"x\", \"outp");
  ManifestEntry e;
  e.input = "a";
  e.output = "a.npy";
  {
    Manifest m(path.string());
    m.append(e);
    m.append(e);
  }
  EXPECT_EQ(test::read_text(path), "{\"input\": \"x\", \"outp\n" + e.line() + e.line());
  EXPECT_THROW(Manifest((dir / "no" / "m.jsonl").string()), Error);
  EXPECT_EQ(manifest_name(0, 1), "manifest.jsonl");
  EXPECT_EQ(manifest_name(2, 3), "manifest-2-of-3.jsonl");
}

TEST(ResumeIndex, AnyShardsOkLineMakesAnOutputDone) {
  test::TempDir dir;
  auto line = [](const std::string& output, Status s) {
    ManifestEntry e;
    e.input = "/elsewhere/" + output;
    e.output = output;
    e.status = s;
    if (s == Status::ok) e.shape = {static_cast<int64_t>(output.size())};
    return e.line();
  };
  test::write_text(dir / "manifest-0-of-2.jsonl", line("a.npy", Status::ok) + line("b.npy", Status::error) +
                                                      line("c.npy", Status::error) + "{\"torn");
  test::write_text(dir / "manifest-1-of-2.jsonl", line("c.npy", Status::ok) + line("d.npy", Status::skipped) +
                                                      line("a.npy", Status::error));
  test::write_text(dir / "manifest.jsonl", line("e.npy", Status::skipped) + line("e.npy", Status::ok) +
                                               line("e.npy", Status::skipped));
  test::write_text(dir / "notes.jsonl", line("f.npy", Status::ok));      // not a manifest
  test::write_text(dir / "manifest.json", line("g.npy", Status::ok));    // not .jsonl
  ResumeIndex index = ResumeIndex::read(dir.path().string());
  EXPECT_TRUE(index.done("a.npy"));  // a later failure leaves the earlier output intact
  EXPECT_FALSE(index.done("b.npy"));
  EXPECT_TRUE(index.done("c.npy"));
  EXPECT_TRUE(index.done("d.npy"));
  EXPECT_TRUE(index.done("e.npy"));
  EXPECT_FALSE(index.done("f.npy"));
  EXPECT_FALSE(index.done("g.npy"));
  EXPECT_EQ(index.size(), 4u);
  // The ok line is kept over skipped ones: it holds the shape.
  ASSERT_NE(index.find("e.npy"), nullptr);
  EXPECT_EQ(index.find("e.npy")->status, Status::ok);
  EXPECT_EQ(index.find("e.npy")->shape, (std::vector<int64_t>{5}));
  EXPECT_EQ(index.find("a.npy")->input, "/elsewhere/a.npy");
  EXPECT_EQ(index.find("b.npy"), nullptr);
  EXPECT_EQ(ResumeIndex::read((dir / "missing").string()).size(), 0u);
}
