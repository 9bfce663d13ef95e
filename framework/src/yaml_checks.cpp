#include "yaml_checks.hpp"

#include <featpipe/featpipe.hpp>

#include "params.hpp"

#include <map>

namespace featpipe {

namespace {

// Aliases may make the tree a graph; real pipelines are a few levels deep.
constexpr int kMaxDepth = 200;

void check(const YAML::Node& node, const std::string& file, int depth) {
  if (depth > kMaxDepth) throw Error(where(file, node.Mark()) + ": nested more than " + std::to_string(kMaxDepth) + " levels deep");
  if (node.IsSequence()) {
    for (const auto& item : node) check(item, file, depth + 1);
  } else if (node.IsMap()) {
    std::map<std::string, YAML::Mark> seen;
    for (const auto& kv : node) {
      if (kv.first.IsScalar()) {
        auto [it, fresh] = seen.emplace(kv.first.Scalar(), kv.first.Mark());
        if (!fresh)
          throw Error(where(file, kv.first.Mark()) + ": duplicate key '" + kv.first.Scalar() + "' (first at " +
                      where(file, it->second) + "); each key may appear once in a map — a missing '-' nests a step's "
                      "keys into the step before it");
      } else {
        check(kv.first, file, depth + 1);
      }
      check(kv.second, file, depth + 1);
    }
  }
}

}  // namespace

void check_duplicate_keys(const YAML::Node& root, const std::string& file) { check(root, file, 0); }

}  // namespace featpipe
