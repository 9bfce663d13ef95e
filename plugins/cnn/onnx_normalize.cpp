#include "onnx_normalize.hpp"

#include "onnx_eval.hpp"
#include "onnx_fold.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

namespace featpipe::cnn {
namespace {

void rename_inputs(onnx::GraphProto& g, const std::string& from, const std::string& to) {
  for (auto& n : *g.mutable_node())
    for (auto& in : *n.mutable_input())
      if (in == from) in = to;
}

bool is_graph_output(const onnx::GraphProto& g, const std::string& name) {
  for (const auto& o : g.output())
    if (o.name() == name) return true;
  return false;
}

const onnx::TensorProto* initializer(const onnx::GraphProto& g, const std::string& name) {
  for (const auto& t : g.initializer())
    if (t.name() == name) return &t;
  return nullptr;
}

// A one-element float initializer's value.
std::optional<double> scalar(const onnx::GraphProto& g, const std::string& name) {
  const auto* t = initializer(g, name);
  if (!t) return std::nullopt;
  auto v = from_tensor(*t);
  if (!v || v->size() != 1) return std::nullopt;
  return v->is_float() ? v->f[0] : static_cast<double>(v->i[0]);
}

// The first graph input declared as `input` when all of it is known: the
// model now holds for that shape (and OpenCV's importer sizes its layers
// from the declared input).
void declare_input(onnx::GraphProto& g, const std::vector<int64_t>& input) {
  if (input.empty() || std::any_of(input.begin(), input.end(), [](int64_t d) { return d < 0; })) return;
  std::set<std::string> initializers;
  for (const auto& t : g.initializer()) initializers.insert(t.name());
  for (auto& in : *g.mutable_input()) {
    if (initializers.count(in.name())) continue;
    auto* shape = in.mutable_type()->mutable_tensor_type()->mutable_shape();
    shape->clear_dim();
    for (int64_t d : input) shape->add_dim()->set_dim_value(d);
    return;
  }
}

}  // namespace

// OpenCV 4.6 imports Identity as a layer with the inputs its importer
// resolved; on an initializer or a Constant (the exporter's deduplicated
// weights) that is none, and getMemoryShapes fails. Consumers read the
// source instead. An Identity of a computed tensor is kept: OpenCV runs it,
// and its output stays a layer `layer:` can name.
int fold_identities(onnx::GraphProto& g) {
  std::set<std::string> constant;
  for (const auto& t : g.initializer()) constant.insert(t.name());
  for (const auto& n : g.node())
    if (n.op_type() == "Constant")
      for (const auto& o : n.output()) constant.insert(o);
  int folded = 0;
  std::vector<bool> drop(static_cast<size_t>(g.node_size()), false);
  for (int k = 0; k < g.node_size(); ++k) {
    const auto& n = g.node(k);
    if (n.op_type() != "Identity" || n.input_size() != 1 || n.output_size() != 1) continue;
    if (!constant.count(n.input(0)) || is_graph_output(g, n.output(0))) continue;
    rename_inputs(g, n.output(0), n.input(0));
    drop[static_cast<size_t>(k)] = true;
    ++folded;
  }
  int k = 0;
  keep_if(g.mutable_node(), [&](const onnx::NodeProto&) { return !drop[static_cast<size_t>(k++)]; });
  return folded;
}

// From opset 11 on, Clip takes min and max as inputs; OpenCV 4.6's
// parseClip checks for one input and reads Clip-6's min/max attributes
// (as ReLU6). Constant bounds become those attributes.
int clip_bounds_to_attributes(onnx::GraphProto& g) {
  int done = 0;
  for (auto& n : *g.mutable_node()) {
    if (n.op_type() != "Clip" || n.input_size() < 2) continue;
    std::optional<double> lo, hi;
    if (!n.input(1).empty() && !(lo = scalar(g, n.input(1)))) continue;
    if (n.input_size() > 2 && !n.input(2).empty() && !(hi = scalar(g, n.input(2)))) continue;
    for (const auto& [name, bound] : {std::pair{"min", lo}, std::pair{"max", hi}})
      if (bound) {
        auto* a = n.add_attribute();
        a->set_name(name);
        a->set_type(onnx::AttributeProto::FLOAT);
        a->set_f(static_cast<float>(*bound));
      }
    n.mutable_input()->DeleteSubrange(1, n.input_size() - 1);
    ++done;
  }
  if (done) drop_unused(g);
  return done;
}

// An empty name is an absent optional input; OpenCV 4.6 looks a trailing
// one up as a constant (Pad(x, pads, "") for F.pad's default value: "Blob
// not found"). Trailing ones are dropped, which ONNX defines as the same.
int drop_empty_trailing_inputs(onnx::GraphProto& g) {
  int done = 0;
  for (auto& n : *g.mutable_node()) {
    int keep = n.input_size();
    while (keep > 0 && n.input(keep - 1).empty()) --keep;
    if (keep == n.input_size()) continue;
    n.mutable_input()->DeleteSubrange(keep, n.input_size() - keep);
    ++done;
  }
  return done;
}

// Dropout is the identity at inference (training_mode absent or false) and
// at any time when its ratio is 0 (swin's F.dropout(p=0.0) keeps
// training_mode=true); OpenCV 4.6 reads the ratio and mode inputs as
// constants and has no BOOL constant. The identity is Dropout(x) alone: the
// node stays, so its output remains a layer `layer:` can name.
int strip_inference_dropouts(onnx::GraphProto& g) {
  std::set<std::string> read;
  for (const auto& n : g.node())
    for (const auto& in : n.input()) read.insert(in);
  for (const auto& o : g.output()) read.insert(o.name());
  int done = 0;
  for (auto& n : *g.mutable_node()) {
    if (n.op_type() != "Dropout" || n.input_size() < 2) continue;
    if (n.output_size() > 1 && !n.output(1).empty() && read.count(n.output(1))) continue;  // the mask is used
    const bool has_ratio = !n.input(1).empty();
    const bool has_mode = n.input_size() > 2 && !n.input(2).empty();
    const std::optional<double> ratio = has_ratio ? scalar(g, n.input(1)) : 0.5;
    const std::optional<double> mode = has_mode ? scalar(g, n.input(2)) : 0.0;
    if (!((mode && *mode == 0) || (ratio && *ratio == 0))) continue;
    n.mutable_input()->DeleteSubrange(1, n.input_size() - 1);
    if (n.output_size() > 1) n.mutable_output()->DeleteSubrange(1, n.output_size() - 1);
    ++done;
  }
  if (done) drop_unused(g);
  return done;
}

// A two-input einsum that is MatMul: the same distinct batch letters
// leading everywhere, then a = {i, k}, b = {k, j}, out = i j.
struct MatMulForm {
  int64_t rank = 0;
  bool swap_a = false, swap_b = false;  // last two axes to transpose first
};

std::optional<MatMulForm> matmul_form(const std::string& equation) {
  std::string e;
  for (char c : equation)
    if (c != ' ') e += c;
  const size_t comma = e.find(','), arrow = e.find("->");
  if (comma == std::string::npos || arrow == std::string::npos || arrow < comma) return std::nullopt;
  const std::string a = e.substr(0, comma), b = e.substr(comma + 1, arrow - comma - 1), out = e.substr(arrow + 2);
  const size_t r = out.size();
  if (r < 2 || a.size() != r || b.size() != r) return std::nullopt;
  const std::string batch = out.substr(0, r - 2);
  if (a.substr(0, r - 2) != batch || b.substr(0, r - 2) != batch) return std::nullopt;
  const char i = out[r - 2], j = out[r - 1];
  const char k = a[r - 2] == i ? a[r - 1] : a[r - 1] == i ? a[r - 2] : 0;
  const std::string all = batch + i + j + k;
  if (!std::all_of(all.begin(), all.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)); }) ||
      std::set<char>(all.begin(), all.end()).size() != all.size())
    return std::nullopt;
  if (!((b[r - 2] == k && b[r - 1] == j) || (b[r - 2] == j && b[r - 1] == k))) return std::nullopt;
  return MatMulForm{static_cast<int64_t>(r), a[r - 1] != k, b[r - 2] != k};
}

// OpenCV 4.6 has no Einsum. maxvit writes its attention's batched matrix
// products as einsums ("B G H I D, B G H J D -> B G H I J", then "B G H I J,
// B G H J D -> B G H I D"): those are MatMul, with a Transpose of the last
// two axes where the summed letter is not where MatMul sums. Other
// equations are left for the error naming Einsum.
int einsum_to_matmul(onnx::GraphProto& g) {
  google::protobuf::RepeatedPtrField<onnx::NodeProto> nodes;
  int done = 0;
  for (auto& n : *g.mutable_node()) {
    std::optional<MatMulForm> form;
    if (n.op_type() == "Einsum" && n.input_size() == 2 && n.output_size() == 1)
      for (const auto& a : n.attribute())
        if (a.name() == "equation") form = matmul_form(a.s());
    if (!form) {
      *nodes.Add() = std::move(n);
      continue;
    }
    onnx::NodeProto matmul;
    matmul.set_op_type("MatMul");
    matmul.set_name(n.name());
    for (int side = 0; side < 2; ++side) {
      if (!(side == 0 ? form->swap_a : form->swap_b)) {
        matmul.add_input(n.input(side));
        continue;
      }
      onnx::NodeProto* t = nodes.Add();
      t->set_op_type("Transpose");
      t->set_name(n.name() + "/transpose_" + std::to_string(side));
      t->add_input(n.input(side));
      t->add_output(n.output(0) + "/transposed_" + std::to_string(side));
      auto* perm = t->add_attribute();
      perm->set_name("perm");
      perm->set_type(onnx::AttributeProto::INTS);
      const int64_t rank = form->rank;
      for (int64_t d = 0; d < rank; ++d) perm->add_ints(d + 2 == rank ? rank - 1 : d + 1 == rank ? rank - 2 : d);
      matmul.add_input(t->output(0));
    }
    matmul.add_output(n.output(0));
    *nodes.Add() = std::move(matmul);
    ++done;
  }
  g.mutable_node()->Swap(&nodes);
  return done;
}

// OpenCV 4.6 imports Mul/Div of two computed tensors of different shapes as
// a Scale layer over the axes where the smaller one is not 1; when it is 1
// everywhere (LayerNorm's Div by the standard deviation on the last axis of
// a [1, 1, 1, C] tensor: convnext's classifier, or any block at 1x1) there
// are none and parseMul's check `axis != outShape.size()` fails. A MatMul
// by ones [1, C] gives the scalar the partner's shape (exactly: x * 1), and
// tensors of one shape are an elementwise layer. Sub/Add of [1, 1] and
// [1, C] (LayerNorm's Sub on a flattened [1, C]: maxvit's classifier) fail
// the same way, in a Reshape of the shapes; at rank 4 (convnext) they import.
int spread_scalar_divisors(onnx::GraphProto& g, const std::map<std::string, std::vector<int64_t>>& shapes) {
  std::set<std::string> constant;
  for (const auto& t : g.initializer()) constant.insert(t.name());
  auto shape = [&](const std::string& name) -> const std::vector<int64_t>* {
    auto it = shapes.find(name);
    return it == shapes.end() || constant.count(name) ? nullptr : &it->second;
  };
  // [1, ..., 1] against [1, ..., 1, C]: the width C to spread to, else 0.
  auto width = [](const std::vector<int64_t>& scalar, const std::vector<int64_t>& row) -> int64_t {
    if (scalar.size() != row.size() || row.size() < 2 || row.back() <= 1) return 0;
    for (size_t k = 0; k < row.size(); ++k)
      if (scalar[k] != 1 || (k + 1 < row.size() && row[k] != 1)) return 0;
    return row.back();
  };
  google::protobuf::RepeatedPtrField<onnx::NodeProto> nodes;
  std::set<int64_t> ones;
  int done = 0;
  for (auto& n : *g.mutable_node()) {
    const bool scales = n.op_type() == "Div" || n.op_type() == "Mul";
    const bool shifts = (n.op_type() == "Sub" || n.op_type() == "Add") && n.input_size() == 2 && shape(n.input(0)) &&
                        shape(n.input(0))->size() == 2;
    if ((scales || shifts) && n.input_size() == 2) {
      const auto* a = shape(n.input(0));
      const auto* b = shape(n.input(1));
      for (int side = 0; side < 2 && a && b; ++side) {
        const int64_t c = side == 0 ? width(*b, *a) : width(*a, *b);
        if (!c) continue;
        const std::string ones_name = "featpipe_ones_1x" + std::to_string(c);
        if (ones.insert(c).second) {
          ConstValue v;
          v.dims = {1, c};
          v.f.assign(static_cast<size_t>(c), 1.0);
          *g.add_initializer() = to_tensor(v, ones_name);
        }
        const int at = side == 0 ? 1 : 0;
        onnx::NodeProto* spread = nodes.Add();
        spread->set_op_type("MatMul");
        spread->set_name(n.name() + "/spread");
        spread->add_input(n.input(at));
        spread->add_input(ones_name);
        spread->add_output(n.input(at) + "/spread_to_" + std::to_string(c));
        n.set_input(at, spread->output(0));
        ++done;
        break;
      }
    }
    *nodes.Add() = std::move(n);
  }
  g.mutable_node()->Swap(&nodes);
  return done;
}

// OpenCV 4.6 imports Add/Sub/Mul/Div of a computed tensor x and a constant
// c as a Scale layer with c flattened, on the axes from 1 whose sizes
// multiply to c's size. A constant on the last axis of [1, H, W, C] (the
// LayerNorm affine after a Permute, ViT's biases on [1, T, D]) matches none
// (the forward fails in shape_utils' total()). Expanding c to x's shape
// makes the importer add it elementwise; it is the same values repeated, so
// the result is the same. The shape is x's whole shape, leading axis
// included: the stage runs a batch of 1, and swin's windows are a leading
// axis of 9 or 4 (a [1, ...] constant there gets Scale's axis 0 and fails).
int expand_trailing_constants(onnx::GraphProto& g, const std::map<std::string, std::vector<int64_t>>& shapes) {
  std::map<std::string, const onnx::TensorProto*> constants;
  for (const auto& t : g.initializer()) constants[t.name()] = &t;
  std::map<std::string, std::string> expanded;  // "name@dims" -> initializer
  std::vector<onnx::TensorProto> added;
  int done = 0;
  for (auto& n : *g.mutable_node()) {
    static const std::set<std::string> ops = {"Add", "Sub", "Mul", "Div"};
    if (!ops.count(n.op_type()) || n.input_size() != 2) continue;
    const int at = constants.count(n.input(1)) ? 1 : constants.count(n.input(0)) ? 0 : -1;
    if (at < 0 || constants.count(n.input(1 - at))) continue;
    auto xs = shapes.find(n.input(1 - at));
    if (xs == shapes.end()) continue;
    const std::vector<int64_t>& x = xs->second;
    auto c = from_tensor(*constants[n.input(at)]);
    if (!c || c->size() <= 1 || c->dims.size() > x.size() || x.size() < 2) continue;
    std::vector<int64_t> p(x.size() - c->dims.size(), 1);
    p.insert(p.end(), c->dims.begin(), c->dims.end());
    // Scale's rule: p = [1, x1..x(e-1), 1, ..., 1] for some e.
    size_t e = x.size();
    while (e > 1 && p[e - 1] == 1) --e;
    bool scale_fits = p[0] == 1 && x[0] == 1;  // on another leading size Scale gets axis 0
    for (size_t k = 1; k < e; ++k) scale_fits = scale_fits && p[k] == x[k];
    if (scale_fits) continue;
    const std::vector<int64_t>& target = x;
    bool broadcasts = true;
    int64_t elements = 1;
    for (size_t k = 0; k < x.size(); ++k) {
      broadcasts = broadcasts && (p[k] == 1 || p[k] == target[k]);
      elements *= target[k];
    }
    if (!broadcasts || elements > (int64_t{1} << 24)) continue;
    std::string key = n.input(at) + "/expanded";
    for (int64_t d : target) key.append("_").append(std::to_string(d));
    if (!expanded.count(key)) {
      onnx::NodeProto expand;
      expand.set_op_type("Expand");
      expand.add_input("c");
      expand.add_input("shape");
      ConstValue shape;
      shape.type = onnx::TensorProto::INT64;
      shape.dims = {static_cast<int64_t>(target.size())};
      shape.i = target;
      auto out = evaluate(expand, 13, {&*c, &shape});
      if (!out) continue;
      added.push_back(to_tensor(out->front(), key));
      expanded[key] = key;
    }
    n.set_input(at, key);
    ++done;
  }
  for (auto& t : added) *g.add_initializer() = std::move(t);
  if (done) drop_unused(g);
  return done;
}

NormalizeReport normalize_onnx(onnx::ModelProto& model, const std::vector<int64_t>& input, Dialect dialect) {
  NormalizeReport r;
  onnx::GraphProto& g = *model.mutable_graph();
  r.identities = fold_identities(g);
  r.einsums = einsum_to_matmul(g);  // first: shape inference follows MatMul, not Einsum, through
  // Folding gives Reshape and Pad constant shapes, from which shape
  // inference finds more shapes to fold (swin's window partitions and
  // attention masks are a few such steps per block): repeat until nothing
  // folds (each pass removes nodes, so this ends; one more pass on models
  // with no such chains).
  ShapeMap shapes;
  for (;;) {
    shapes = infer_shapes(model, input);
    const FoldResult folded = fold_constants(model, shapes);
    r.constants += folded.folded;
    r.used_input_shape = r.used_input_shape || folded.used_input_shape;
    if (!folded.folded) break;
  }
  r.dropouts = strip_inference_dropouts(g);
  r.empty_inputs = drop_empty_trailing_inputs(g);
  r.spread = spread_scalar_divisors(g, shapes);
  r.expanded = expand_trailing_constants(g, shapes);
  r.used_input_shape = r.used_input_shape || r.expanded > 0;
  if (dialect == Dialect::opencv) r.clips = clip_bounds_to_attributes(g);
  declare_input(g, input);
  return r;
}

}  // namespace featpipe::cnn
