#include "onnx_graph.hpp"

#include <cstdint>
#include <fstream>
#include <set>
#include <stdexcept>

namespace featpipe::cnn {
namespace {

// A protobuf message: a sequence of (field number, wire type, value).
class Reader {
 public:
  Reader(const char* p, const char* end) : p_(p), end_(end) {}
  bool done() const { return p_ >= end_; }

  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ >= end_) throw std::runtime_error("truncated ONNX file");
      uint8_t b = static_cast<uint8_t>(*p_++);
      v |= uint64_t{b & 0x7Fu} << shift;
      if (!(b & 0x80)) return v;
    }
    throw std::runtime_error("malformed ONNX file (varint)");
  }

  // Next field; for length-delimited fields `sub` gets the payload, for
  // varints `value` gets the number.
  bool next(uint32_t& field, Reader& sub, uint64_t* value = nullptr) {
    if (done()) return false;
    uint64_t key = varint();
    field = static_cast<uint32_t>(key >> 3);
    switch (key & 7) {
      case 0: {
        uint64_t v = varint();
        if (value) *value = v;
        sub = Reader(nullptr, nullptr);
        break;
      }
      case 1: skip(8); sub = Reader(nullptr, nullptr); break;
      case 5: skip(4); sub = Reader(nullptr, nullptr); break;
      case 2: {
        uint64_t n = varint();
        if (n > static_cast<uint64_t>(end_ - p_)) throw std::runtime_error("truncated ONNX file");
        sub = Reader(p_, p_ + n);
        p_ += n;
        break;
      }
      default: throw std::runtime_error("malformed ONNX file (wire type)");
    }
    return true;
  }
  std::string str() const { return std::string(p_, end_); }

 private:
  void skip(size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) throw std::runtime_error("truncated ONNX file");
    p_ += n;
  }
  const char* p_;
  const char* end_;
};

std::string value_info_name(Reader r) {
  uint32_t f;
  Reader sub(nullptr, nullptr);
  while (r.next(f, sub))
    if (f == 1) return sub.str();
  return {};
}

// Each field `number` of message `r`, as a sub-reader.
std::vector<Reader> fields(Reader r, uint32_t number) {
  std::vector<Reader> out;
  uint32_t f;
  Reader sub(nullptr, nullptr);
  while (r.next(f, sub))
    if (f == number) out.push_back(sub);
  return out;
}

// ValueInfoProto.type.tensor_type.shape.dim: dim_value, or -1 for a named
// (dim_param) or absent size.
std::vector<int64_t> value_info_dims(Reader r) {
  std::vector<int64_t> dims;
  for (Reader type : fields(r, 2))
    for (Reader tensor : fields(type, 1))
      for (Reader shape : fields(tensor, 2))
        for (Reader dim : fields(shape, 1)) {
          int64_t d = -1;
          uint32_t f;
          Reader sub(nullptr, nullptr);
          uint64_t v = 0;
          while (dim.next(f, sub, &v))
            if (f == 1) d = static_cast<int64_t>(v);
          dims.push_back(d);
        }
  return dims;
}

}  // namespace

OnnxGraph read_onnx_graph(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::string bytes(static_cast<size_t>(in.tellg()), '\0');
  in.seekg(0);
  if (!in.read(bytes.data(), static_cast<std::streamsize>(bytes.size())))
    throw std::runtime_error("cannot read " + path);
  Reader model(bytes.data(), bytes.data() + bytes.size());
  OnnxGraph g;
  std::set<std::string> initializers;
  std::vector<std::string> inputs;
  std::vector<std::vector<int64_t>> input_dims;
  uint32_t f;
  Reader sub(nullptr, nullptr);
  bool found = false;
  while (model.next(f, sub)) {
    if (f != 7) continue;  // ModelProto.graph
    found = true;
    Reader graph = sub;
    uint32_t gf;
    Reader gsub(nullptr, nullptr);
    while (graph.next(gf, gsub)) {
      if (gf == 1) {  // GraphProto.node
        OnnxNode node;
        uint32_t nf;
        Reader nsub(nullptr, nullptr);
        while (gsub.next(nf, nsub)) {
          if (nf == 1) node.inputs.push_back(nsub.str());
          else if (nf == 2) node.outputs.push_back(nsub.str());
          else if (nf == 3) node.name = nsub.str();
          else if (nf == 4) node.op_type = nsub.str();
        }
        g.nodes.push_back(std::move(node));
      } else if (gf == 5) {  // initializer (TensorProto.name = 8)
        uint32_t tf;
        Reader tsub(nullptr, nullptr);
        while (gsub.next(tf, tsub))
          if (tf == 8) initializers.insert(tsub.str());
      } else if (gf == 11) {
        inputs.push_back(value_info_name(gsub));
        input_dims.push_back(value_info_dims(gsub));
      } else if (gf == 12) {
        g.outputs.push_back(value_info_name(gsub));
      }
    }
  }
  if (!found) throw std::runtime_error("not an ONNX model (no graph): " + path);
  for (size_t k = 0; k < inputs.size(); ++k)
    if (!initializers.count(inputs[k])) {
      g.inputs.push_back(inputs[k]);
      g.input_dims.push_back(input_dims[k]);
    }
  return g;
}

}  // namespace featpipe::cnn
