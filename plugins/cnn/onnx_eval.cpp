#include "onnx_eval.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <numeric>
#include <set>

namespace featpipe::cnn {
namespace {

using Dims = std::vector<int64_t>;
using TP = onnx::TensorProto;

int64_t count(const Dims& d) { return std::accumulate(d.begin(), d.end(), int64_t{1}, std::multiplies<>()); }

template <typename T>
void append_raw(const std::string& raw, std::vector<T>& out, size_t width, auto convert) {
  for (size_t k = 0; k + width <= raw.size(); k += width) out.push_back(convert(raw.data() + k));
}

template <typename T>
T read_as(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// A value with `src`'s type whose element k is src's element idx[k].
ConstValue gather_elements(const ConstValue& src, Dims dims, const std::vector<int64_t>& idx) {
  ConstValue out;
  out.type = src.type;
  out.dims = std::move(dims);
  if (src.is_float())
    for (int64_t k : idx) out.f.push_back(src.f[static_cast<size_t>(k)]);
  else
    for (int64_t k : idx) out.i.push_back(src.i[static_cast<size_t>(k)]);
  return out;
}

std::vector<int64_t> strides_of(const Dims& d) {
  std::vector<int64_t> s(d.size(), 1);
  for (size_t k = d.size(); k-- > 1;) s[k - 1] = s[k] * d[k];
  return s;
}

// Numpy broadcasting of `shapes`; nullopt when they do not broadcast.
std::optional<Dims> broadcast(const std::vector<Dims>& shapes) {
  size_t rank = 0;
  for (const auto& s : shapes) rank = std::max(rank, s.size());
  Dims out(rank, 1);
  for (const auto& s : shapes)
    for (size_t k = 0; k < s.size(); ++k) {
      int64_t& o = out[rank - s.size() + k];
      if (s[k] == o || s[k] == 1) continue;
      if (o != 1) return std::nullopt;
      o = s[k];
    }
  return out;
}

// For each element of `out`, the flat index into a tensor of `in` dims
// broadcast to it.
std::vector<int64_t> broadcast_index(const Dims& out, const Dims& in) {
  const auto in_strides = strides_of(in);
  const size_t lead = out.size() - in.size();
  std::vector<int64_t> idx(static_cast<size_t>(count(out)));
  Dims pos(out.size(), 0);
  for (auto& v : idx) {
    int64_t flat = 0;
    for (size_t k = 0; k < in.size(); ++k)
      if (in[k] != 1) flat += pos[lead + k] * in_strides[k];
    v = flat;
    for (size_t k = out.size(); k-- > 0;)
      if (++pos[k] < out[k]) break;
      else pos[k] = 0;
  }
  return idx;
}

const onnx::AttributeProto* attr(const onnx::NodeProto& n, const char* name) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}
int64_t attr_int(const onnx::NodeProto& n, const char* name, int64_t fallback) {
  const auto* a = attr(n, name);
  return a ? a->i() : fallback;
}
std::optional<Dims> attr_ints(const onnx::NodeProto& n, const char* name) {
  const auto* a = attr(n, name);
  if (!a) return std::nullopt;
  return Dims(a->ints().begin(), a->ints().end());
}

int64_t axis_in(int64_t axis, size_t rank) { return axis < 0 ? axis + static_cast<int64_t>(rank) : axis; }

using Inputs = std::vector<const ConstValue*>;
using Result = std::optional<std::vector<ConstValue>>;

Result one(ConstValue v) { return std::vector<ConstValue>{std::move(v)}; }

// Integer list from an input (axes, shapes, starts...).
std::optional<Dims> ints(const ConstValue* v) {
  if (!v || v->is_float()) return std::nullopt;
  return v->i;
}

Result binary(const std::string& op, const ConstValue& a, const ConstValue& b) {
  if (op == "Pow" && a.is_float() && !b.is_float()) {  // Pow's exponent may be an integer type
    ConstValue exponent = b;
    exponent.type = TP::DOUBLE;
    exponent.f.assign(b.i.begin(), b.i.end());
    exponent.i.clear();
    return binary(op, a, exponent);
  }
  if (a.is_float() != b.is_float() || (op == "Pow" && !a.is_float())) return std::nullopt;
  auto dims = broadcast({a.dims, b.dims});
  if (!dims) return std::nullopt;
  const auto ia = broadcast_index(*dims, a.dims), ib = broadcast_index(*dims, b.dims);
  ConstValue out;
  out.type = op == "Equal" ? TP::BOOL : a.type;
  out.dims = *dims;
  for (size_t k = 0; k < ia.size(); ++k) {
    if (a.is_float()) {
      const double x = a.f[static_cast<size_t>(ia[k])], y = b.f[static_cast<size_t>(ib[k])];
      if (op == "Equal") out.i.push_back(x == y);
      else if (op == "Pow") out.f.push_back(std::pow(x, y));
      else out.f.push_back(op == "Add" ? x + y : op == "Sub" ? x - y : op == "Mul" ? x * y : x / y);
    } else {
      const int64_t x = a.i[static_cast<size_t>(ia[k])], y = b.i[static_cast<size_t>(ib[k])];
      if (op == "Div" && y == 0) return std::nullopt;
      out.i.push_back(op == "Equal" ? x == y : op == "Add" ? x + y : op == "Sub" ? x - y : op == "Mul" ? x * y : x / y);
    }
  }
  return one(std::move(out));
}

Result where(const ConstValue& c, const ConstValue& x, const ConstValue& y) {
  if (c.is_float() || x.is_float() != y.is_float()) return std::nullopt;
  auto dims = broadcast({c.dims, x.dims, y.dims});
  if (!dims) return std::nullopt;
  const auto ic = broadcast_index(*dims, c.dims), ix = broadcast_index(*dims, x.dims), iy = broadcast_index(*dims, y.dims);
  ConstValue out;
  out.type = x.type;
  out.dims = *dims;
  for (size_t k = 0; k < ic.size(); ++k) {
    const bool pick_x = c.i[static_cast<size_t>(ic[k])] != 0;
    const auto at = static_cast<size_t>(pick_x ? ix[k] : iy[k]);
    if (x.is_float()) out.f.push_back(pick_x ? x.f[at] : y.f[at]);
    else out.i.push_back(pick_x ? x.i[at] : y.i[at]);
  }
  return one(std::move(out));
}

Result gather(const ConstValue& data, const ConstValue& indices, int64_t axis) {
  if (indices.is_float() || data.dims.empty()) return std::nullopt;
  axis = axis_in(axis, data.dims.size());
  if (axis < 0 || axis >= static_cast<int64_t>(data.dims.size())) return std::nullopt;
  const int64_t n = data.dims[static_cast<size_t>(axis)];
  const int64_t outer = count(Dims(data.dims.begin(), data.dims.begin() + axis));
  const int64_t inner = count(Dims(data.dims.begin() + axis + 1, data.dims.end()));
  Dims dims(data.dims.begin(), data.dims.begin() + axis);
  dims.insert(dims.end(), indices.dims.begin(), indices.dims.end());
  dims.insert(dims.end(), data.dims.begin() + axis + 1, data.dims.end());
  std::vector<int64_t> idx;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j : indices.i) {
      if (j < 0) j += n;
      if (j < 0 || j >= n) return std::nullopt;
      for (int64_t in = 0; in < inner; ++in) idx.push_back((o * n + j) * inner + in);
    }
  return one(gather_elements(data, dims, idx));
}

Result concat(const Inputs& in, int64_t axis) {
  const size_t rank = in[0]->dims.size();
  axis = axis_in(axis, rank);
  if (axis < 0 || axis >= static_cast<int64_t>(rank)) return std::nullopt;
  Dims dims = in[0]->dims;
  dims[static_cast<size_t>(axis)] = 0;
  for (const auto* v : in) {
    if (v->dims.size() != rank || v->is_float() != in[0]->is_float()) return std::nullopt;
    dims[static_cast<size_t>(axis)] += v->dims[static_cast<size_t>(axis)];
  }
  const int64_t outer = count(Dims(dims.begin(), dims.begin() + axis));
  ConstValue out;
  out.type = in[0]->type;
  out.dims = dims;
  for (int64_t o = 0; o < outer; ++o)
    for (const auto* v : in) {
      const int64_t block = count(Dims(v->dims.begin() + axis, v->dims.end()));
      const auto b = static_cast<size_t>(o * block), e = static_cast<size_t>((o + 1) * block);
      if (v->is_float()) out.f.insert(out.f.end(), v->f.begin() + b, v->f.begin() + e);
      else out.i.insert(out.i.end(), v->i.begin() + b, v->i.begin() + e);
    }
  return one(std::move(out));
}

Result slice(const ConstValue& data, const Dims& starts, const Dims& ends, std::optional<Dims> axes,
             std::optional<Dims> steps) {
  const size_t rank = data.dims.size();
  if (!axes) {
    axes = Dims(starts.size());
    std::iota(axes->begin(), axes->end(), 0);
  }
  if (!steps) steps = Dims(starts.size(), 1);
  if (ends.size() != starts.size() || axes->size() != starts.size() || steps->size() != starts.size())
    return std::nullopt;
  Dims begin(rank, 0), step(rank, 1), dims = data.dims;
  for (size_t k = 0; k < starts.size(); ++k) {
    const int64_t a = axis_in((*axes)[k], rank);
    if (a < 0 || a >= static_cast<int64_t>(rank) || (*steps)[k] == 0) return std::nullopt;
    const int64_t n = data.dims[static_cast<size_t>(a)], s = (*steps)[k];
    auto clamp = [&](int64_t v, int64_t lo, int64_t hi) { return std::min(std::max(v < 0 ? v + n : v, lo), hi); };
    const int64_t b = s > 0 ? clamp(starts[k], 0, n) : clamp(starts[k], -1, n - 1);
    const int64_t e = s > 0 ? clamp(ends[k], 0, n) : clamp(ends[k], -1, n - 1);
    const int64_t len = s > 0 ? std::max<int64_t>(0, (e - b + s - 1) / s) : std::max<int64_t>(0, (b - e - s - 1) / -s);
    begin[static_cast<size_t>(a)] = b;
    step[static_cast<size_t>(a)] = s;
    dims[static_cast<size_t>(a)] = len;
  }
  const auto in_strides = strides_of(data.dims);
  std::vector<int64_t> idx(static_cast<size_t>(count(dims)));
  Dims pos(rank, 0);
  for (auto& v : idx) {
    v = 0;
    for (size_t k = 0; k < rank; ++k) v += (begin[k] + pos[k] * step[k]) * in_strides[k];
    for (size_t k = rank; k-- > 0;)
      if (++pos[k] < dims[k]) break;
      else pos[k] = 0;
  }
  return one(gather_elements(data, dims, idx));
}

std::optional<Dims> reshaped(const Dims& from, Dims shape, bool allow_zero) {
  int64_t known = 1, infer = -1;
  for (size_t k = 0; k < shape.size(); ++k) {
    if (shape[k] == 0 && !allow_zero) {
      if (k >= from.size()) return std::nullopt;
      shape[k] = from[k];
    }
    if (shape[k] == -1) {
      if (infer >= 0) return std::nullopt;
      infer = static_cast<int64_t>(k);
    } else {
      known *= shape[k];
    }
  }
  if (infer >= 0) {
    if (known == 0 || count(from) % known) return std::nullopt;
    shape[static_cast<size_t>(infer)] = count(from) / known;
  }
  if (count(shape) != count(from)) return std::nullopt;
  return shape;
}

Result with_dims(const ConstValue& v, std::optional<Dims> dims) {
  if (!dims) return std::nullopt;
  ConstValue out = v;
  out.dims = *dims;
  return one(std::move(out));
}

Result unsqueeze(const ConstValue& v, Dims axes) {
  const size_t rank = v.dims.size() + axes.size();
  std::set<int64_t> at;
  for (int64_t a : axes) at.insert(axis_in(a, rank));
  Dims dims;
  size_t from = 0;
  for (size_t k = 0; k < rank; ++k) dims.push_back(at.count(static_cast<int64_t>(k)) ? 1 : v.dims[from++]);
  if (from != v.dims.size()) return std::nullopt;
  return with_dims(v, dims);
}

Result squeeze(const ConstValue& v, const std::optional<Dims>& axes) {
  std::set<int64_t> at;
  if (axes)
    for (int64_t a : *axes) at.insert(axis_in(a, v.dims.size()));
  Dims dims;
  for (size_t k = 0; k < v.dims.size(); ++k) {
    const bool drop = axes ? at.count(static_cast<int64_t>(k)) > 0 : v.dims[k] == 1;
    if (drop && v.dims[k] != 1) return std::nullopt;
    if (!drop) dims.push_back(v.dims[k]);
  }
  return with_dims(v, dims);
}

Result cast(const ConstValue& v, int32_t to) {
  ConstValue out;
  out.type = to;
  out.dims = v.dims;
  if (!out.is_float() && to != TP::INT64 && to != TP::INT32 && to != TP::BOOL) return std::nullopt;
  if (out.is_float() && to != TP::FLOAT && to != TP::DOUBLE) return std::nullopt;
  for (size_t k = 0; k < v.size(); ++k) {
    if (out.is_float()) {
      const double x = v.is_float() ? v.f[k] : static_cast<double>(v.i[k]);
      out.f.push_back(to == TP::FLOAT ? static_cast<double>(static_cast<float>(x)) : x);
    } else {
      const int64_t x = v.is_float() ? static_cast<int64_t>(v.f[k]) : v.i[k];
      out.i.push_back(to == TP::BOOL ? (v.is_float() ? v.f[k] != 0 : x != 0)
                      : to == TP::INT32 ? static_cast<int32_t>(x) : x);
    }
  }
  return one(std::move(out));
}

// Integer Mod takes the divisor's sign (Python's %), fmod the dividend's.
Result mod(const ConstValue& a, const ConstValue& b, bool fmod) {
  if (a.is_float() != b.is_float() || (a.is_float() && !fmod)) return std::nullopt;
  auto dims = broadcast({a.dims, b.dims});
  if (!dims) return std::nullopt;
  const auto ia = broadcast_index(*dims, a.dims), ib = broadcast_index(*dims, b.dims);
  ConstValue out;
  out.type = a.type;
  out.dims = *dims;
  for (size_t k = 0; k < ia.size(); ++k) {
    if (a.is_float()) {
      out.f.push_back(std::fmod(a.f[static_cast<size_t>(ia[k])], b.f[static_cast<size_t>(ib[k])]));
      continue;
    }
    const int64_t x = a.i[static_cast<size_t>(ia[k])], y = b.i[static_cast<size_t>(ib[k])];
    if (y == 0) return std::nullopt;
    int64_t r = x % y;
    if (!fmod && r != 0 && ((r < 0) != (y < 0))) r += y;
    out.i.push_back(r);
  }
  return one(std::move(out));
}

Result range(const ConstValue& start, const ConstValue& limit, const ConstValue& delta) {
  if (start.size() != 1 || limit.size() != 1 || delta.size() != 1) return std::nullopt;
  if (start.is_float() != limit.is_float() || start.is_float() != delta.is_float()) return std::nullopt;
  ConstValue out;
  out.type = start.type;
  if (start.is_float()) {
    const double s = start.f[0], d = delta.f[0];
    if (d == 0) return std::nullopt;
    const auto n = static_cast<int64_t>(std::max(0.0, std::ceil((limit.f[0] - s) / d)));
    if (n > (int64_t{1} << 20)) return std::nullopt;
    for (int64_t k = 0; k < n; ++k) out.f.push_back(s + static_cast<double>(k) * d);
  } else {
    const int64_t s = start.i[0], d = delta.i[0], l = limit.i[0];
    if (d == 0) return std::nullopt;
    const int64_t n = std::max<int64_t>(0, d > 0 ? (l - s + d - 1) / d : (s - l - d - 1) / -d);
    if (n > (int64_t{1} << 20)) return std::nullopt;
    for (int64_t k = 0; k < n; ++k) out.i.push_back(s + k * d);
  }
  out.dims = {static_cast<int64_t>(out.size())};
  return one(std::move(out));
}

Result logical_not(const ConstValue& x) {
  if (x.type != TP::BOOL) return std::nullopt;
  ConstValue out = x;
  for (auto& v : out.i) v = v == 0;
  return one(std::move(out));
}

Result transpose(const ConstValue& x, std::optional<Dims> perm) {
  const size_t rank = x.dims.size();
  if (!perm) {
    perm = Dims(rank);
    for (size_t k = 0; k < rank; ++k) (*perm)[k] = static_cast<int64_t>(rank - 1 - k);
  }
  if (perm->size() != rank) return std::nullopt;
  Dims dims(rank);
  std::vector<bool> seen(rank, false);
  for (size_t k = 0; k < rank; ++k) {
    const int64_t p = (*perm)[k];
    if (p < 0 || p >= static_cast<int64_t>(rank) || seen[static_cast<size_t>(p)]) return std::nullopt;
    seen[static_cast<size_t>(p)] = true;
    dims[k] = x.dims[static_cast<size_t>(p)];
  }
  const auto in_strides = strides_of(x.dims);
  std::vector<int64_t> idx(static_cast<size_t>(count(dims)));
  Dims pos(rank, 0);
  for (auto& v : idx) {
    v = 0;
    for (size_t k = 0; k < rank; ++k) v += pos[k] * in_strides[static_cast<size_t>((*perm)[k])];
    for (size_t k = rank; k-- > 0;)
      if (++pos[k] < dims[k]) break;
      else pos[k] = 0;
  }
  return one(gather_elements(x, dims, idx));
}

// ScatterND without a reduction: data with the slices at `indices` replaced.
Result scatter_nd(const ConstValue& data, const ConstValue& indices, const ConstValue& updates) {
  if (indices.is_float() || indices.dims.empty() || data.is_float() != updates.is_float()) return std::nullopt;
  const auto depth = static_cast<size_t>(indices.dims.back());
  if (depth > data.dims.size()) return std::nullopt;
  const int64_t slice = count(Dims(data.dims.begin() + static_cast<int64_t>(depth), data.dims.end()));
  const int64_t n = count(Dims(indices.dims.begin(), indices.dims.end() - 1));
  if (static_cast<int64_t>(updates.size()) != n * slice) return std::nullopt;
  const auto strides = strides_of(data.dims);
  ConstValue out = data;
  for (int64_t j = 0; j < n; ++j) {
    int64_t at = 0;
    for (size_t k = 0; k < depth; ++k) {
      int64_t i = indices.i[static_cast<size_t>(j) * depth + k];
      const int64_t size = data.dims[k];
      if (i < 0) i += size;
      if (i < 0 || i >= size) return std::nullopt;
      at += i * strides[k];
    }
    for (int64_t e = 0; e < slice; ++e) {
      const auto to = static_cast<size_t>(at + e), from = static_cast<size_t>(j * slice + e);
      if (out.is_float()) out.f[to] = updates.f[from];
      else out.i[to] = updates.i[from];
    }
  }
  return one(std::move(out));
}

Result constant(const onnx::NodeProto& n) {
  if (const auto* a = attr(n, "value")) {
    auto v = from_tensor(a->t());
    return v ? one(std::move(*v)) : std::nullopt;
  }
  ConstValue out;
  if (const auto* a = attr(n, "value_float")) {
    out.f = {a->f()};
  } else if (const auto* a = attr(n, "value_floats")) {
    out.f.assign(a->floats().begin(), a->floats().end());
    out.dims = {static_cast<int64_t>(out.f.size())};
  } else if (const auto* a = attr(n, "value_int")) {
    out.type = TP::INT64;
    out.i = {a->i()};
  } else if (const auto* a = attr(n, "value_ints")) {
    out.type = TP::INT64;
    out.i.assign(a->ints().begin(), a->ints().end());
    out.dims = {static_cast<int64_t>(out.i.size())};
  } else {
    return std::nullopt;
  }
  return one(std::move(out));
}

}  // namespace

bool ConstValue::is_float() const { return type == TP::FLOAT || type == TP::DOUBLE; }

std::optional<ConstValue> from_tensor(const onnx::TensorProto& t) {
  if (t.data_location() == TP::EXTERNAL) return std::nullopt;
  ConstValue v;
  v.type = t.data_type();
  v.dims.assign(t.dims().begin(), t.dims().end());
  const std::string& raw = t.raw_data();
  switch (t.data_type()) {
    case TP::FLOAT:
      v.f.assign(t.float_data().begin(), t.float_data().end());
      append_raw(raw, v.f, 4, [](const char* p) { return static_cast<double>(read_as<float>(p)); });
      break;
    case TP::DOUBLE:
      v.f.assign(t.double_data().begin(), t.double_data().end());
      append_raw(raw, v.f, 8, [](const char* p) { return read_as<double>(p); });
      break;
    case TP::INT64:
      v.i.assign(t.int64_data().begin(), t.int64_data().end());
      append_raw(raw, v.i, 8, [](const char* p) { return read_as<int64_t>(p); });
      break;
    case TP::INT32:
      v.i.assign(t.int32_data().begin(), t.int32_data().end());
      append_raw(raw, v.i, 4, [](const char* p) { return static_cast<int64_t>(read_as<int32_t>(p)); });
      break;
    case TP::BOOL:
      v.i.assign(t.int32_data().begin(), t.int32_data().end());
      append_raw(raw, v.i, 1, [](const char* p) { return static_cast<int64_t>(*p != 0); });
      break;
    default: return std::nullopt;
  }
  if (static_cast<int64_t>(v.size()) != count(v.dims)) return std::nullopt;
  return v;
}

onnx::TensorProto to_tensor(const ConstValue& v, const std::string& name) {
  TP t;
  t.set_name(name);
  t.set_data_type(v.type);
  for (int64_t d : v.dims) t.add_dims(d);
  std::string raw;
  auto put = [&raw](const auto x) { raw.append(reinterpret_cast<const char*>(&x), sizeof x); };
  for (size_t k = 0; k < v.size(); ++k) switch (v.type) {
      case TP::FLOAT: put(static_cast<float>(v.f[k])); break;
      case TP::DOUBLE: put(v.f[k]); break;
      case TP::INT32: put(static_cast<int32_t>(v.i[k])); break;
      case TP::BOOL: put(static_cast<uint8_t>(v.i[k] != 0)); break;
      default: put(v.i[k]); break;
    }
  t.set_raw_data(std::move(raw));
  return t;
}

bool evaluable(const std::string& op) {
  static const std::set<std::string> ops = {"Constant", "Gather", "Unsqueeze", "Squeeze", "Concat", "Cast",
                                            "Slice", "ConstantOfShape", "Expand", "Reshape", "Add", "Sub",
                                            "Mul", "Div", "Equal", "Where", "Mod", "Range", "Not", "Pow",
                                            "Transpose", "ScatterND"};
  return ops.count(op) > 0;
}

std::optional<std::vector<ConstValue>> evaluate(const onnx::NodeProto& node, int64_t opset, const Inputs& in) {
  const std::string& op = node.op_type();
  auto input = [&](size_t k) -> const ConstValue* { return k < in.size() ? in[k] : nullptr; };
  if (op == "Constant") return constant(node);
  if (!input(0)) return std::nullopt;
  const ConstValue& x = *in[0];
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Equal" || op == "Pow")
    return input(1) ? binary(op, x, *in[1]) : std::nullopt;
  if (op == "Mod") return input(1) ? mod(x, *in[1], attr_int(node, "fmod", 0) != 0) : std::nullopt;
  if (op == "Range") return input(1) && input(2) ? range(x, *in[1], *in[2]) : std::nullopt;
  if (op == "Not") return logical_not(x);
  if (op == "Transpose") return transpose(x, attr_ints(node, "perm"));
  if (op == "ScatterND") {
    if (attr(node, "reduction") && attr(node, "reduction")->s() != "none") return std::nullopt;
    return input(1) && input(2) ? scatter_nd(x, *in[1], *in[2]) : std::nullopt;
  }
  if (op == "Where") return input(1) && input(2) ? where(x, *in[1], *in[2]) : std::nullopt;
  if (op == "Gather") return input(1) ? gather(x, *in[1], attr_int(node, "axis", 0)) : std::nullopt;
  if (op == "Concat") {
    for (const auto* v : in)
      if (!v) return std::nullopt;
    return concat(in, attr_int(node, "axis", 0));
  }
  if (op == "Cast") return cast(x, static_cast<int32_t>(attr_int(node, "to", TP::FLOAT)));
  if (op == "Unsqueeze") {
    auto axes = opset >= 13 ? ints(input(1)) : attr_ints(node, "axes");
    return axes ? unsqueeze(x, *axes) : std::nullopt;
  }
  if (op == "Squeeze") return squeeze(x, opset >= 13 ? ints(input(1)) : attr_ints(node, "axes"));
  if (op == "Reshape") {
    auto shape = ints(input(1));
    return shape ? with_dims(x, reshaped(x.dims, *shape, attr_int(node, "allowzero", 0) != 0)) : std::nullopt;
  }
  if (op == "Expand") {
    auto shape = ints(input(1));
    if (!shape) return std::nullopt;
    auto dims = broadcast({x.dims, *shape});
    return dims ? one(gather_elements(x, *dims, broadcast_index(*dims, x.dims))) : std::nullopt;
  }
  if (op == "ConstantOfShape") {
    auto shape = ints(&x);
    if (!shape) return std::nullopt;
    ConstValue fill;
    fill.f = {0.0};
    if (const auto* a = attr(node, "value")) {
      auto v = from_tensor(a->t());
      if (!v || v->size() != 1) return std::nullopt;
      fill = *v;
    }
    fill.dims = {};
    return one(gather_elements(fill, *shape, std::vector<int64_t>(static_cast<size_t>(count(*shape)), 0)));
  }
  if (op == "Slice") {
    if (opset < 10) {
      auto starts = attr_ints(node, "starts"), ends = attr_ints(node, "ends");
      return starts && ends ? slice(x, *starts, *ends, attr_ints(node, "axes"), std::nullopt) : std::nullopt;
    }
    auto starts = ints(input(1)), ends = ints(input(2));
    if (!starts || !ends || (input(3) && !ints(input(3))) || (input(4) && !ints(input(4)))) return std::nullopt;
    return slice(x, *starts, *ends, ints(input(3)), ints(input(4)));
  }
  return std::nullopt;
}

}  // namespace featpipe::cnn
