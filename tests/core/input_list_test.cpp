// `run --inputs-from`: plain path lists and Kaldi wav.scp files, their
// refusals (naming the lines) and the inputs that fail alone.
#include "test_support.hpp"

#include "batch/input_list_file.hpp"
#include "batch/plan.hpp"
#include "batch_support.hpp"

#include <gtest/gtest.h>

#include <sstream>

using namespace featpipe;

namespace {

InputList read(const std::string& text, const std::string& name, ListForm form = ListForm::automatic) {
  std::istringstream is(text);
  return read_input_list(is, name, form, {"wav"}, {});
}

std::string refusal(const std::string& text, const std::string& name = "wav.scp") {
  try {
    read(text, name);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(InputListFile, ScpIdsNameTheInputsAndPathsKeepTheirSpaces) {
  test::TempDir dir;
  test::write_text(dir / "a.wav", "x");
  test::write_text(dir / "my b.wav", "x");
  const std::string text = "utt1 " + (dir / "a.wav").string() + "\n\n  utt2\t " + (dir / "my b.wav").string() + "  \r\n";
  InputList l = read(text, "data/wav.scp");
  ASSERT_EQ(l.files.size(), 2u);
  EXPECT_EQ(l.files[0].key, "utt1");
  EXPECT_EQ(l.files[0].rel, "utt1");
  EXPECT_EQ(l.files[0].path, (dir / "a.wav").string());
  EXPECT_EQ(l.files[1].key, "utt2");
  EXPECT_EQ(l.files[1].path, (dir / "my b.wav").string());
  EXPECT_TRUE(l.files[0].error.empty());
  EXPECT_TRUE(l.not_taken_list.empty());
}

TEST(InputListFile, ScpMissingFileFailsAloneAsAnInput) {
  InputList l = read("utt1 /no/such/file.wav\n", "wav.scp");
  ASSERT_EQ(l.files.size(), 1u);
  EXPECT_EQ(l.files[0].error, "no such file");
  test::MemorySink sink;
  Plan p = plan_jobs(l, {}, sink, {});
  ASSERT_EQ(p.jobs.size(), 1u);
  EXPECT_EQ(p.jobs[0].action, Job::Action::fail);
  EXPECT_EQ(p.jobs[0].error, "no such file");
  EXPECT_EQ(p.jobs[0].key, "utt1");
  EXPECT_EQ(p.jobs[0].output, "utt1.mem");
}

TEST(InputListFile, PipedCommandsAreRefusedNamingTheLine) {
  const std::string why = refusal("utt1 /a.wav\nutt2 sox x.flac -t wav - |\n");
  EXPECT_NE(why.find("wav.scp:2: utterance utt2 is a piped command (sox x.flac -t wav - |)"), std::string::npos) << why;
  EXPECT_NE(why.find("nothing was run"), std::string::npos) << why;
  EXPECT_NE(refusal("utt1 -\n").find("wav.scp:1: utterance utt1 reads stdin"), std::string::npos);
  // A wav.scp read from stdin names its lines so.
  try {
    read("u cat x |\n", "-", ListForm::scp);
    FAIL() << "a piped command was taken";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("stdin:1: utterance u is a piped command"), std::string::npos) << e.what();
  }
}

TEST(InputListFile, DuplicateIdsAreRefusedNamingBothLines) {
  const std::string why = refusal("a /x.wav\nb /y.wav\na /z.wav\n");
  EXPECT_NE(why.find("wav.scp:3: utterance id a again (first on line 1)"), std::string::npos) << why;
}

TEST(InputListFile, BadLinesAreRefusedEachNamed) {
  const std::string why = refusal("lonely\nok /a.wav\n../up /b.wav\n/abs /c.wav\nx//y /d.wav\n");
  EXPECT_NE(why.find("4 lines refused"), std::string::npos) << why;
  EXPECT_NE(why.find("wav.scp:1: utterance lonely has no path"), std::string::npos) << why;
  EXPECT_NE(why.find("wav.scp:3: utterance id ../up cannot name an output"), std::string::npos) << why;
  EXPECT_NE(why.find("wav.scp:4: utterance id /abs cannot name an output: it starts with /"), std::string::npos) << why;
  EXPECT_NE(why.find("wav.scp:5: utterance id x//y cannot name an output"), std::string::npos) << why;
  // Subfolders are fine: spk1/utt1 -> spk1/utt1.npy.
  EXPECT_EQ(read("spk1/utt1 /a.wav\n", "wav.scp").files.at(0).rel, "spk1/utt1");
}

TEST(InputListFile, FormIsScpByNameOrByOption) {
  test::TempDir dir;
  test::write_text(dir / "a.wav", "x");
  const std::string line = "utt1 " + (dir / "a.wav").string() + "\n";
  // Not named .scp: a path list, whose one path (with a space) does not exist.
  InputList as_paths = read(line, "list.txt");
  ASSERT_EQ(as_paths.files.size(), 1u);
  EXPECT_EQ(as_paths.files[0].path, line.substr(0, line.size() - 1));
  EXPECT_EQ(as_paths.files[0].error, "no such file");
  InputList as_scp = read(line, "-", ListForm::scp);
  ASSERT_EQ(as_scp.files.size(), 1u);
  EXPECT_EQ(as_scp.files[0].key, "utt1");
  EXPECT_EQ(read(line, "wav.scp", ListForm::paths).files.at(0).key, "");
}

TEST(InputListFile, PathListTakesLinesAsArgumentsWithMissingOnesFailingAlone) {
  test::TempDir dir;
  test::write_text(dir / "in" / "sub" / "a.wav", "x");
  test::write_text(dir / "in" / "notes.txt", "x");
  test::write_text(dir / "b.wav", "x");
  const std::string text = (dir / "in").string() + "\n" + (dir / "b.wav").string() + "\r\n\n" + (dir / "gone.wav").string() + "\n";
  InputList l = read(text, "list.txt");
  ASSERT_EQ(l.files.size(), 3u);
  EXPECT_EQ(l.files[0].rel, "sub/a.wav");  // a folder is walked
  EXPECT_EQ(l.files[1].rel, "b.wav");
  EXPECT_TRUE(l.files[1].error.empty());
  EXPECT_EQ(l.files[2].rel, "gone.wav");
  EXPECT_EQ(l.files[2].error, "no such file");
  EXPECT_EQ(l.not_taken, 1u);  // notes.txt
}

TEST(InputListFile, UnreadableListIsAnError) {
  EXPECT_THROW(read_input_list("/no/such/list.scp", ListForm::automatic, {"wav"}, {}), Error);
}

TEST(InputListFile, PipedCommandsAreInputsWhenAllowed) {
  std::istringstream is("c1 sox x.flac -t wav - |\nf1 /no/such.wav\n");
  ListOptions lo;
  lo.allow_commands = true;
  const InputList l = read_input_list(is, "wav.scp", ListForm::automatic, {"wav"}, lo);
  ASSERT_EQ(l.files.size(), 2u);
  EXPECT_TRUE(l.files[0].command);
  EXPECT_EQ(l.files[0].path, "sox x.flac -t wav - |");
  EXPECT_EQ(l.files[0].key, "c1");
  EXPECT_EQ(l.files[0].error, "") << "a command is not a file to find";
  EXPECT_FALSE(l.files[1].command);
  EXPECT_EQ(l.files[1].error, "no such file");
  std::istringstream empty("c1  |\n");
  try {
    read_input_list(empty, "wav.scp", ListForm::automatic, {"wav"}, lo);
    FAIL() << "an empty command was taken";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("wav.scp:1: utterance c1 has an empty command"), std::string::npos) << e.what();
  }
}
