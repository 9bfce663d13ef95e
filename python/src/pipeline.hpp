// featpipe.Pipeline: a loaded pipeline, callable on a file or an array, and
// safe to call from several Python threads at once: each call borrows a
// Session (stage state, buffers) from a pool, so buffers are reused across
// calls and no two threads share one.
#pragma once

#include "common.hpp"
#include "inputs.hpp"

#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace featpipe::python {

class SessionPool {
 public:
  explicit SessionPool(std::shared_ptr<const Pipeline> pipe) : pipe_(std::move(pipe)) {}

  // A session for the caller's exclusive use, returned to the pool when the
  // lease ends.
  class Lease {
   public:
    Lease(SessionPool& pool, std::unique_ptr<Session> s) : pool_(&pool), s_(std::move(s)) {}
    Lease(Lease&&) = default;
    ~Lease() {
      if (s_) pool_->give_back(std::move(s_));
    }
    Session& operator*() { return *s_; }
    Session* operator->() { return s_.get(); }

   private:
    SessionPool* pool_;
    std::unique_ptr<Session> s_;
  };

  Lease take();

 private:
  void give_back(std::unique_ptr<Session> s);
  std::shared_ptr<const Pipeline> pipe_;
  std::mutex m_;
  std::vector<std::unique_ptr<Session>> free_;
};

// How the pipeline was loaded, kept to rebuild it in another process
// (pickle: DataLoader workers started with spawn).
struct Origin {
  std::string text, source_name, base_dir;
  std::vector<std::string> plugins, allowed_plugin_dirs;
};

struct PyPipeline {
  std::shared_ptr<const Pipeline> pipe;
  Origin origin;
  InputKind input;
  std::shared_ptr<SessionPool> pool;

  static std::shared_ptr<PyPipeline> load(const std::string& path, std::vector<std::string> plugins,
                                          std::vector<std::string> allowed);
  static std::shared_ptr<PyPipeline> parse(Origin origin);

  // pipe(x): a path (str, os.PathLike) or an array.
  py::array call(const py::object& x, std::optional<double> sample_rate,
                 std::optional<std::vector<std::string>> axes, const std::string& layout);
};

void bind_pipeline(py::module_& m);

}  // namespace featpipe::python
