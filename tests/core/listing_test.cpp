// Listing inputs so that every path given or found is accounted for: taken,
// or not taken with why (and whether it was meant as an input); names kept
// as bytes; colliding outputs refused at once; leftovers of dead runs removed.
#include "batch_support.hpp"
#include "test_support.hpp"

#include "batch/inputs.hpp"
#include "batch/manifest_entry.hpp"
#include "batch/names.hpp"
#include "batch/plan.hpp"
#include "batch/stale_tmp.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <functional>

using namespace featpipe;

namespace {

const std::vector<std::string> kTxt = {"txt"};

const NotTaken* find_not_taken(const InputList& l, const fs::path& p) {
  for (const auto& n : l.not_taken_list)
    if (n.path == p.string()) return &n;
  return nullptr;
}

// Runs `body` as an unprivileged user when we are root (root reads any
// folder), in a child; true when it returned true.
bool as_unprivileged(const std::function<bool()>& body) {
  if (geteuid() != 0) return body();
  pid_t pid = fork();
  if (pid == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(3);
    _exit(body() ? 0 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

TEST(Walk, OtherExtensionsAreListedButNotMissed) {
  test::TempDir dir;
  test::write_text(dir / "in" / "a.txt", "1");
  test::write_text(dir / "in" / "notes.md", "x");
  InputList l = list_inputs({(dir / "in").string()}, kTxt);
  ASSERT_EQ(l.files.size(), 1u);
  EXPECT_EQ(l.not_taken, 1u);
  const NotTaken* n = find_not_taken(l, dir / "in" / "notes.md");
  ASSERT_NE(n, nullptr);
  EXPECT_FALSE(n->missed);
  EXPECT_NE(n->reason.find(".md"), std::string::npos) << n->reason;
}

TEST(Walk, AnUnreadableFolderFoundOrGivenIsMissed) {
  test::TempDir dir;
  test::write_text(dir / "in" / "a.txt", "1");
  test::write_text(dir / "in" / "locked" / "b.txt", "2");
  test::write_text(dir / "alone" / "c.txt", "3");
  fs::permissions(dir.path(), fs::perms::all);
  fs::permissions(dir / "in", fs::perms::all);
  fs::permissions(dir / "in" / "locked", fs::perms::none);
  fs::permissions(dir / "alone", fs::perms::none);
  const std::string in = (dir / "in").string(), alone = (dir / "alone").string();
  const std::string locked = (dir / "in" / "locked").string();
  EXPECT_TRUE(as_unprivileged([&] {
    InputList l = list_inputs({in, alone}, kTxt);
    const NotTaken* a = find_not_taken(l, locked);
    const NotTaken* b = find_not_taken(l, alone);
    return l.files.size() == 1 && a && a->missed && a->reason.find("unreadable folder") == 0 && b && b->missed;
  }));
  fs::permissions(dir / "in" / "locked", fs::perms::owner_all);
  fs::permissions(dir / "alone", fs::perms::owner_all);
}

TEST(Walk, DanglingAndLoopingLinksAndFifosWithAReadExtensionAreMissed) {
  test::TempDir dir;
  test::write_text(dir / "in" / "a.txt", "1");
  fs::create_symlink(dir / "nowhere.txt", dir / "in" / "gone.txt");
  fs::create_symlink(dir / "in" / "loop.txt", dir / "in" / "loop.txt");
  fs::create_symlink(dir / "nowhere", dir / "in" / "gone.md");
  ASSERT_EQ(mkfifo((dir / "in" / "pipe.txt").c_str(), 0600), 0);
  InputList l = list_inputs({(dir / "in").string()}, kTxt);
  ASSERT_EQ(l.files.size(), 1u);
  const NotTaken* gone = find_not_taken(l, dir / "in" / "gone.txt");
  const NotTaken* loop = find_not_taken(l, dir / "in" / "loop.txt");
  const NotTaken* md = find_not_taken(l, dir / "in" / "gone.md");
  const NotTaken* pipe = find_not_taken(l, dir / "in" / "pipe.txt");
  ASSERT_TRUE(gone && loop && md && pipe);
  EXPECT_TRUE(gone->missed);
  EXPECT_EQ(gone->reason, "dangling symbolic link");
  EXPECT_TRUE(loop->missed);
  EXPECT_EQ(loop->reason, "symbolic link loop");
  EXPECT_FALSE(md->missed);  // not a name the pipeline reads
  EXPECT_TRUE(pipe->missed);
  EXPECT_NE(pipe->reason.find("FIFO"), std::string::npos) << pipe->reason;
  // A dangling link given by name is missed whatever its name.
  InputList given = list_inputs({(dir / "in" / "gone.md").string()}, kTxt);
  ASSERT_EQ(given.not_taken_list.size(), 1u);
  EXPECT_TRUE(given.not_taken_list[0].missed);
}

TEST(Walk, OutputFoldersAreNotWalked) {
  test::TempDir dir;
  test::write_text(dir / "in" / "a.txt", "1");
  test::write_text(dir / "in" / "out" / "x.txt", "made by us");
  test::write_text(dir / "in" / "old" / "provenance.json", "{}");
  test::write_text(dir / "in" / "old" / "y.txt", "made by an earlier run");
  ListOptions lo;
  lo.outdir = (dir / "in" / "." / "out").string();  // spelled otherwise: the same folder
  InputList l = list_inputs({(dir / "in").string()}, kTxt, lo);
  ASSERT_EQ(l.files.size(), 1u);
  EXPECT_EQ(l.files[0].rel, "a.txt");
  const NotTaken* out = find_not_taken(l, dir / "in" / "out");
  const NotTaken* old = find_not_taken(l, dir / "in" / "old");
  ASSERT_TRUE(out && old);
  EXPECT_TRUE(out->folder && !out->missed);
  EXPECT_TRUE(old->folder && !old->missed);
}

TEST(Walk, NamesThatAreNotUtf8StayBytesAndRoundTripThroughTheManifest) {
  test::TempDir dir;
  const std::string latin1 = "caf\xE9.txt";
  test::write_text(dir / "in" / latin1, "1");
  InputList l = list_inputs({(dir / "in").string()}, kTxt);
  ASSERT_EQ(l.files.size(), 1u);
  EXPECT_EQ(l.files[0].rel, latin1);
  ManifestEntry e;
  e.input = l.files[0].path;
  e.output = l.files[0].rel + ".npy";
  auto back = ManifestEntry::parse(e.line());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->input, e.input);
  EXPECT_EQ(back->output, latin1 + ".npy");
  // UTF-8 names keep the line as it was: no extra keys.
  e.input = "caf\xC3\xA9.txt";
  e.output = "caf\xC3\xA9.txt.npy";
  EXPECT_EQ(e.line().find("_b64"), std::string::npos) << e.line();
}

TEST(Walk, NotTakenLinesParseAndNeverCountAsDone) {
  ManifestEntry e;
  e.input = "in/gone.txt";
  e.status = ManifestEntry::Status::not_taken;
  e.reason = "dangling symbolic link";
  auto back = ManifestEntry::parse(e.line());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->status, ManifestEntry::Status::not_taken);
  EXPECT_EQ(back->reason, e.reason);
  ResumeIndex index;
  index.add(*back);
  EXPECT_EQ(index.find(""), nullptr);
}

TEST(Names, Base64RoundTripsEveryByte) {
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  for (size_t n : {0u, 1u, 2u, 3u, 4u, 255u, 256u}) {
    auto back = util::unbase64(util::base64(all.substr(0, n)));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, all.substr(0, n));
  }
  EXPECT_EQ(util::base64("caf\xE9"), "Y2Fm6Q==");
  EXPECT_FALSE(util::unbase64("Y2Fm6Q="));
  EXPECT_FALSE(util::unbase64("Y2=m6Q=="));
}

TEST(Names, PrintableEscapesWhatCouldForgeALine) {
  EXPECT_EQ(util::printable("a\nerror: forged"), "a\\nerror: forged");
  EXPECT_EQ(util::printable("t\tr\r\x1b[2Jz\x7f"), "t\\tr\\r\\x1B[2Jz\\x7F");
  EXPECT_EQ(util::printable("caf\xE9"), "caf\\xE9");
  EXPECT_EQ(util::printable("caf\xC3\xA9 \\"), "caf\xC3\xA9 \\\\");
  EXPECT_FALSE(util::valid_utf8("\xED\xA0\x80"));  // a surrogate
  EXPECT_FALSE(util::valid_utf8("\xC0\xAF"));      // overlong
  EXPECT_TRUE(util::valid_utf8("caf\xC3\xA9 \xF0\x9F\x8E\xB5"));
}

TEST(Collisions, AllAreRefusedAtOnce) {
  test::MemorySink sink;
  InputList l;
  l.files = {{"a/x.txt", "x.txt"}, {"b/x.txt", "x.txt"}, {"a/y.txt", "y.txt"}, {"c/y.txt", "y.txt"}, {"a/z.txt", "z.txt"}};
  try {
    refuse_collisions(l, sink);
    FAIL() << "not refused";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("2 inputs have"), std::string::npos) << m;
    EXPECT_NE(m.find("a/x.txt and b/x.txt -> x.txt.mem"), std::string::npos) << m;
    EXPECT_NE(m.find("a/y.txt and c/y.txt -> y.txt.mem"), std::string::npos) << m;
    EXPECT_EQ(m.find("z.txt"), std::string::npos) << m;
  }
  l.files.resize(1);
  EXPECT_NO_THROW(refuse_collisions(l, sink));
}

TEST(StaleTemporaries, OnlyThoseOfDeadProcessesOfThisHostGo) {
  test::TempDir dir;
  pid_t child = fork();
  if (child == 0) _exit(0);
  waitpid(child, nullptr, 0);  // reaped: its pid names no process now
  const std::string dead = std::to_string(child), live = std::to_string(getpid());
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  const fs::path stale_old = dir / "sub" / (".a.npy.tmp-" + dead + "-0");
  const fs::path stale_new = dir / (".b.npy.tmp-" + dead + "-1@" + host);
  const fs::path alive = dir / (".c.npy.tmp-" + live + "-0@" + host);
  const fs::path other_host = dir / (".d.npy.tmp-" + dead + "-0@another-machine");
  const fs::path output = dir / "e.npy";
  for (const auto& p : {stale_old, stale_new, alive, other_host, output}) test::write_text(p, "x");
  auto removed = remove_stale_temporaries(dir.path().string());
  EXPECT_EQ(removed.size(), 2u);
  EXPECT_FALSE(fs::exists(stale_old));
  EXPECT_FALSE(fs::exists(stale_new));
  EXPECT_TRUE(fs::exists(alive));
  EXPECT_TRUE(fs::exists(other_host));
  EXPECT_TRUE(fs::exists(output));
}
