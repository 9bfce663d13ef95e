// Every pipeline-file mistake is reported with file:line:col of its node.
#include "test_support.hpp"

#include <gtest/gtest.h>

using namespace featpipe;

namespace {

LoadOptions fixtures_only() {
  LoadOptions o;
  o.builtin_plugins = false;
  o.plugin_files = {FIXTURE_STAGES};
  return o;
}

// The error message parse() throws for `yaml`, or "" when it loads.
std::string load_error(const std::string& yaml) {
  try {
    Pipeline::parse(yaml, "p.yaml", "/tmp", fixtures_only());
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

const char* kHead = "featpipe: 1\nname: t\nstages:\n  - use: test.read\n";

}  // namespace

TEST(Loader, ValidPipelineLoadsWithShapes) {
  auto p = Pipeline::parse(std::string(kHead) + "  - use: test.frame\n    with: {size: 4}\n", "p.yaml", "/tmp",
                           fixtures_only());
  ASSERT_EQ(p->steps().size(), 2u);
  EXPECT_EQ(p->steps()[1].output.axes_text(), "[frame=?, sample=4]");
  EXPECT_TRUE(p->has_source());
  EXPECT_EQ(p->extensions(), std::vector<std::string>{"txt"});
  EXPECT_FALSE(p->batch_only_step().has_value());
  EXPECT_DOUBLE_EQ(p->latency_samples(), 3.0);  // frames of 4 need 3 samples of look-ahead
}

TEST(Loader, UnknownStageOffersClosestNames) {
  std::string e = load_error(std::string(kHead) + "  - use: test.gian\n");
  EXPECT_EQ(e.rfind("p.yaml:5:10: unknown stage 'test.gian'", 0), 0u) << e;
  EXPECT_NE(e.find("did you mean test.gain"), std::string::npos) << e;
}

TEST(Loader, UnknownParameterListsAcceptedOnes) {
  std::string e = load_error(std::string(kHead) + "  - use: test.gain\n    with:\n      factr: 2\n");
  EXPECT_EQ(e.rfind("p.yaml:7:7: step 2 'test.gain': unknown parameter 'factr' (did you mean 'factor'?)", 0), 0u) << e;
  EXPECT_NE(e.find("factor, repeat, flag, mode, axis, weights, label"), std::string::npos) << e;
}

TEST(Loader, WrongTypes) {
  std::string e = load_error(std::string(kHead) + "  - use: test.gain\n    with: {factor: loud}\n");
  EXPECT_EQ(e.rfind("p.yaml:6:20: step 2 'test.gain': 'factor' must be a number, got 'loud'", 0), 0u) << e;
  e = load_error(std::string(kHead) + "  - use: test.gain\n    with: {repeat: 1.5}\n");
  EXPECT_EQ(e.rfind("p.yaml:6:20: step 2 'test.gain': 'repeat' must be an integer, got '1.5'", 0), 0u) << e;
  e = load_error(std::string(kHead) + "  - use: test.gain\n    with: {flag: maybe}\n");
  EXPECT_EQ(e.rfind("p.yaml:6:18: step 2 'test.gain': 'flag' must be true or false", 0), 0u) << e;
  e = load_error(std::string(kHead) + "  - use: test.gain\n    with: {mode: bb}\n");
  EXPECT_EQ(e.rfind("p.yaml:6:18: step 2 'test.gain': 'mode' must be one of a|b|c, got 'bb' (did you mean 'b'?)", 0), 0u) << e;
  e = load_error(std::string(kHead) + "  - use: test.gain\n    with: {weights: {a: 1}}\n");
  EXPECT_EQ(e.rfind("p.yaml:6:21: step 2 'test.gain': 'weights' must be a list", 0), 0u) << e;
  e = load_error(std::string(kHead) + "  - use: test.gain\n    with: {factor: null}\n");
  EXPECT_EQ(e.rfind("p.yaml:6:20: step 2 'test.gain': 'factor' must not be null", 0), 0u) << e;
}

// YAML scalars are untyped to yaml-cpp; a quoted one is a string, refused
// where a number or a boolean is wanted, with the fix.
TEST(Loader, QuotedNumbersAndBooleansAreStrings) {
  std::string e = load_error(std::string(kHead) + "  - use: test.gain\n    with: {repeat: \"80\"}\n");
  EXPECT_EQ(e.rfind("p.yaml:6:20: step 2 'test.gain': 'repeat' must be an integer, got the string \"80\" "
                    "(write 80 without quotes)", 0), 0u) << e;
  e = load_error(std::string(kHead) + "  - use: test.gain\n    with: {factor: '0.5'}\n");
  EXPECT_EQ(e.rfind("p.yaml:6:20: step 2 'test.gain': 'factor' must be a number, got the string \"0.5\" "
                    "(write 0.5 without quotes)", 0), 0u) << e;
  e = load_error(std::string(kHead) + "  - use: test.gain\n    with: {factor: !!str 2}\n");
  EXPECT_EQ(e.rfind("p.yaml:6:20: step 2 'test.gain': 'factor' must be a number, got the string \"2\"", 0), 0u) << e;
  e = load_error(std::string(kHead) + "  - use: test.gain\n    with: {flag: \"true\"}\n");
  EXPECT_EQ(e.rfind("p.yaml:6:18: step 2 'test.gain': 'flag' must be true or false, got the string \"true\" "
                    "(write true without quotes)", 0), 0u) << e;
  e = load_error(std::string(kHead) + "  - use: test.gain\n    with: {weights: [1, \"2\"]}\n");
  EXPECT_EQ(e.rfind("p.yaml:6:25: step 2 'test.gain': 'weights' must be a number, got the string \"2\"", 0), 0u) << e;
  // A quoted string that is no number keeps the hint out.
  e = load_error(std::string(kHead) + "  - use: test.gain\n    with: {repeat: \"many\"}\n");
  EXPECT_EQ(e.find("without quotes"), std::string::npos) << e;
  EXPECT_NE(e.find("'repeat' must be an integer, got the string \"many\""), std::string::npos) << e;
  // Plain scalars, block style and strings where strings are wanted still load.
  EXPECT_EQ(load_error(std::string(kHead) + "  - use: test.gain\n    with:\n      repeat: 80\n      factor: 0.5\n"
                                             "      flag: true\n      mode: \"b\"\n      label: \"80\"\n"), "");
}

TEST(Loader, OutOfRange) {
  std::string e = load_error(std::string(kHead) + "  - use: test.gain\n    with: {factor: 1000}\n");
  EXPECT_EQ(e.rfind("p.yaml:6:20: step 2 'test.gain': 'factor' must be in [-100, 100], got 1000", 0), 0u) << e;
  e = load_error(std::string(kHead) + "  - use: test.gain\n    with: {repeat: 0}\n");
  EXPECT_EQ(e.rfind("p.yaml:6:20: step 2 'test.gain': 'repeat' must be ≥ 1, got 0", 0), 0u) << e;
  e = load_error(std::string(kHead) + "  - use: test.gain\n    with: {weights: [1, 2, 3, 4]}\n");
  EXPECT_EQ(e.rfind("p.yaml:6:21: step 2 'test.gain': 'weights' takes 0 to 3 items, got 4", 0), 0u) << e;
}

TEST(Loader, AxisNotInInputPointsAtTheParameter) {
  std::string e = load_error(std::string(kHead) + "  - use: test.gain\n    with:\n      axis: mel\n");
  EXPECT_EQ(e.rfind("p.yaml:7:13: step 2 'test.gain': axis 'mel' not in the input's axes [time=?]", 0), 0u) << e;
}

TEST(Loader, StagesThatDoNotChain) {
  // test.frame wants [time]; after a first test.frame it gets [frame, sample].
  std::string e = load_error(std::string(kHead) + "  - use: test.frame\n  - use: test.frame\n");
  EXPECT_EQ(e.rfind("p.yaml:6:10: step 3 'test.frame': expects [time], got [frame=?, sample=2]", 0), 0u) << e;
  EXPECT_NE(e.find("input from step 'test.frame'"), std::string::npos) << e;
}

TEST(Loader, SourceOnlyFirst) {
  std::string e = load_error(std::string(kHead) + "  - use: test.read\n");
  EXPECT_EQ(e.rfind("p.yaml:5:10: step 2 'test.read': reads files, so it can only be the first step", 0), 0u) << e;
  e = load_error("featpipe: 1\nname: t\nstages:\n  - use: test.gain\n");
  EXPECT_EQ(e.rfind("p.yaml:4:10: step 1 'test.gain': takes a tensor", 0), 0u) << e;
}

TEST(Loader, MissingRequiredParameter) {
  // test.nan's `at` has no default.
  std::string e = load_error(std::string(kHead) + "  - use: test.nan\n    with: {}\n");
  EXPECT_EQ(e.rfind("p.yaml:5:10: step 2 'test.nan': missing required parameter 'at' (float)", 0), 0u) << e;
  // And the pipeline's own required keys.
  e = load_error("featpipe: 1\nstages:\n  - use: test.read\n");
  EXPECT_EQ(e.rfind("p.yaml:1:1: missing 'name'", 0), 0u) << e;
  e = load_error("name: x\nstages:\n  - use: test.read\n");
  EXPECT_EQ(e.rfind("p.yaml:1:1: missing 'featpipe: 1'", 0), 0u) << e;
  e = load_error("featpipe: 1\nname: x\nstages:\n  - with: {a: 1}\n");
  EXPECT_EQ(e.rfind("p.yaml:4:5: step 1: missing 'use'", 0), 0u) << e;
}

TEST(Loader, TopLevelAndStepKeys) {
  std::string e = load_error("featpipe: 1\nname: t\nstage:\n  - use: test.read\n");
  EXPECT_EQ(e.rfind("p.yaml:3:1: unknown key 'stage' (did you mean 'stages'?)", 0), 0u) << e;
  e = load_error(std::string(kHead) + "    width: {a: 1}\n");
  EXPECT_EQ(e.rfind("p.yaml:5:5: step 1: unknown key 'width' (did you mean 'with'?)", 0), 0u) << e;
  e = load_error("featpipe: 2\nname: t\nstages:\n  - use: test.read\n");
  EXPECT_EQ(e.rfind("p.yaml:1:11: unsupported pipeline format version '2'", 0), 0u) << e;
}

TEST(Loader, YamlSyntaxError) {
  std::string e = load_error("featpipe: 1\nname: t\nstages:\n  - use: [test.read\n");
  EXPECT_EQ(e.rfind("p.yaml:", 0), 0u) << e;
  EXPECT_NE(e.find("YAML syntax error"), std::string::npos) << e;
}

TEST(Loader, StageErrorsCarryTheStepLine) {
  // A problem the stage finds itself (not the schema) still gets file:line.
  std::string e = load_error(std::string(kHead) + "  - use: test.frame\n  - use: test.gain\n    id: scaler\n    with: {axis: 5}\n");
  EXPECT_EQ(e.rfind("p.yaml:8:18: step 3 'test.gain' (scaler): axis 5 out of range for a tensor of rank 2", 0), 0u) << e;
}

TEST(Loader, RelativePluginPathsResolveAgainstThePipelineFolder) {
  test::TempDir dir;
  fs::copy_file(FIXTURE_STAGES, dir / "libmine.so");
  test::write_text(dir / "sub" / "p.yaml", "featpipe: 1\nname: t\nplugins: [../libmine.so]\nstages:\n  - use: test.read\n");
  LoadOptions o;
  o.builtin_plugins = false;
  o.allowed_plugin_dirs = {dir.path().string()};  // the plugin sits above the pipeline's folder
  auto p = Pipeline::load((dir / "sub" / "p.yaml").string(), o);
  EXPECT_EQ(p->steps().front().plugin_file, fs::canonical(dir / "libmine.so").string());

  test::write_text(dir / "sub" / "q.yaml", "featpipe: 1\nname: t\nplugins:\n  - ../missing.so\nstages:\n  - use: test.read\n");
  try {
    Pipeline::load((dir / "sub" / "q.yaml").string(), o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("q.yaml:4:5: plugin "), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("missing.so: no such file"), std::string::npos) << e.what();
  }
}

TEST(Loader, ValidateCliPrintsChainAndLatency) {
  test::TempDir dir;
  test::write_text(dir / "p.yaml", std::string(kHead) + "  - use: test.frame\n    with: {size: 10}\n  - use: test.whole\n");
  auto r = test::run_cli({"validate", (dir / "p.yaml").string(), "--plugin", FIXTURE_STAGES});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("test.frame -> [frame=?, sample=10]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("streaming: no — step 3 'test.whole' needs the whole input"), std::string::npos) << r.out;

  test::write_text(dir / "q.yaml", std::string(kHead) + "  - use: test.frame\n    with: {size: 10}\n");
  r = test::run_cli({"validate", (dir / "q.yaml").string(), "--plugin", FIXTURE_STAGES});
  EXPECT_NE(r.out.find("streaming: yes, latency 9 samples (90.0 ms at 100 Hz)"), std::string::npos) << r.out;

  test::write_text(dir / "bad.yaml", std::string(kHead) + "  - use: test.frame\n    with: {size: 0}\n");
  r = test::run_cli({"validate", (dir / "bad.yaml").string(), "--plugin", FIXTURE_STAGES});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("bad.yaml:6:18: step 2 'test.frame': 'size' must be ≥ 1, got 0"), std::string::npos) << r.err;
}

TEST(Loader, APipelinesPluginFromElsewhereIsRefusedBeforeItIsOpened) {
  test::TempDir dir, elsewhere;
  // A library whose constructor leaves a mark: refused means it never ran.
  const fs::path mark = elsewhere / "constructor-ran";
  test::write_text(elsewhere / "evil.c", "#include <stdio.h>\n__attribute__((constructor)) static void f(void) {\n"
                                         "  FILE* o = fopen(\"" + mark.string() + "\", \"w\"); if (o) fclose(o);\n}\n");
  auto cc = test::run_shell("cc -shared -fPIC -o " + test::quote((elsewhere / "libevil.so").string()) + " " +
                            test::quote((elsewhere / "evil.c").string()));
  ASSERT_EQ(cc.exit_code, 0) << cc.err;
  test::write_text(dir / "p.yaml", "featpipe: 1\nname: t\nplugins: [" + (elsewhere / "libevil.so").string() +
                                       "]\nstages:\n  - use: test.read\n");
  auto r = test::run_cli({"validate", (dir / "p.yaml").string(), "--plugin", FIXTURE_STAGES});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("p.yaml:3:11: plugin "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--allow-plugin"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(mark));
  // A symbolic link in the pipeline's folder does not make it the pipeline's.
  fs::create_symlink(elsewhere / "libevil.so", dir / "libnear.so");
  test::write_text(dir / "q.yaml", "featpipe: 1\nname: t\nplugins: [libnear.so]\nstages:\n  - use: test.read\n");
  EXPECT_EQ(test::run_cli({"validate", (dir / "q.yaml").string(), "--plugin", FIXTURE_STAGES}).exit_code, 2);
  EXPECT_FALSE(fs::exists(mark));
  // Allowed explicitly, it loads (and its constructor runs).
  r = test::run_cli({"validate", (dir / "p.yaml").string(), "--plugin", FIXTURE_STAGES, "--allow-plugin",
                     elsewhere.path().string()});
  EXPECT_TRUE(fs::exists(mark)) << r.err;
}

// Found by fuzz_pipeline: a byte that is not UTF-8 in a parameter went into
// the provenance's JSON, whose serializer threw past the loader.
TEST(Loader, BytesThatAreNotUtf8AreRefusedWhereTheyStand) {
  EXPECT_EQ(load_error(std::string(kHead) + "  - use: test.gain\n    with: {label: \"a\xff\"}\n"),
            "p.yaml:6:21: not UTF-8 text (byte 0xFF): a pipeline file is YAML, which is UTF-8");
  EXPECT_EQ(load_error(std::string(kHead) + "  - use: test.gain\n    with: {label: \"\xc3\xa9t\xc3\xa9\"}\n"), "");
}
