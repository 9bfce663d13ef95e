#include "onnx_fold.hpp"

#include "onnx_eval.hpp"

#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>

namespace featpipe::cnn {
namespace {

using Dims = std::vector<int64_t>;

// Folding is for shapes and small constants, not for weights.
constexpr size_t kMaxElements = size_t{1} << 20;

int64_t default_opset(const onnx::ModelProto& model) {
  for (const auto& op : model.opset_import())
    if (op.domain().empty() || op.domain() == "ai.onnx") return op.version();
  return 0;
}

std::optional<Dims> full_dims(const onnx::TypeProto& type) {
  if (!type.has_tensor_type() || !type.tensor_type().has_shape()) return std::nullopt;
  Dims d;
  for (const auto& dim : type.tensor_type().shape().dim()) {
    if (!dim.has_dim_value()) return std::nullopt;
    d.push_back(dim.dim_value());
  }
  return d;
}

}  // namespace

ShapeMap infer_shapes(onnx::ModelProto& model, const Dims& input) {
  onnx::GraphProto& g = *model.mutable_graph();
  const auto inputs = g.input();
  const auto outputs = g.output();
  const auto value_info = g.value_info();
  std::set<std::string> initializers;
  for (const auto& t : g.initializer()) initializers.insert(t.name());
  for (auto& in : *g.mutable_input()) {
    if (initializers.count(in.name())) continue;
    auto* shape = in.mutable_type()->mutable_tensor_type()->mutable_shape();
    if (!input.empty() && (shape->dim_size() == 0 || shape->dim_size() == static_cast<int>(input.size()))) {
      shape->clear_dim();
      for (int64_t d : input) {
        auto* dim = shape->add_dim();
        if (d >= 0) dim->set_dim_value(d);
      }
    }
    if (shape->dim_size() > 0 && !shape->dim(0).has_dim_value()) shape->mutable_dim(0)->set_dim_value(1);  // batch of 1
    break;
  }
  ShapeMap shapes;
  try {
    onnx::shape_inference::InferShapes(model);
  } catch (const std::exception&) {
    // A model shape inference cannot follow: fold what needs no shapes.
  }
  for (const auto* list : {&g.input(), &g.output(), &g.value_info()})
    for (const auto& v : *list)
      if (auto d = full_dims(v.type())) shapes[v.name()] = *d;
  *g.mutable_input() = inputs;
  *g.mutable_output() = outputs;
  *g.mutable_value_info() = value_info;
  return shapes;
}

namespace {

const onnx::AttributeProto* attr(const onnx::NodeProto& n, const char* name) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

// Shape(x) from x's known dims, with opset 15's start/end.
ConstValue shape_value(const onnx::NodeProto& n, const Dims& dims) {
  const auto rank = static_cast<int64_t>(dims.size());
  auto bound = [rank](int64_t v) { return std::clamp(v < 0 ? v + rank : v, int64_t{0}, rank); };
  const auto* s = attr(n, "start");
  const auto* e = attr(n, "end");
  const int64_t b = s ? bound(s->i()) : 0, end = e ? bound(e->i()) : rank;
  ConstValue v;
  v.type = onnx::TensorProto::INT64;
  v.i.assign(dims.begin() + b, dims.begin() + std::max(b, end));
  v.dims = {static_cast<int64_t>(v.i.size())};
  return v;
}

}  // namespace

FoldResult fold_constants(onnx::ModelProto& model, const ShapeMap& shapes) {
  const int64_t opset = default_opset(model);
  onnx::GraphProto& g = *model.mutable_graph();
  std::set<std::string> graph_outputs;
  for (const auto& o : g.output()) graph_outputs.insert(o.name());
  // Initializers are converted when a folded node reads them.
  std::map<std::string, const onnx::TensorProto*> initializers;
  for (const auto& t : g.initializer()) initializers[t.name()] = &t;
  std::map<std::string, ConstValue> values;
  auto value = [&](const std::string& name) -> const ConstValue* {
    if (auto it = values.find(name); it != values.end()) return &it->second;
    auto it = initializers.find(name);
    if (it == initializers.end()) return nullptr;
    size_t n = 1;
    for (int64_t d : it->second->dims()) n *= static_cast<size_t>(d);
    if (n > kMaxElements) return nullptr;
    auto v = from_tensor(*it->second);
    return v ? &values.emplace(name, std::move(*v)).first->second : nullptr;
  };

  FoldResult result;
  std::vector<onnx::TensorProto> added;
  std::vector<int> folded_nodes;
  for (int k = 0; k < g.node_size(); ++k) {
    const onnx::NodeProto& n = g.node(k);
    if (!n.domain().empty() && n.domain() != "ai.onnx") continue;
    if (std::any_of(n.output().begin(), n.output().end(), [&](const auto& o) { return graph_outputs.count(o) > 0; }))
      continue;
    std::optional<std::vector<ConstValue>> out;
    if (n.op_type() == "Shape" && n.input_size() == 1) {
      Dims dims;
      if (const ConstValue* c = value(n.input(0))) dims = c->dims;
      else if (auto it = shapes.find(n.input(0)); it != shapes.end()) dims = it->second;
      else continue;
      out = std::vector<ConstValue>{shape_value(n, dims)};
      result.used_input_shape = result.used_input_shape || !value(n.input(0));
    } else if (evaluable(n.op_type())) {
      std::vector<const ConstValue*> in;
      bool all = true;
      for (const auto& name : n.input()) {
        const ConstValue* v = name.empty() ? nullptr : value(name);
        all = all && (name.empty() || v);
        in.push_back(v);
      }
      if (!all) continue;
      out = evaluate(n, opset, in);
    }
    if (!out || out->size() != static_cast<size_t>(n.output_size())) continue;
    bool small = true;
    for (const auto& v : *out) small = small && v.size() <= kMaxElements;
    if (!small) continue;
    for (size_t j = 0; j < out->size(); ++j) {
      added.push_back(to_tensor((*out)[j], n.output(static_cast<int>(j))));
      values[n.output(static_cast<int>(j))] = std::move((*out)[j]);
    }
    folded_nodes.push_back(k);
  }
  std::set<int> folded_set(folded_nodes.begin(), folded_nodes.end());
  int k = 0;
  keep_if(g.mutable_node(), [&](const onnx::NodeProto&) { return !folded_set.count(k++); });
  for (auto& t : added) *g.add_initializer() = std::move(t);
  result.folded = static_cast<int>(folded_nodes.size());
  drop_unused(g);
  return result;
}

void drop_unused(onnx::GraphProto& g) {
  static const std::set<std::string> droppable = {"Constant", "Shape", "Gather", "Unsqueeze", "Squeeze", "Concat",
                                                  "Cast", "Slice", "ConstantOfShape", "Expand", "Reshape",
                                                  "Equal", "Where", "Identity", "Mod", "Range", "Not",
                                                  "ScatterND"};
  std::set<std::string> live;
  for (const auto& o : g.output()) live.insert(o.name());
  std::vector<bool> keep(static_cast<size_t>(g.node_size()), true);
  for (int k = g.node_size(); k-- > 0;) {
    const auto& n = g.node(k);
    const bool used = std::any_of(n.output().begin(), n.output().end(), [&](const auto& o) { return live.count(o) > 0; });
    if (!used && droppable.count(n.op_type())) {
      keep[static_cast<size_t>(k)] = false;
      continue;
    }
    for (const auto& i : n.input()) live.insert(i);
  }
  int k = 0;
  keep_if(g.mutable_node(), [&](const onnx::NodeProto&) { return keep[static_cast<size_t>(k++)]; });
  std::set<std::string> dropped;
  keep_if(g.mutable_initializer(), [&](const onnx::TensorProto& t) {
    if (live.count(t.name())) return true;
    dropped.insert(t.name());
    return false;
  });
  // Before IR 4, initializers are listed as graph inputs too.
  keep_if(g.mutable_input(), [&](const onnx::ValueInfoProto& v) { return !dropped.count(v.name()); });
}

}  // namespace featpipe::cnn
