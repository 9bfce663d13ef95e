// The plugin boundary: refusing other ABI versions, libraries without the
// entry symbol, and two plugins providing one stage name.
#include "test_support.hpp"

#include <featpipe/plugin.h>
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

// A folder's plugin index lets a pipeline load only the plugins it uses;
// a stale index is an error, not a silent mismatch.
TEST(PluginIndex, OnlyUsedPluginsLoadAndStaleIndexesAreCaught) {
  test::TempDir dir;
  fs::create_directories(dir / "plugins");
  fs::copy_file(FIXTURE_STAGES, dir / "plugins" / "libfix.so");
  auto r = test::run_cli({"index-plugins", (dir / "plugins").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string index = test::read_text(dir / "plugins" / "featpipe-plugins.index");
  EXPECT_NE(index.find("\"libfix.so\""), std::string::npos) << index;
  EXPECT_NE(index.find("\"test.read\""), std::string::npos) << index;

  // A broken library the index says provides junk.stage: never opened
  // unless a step uses junk.stage.
  test::write_text(dir / "plugins" / "libjunk.so", "not an ELF file");
  std::string patched = index;
  patched.replace(patched.find("\"plugins\": {") + 12, 0, "\n    \"libjunk.so\": [\"junk.stage\"],");
  test::write_text(dir / "plugins" / "featpipe-plugins.index", patched);
  test::write_text(dir / "ok.yaml", "featpipe: 1\nname: t\nstages:\n  - use: test.read\n");
  test::write_text(dir / "junk.yaml", "featpipe: 1\nname: t\nstages:\n  - use: junk.stage\n");
  const std::string env = "FEATPIPE_PLUGIN_PATH=" + test::quote((dir / "plugins").string()) + " " + test::quote(FEATPIPE_CLI);
  r = test::run_shell(env + " validate " + test::quote((dir / "ok.yaml").string()));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = test::run_shell(env + " validate " + test::quote((dir / "junk.yaml").string()));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("junk.yaml:4:10: step 1 'junk.stage': plugin "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("libjunk.so: cannot load"), std::string::npos) << r.err;

  // The index claims a stage the plugin does not have.
  patched = index;
  patched.replace(patched.find("\"test.read\""), 0, "\"test.ghost\", ");
  test::write_text(dir / "plugins" / "featpipe-plugins.index", patched);
  fs::remove(dir / "plugins" / "libjunk.so");
  r = test::run_shell(env + " validate " + test::quote((dir / "ok.yaml").string()));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("lists stage 'test.ghost', which the plugin does not provide: the index is out of date"), std::string::npos) << r.err;
}

TEST(PluginIndex, BuiltInIndexMatchesThePlugins) {
  // The build's index names every stage `featpipe stages` finds by loading.
  const fs::path dir = test::binary_dir() / "lib" / "featpipe" / "plugins";
  const std::string index = test::read_text(dir / "featpipe-plugins.index");
  for (const auto& s : available_stages()) EXPECT_NE(index.find("\"" + s.name + "\""), std::string::npos) << s.name;
}
