// The parts behind trustworthy resumes: the manifest writer on a full disk,
// compaction, the resume index's identity check, provenance compared on
// meaning.
#include "batch_support.hpp"
#include "test_support.hpp"

#include "batch/atomic_file.hpp"
#include "batch/manifest.hpp"
#include "batch/npy_folder_sink.hpp"
#include "batch/provenance.hpp"
#include "batch/resume_index.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include <sys/mount.h>

#include <cerrno>
#include <cstring>

using namespace featpipe;
using Status = ManifestEntry::Status;

namespace {

ManifestEntry entry(const std::string& output, Status s = Status::ok) {
  ManifestEntry e;
  e.input = "in/" + output;
  e.output = output;
  e.status = s;
  if (s == Status::ok) e.shape = {1};
  return e;
}

std::vector<std::string> lines_of(const fs::path& p) {
  std::vector<std::string> out;
  std::istringstream is(test::read_text(p));
  for (std::string line; std::getline(is, line);) out.push_back(line);
  return out;
}

// A tmpfs of `bytes` mounted on a fresh folder, unmounted at the end.
class SmallDisk {
 public:
  explicit SmallDisk(size_t bytes) {
    fs::create_directories(dir_ / "m");
    const std::string opts = "size=" + std::to_string(bytes);
    if (::mount("tmpfs", path().c_str(), "tmpfs", 0, opts.c_str()) == 0) mounted_ = true;
    else why_ = std::strerror(errno);
  }
  ~SmallDisk() {
    if (mounted_) ::umount(path().c_str());
  }
  fs::path path() const { return dir_ / "m"; }
  bool mounted() const { return mounted_; }
  const std::string& why() const { return why_; }

 private:
  test::TempDir dir_;
  bool mounted_ = false;
  std::string why_;
};

}  // namespace

TEST(ManifestWrite, AFullDiskFailsTheAppendWithItsErrnoAndTheNextLineStartsAnew) {
  SmallDisk disk(2 * 4096);
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a small tmpfs to fill (needs root): " << disk.why();
  const fs::path path = disk.path() / "manifest.jsonl";
  Manifest m(path.string());
  test::write_text(disk.path() / "filler", std::string(4096, 'f'));  // one page left, for the manifest
  std::string failure;
  int written = 0;
  for (; written < 200 && failure.empty(); ++written) {
    try {
      m.append(entry("input-number-" + std::to_string(written) + ".npy"));
    } catch (const Error& e) {
      failure = e.what();
    }
  }
  ASSERT_FALSE(failure.empty()) << "the disk never filled";
  EXPECT_NE(failure.find("No space left on device"), std::string::npos) << failure;
  fs::remove(disk.path() / "filler");
  m.append(entry("after.npy"));
  auto lines = lines_of(path);
  ASSERT_GE(lines.size(), 2u);
  // The cut line (if the write was short) is alone on its line; ours is whole.
  auto last = ManifestEntry::parse(lines.back());
  ASSERT_TRUE(last) << lines.back();
  EXPECT_EQ(last->output, "after.npy");
  int parsed = 0;
  for (const auto& l : lines) parsed += ManifestEntry::parse(l).has_value();
  EXPECT_EQ(parsed, written);  // every append that returned, and "after"
}

// Fills what is left of the disk at `dir` with one file.
void fill(const fs::path& file) {
  std::ofstream os(file, std::ios::binary);
  const std::string page(4096, 'f');
  while (os.write(page.data(), static_cast<std::streamsize>(page.size())) && os.flush()) {
  }
}

TEST(ManifestWrite, ARunReservesItsLinesSoAFullDiskCannotCutThem) {
  SmallDisk disk(64 * 4096);
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a small tmpfs to fill (needs root): " << disk.why();
  const fs::path path = disk.path() / "manifest.jsonl";
  {
    Manifest m(path.string(), Manifest::reservation(40, 40 * 64));
    fill(disk.path() / "filler");
    // The disk is full, yet every line of the run goes in, whole.
    for (int k = 0; k < 40; ++k) m.append(entry("input-number-" + std::to_string(k) + ".npy"));
    // The rewrite fits in what the unused reservation gives back.
    EXPECT_NO_THROW(m.compact());
    m.append(entry("after-compaction.npy"));  // appends go on in the new file
  }
  auto lines = lines_of(path);
  ASSERT_EQ(lines.size(), 41u);
  for (const auto& l : lines) EXPECT_TRUE(ManifestEntry::parse(l)) << l;
  // Nothing stays reserved once the manifest is closed. (Held, the
  // reservation would leave the filler at most 64 - 10 - 3 pages.)
  fs::remove(disk.path() / "filler");
  fill(disk.path() / "filler");
  EXPECT_GE(fs::file_size(disk.path() / "filler"), 57u * 4096);
}

TEST(ManifestWrite, NoRoomToReserveFailsBeforeAnyLineAndLeavesNoFile) {
  SmallDisk disk(4 * 4096);
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a small tmpfs to fill (needs root): " << disk.why();
  const fs::path path = disk.path() / "manifest.jsonl";
  try {
    Manifest m(path.string(), size_t{1} << 20);
    FAIL() << "a 1 MiB reservation fitted on a 16 KiB disk";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no room for this run's manifest lines"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("No space left on device"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(path));
}

TEST(AtomicWrite, AFullDiskIsNamedAsSuchAndLeavesNoTemporary) {
  SmallDisk disk(4 * 4096);
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a small tmpfs to fill (needs root): " << disk.why();
  const fs::path out = disk.path() / "x.npy";
  try {
    write_atomic(out, [](std::ostream& os) { os << std::string(size_t{1} << 20, 'x'); }, 0);
    FAIL() << "1 MiB fitted on a 16 KiB disk";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("No space left on device"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(fs::is_empty(disk.path())) << "a temporary or a partial output was left";
}

TEST(ManifestWrite, CompactKeepsOneLinePerOutputAndTheOkLineASkipConfirmed) {
  test::TempDir dir;
  const fs::path path = dir / "manifest.jsonl";
  ManifestEntry a = entry("a.npy");
  a.input_bytes = 7;
  test::write_text(path, a.line() + entry("b.npy", Status::error).line() + entry("a.npy", Status::skipped).line() +
                             entry("b.npy").line() + "{\"input\": \"x\", \"outp");
  Manifest m(path.string());
  m.append(entry("c.npy"));
  ManifestEntry refused = entry("a.npy", Status::error);
  refused.error = "output exists";
  m.append(refused, true);  // a's output untouched: its ok line stays
  ManifestEntry failed = entry("c.npy", Status::error);
  failed.error = "corrupt data";
  m.append(failed);  // c's input failed: its line says so
  m.compact();
  auto lines = lines_of(path);
  ASSERT_EQ(lines.size(), 3u);  // the torn line is gone
  // Lines stand in the order of each input's latest line.
  std::map<std::string, ManifestEntry> by_output;
  for (const auto& l : lines) {
    auto e = ManifestEntry::parse(l);
    ASSERT_TRUE(e) << l;
    by_output[e->output] = *e;
  }
  ASSERT_EQ(by_output.size(), 3u);
  EXPECT_EQ(by_output["a.npy"].status, Status::ok);
  EXPECT_EQ(by_output["a.npy"].input_bytes, 7);
  EXPECT_EQ(by_output["b.npy"].status, Status::ok);  // b's latest
  EXPECT_EQ(by_output["c.npy"].error, "corrupt data");
  EXPECT_EQ(ManifestEntry::parse(lines[1])->output, "a.npy");  // its refusal came after b's last line
  EXPECT_EQ(ManifestEntry::parse(lines[2])->output, "c.npy");  // c failed last
}

TEST(ResumeCheck, AnOkLineCountsOnlyWhileInputAndOutputAreAsRecorded) {
  test::TempDir dir;
  test::write_text(dir / "in" / "x.txt", "1 2");
  NpyFolderSink sink(dir / "out");
  Tensor t;
  t.shape = {2};
  t.data = {1, 2};
  const Stored stored = sink.write("x.txt.npy", t, 0);
  EXPECT_EQ(stored.bytes, static_cast<int64_t>(fs::file_size(dir / "out" / "x.txt.npy")));
  ManifestEntry e = entry("x.txt.npy");
  e.shape = t.shape;
  const InputIdentity id = input_identity((dir / "in" / "x.txt").string());
  e.input_bytes = id.bytes;
  e.input_mtime_ns = id.mtime_ns;
  e.output_bytes = sink.bytes_of("x.txt.npy");
  e.output_xxh3 = stored.xxh3;
  ResumeIndex index;
  index.add(e);
  const std::string in = (dir / "in" / "x.txt").string();
  EXPECT_EQ(index.stale("x.txt.npy", in, sink), "");
  fs::last_write_time(in, fs::last_write_time(in) + std::chrono::seconds(5));
  EXPECT_EQ(index.stale("x.txt.npy", in, sink), "input changed");
  ResumeIndex again;
  e.input_mtime_ns = input_identity(in).mtime_ns;
  again.add(e);
  EXPECT_EQ(again.stale("x.txt.npy", in, sink), "");
  {  // one float changed in place: same size, same header
    std::fstream f(dir / "out" / "x.txt.npy", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(stored.bytes - 4));
    const float other = 3;
    f.write(reinterpret_cast<const char*>(&other), 4);
  }
  EXPECT_EQ(again.stale("x.txt.npy", in, sink), "output content differs from what was written (XXH3)");
  fs::resize_file(dir / "out" / "x.txt.npy", 10);
  EXPECT_NE(again.stale("x.txt.npy", in, sink).find("output size 10 bytes"), std::string::npos);
  fs::remove(dir / "out" / "x.txt.npy");
  EXPECT_EQ(again.stale("x.txt.npy", in, sink), "output missing");
}

TEST(Provenance, DifferencesAreNamedAndSpellingIsNot) {
  const std::string a = R"({"featpipe_version":"1","pipeline":{"file":"/a/p.yaml","name":"p","sha256":"aa"},
    "steps":[{"use":"audio.decode","params":{}},{"use":"audio.stft","params":{"hop_length":160,"n_fft":400}}],
    "plugins":[{"file":"/x/audio.so","name":"audio","version":"1.0","sha256":"11"}]})";
  const std::string same = R"({"featpipe_version":"1","pipeline":{"file":"/b/q.yaml","name":"q","sha256":"bb"},
    "steps":[{"use":"audio.decode","params":{}},{"use":"audio.stft","params":{"n_fft":400,"hop_length":160}}],
    "plugins":[{"file":"/y/audio.so","name":"audio","version":"1.0","sha256":"11"}]})";
  EXPECT_EQ(provenance_difference(a, same), "");
  std::string other = same;
  other.replace(other.find("\"hop_length\":160"), 16, "\"hop_length\":200");
  EXPECT_EQ(provenance_difference(a, other), "step 2 'audio.stft' parameter hop_length: 160 -> 200");
  other.replace(other.find("\"sha256\":\"11\""), 13, "\"sha256\":\"22\"");
  EXPECT_EQ(provenance_difference(a, other),
            "plugin 'audio' sha256: \"11\" -> \"22\"; step 2 'audio.stft' parameter hop_length: 160 -> 200");
}
