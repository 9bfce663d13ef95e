// A sink in memory for the batch runner's unit tests: what was written, and
// outputs said to exist already.
#pragma once

#include "batch/sink.hpp"

#include <map>
#include <mutex>
#include <set>
#include <stdexcept>

namespace featpipe::test {

class MemorySink final : public Sink {
 public:
  std::string output_of(const std::string& rel) const override { return rel + ".mem"; }
  bool exists(const std::string& output) const override { return existing.count(output) != 0; }
  std::string describe(const std::string& output) const override { return "mem:" + output; }
  Stored write(const std::string& output, const Tensor& t, int worker) override {
    std::lock_guard<std::mutex> lock(mu);
    if (output == refuse) throw Error("refused " + output);
    written[output] = t;
    writers[output] = worker;
    return {};
  }
  std::set<std::string> existing;
  std::string refuse;  // an output whose write fails
  std::map<std::string, Tensor> written;
  std::map<std::string, int> writers;
  std::mutex mu;
};

}  // namespace featpipe::test
