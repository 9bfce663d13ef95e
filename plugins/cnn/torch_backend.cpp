// cnn.features' libtorch backend: TorchScript models (torch.jit.save of a
// traced or scripted module). The only file that includes torch headers;
// it is built into its own module, libfeatpipe_cnn_torch.so, which the cnn
// plugin opens on the first torch model (torch_module.cpp), so that
// pipelines without one never load libtorch.
//
// `layer` picks the output: a key of a dict output (torchvision's
// create_feature_extractor), an index of a tuple or list output, or null for
// a model returning one tensor.
#include "backend.hpp"
#include "torch_module.hpp"
#include "worker_threads.hpp"

#include <featpipe/sdk.hpp>

#include <ATen/Parallel.h>
#include <caffe2/serialize/inline_container.h>
#include <torch/script.h>
#include <torch/version.h>

#include <dlfcn.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace featpipe::cnn {
namespace {

using sdk::Error;

std::string dims_text(const Shape& s, size_t from = 0) {
  std::string t = "[";
  for (size_t k = from; k < s.size(); ++k) t += (k > from ? ", " : "") + std::to_string(s[k]);
  return t + "]";
}

// The line of a torch error worth showing: the Python-style "XError: ..."
// line of a TorchScript traceback (the last), else the first line.
std::string torch_message(const std::exception& e) {
  const auto* ce = dynamic_cast<const c10::Error*>(&e);
  std::istringstream is(ce ? ce->what_without_backtrace() : e.what());
  std::string first, raised;
  for (std::string line; std::getline(is, line);) {
    if (line.empty()) continue;
    if (first.empty()) first = line;
    const size_t colon = line.find("Error: ");
    if (colon != std::string::npos && line.find(' ') > colon) raised = line;
  }
  return raised.empty() ? first : raised;
}

// Thread counts are per process (OpenMP's for the calling thread): set on
// each pass when they differ, as a second model loaded later in the same
// process lowers them for its own load-time passes.
void openblas_threads(int n) {
  using SetThreads = void (*)(int);
  static const auto set = reinterpret_cast<SetThreads>(::dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (set) set(n);
}

void use_threads(int n) {
  if (at::get_num_threads() != n) {
    at::set_num_threads(n);
    openblas_threads(n);
  }
}

// libtorch's own count before featpipe changed it (OMP_NUM_THREADS, else the
// cores); read once, before the first load-time pass lowers it.
int default_threads() {
  static const int n = at::get_num_threads();
  return n;
}

// torch.save writes a zip too (data.pkl, no code/): say what the file is
// rather than pass on torch::jit::load's "constants.pkl not found".
void check_torchscript(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(sdk::cat("cannot open TorchScript model ", path, ": no such file or not readable"), "model");
  char head[4] = {};
  in.read(head, 4);
  const std::string fix = "save it with torch.jit.save(torch.jit.trace(model, example)) or torch.jit.script(model)";
  if (in.gcount() >= 2 && static_cast<unsigned char>(head[0]) == 0x80 && head[1] >= 2 && head[1] <= 5)
    throw Error(sdk::cat(path, " is a PyTorch checkpoint (a legacy torch.save pickle), not TorchScript: ", fix),
                "model");
  if (in.gcount() < 4 || std::string(head, 4) != std::string("PK\x03\x04", 4))
    throw Error(sdk::cat(path, " is not a TorchScript file (not a zip archive): ", fix), "model");
  bool code = false;
  try {
    caffe2::serialize::PyTorchStreamReader reader(path);
    code = reader.hasRecord("constants.pkl");
  } catch (const std::exception& e) {
    throw Error(sdk::cat("cannot read TorchScript model ", path, ": ", torch_message(e)), "model");
  }
  if (!code)
    throw Error(sdk::cat(path, " is a PyTorch checkpoint (torch.save of a state_dict or a model), not TorchScript: ",
                         fix),
                "model");
}

class TorchBackend final : public Backend {
 public:
  TorchBackend(const std::string& path, const std::string& layer) : path_(path), layer_(layer) {
    default_threads();
    check_torchscript(path_);
    try {
      module_ = torch::jit::load(path_, torch::kCPU);
      module_.eval();
      for (const auto& p : module_.parameters()) parameters_ += p.numel();
      const auto& args = module_.get_method("forward").function().getSchema().arguments();  // throws without forward
      input_name_ = args.size() > 1 ? args[1].name() : "input";
    } catch (const std::exception& e) {
      throw Error(sdk::cat("cannot load TorchScript model ", path_, ": ", torch_message(e)), "model");
    }
    // torch.jit.optimize_for_inference: freezes (weights inlined, batch
    // norms folded into convolutions) and moves convolutions to oneDNN's
    // blocked layout, 1.2x (resnet18) to 1.8x (mobilenet_v2) faster than
    // freezing alone on one core, same numbers within float rounding (the
    // tests hold it to PyTorch's float64). A module it cannot optimize is
    // frozen, and one it cannot freeze runs as loaded.
    try {
      module_ = torch::jit::optimize_for_inference(module_);
    } catch (const std::exception&) {
      try {
        module_ = torch::jit::freeze(module_);
      } catch (const std::exception&) {
      }
    }
  }

  Shape input_shape() const override { return {}; }  // TorchScript declares no input shape

  ModelNames names() const override {
    std::string summary = sdk::cat("TorchScript, ", parameters_, " parameters");
    if (!out_dtype_.empty()) summary += ", output " + out_dtype_ + " converted to float32";
    return {input_name_, layer_.empty() ? "output" : layer_,
            sdk::cat("libtorch ", TORCH_VERSION_MAJOR, ".", TORCH_VERSION_MINOR), summary};
  }

  Shape output_shape(const Shape& input) override {
    // Single-threaded at load (see worker_threads.hpp); a few passes let
    // the profiling executor specialize the graph, so the first input
    // runs at full speed.
    use_threads(1);
    const at::Tensor zeros = at::zeros(input, at::kFloat);
    Shape shape;
    for (int pass = 0; pass < 3; ++pass) {
      const at::Tensor out = pick(run(zeros, input));
      shape.assign(out.sizes().begin(), out.sizes().end());
    }
    return shape;
  }

  std::vector<LayerInfo> layers(const Shape& input) override {
    use_threads(1);
    const c10::IValue out = run(at::zeros(input, at::kFloat), input);
    std::vector<LayerInfo> list;
    auto add = [&](const std::string& name, const char* kind, const c10::IValue& v) {
      Shape s;
      if (v.isTensor()) s.assign(v.toTensor().sizes().begin() + (v.toTensor().dim() ? 1 : 0), v.toTensor().sizes().end());
      list.push_back({name, v.isTensor() ? kind : v.tagKind().c_str(), s, ""});
    };
    if (out.isGenericDict())
      for (const auto& kv : out.toGenericDict()) add(key_text(kv.key()), "dict entry", kv.value());
    else if (out.isTuple() || out.isList()) {
      const auto items = elements(out);
      for (size_t k = 0; k < items.size(); ++k) add(std::to_string(k), out.isTuple() ? "tuple item" : "list item", items[k]);
    } else
      add("output", "tensor", out);
    return list;
  }

  OutputView forward(const float* data, const Shape& input) override {
    // FEATPIPE_THREADS caps libtorch's own count, never raises it: libtorch
    // counts physical cores, and OpenMP threads on a core's hyperthreads
    // spin against each other (mobilenet_v2 ran 30x slower on 2 of them).
    const int n = worker_threads();
    use_threads(n > 0 ? std::min(n, default_threads()) : default_threads());
    // No copy: the tensor views the stage's buffer, which the model only reads.
    const at::Tensor in = torch::from_blob(const_cast<float*>(data), input, at::kFloat);
    out_ = pick(run(in, input));
    return {out_.data_ptr<float>(), Shape(out_.sizes().begin(), out_.sizes().end())};
  }

 private:
  c10::IValue run(const at::Tensor& in, const Shape& input) {
    c10::InferenceMode guard;
    try {
      return module_.forward({in});
    } catch (const std::exception& e) {
      throw Error(sdk::cat("the TorchScript model ", path_, " failed on an input of ", dims_text(input, 1), ": ",
                           torch_message(e)));
    }
  }

  static std::string key_text(const c10::IValue& k) {
    if (k.isString()) return k.toStringRef();
    if (k.isInt()) return std::to_string(k.toInt());
    return k.tagKind();
  }

  static std::vector<c10::IValue> elements(const c10::IValue& v) {
    if (v.isTuple()) {
      const auto& e = v.toTupleRef().elements();
      return std::vector<c10::IValue>(e.begin(), e.end());
    }
    const auto l = v.toList();
    return std::vector<c10::IValue>(l.begin(), l.end());
  }

  // What the outputs are called, for errors: "'a' [8, 16, 16], 'b' [10]".
  static std::string listing(const std::vector<std::pair<std::string, c10::IValue>>& items) {
    std::string t;
    for (const auto& [name, v] : items)
      t += (t.empty() ? "" : ", ") + ("'" + name + "' ") +
           (v.isTensor() ? dims_text(Shape(v.toTensor().sizes().begin(), v.toTensor().sizes().end()), 1)
                         : v.tagKind());
    return t;
  }

  // The chosen output as dense float32 with its batch axis.
  at::Tensor pick(const c10::IValue& out) {
    std::vector<std::pair<std::string, c10::IValue>> items;
    const char* kind = "";
    if (out.isTensor()) {
      if (!layer_.empty())
        throw Error(sdk::cat("the model ", path_, " returns one tensor, so it has no output '", layer_,
                             "': leave `layer` null"),
                    "layer");
      return dense(out.toTensor(), "output");
    }
    if (out.isGenericDict()) {
      kind = "a dict";
      for (const auto& kv : out.toGenericDict()) items.emplace_back(key_text(kv.key()), kv.value());
    } else if (out.isTuple() || out.isList()) {
      kind = out.isTuple() ? "a tuple" : "a list";
      const auto e = elements(out);
      for (size_t k = 0; k < e.size(); ++k) items.emplace_back(std::to_string(k), e[k]);
    } else {
      throw Error(sdk::cat("the model ", path_, " returns ", out.tagKind(), ", not a tensor, dict, tuple or list"),
                  "layer");
    }
    if (layer_.empty())
      throw Error(sdk::cat("the model ", path_, " returns ", kind, " of ", items.size(),
                           " outputs: choose one with `layer`: ", listing(items)),
                  "layer");
    for (const auto& [name, v] : items)
      if (name == layer_) {
        if (!v.isTensor())
          throw Error(sdk::cat("output '", layer_, "' of ", path_, " is ", v.tagKind(), ", not a tensor"), "layer");
        return dense(v.toTensor(), layer_);
      }
    throw Error(sdk::cat("the model ", path_, " has no output '", layer_, "'; it returns ", kind, ": ",
                         listing(items)),
                "layer");
  }

  at::Tensor dense(const at::Tensor& t, const std::string& name) {
    if (t.scalar_type() != at::kFloat) {
      if (!at::isFloatingType(t.scalar_type()))
        throw Error(sdk::cat("output '", name, "' of ", path_, " is ", c10::toString(t.scalar_type()),
                             ", not a floating-point tensor"),
                    "layer");
      const auto type = t.scalar_type();
      out_dtype_ = type == at::kDouble ? "float64" : type == at::kHalf ? "float16" : c10::toString(type);
    }
    return t.to(at::kFloat).contiguous();
  }

  std::string path_, layer_, input_name_, out_dtype_;
  torch::jit::Module module_;
  int64_t parameters_ = 0;
  at::Tensor out_;  // the last output, which the stage reads until the next pass
};

std::unique_ptr<Backend> open_torch(const std::string& model, const std::string& layer) {
  return std::make_unique<TorchBackend>(model, layer);
}

}  // namespace

}  // namespace featpipe::cnn

extern "C" __attribute__((visibility("default"))) featpipe::cnn::OpenBackend featpipe_cnn_torch_factory(
    unsigned version) {
  return version == featpipe::cnn::kTorchModuleVersion ? &featpipe::cnn::open_torch : nullptr;
}
