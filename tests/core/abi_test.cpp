// The plugin boundary: refusing other ABI versions, libraries without the
// entry symbol, and two plugins providing one stage name.
#include "test_support.hpp"

#include <gtest/gtest.h>

using namespace featpipe;

namespace {
std::string load_with(const std::vector<std::string>& plugins) {
  LoadOptions o;
  o.builtin_plugins = false;
  o.plugin_files = plugins;
  try {
    Pipeline::parse("featpipe: 1\nname: t\nstages:\n  - use: test.read\n", "p.yaml", "/tmp", o);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(PluginAbi, OtherVersionIsRefusedNamingFileAndVersions) {
  std::string e = load_with({FIXTURE_STAGES, FIXTURE_OTHER_ABI});
  EXPECT_NE(e.find(fs::canonical(FIXTURE_OTHER_ABI).string()), std::string::npos) << e;
  EXPECT_NE(e.find("built for plugin ABI version " + std::to_string(FP_ABI_VERSION + 98)), std::string::npos) << e;
  EXPECT_NE(e.find("loads ABI version " + std::to_string(FP_ABI_VERSION)), std::string::npos) << e;
}

TEST(PluginAbi, MissingEntrySymbolIsRefused) {
  std::string e = load_with({FIXTURE_NO_ENTRY});
  EXPECT_NE(e.find(fs::canonical(FIXTURE_NO_ENTRY).string()), std::string::npos) << e;
  EXPECT_NE(e.find("no 'featpipe_plugin_entry' symbol"), std::string::npos) << e;
}

TEST(PluginAbi, NotASharedLibrary) {
  test::TempDir dir;
  test::write_text(dir / "libjunk.so", "this is not an ELF file");
  std::string e = load_with({(dir / "libjunk.so").string()});
  EXPECT_NE(e.find("libjunk.so: cannot load"), std::string::npos) << e;
}

TEST(PluginAbi, DuplicateStageNamesNameBothFiles) {
  std::string e = load_with({FIXTURE_STAGES, FIXTURE_DUPLICATE});
  EXPECT_NE(e.find("stage 'test.gain' is provided by two plugins"), std::string::npos) << e;
  EXPECT_NE(e.find(fs::canonical(FIXTURE_STAGES).string()), std::string::npos) << e;
  EXPECT_NE(e.find(fs::canonical(FIXTURE_DUPLICATE).string()), std::string::npos) << e;
}

TEST(PluginAbi, SamePluginTwiceIsFine) {
  test::TempDir dir;
  EXPECT_EQ(load_with({FIXTURE_STAGES, FIXTURE_STAGES}), "");
}

TEST(PluginAbi, PluginPathEnvironmentIsSearched) {
  test::TempDir dir;
  fs::copy_file(FIXTURE_STAGES, dir / "libfix.so");
  test::write_text(dir / "p.yaml", "featpipe: 1\nname: t\nstages:\n  - use: test.read\n");
  auto r = test::run_shell("FEATPIPE_PLUGIN_PATH=" + test::quote(dir.path().string()) + " " + test::quote(FEATPIPE_CLI) +
                           " validate " + test::quote((dir / "p.yaml").string()));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = test::run_shell("FEATPIPE_PLUGIN_PATH=" + test::quote(dir.path().string()) + " " + test::quote(FEATPIPE_CLI) +
                      " stages test.gain");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("factor: float in [-100, 100]  default: 1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("featpipe-test-fixtures 9.9.9"), std::string::npos) << r.out;
}

TEST(PluginAbi, StagesCommandSuggestsNames) {
  auto r = test::run_cli({"stages", "norm.l3"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown stage 'norm.l3'; did you mean norm.l2"), std::string::npos) << r.err;
}
