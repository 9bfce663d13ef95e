// Duplicate keys in a pipeline file are errors naming both places: yaml-cpp
// keeps both pairs, but lookups return the first, so the second value would
// be dropped without a word.
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

std::string load_error(const std::string& yaml, const LoadOptions& opts = fixtures_only()) {
  try {
    Pipeline::parse(yaml, "p.yaml", "/tmp", opts);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

// A missing '-' before `use:` nests the step into the one before it; with the
// built-in stages this loaded as log-mel's pipeline without its log.
TEST(YamlDuplicates, MissingDashNestsAStepIntoThePreviousOne) {
  const std::string yaml =
      "featpipe: 1\n"
      "name: logmel\n"
      "stages:\n"
      "  - use: audio.decode\n"
      "  - use: audio.stft\n"
      "    with: {n_fft: 512, win_length: 400, hop_length: 160}\n"
      "  - use: audio.mel\n"
      "    with: {n_mels: 80}\n"
      "    use: math.log\n";
  EXPECT_EQ(load_error(yaml, LoadOptions{}),
            "p.yaml:9:5: duplicate key 'use' (first at p.yaml:7:5); each key may appear once in a map — a missing '-' "
            "nests a step's keys into the step before it");
  // The same file with the dash loads.
  std::string fixed = yaml;
  fixed.replace(fixed.rfind("    use"), 4, "  - ");
  EXPECT_EQ(load_error(fixed, LoadOptions{}), "");
}

TEST(YamlDuplicates, FlowMapParameterGivenTwice) {
  std::string e = load_error(
      "featpipe: 1\nname: t\nstages:\n  - use: test.read\n  - use: test.frame\n    with: {size: 4, size: 6}\n");
  EXPECT_EQ(e.rfind("p.yaml:6:21: duplicate key 'size' (first at p.yaml:6:12)", 0), 0u) << e;
}

TEST(YamlDuplicates, BlockMapParameterGivenTwice) {
  std::string e = load_error(
      "featpipe: 1\nname: t\nstages:\n  - use: test.read\n  - use: test.gain\n    with:\n      factor: 2\n"
      "      repeat: 3\n      factor: 5\n");
  EXPECT_EQ(e.rfind("p.yaml:9:7: duplicate key 'factor' (first at p.yaml:7:7)", 0), 0u) << e;
}

TEST(YamlDuplicates, TopLevelKeyGivenTwice) {
  std::string e = load_error("featpipe: 1\nname: a\nstages:\n  - use: test.read\nname: b\n");
  EXPECT_EQ(e.rfind("p.yaml:5:1: duplicate key 'name' (first at p.yaml:2:1)", 0), 0u) << e;
}

// Maps inside maps (and inside lists) are checked too, whatever their keys
// mean to the loader: the check runs on the tree before anything reads it.
TEST(YamlDuplicates, NestedMapsInFlowAndBlockStyle) {
  std::string e = load_error(
      "featpipe: 1\nname: t\nstages:\n  - use: test.read\n  - use: test.gain\n"
      "    with: {label: {a: 1, b: {c: 2, c: 3}}}\n");
  EXPECT_EQ(e.rfind("p.yaml:6:36: duplicate key 'c' (first at p.yaml:6:30)", 0), 0u) << e;
  e = load_error(
      "featpipe: 1\nname: t\nstages:\n  - use: test.read\n  - use: test.gain\n    with:\n      label:\n"
      "        - x: 1\n          y: 2\n          x: 3\n");
  EXPECT_EQ(e.rfind("p.yaml:10:11: duplicate key 'x' (first at p.yaml:8:11)", 0), 0u) << e;
}

TEST(YamlDuplicates, SameKeyInDifferentMapsIsFine) {
  EXPECT_EQ(load_error("featpipe: 1\nname: t\nstages:\n  - use: test.read\n  - use: test.frame\n    with: {size: 4}\n"
                       "  - use: test.gain\n    with: {factor: 2}\n"),
            "");
}
