// cnn.features' OpenCV DNN backend: ONNX models on the CPU. `layer` may be
// an ONNX node output name (what Netron and onnx.load show), the node's
// name, or OpenCV's own layer name ("onnx_node!...").
#include "backend.hpp"
#include "onnx_graph.hpp"
#include "onnx_model.hpp"
#include "onnx_normalize.hpp"
#include "opencv_errors.hpp"
#include "worker_threads.hpp"

#include <featpipe/sdk.hpp>

#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/dnn.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <optional>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <tuple>
#include <vector>

namespace featpipe::cnn {
namespace {

using sdk::Error;

std::string dims_text(const Shape& s) {
  std::string t = "[";
  for (size_t k = 0; k < s.size(); ++k) t += (k ? ", " : "") + std::to_string(s[k]);
  return t + "]";
}

std::vector<int> int_dims(const Shape& s) { return std::vector<int>(s.begin(), s.end()); }

// OpenCV logs an import error to stderr ("[ERROR:0@0.187] global ...
// handleNode ...") before throwing it, and getLayersShapes logs each layer
// it cannot size; the exceptions are translated into the stage's messages
// (or a note), so the log lines would only repeat them in raw form, or
// alarm a user whose run succeeds. The level is process-wide: calls are
// serialized while it is lowered.
class QuietOpenCvLog {
 public:
  QuietOpenCvLog() : lock_(mutex()), level_(cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT)) {}
  ~QuietOpenCvLog() { cv::utils::logging::setLogLevel(level_); }
  QuietOpenCvLog(const QuietOpenCvLog&) = delete;
  QuietOpenCvLog& operator=(const QuietOpenCvLog&) = delete;

 private:
  static std::mutex& mutex() {
    static std::mutex mu;
    return mu;
  }
  std::lock_guard<std::mutex> lock_;
  cv::utils::logging::LogLevel level_;
};

cv::dnn::Net read_quietly(const std::string& bytes) {
  QuietOpenCvLog quiet;
  return cv::dnn::readNetFromONNX(bytes.data(), bytes.size());
}

// cv::setNumThreads is process-wide and stops or restarts OpenCV's thread
// pool: called while another thread's net is inside a parallel_for (Python's
// map, `run --isolation thread`) it pulls the pool from under that thread (a
// segfault seen in python_shipped_pipelines). Passes hold this lock shared;
// changing the thread count holds it alone.
std::shared_mutex& pool_mutex() {
  static std::shared_mutex mu;
  return mu;
}

class OpenCvBackend final : public Backend {
 public:
  OpenCvBackend(const std::string& path, const std::string& layer) : path_(path), layer_(layer) {
    onnx::ModelProto model = read_model();
    graph_ = describe_graph(model);
    Shape declared = input_shape();
    if (!declared.empty() && declared[0] < 0) declared[0] = 1;  // the stage runs a batch of 1
    load(declared, std::move(model));
  }

  Shape input_shape() const override { return graph_.input_dims.empty() ? Shape{} : graph_.input_dims[0]; }

  ModelNames names() const override {
    return {graph_.inputs.empty() ? "?" : graph_.inputs[0], cv_layer_, "OpenCV",
            std::to_string(graph_.nodes.size()) + " ONNX nodes"};
  }

  Shape output_shape(const Shape& input) override {
    // At load time, on the host's thread, OpenCV runs sequentially: a
    // thread pool started here would be inherited half-way by the worker
    // processes `featpipe run` forks after loading (a lock held by a pool
    // thread at fork time is held forever in the child). Inputs are then
    // run with OpenCV's threads, started in the worker.
    reload_for(input);
    std::unique_lock<std::shared_mutex> alone(pool_mutex());
    const int threads = cv::getNumThreads();
    cv::setNumThreads(0);
    cv::Mat zeros(int_dims(input), CV_32F, cv::Scalar(0));
    cv::Mat out;
    try {
      out = run(zeros);
    } catch (...) {
      cv::setNumThreads(threads);
      throw;
    }
    cv::setNumThreads(threads);
    return Shape(out.size.p, out.size.p + out.dims);
  }

  OutputView forward(const float* data, const Shape& input) override {
    if (const int n = worker_threads(); n > 0 && cv::getNumThreads() > n) {
      std::unique_lock<std::shared_mutex> alone(pool_mutex());
      if (cv::getNumThreads() > n) cv::setNumThreads(n);
    }
    reload_for(input);
    std::shared_lock<std::shared_mutex> shared(pool_mutex());
    cv::Mat blob(int_dims(input), CV_32F, const_cast<float*>(data));  // no copy; OpenCV only reads it
    out_ = run(blob);
    if (!out_.isContinuous()) out_ = out_.clone();
    return {out_.ptr<float>(), Shape(out_.size.p, out_.size.p + out_.dims)};
  }

  std::vector<LayerInfo> layers(const Shape& input) override {
    // getLayersShapes before any forward pass at this size gives wrong
    // shapes after a pooling layer (OpenCV 4.6); plan the net first.
    if (planned_ != input) output_shape(input);
    std::vector<int> ids;
    std::vector<std::vector<cv::dnn::MatShape>> ins, outs;
    try {
      QuietOpenCvLog quiet;
      net_.getLayersShapes(cv::dnn::MatShape(input.begin(), input.end()), ids, ins, outs);
    } catch (const cv::Exception&) {
      // OpenCV 4.6 cannot size every layer of some models (a ViT's
      // reshapes) without running them; forward passes are unaffected.
      // The names `layer:` takes are still listed, in graph order.
      std::vector<LayerInfo> list;
      for (const auto& n : graph_.nodes) {
        if (n.outputs.empty()) continue;
        auto it = by_output_.find(n.outputs[0]);
        if (it == by_output_.end()) continue;
        list.push_back({n.outputs[0], n.op_type, {}, it->second != n.outputs[0] ? it->second : "", false});
      }
      return list;
    }
    std::vector<LayerInfo> list;
    std::set<std::string> shown;
    for (size_t k = 0; k < ids.size(); ++k) {
      if (ids[k] <= 0 || outs[k].empty()) continue;  // 0 is OpenCV's input layer
      auto l = net_.getLayer(ids[k]);
      auto it = onnx_name_.find(l->name);
      const std::string name = it != onnx_name_.end() ? it->second : l->name;
      if (!shown.insert(name).second) continue;
      const auto& s = outs[k][0];
      list.push_back({name, l->type, Shape(s.begin() + (s.empty() ? 0 : 1), s.end()), name != l->name ? l->name : ""});
    }
    return list;
  }

 private:
  // OpenCV reads the model as normalize_onnx leaves it for `input` (the
  // declared input at first, where sizes may be open). Folded shapes, and
  // the shapes OpenCV's importer fixes from the declared input (ReduceMean,
  // for one), hold for that input only: at another size the model as
  // exported is normalized and read again.
  //
  // The model as exported is not kept (a ViT's weights are 330 MB, and the
  // net holds its own copy): a reload reads the file again, which must be
  // the file read at first.
  void load(const Shape& input, onnx::ModelProto model) {
    try {
      normalize_onnx(model, input);
      const std::string bytes = serialize_onnx_model(model);
      onnx::ModelProto().Swap(&model);  // freed before OpenCV parses its own copy
      net_ = read_quietly(bytes);
    } catch (const cv::Exception& e) {
      throw Error(load_error_message(path_, e.err, graph_), "model");
    } catch (const std::exception& e) {
      throw Error(sdk::cat("cannot load ONNX model ", path_, ": ", e.what()), "model");
    }
    normalized_for_ = input;
    net_.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    net_.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    by_output_.clear();
    onnx_name_.clear();
    map_names();
    cv_layer_ = resolve_layer(layer_);
    planned_.clear();
  }

  void reload_for(const Shape& input) {
    if (input != normalized_for_) load(input, read_model());
  }

  // The model file, checked to be the one first read (size and mtime) so
  // that a reload never mixes two models in one run.
  onnx::ModelProto read_model() {
    struct stat st {};
    if (::stat(path_.c_str(), &st) == 0) {
      const auto id = std::make_tuple(st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec, st.st_ino);
      if (file_id_ && *file_id_ != id)
        throw Error(sdk::cat(path_, " changed on disk since it was loaded (the stage reads it again for another "
                             "input size): rerun with the file left as it is"),
                    "model");
      file_id_ = id;
    }
    try {
      return load_onnx_model(path_);
    } catch (const std::exception& e) {
      throw Error(sdk::cat("cannot load ONNX model ", path_, ": ", e.what()), "model");
    }
  }

  cv::Mat run(const cv::Mat& blob) {
    try {
      net_.setInput(blob);
      cv::Mat out = net_.forward(cv_layer_);
      planned_.assign(blob.size.p, blob.size.p + blob.dims);
      return out;
    } catch (const cv::Exception& e) {
      throw Error(run_error_message(path_, dims_text(Shape(blob.size.p + 1, blob.size.p + blob.dims)), e.err, graph_));
    }
  }

  // OpenCV names a layer "onnx_node!<node name>" (or "!<first output>"
  // when the node has no name) and keeps graph outputs under their own
  // names; map those back to ONNX output names.
  void map_names() {
    for (const auto& n : graph_.nodes) {
      if (n.outputs.empty()) continue;
      const std::string& out0 = n.outputs[0];
      for (const std::string& cv_name : {"onnx_node!" + n.name, "onnx_node!" + out0, out0, n.name}) {
        if (cv_name.empty() || cv_name == "onnx_node!" || net_.getLayerId(cv_name) < 0) continue;
        by_output_.emplace(out0, cv_name);
        if (!n.name.empty()) by_output_.emplace(n.name, cv_name);
        onnx_name_.emplace(cv_name, out0);
        break;
      }
    }
  }

  std::string resolve_layer(const std::string& layer) {
    if (layer.empty()) {
      auto outs = net_.getUnconnectedOutLayersNames();
      sdk::check(outs.size() == 1, "layer", "the model has ", outs.size(), " outputs: choose one with `layer`");
      return outs[0];
    }
    if (net_.getLayerId(layer) >= 0) return layer;
    auto it = by_output_.find(layer);
    if (it != by_output_.end()) return it->second;
    // Produced by a node OpenCV folded away (Constant, Shape, ...) or not in
    // the model at all.
    std::string names;
    int shown = 0;
    for (const auto& n : graph_.nodes)
      if (!n.outputs.empty() && by_output_.count(n.outputs[0]) && shown++ < 12) names += "\n  " + n.outputs[0];
    for (const auto& n : graph_.nodes)
      if (std::find(n.outputs.begin(), n.outputs.end(), layer) != n.outputs.end())
        throw Error(sdk::cat("layer '", layer, "' (output of ", n.op_type, " node '", n.name,
                             "') is not a layer OpenCV DNN keeps (folded or fused at import); layers:", names,
                             shown > 12 ? "\n  ... (featpipe validate lists all)" : ""),
                    "layer");
    throw Error(sdk::cat("no layer '", layer, "' in ", path_, "; layers:", names,
                         shown > 12 ? "\n  ... (featpipe validate lists all)" : ""),
                "layer");
  }

  std::string path_, layer_, cv_layer_;
  std::optional<std::tuple<off_t, time_t, long, ino_t>> file_id_;  // the model file first read
  Shape normalized_for_;    // the input net_ was read for
  OnnxGraph graph_;
  cv::dnn::Net net_;
  std::map<std::string, std::string> by_output_;  // ONNX output/node name -> OpenCV layer
  std::map<std::string, std::string> onnx_name_;  // OpenCV layer -> ONNX output name
  cv::Mat out_;
  Shape planned_;  // the input shape of the last forward pass
};

std::unique_ptr<Backend> open_opencv(const std::string& model, const std::string& layer) {
  return std::make_unique<OpenCvBackend>(model, layer);
}

[[maybe_unused]] const bool registered = register_backend({"opencv", ".onnx", 0, &open_opencv});

}  // namespace

}  // namespace featpipe::cnn
