// The plugin boundary: ABI versions (another major refused, a later minor
// loaded), extensions, the host's log, libraries without the entry symbol,
// two plugins providing one stage name, and the SDK's own example.
#include "test_support.hpp"
#include "test_extensions.h"

#include <featpipe/log.hpp>

#include <featpipe/plugin.h>
#include <featpipe/sdk.hpp>
#include <gtest/gtest.h>

#include <dlfcn.h>

#include <mutex>

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

TEST(PluginAbi, OtherMajorIsRefusedNamingFileAndVersions) {
  std::string e = load_with({FIXTURE_STAGES, FIXTURE_OTHER_ABI});
  EXPECT_NE(e.find(fs::canonical(FIXTURE_OTHER_ABI).string()), std::string::npos) << e;
  EXPECT_NE(e.find("built for plugin ABI " + std::to_string(FP_ABI_MAJOR + 1) + ".4.0, this featpipe"), std::string::npos) << e;
  EXPECT_NE(e.find("loads plugin ABI " + std::to_string(FP_ABI_MAJOR) + ".x (it is " FP_ABI_VERSION_STRING), std::string::npos)
      << e;
}

TEST(PluginAbi, Abi1PluginIsRefusedAsAbi1) {
  std::string e = load_with({FIXTURE_ABI1});
  EXPECT_NE(e.find(fs::canonical(FIXTURE_ABI1).string()), std::string::npos) << e;
  EXPECT_NE(e.find("built for plugin ABI 1, this featpipe"), std::string::npos) << e;
  EXPECT_NE(e.find("loads plugin ABI " + std::to_string(FP_ABI_MAJOR) + ".x"), std::string::npos) << e;
}

// A plugin built for a later minor: larger structs with trailing fields the
// engine does not know, arrays strided by struct_size, an unknown flag bit.
TEST(PluginAbi, LaterMinorLoadsAndRuns) {
  test::TempDir dir;
  test::write_text(dir / "a.txt", "1 2 3 4");
  LoadOptions o;
  o.builtin_plugins = false;
  o.plugin_files = {FIXTURE_STAGES, FIXTURE_LATER_MINOR};
  auto p = Pipeline::parse(
      "featpipe: 1\nname: t\nstages:\n  - use: test.read\n  - use: future.scale\n    with: {factor: 3}\n"
      "  - use: future.offset\n    with: {offset: -1}\n",
      "p.yaml", dir.path().string(), o);
  ASSERT_EQ(p->steps().size(), 3u);
  EXPECT_EQ(p->steps()[1].plugin_version, "2.7.0");
  EXPECT_EQ(p->steps()[2].params_json, R"({"offset":-1.0})");
  EXPECT_EQ(p->steps()[2].stream.hop, 1.0);
  Tensor t = p->session()->run_file((dir / "a.txt").string());
  EXPECT_EQ(t.data, (std::vector<float>{2, 5, 8, 11}));

  // Its second stage's descriptor and parameter were read at the right
  // stride: `featpipe stages` shows them.
  auto r = test::run_cli({"stages", "future.offset", "--plugin", FIXTURE_LATER_MINOR});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("y = x + offset"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("offset: float in [-1000000, 1000000]  default: 0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("featpipe-test-later-minor 2.7.0"), std::string::npos) << r.out;
}

// The test plays the host: it loads a private copy of the fixture plugin
// (the engine may have the original loaded) and calls init itself.
struct HostedFixture {
  test::TempDir dir;
  void* lib = nullptr;
  const fp_plugin* plugin = nullptr;
  fp_host host{};
  std::vector<std::pair<fp_log_level, std::string>> lines;

  HostedFixture() {
    fs::copy_file(FIXTURE_STAGES, dir / "libhosted.so");
    lib = dlopen((dir / "libhosted.so").c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!lib) return;
    auto entry = reinterpret_cast<fp_plugin_entry_fn>(dlsym(lib, FP_PLUGIN_ENTRY_SYMBOL));
    plugin = entry ? entry() : nullptr;
    host.abi = fp_version FP_ABI_VERSION_INIT;
    host.struct_size = sizeof host;
    host.name = "abi-test-host";
    host.version = "0.0.1";
    host.host_data = this;
    host.log = [](const fp_host* h, fp_log_level level, const char* msg) {
      static_cast<HostedFixture*>(h->host_data)->lines.emplace_back(level, msg);
    };
    host.get_extension = [](const fp_host*, const char*) -> const void* { return nullptr; };
  }
  ~HostedFixture() {
    if (lib) dlclose(lib);
  }
  const fp_stage_desc* find(const char* name) const {
    for (uint32_t k = 0; k < plugin->stage_count; ++k)
      if (std::string(plugin->stages[k].name) == name) return &plugin->stages[k];
    return nullptr;
  }
  // An instance with every parameter at its default (numbers parsed).
  fp_stage* create(const fp_stage_desc& d, std::vector<fp_value>& values) const {
    values.assign(d.param_count, fp_value{});
    for (uint32_t k = 0; k < d.param_count; ++k) {
      fp_value& v = values[k];
      v.struct_size = sizeof v;
      v.name = d.params[k].name;
      v.type = d.params[k].type;
      v.s = d.params[k].default_value;
      v.f = v.s ? std::atof(v.s) : 0;
      v.i = static_cast<int64_t>(v.f);
    }
    return d.create(values.data(), static_cast<uint32_t>(values.size()));
  }
};

TEST(PluginAbi, InitGetsTheHostAndItsLogReachesTheHost) {
  HostedFixture f;
  ASSERT_NE(f.plugin, nullptr) << dlerror();
  EXPECT_EQ(f.plugin->abi.major, unsigned(FP_ABI_MAJOR));
  ASSERT_NE(f.plugin->init, nullptr);
  ASSERT_EQ(f.plugin->init(&f.host), FP_OK);
  ASSERT_EQ(f.lines.size(), 1u);
  EXPECT_EQ(f.lines[0].first, FP_LOG_DEBUG);
  EXPECT_EQ(f.lines[0].second, "initialized by abi-test-host 0.0.1");

  // A stage's log line reaches the same host.
  std::vector<fp_value> values;
  fp_stage* st = f.create(*f.find("test.log"), values);
  ASSERT_NE(st, nullptr);
  fp_spec in = sdk::Spec({{"time", -1}}, 0).raw(), out{};
  fp_stream_info info{};
  info.struct_size = sizeof info;
  ASSERT_EQ(st->configure(st, &in, &out, &info), FP_OK);
  st->destroy(st);
  ASSERT_EQ(f.lines.size(), 2u);
  EXPECT_EQ(f.lines[1].first, FP_LOG_WARNING);
  EXPECT_EQ(f.lines[1].second, "test.log configured on [time=?]");
}

TEST(PluginAbi, ExtensionsOfPluginAndStage) {
  HostedFixture f;
  ASSERT_NE(f.plugin, nullptr) << dlerror();
  ASSERT_EQ(f.plugin->init(&f.host), FP_OK);
  ASSERT_NE(f.plugin->get_extension, nullptr);
  auto* about = static_cast<const test_ext_about*>(f.plugin->get_extension(TEST_EXT_ABOUT));
  ASSERT_NE(about, nullptr);
  EXPECT_STREQ(about->text, "featpipe test fixtures");
  EXPECT_STREQ(about->host_name(), "abi-test-host");
  EXPECT_EQ(f.plugin->get_extension("featpipe-test.about/2"), nullptr);  // another revision
  EXPECT_EQ(f.plugin->get_extension("featpipe.dtypes/1"), nullptr);

  std::vector<fp_value> values;
  fp_stage* gain = f.create(*f.find("test.gain"), values);
  ASSERT_NE(gain, nullptr);
  values[0].f = 2.5;  // the values are copied by create: this must not matter
  auto* ext = static_cast<const test_ext_gain*>(gain->get_extension(gain, TEST_EXT_GAIN));
  ASSERT_NE(ext, nullptr);
  EXPECT_EQ(ext->factor(gain), 1.0f);  // the default
  EXPECT_EQ(gain->get_extension(gain, TEST_EXT_ABOUT), nullptr);
  gain->destroy(gain);

  fp_stage* read = f.create(*f.find("test.read"), values);
  ASSERT_NE(read, nullptr);
  EXPECT_EQ(read->get_extension(read, TEST_EXT_GAIN), nullptr);  // a stage without extensions
  read->destroy(read);
}

// Through the engine: a plugin's log line goes to the handler set with
// set_log_handler, named after the plugin; without one, warnings go to
// stderr.
TEST(PluginAbi, PluginLogReachesTheEngineHandler) {
  std::mutex mu;
  std::vector<std::string> got;
  auto previous = set_log_handler([&](LogLevel level, const std::string& plugin, const std::string& msg) {
    std::lock_guard<std::mutex> lock(mu);
    if (level == LogLevel::warning) got.push_back(plugin + ": " + msg);
  });
  Pipeline::parse("featpipe: 1\nname: t\nstages:\n  - use: test.read\n  - use: test.log\n", "p.yaml", "/tmp", [] {
    LoadOptions o;
    o.builtin_plugins = false;
    o.plugin_files = {FIXTURE_STAGES};
    return o;
  }());
  set_log_handler(previous);
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got[0], "featpipe-test-fixtures: test.log configured on [time=?]");

  test::TempDir dir;
  test::write_text(dir / "p.yaml", "featpipe: 1\nname: t\nplugins: [" + std::string(FIXTURE_STAGES) +
                                       "]\nstages:\n  - use: test.read\n  - use: test.log\n");
  auto r = test::run_cli({"validate", (dir / "p.yaml").string(), "--allow-plugin",
                          fs::path(FIXTURE_STAGES).parent_path().string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("featpipe: featpipe-test-fixtures: test.log configured on [time=?]"), std::string::npos) << r.err;
}

// The example at the top of sdk.hpp, extracted and built as written.
TEST(PluginAbi, SdkHeaderExampleBuildsAndRuns) {
  LoadOptions o;
  o.builtin_plugins = false;
  o.plugin_files = {FIXTURE_SDK_EXAMPLE};
  o.input = TensorSpec{{"time"}, {-1}, 0, {}};
  auto p = Pipeline::parse("featpipe: 1\nname: t\nstages:\n  - use: norm.clip\n    with: {lo: -1, hi: 0.5}\n", "p.yaml",
                           "/tmp", o);
  Tensor out = p->session()->run(Tensor{{4}, {"time"}, {-3, -0.25f, 0.75f, 2}, {}});
  EXPECT_EQ(out.data, (std::vector<float>{-1, -0.25f, 0.5f, 0.5f}));
  try {
    Pipeline::parse("featpipe: 1\nname: t\nstages:\n  - use: norm.clip\n    with: {lo: 1, hi: 0}\n", "p.yaml", "/tmp", o);
    ADD_FAILURE() << "lo > hi was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("hi must be >= lo"), std::string::npos) << e.what();
  }
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

  // The index records the ABI it was written for; one of ABI 1 (a bare
  // number) is not trusted: the plugins load as if there were none.
  EXPECT_NE(index.find("\"major\": " + std::to_string(FP_ABI_MAJOR)), std::string::npos) << index;
  patched.replace(patched.find("\"abi\": {"), std::string("\"abi\": {").size(), "\"abi\": 1, \"was\": {");
  test::write_text(dir / "plugins" / "featpipe-plugins.index", patched);
  r = test::run_shell(env + " validate " + test::quote((dir / "ok.yaml").string()));
  EXPECT_EQ(r.exit_code, 0) << r.err << patched;
}

TEST(PluginIndex, BuiltInIndexMatchesThePlugins) {
  // The build's index names every stage `featpipe stages` finds by loading.
  const fs::path dir = test::binary_dir() / "lib" / "featpipe" / "plugins";
  const std::string index = test::read_text(dir / "featpipe-plugins.index");
  for (const auto& s : available_stages()) EXPECT_NE(index.find("\"" + s.name + "\""), std::string::npos) << s.name;
}
