// Workers take inputs in order, at most `prefetch` ahead of the consumer (so
// memory stays bounded however long the list), each with its own session;
// the iterator hands the results out in input order. Dropping the iterator
// early stops the workers.
#include "map.hpp"

#include "pipeline.hpp"

#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

namespace featpipe::python {

namespace {

struct Result {
  bool done = false;
  Tensor features;
  std::optional<std::string> error;
};

class MapIterator {
 public:
  MapIterator(std::shared_ptr<PyPipeline> pipe, std::vector<std::string> paths, int jobs, int prefetch)
      : item_(py::module_::import("featpipe._types").attr("Item")),
        pipe_(std::move(pipe)), paths_(std::move(paths)), results_(paths_.size()),
        window_(static_cast<size_t>(prefetch > 0 ? prefetch : 4 * jobs)) {
    if (jobs < 1) throw py::value_error("jobs must be at least 1, got " + std::to_string(jobs));
    const size_t n = std::min(static_cast<size_t>(jobs), paths_.size());
    for (size_t k = 0; k < n; ++k) workers_.emplace_back([this] { work(); });
  }

  ~MapIterator() { stop(); }

  size_t size() const { return paths_.size(); }

  // The next input's result; the GIL is released while it is computed.
  py::object next() {
    if (next_ >= paths_.size()) throw py::stop_iteration();
    Result r;
    {
      py::gil_scoped_release nogil;
      std::unique_lock lock(m_);
      ready_.wait(lock, [&] { return results_[next_].done || stopping_; });
      if (results_[next_].done) {
        r = std::move(results_[next_]);
        results_[next_] = Result{};  // its memory goes with the item
        ++next_;
      } else {
        next_ = paths_.size();  // closed: the rest is not computed
      }
      room_.notify_all();
    }
    if (!r.done) throw py::stop_iteration();
    const std::string& path = paths_[next_ - 1];
    if (r.error) return item_(path, py::none(), input_error(*r.error, path));
    return item_(path, to_numpy(std::move(r.features)), py::none());
  }

  // No more items: the workers stop, results not handed out are dropped.
  void close() {
    stop();
    std::lock_guard lock(m_);
    next_ = paths_.size();
    results_.clear();
    results_.shrink_to_fit();
  }

  void stop() {
    {
      std::lock_guard lock(m_);
      stopping_ = true;
    }
    room_.notify_all();
    py::gil_scoped_release nogil;
    for (auto& w : workers_)
      if (w.joinable()) w.join();
  }

 private:
  void work() {
    auto session = pipe_->pool->take();
    for (;;) {
      size_t k;
      {
        std::unique_lock lock(m_);
        room_.wait(lock, [&] { return stopping_ || taken_ >= paths_.size() || taken_ < next_ + window_; });
        if (stopping_ || taken_ >= paths_.size()) return;
        k = taken_++;
      }
      Result r;
      try {
        r.features = session->run_file(paths_[k]);
      } catch (const std::exception& e) {
        r.error = e.what();
      }
      r.done = true;
      {
        std::lock_guard lock(m_);
        results_[k] = std::move(r);
      }
      ready_.notify_all();
    }
  }

  py::object item_;  // featpipe.Item
  std::shared_ptr<PyPipeline> pipe_;
  std::vector<std::string> paths_;
  std::vector<Result> results_;
  size_t window_;
  std::vector<std::thread> workers_;
  std::mutex m_;
  std::condition_variable ready_, room_;
  size_t taken_ = 0, next_ = 0;
  bool stopping_ = false;
};

}  // namespace

py::object make_map(std::shared_ptr<PyPipeline> pipe, std::vector<std::string> paths, int jobs, int prefetch) {
  if (jobs < 1) throw py::value_error("jobs must be at least 1, got " + std::to_string(jobs));
  if (prefetch < 0) throw py::value_error("prefetch must be 0 (default) or more, got " + std::to_string(prefetch));
  return py::cast(std::make_unique<MapIterator>(std::move(pipe), std::move(paths), jobs, prefetch));
}

void bind_map(py::module_& m) {
  py::class_<MapIterator>(m, "MapIterator", "the items of Pipeline.map, in input order")
      .def("__iter__", [](py::object self) { return self; })
      .def("__next__", &MapIterator::next)
      .def("__len__", &MapIterator::size)
      .def("close", &MapIterator::close, "stops the workers and ends the iteration (dropping the iterator stops them too)");
}

}  // namespace featpipe::python
