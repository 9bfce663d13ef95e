// Checks on a parsed YAML tree that yaml-cpp does not make itself.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

namespace featpipe {

// Throws Error("file:L:C: duplicate key 'k' (first at file:L:C)") for the
// first map anywhere in `root` that holds a key twice. yaml-cpp keeps both
// pairs but a lookup returns the first, so a duplicate silently drops a
// value — e.g. a step's `use:` nested into the previous step by a missing `-`.
void check_duplicate_keys(const YAML::Node& root, const std::string& file);

}  // namespace featpipe
