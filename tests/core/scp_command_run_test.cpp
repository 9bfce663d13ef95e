// `featpipe run --allow-commands`: a wav.scp's piped commands (`UTT-ID CMD |`)
// as inputs. Commands are built from sox writing WAV to stdout; features must
// equal those of the same audio given as a file, failures fail alone, and no
// temporary capture file outlives a run (kill -9 included: the next run's
// sweep).
#include "test_support.hpp"

#include <featpipe/npy.hpp>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <map>
#include <sstream>
#include <thread>

using namespace featpipe;
using nlohmann::json;

namespace {

const fs::path kAudio = test::source_dir() / "samples" / "audio";
const fs::path kPipeline = test::source_dir() / "pipelines" / "kaldi-fbank.yaml";
const std::string kSpeech = (kAudio / "speech_espeak_16k.wav").string();
const std::string kCenter = (kAudio / "front_center_16k.wav").string();

std::string sox_line(const std::string& id, const std::string& file) {
  return id + " sox " + test::quote(file) + " -t wav - |\n";
}

class ScpCommandRun : public ::testing::Test {
 protected:
  test::CmdResult run(const std::string& out, const std::string& scp_text, std::vector<std::string> extra) {
    const fs::path scp = dir / (out + ".scp");
    test::write_text(scp, scp_text);
    std::vector<std::string> args = {"run", kPipeline.string(), "--inputs-from", scp.string(), "-o", (dir / out).string(), "-q"};
    args.insert(args.end(), extra.begin(), extra.end());
    return test::run_cli(args);
  }
  std::map<std::string, json> manifest(const std::string& out, const std::string& name = "manifest.jsonl") {
    std::map<std::string, json> lines;
    std::istringstream is(test::read_text(dir / out / name));
    for (std::string line; std::getline(is, line);) {
      json j = json::parse(line);
      lines[j["utt_id"].get<std::string>()] = j;
    }
    return lines;
  }
  // Capture files (and any other temporary) left anywhere under `out`.
  std::vector<std::string> temporaries(const std::string& out) {
    std::vector<std::string> left;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(dir / out, ec), end; !ec && it != end; it.increment(ec))
      if (it->path().filename().string().find(".tmp-") != std::string::npos) left.push_back(it->path().string());
    return left;
  }
  std::vector<float> features(const std::string& out, const std::string& name) {
    return npy::read((dir / out / name).string()).data;
  }
  test::TempDir dir;
};

// Outputs are renamed into place: a rewritten one is a new inode.
ino_t inode(const fs::path& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 ? st.st_ino : 0;
}

bool bit_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return !a.empty() && a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * 4) == 0;
}

}  // namespace

TEST_F(ScpCommandRun, WithoutTheOptionTheListIsRefusedBeforeAnyWorkNamingLineAndOption) {
  auto r = run("out", "f1 " + kSpeech + "\n" + sox_line("c1", kSpeech), {});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("out.scp:2: utterance c1 is a piped command"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--allow-commands"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "out")) << "a refused list made the output folder";
}

TEST_F(ScpCommandRun, CommandFeaturesEqualTheFilesBitForBitInEveryIsolationAndWorkerCount) {
  const std::string scp = "file1 " + kSpeech + "\nfile2 " + kCenter + "\n" + sox_line("cmd1", kSpeech) +
                          sox_line("cmd2", kCenter);
  const std::vector<std::vector<std::string>> modes = {
      {}, {"-j", "2"}, {"--isolation", "thread"}, {"--isolation", "thread", "-j", "2"}};
  for (size_t k = 0; k < modes.size(); ++k) {
    const std::string out = "out" + std::to_string(k);
    std::vector<std::string> extra = {"--allow-commands"};
    extra.insert(extra.end(), modes[k].begin(), modes[k].end());
    auto r = run(out, scp, extra);
    ASSERT_EQ(r.exit_code, 0) << out << ": " << r.err;
    EXPECT_TRUE(bit_equal(features(out, "cmd1.npy"), features(out, "file1.npy"))) << out;
    EXPECT_TRUE(bit_equal(features(out, "cmd2.npy"), features(out, "file2.npy"))) << out;
    auto m = manifest(out);
    ASSERT_EQ(m.size(), 4u) << out;
    EXPECT_EQ(m["cmd1"]["status"], "ok");
    EXPECT_EQ(m["cmd1"]["input"], "sox " + test::quote(kSpeech) + " -t wav - |");
    EXPECT_FALSE(m["cmd1"].contains("input_bytes")) << "a command has no file to identify";
    EXPECT_TRUE(temporaries(out).empty()) << out << ": " << temporaries(out).front();
  }
}

TEST_F(ScpCommandRun, ArkEntriesOfCommandsEqualThoseOfFiles) {
  auto r = run("ark", "file1 " + kSpeech + "\n" + sox_line("cmd1", kSpeech), {"--allow-commands", "--output-format", "ark"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto m = manifest("ark");
  EXPECT_EQ(m["cmd1"]["output_xxh3"], m["file1"]["output_xxh3"]);
  EXPECT_EQ(m["cmd1"]["shape"], m["file1"]["shape"]);
  EXPECT_TRUE(temporaries("ark").empty());
}

TEST_F(ScpCommandRun, EachFailingCommandFailsAloneWithItsStatusAndStderr) {
  const std::string scp = sox_line("good", kSpeech) +
                          "exits sh -c 'echo decoder broke >&2; exit 3' |\n"
                          "empty true |\n"
                          "garbage echo this is not audio |\n"
                          "missing no-such-program-featpipe -x |\n"
                          "killed kill -9 $$ |\n"
                          "truncated sh -c 'sox " + test::quote(kSpeech) + " -t wav - | head -c 2000' |\n";
  for (const std::string isolation : {"process", "thread"}) {
    const std::string out = "out-" + isolation;
    auto r = run(out, scp, {"--allow-commands", "--isolation", isolation, "-j", "2"});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    auto m = manifest(out);
    ASSERT_EQ(m.size(), 7u) << r.err;
    EXPECT_EQ(m["good"]["status"], "ok");
    EXPECT_TRUE(bit_equal(features(out, "good.npy"), [&] {
      auto d = run("direct-" + isolation, "d " + kSpeech + "\n", {});
      EXPECT_EQ(d.exit_code, 0) << d.err;
      return features("direct-" + isolation, "d.npy");
    }()));
    const std::map<std::string, std::string> expected = {
        {"exits", "the command exited with status 3; its stderr ends: decoder broke"},
        {"empty", "the command printed nothing on stdout"},
        {"garbage", "the command's output was not read: step 1 'audio.decode': cannot decode 'the command's output'"},
        {"missing", "the command exited with status 127"},
        {"killed", "the command was killed by SIGKILL"},
        {"truncated", "the command's output was not read: step 1 'audio.decode': 'the command's output' is truncated"},
    };
    for (const auto& [id, why] : expected) {
      EXPECT_EQ(m[id]["status"], "error") << id;
      const std::string error = m[id]["error"].get<std::string>();
      EXPECT_NE(error.find(why), std::string::npos) << id << ": " << error;
      EXPECT_NE(r.err.find(why), std::string::npos) << id << " not on stderr: " << r.err;
      EXPECT_FALSE(fs::exists(dir / out / (id + ".npy"))) << id;
    }
    EXPECT_NE(m["missing"]["error"].get<std::string>().find("no-such-program-featpipe: not found"), std::string::npos)
        << m["missing"]["error"];
    EXPECT_TRUE(temporaries(out).empty()) << out << ": " << temporaries(out).front();
  }
}

TEST_F(ScpCommandRun, AHangingCommandIsKilledAtTheTimeoutAndFailsAlone) {
  auto r = run("out", sox_line("good", kSpeech) + "hangs sh -c 'echo waiting >&2; exec sleep 60' |\n",
               {"--allow-commands", "--command-timeout", "0.5"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  auto m = manifest("out");
  EXPECT_EQ(m["good"]["status"], "ok");
  EXPECT_NE(m["hangs"]["error"].get<std::string>().find("ran over --command-timeout (0.5 s) and was killed; its stderr ends: waiting"),
            std::string::npos)
      << m["hangs"]["error"];
  EXPECT_TRUE(temporaries("out").empty());
}

TEST_F(ScpCommandRun, ResumeRedoesCommandsAndSkipsUnchangedFiles) {
  const std::string scp = "file1 " + kSpeech + "\n" + sox_line("cmd1", kCenter);
  ASSERT_EQ(run("out", scp, {"--allow-commands"}).exit_code, 0);
  const ino_t file_ino = inode(dir / "out" / "file1.npy"), cmd_ino = inode(dir / "out" / "cmd1.npy");
  ASSERT_NE(cmd_ino, 0u);
  auto r = run("out", scp, {"--allow-commands", "--resume"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto m = manifest("out");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m["file1"]["status"], "ok");
  EXPECT_EQ(m["cmd1"]["status"], "ok");
  EXPECT_EQ(inode(dir / "out" / "file1.npy"), file_ino) << "an unchanged file input was redone";
  EXPECT_NE(inode(dir / "out" / "cmd1.npy"), cmd_ino) << "a command input is redone: there is no file to compare";
  auto d = run("direct", "d " + kCenter + "\n", {});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  EXPECT_TRUE(bit_equal(features("out", "cmd1.npy"), features("direct", "d.npy")));
  // A command that now fails: its input fails, the run exits 1, its old
  // output is no longer listed as ok.
  r = run("out", "file1 " + kSpeech + "\ncmd1 false |\n", {"--allow-commands", "--resume"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  m = manifest("out");
  EXPECT_EQ(m["cmd1"]["status"], "error");
  EXPECT_EQ(m["file1"]["status"], "ok");
  EXPECT_EQ(inode(dir / "out" / "file1.npy"), file_ino);
  // Without --resume or --overwrite a command's existing output is refused.
  r = run("out", sox_line("cmd1", kCenter), {"--allow-commands"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("exists"), std::string::npos) << r.err;
}

TEST_F(ScpCommandRun, ShardsSplitCommandsByTheirIds) {
  std::string scp;
  for (int k = 0; k < 6; ++k) scp += sox_line("utt" + std::to_string(k), k % 2 ? kSpeech : kCenter);
  size_t total = 0;
  for (int s = 0; s < 2; ++s) {
    auto r = run("out", scp, {"--allow-commands", "--shard", std::to_string(s) + "/2"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    for (const auto& [id, line] : manifest("out", "manifest-" + std::to_string(s) + "-of-2.jsonl")) {
      EXPECT_EQ(line["status"], "ok") << id;
      EXPECT_TRUE(fs::exists(dir / "out" / (id + ".npy"))) << id;
      ++total;
    }
  }
  EXPECT_EQ(total, 6u) << "the shards did not split the commands between them";
}

// kill -9 of the run (its whole process group, as ark_kill_test.py does)
// while a command is running: the capture file is left, and the next run
// into the folder removes it; the command itself does not outlive its worker.
TEST_F(ScpCommandRun, KilledRunsLeaveNoCaptureFileAfterTheNextRun) {
  const fs::path scp = dir / "hang.scp";
  // `exec`: the command is the process its worker's death kills (a process
  // the command starts is not; it ends on its own).
  test::write_text(scp, "hangs echo started; exec sleep 60 |\n");
  const fs::path out = dir / "out";
  const std::string cli = FEATPIPE_CLI;
  for (const std::string isolation : {"process", "thread"}) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::setpgid(0, 0);
      const int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 2);
      ::execl(cli.c_str(), cli.c_str(), "run", kPipeline.c_str(), "--inputs-from", scp.c_str(), "-o", out.c_str(), "-q",
              "--allow-commands", "--overwrite", "--isolation", isolation.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::setpgid(pid, pid);
    // Wait (bounded) until the command's capture file exists: the command runs.
    bool seen = false;
    for (int k = 0; k < 600 && !seen; ++k) {
      seen = !temporaries("out").empty();
      if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::kill(-pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(seen) << isolation << ": the capture file never appeared";
    ASSERT_TRUE(WIFSIGNALED(status)) << isolation;
    // The next run (any list) sweeps what the dead one left.
    auto r = run("out", sox_line("good", kSpeech), {"--allow-commands", "--resume"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(temporaries("out").empty()) << isolation << ": " << temporaries("out").front();
    EXPECT_NE(r.err.find("removed"), std::string::npos) << r.err;
  }
}
