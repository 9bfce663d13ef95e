#include "audio_support.hpp"

#include <gtest/gtest.h>
#include <sndfile.h>

#include <dlfcn.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

namespace featpipe::test {

Tensor run_file_steps(const std::string& steps, const fs::path& file) {
  const std::string yaml = "featpipe: 1\nname: audio-test\nstages:\n" + steps;
  auto pipe = Pipeline::parse(yaml, "audio-test.yaml", source_dir().string());
  return pipe->session()->run_file(file.string());
}

Tensor run_tensor_steps(const std::string& steps, const Tensor& input, const std::string& stream) {
  TensorSpec spec;
  for (size_t k = 0; k < input.shape.size(); ++k) {
    const bool is_stream = input.axes[k] == stream;
    if (is_stream) spec.stream_axis = static_cast<int>(k);
    spec.axes.push_back(input.axes[k]);
    spec.shape.push_back(is_stream ? -1 : input.shape[k]);
  }
  spec.attrs = input.attrs;
  LoadOptions opts;
  opts.input = spec;
  const std::string yaml = "featpipe: 1\nname: audio-test\nstages:\n" + steps;
  auto pipe = Pipeline::parse(yaml, "audio-test.yaml", source_dir().string(), opts);
  return pipe->session()->run(input);
}

Tensor tensor(std::vector<int64_t> shape, std::vector<std::string> axes, std::vector<float> data,
              std::map<std::string, double> attrs) {
  Tensor t;
  t.shape = std::move(shape);
  t.axes = std::move(axes);
  t.data = std::move(data);
  t.attrs = std::move(attrs);
  return t;
}

fs::path golden_dir() { return source_dir() / "tests" / "audio" / "golden"; }

std::map<std::string, Tolerance> read_tolerances(const fs::path& dir) {
  std::map<std::string, Tolerance> out;
  std::ifstream is(dir / "tolerances.txt");
  EXPECT_TRUE(is.good()) << "cannot read " << (dir / "tolerances.txt");
  std::string line;
  while (std::getline(is, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    std::string sig, stage;
    Tolerance t;
    ls >> sig >> stage >> t.tol >> t.ref_max;
    out[sig + " " + stage] = t;
  }
  return out;
}

void write_audio(const fs::path& p, int format, int rate, int channels, const std::vector<float>& interleaved) {
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = channels;
  info.format = format;
  SNDFILE* f = sf_open(p.c_str(), SFM_WRITE, &info);
  ASSERT_NE(f, nullptr) << "cannot write " << p << ": " << sf_strerror(nullptr);
  const sf_count_t frames = static_cast<sf_count_t>(interleaved.size()) / channels;
  EXPECT_EQ(sf_writef_float(f, interleaved.data(), frames), frames) << sf_strerror(f);
  sf_close(f);
}

// ------------------------------------------------------------------ ABI

namespace {

const fp_plugin* audio_plugin() {
  static const fp_plugin* plugin = [] {
    const fs::path so = binary_dir() / "lib" / "featpipe" / "plugins" / "libfeatpipe_audio.so";
    void* h = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) return static_cast<const fp_plugin*>(nullptr);
    auto entry = reinterpret_cast<fp_plugin_entry_fn>(dlsym(h, FP_PLUGIN_ENTRY_SYMBOL));
    return entry ? entry() : nullptr;
  }();
  return plugin;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> audio_stage_examples() {
  std::vector<std::pair<std::string, std::string>> out;
  const fp_plugin* p = audio_plugin();
  if (!p) throw std::runtime_error("cannot load libfeatpipe_audio.so");
  for (uint32_t k = 0; k < p->stage_count; ++k) out.emplace_back(p->stages[k].name, p->stages[k].example);
  return out;
}

AbiStage::AbiStage(const std::string& name, const std::map<std::string, std::string>& params) {
  const fp_plugin* p = audio_plugin();
  if (!p) throw std::runtime_error("cannot load libfeatpipe_audio.so");
  const fp_stage_desc* d = nullptr;
  for (uint32_t k = 0; k < p->stage_count; ++k)
    if (name == p->stages[k].name) d = &p->stages[k];
  if (!d) throw std::runtime_error("no stage " + name);
  std::vector<fp_value> values(d->param_count);
  std::vector<std::string> texts(d->param_count);
  for (uint32_t k = 0; k < d->param_count; ++k) {
    const fp_param_desc& pd = d->params[k];
    auto it = params.find(pd.name);
    texts[k] = it != params.end() ? it->second : pd.default_value;
    fp_value& v = values[k];
    v.struct_size = sizeof v;
    v.name = pd.name;
    v.type = pd.type;
    const std::string& t = texts[k];
    if (t == "null") {
      v.is_null = 1;
    } else if (pd.type == FP_T_BOOL) {
      v.i = t == "true";
    } else if (pd.type == FP_T_INT) {
      v.i = std::stoll(t);
    } else if (pd.type == FP_T_FLOAT) {
      v.f = std::stod(t);
    } else {
      v.s = texts[k].c_str();
    }
  }
  st_ = d->create(values.data(), static_cast<uint32_t>(values.size()));
  if (!st_) throw std::runtime_error("create failed");
}

AbiStage::~AbiStage() {
  if (st_) st_->destroy(st_);
}

std::string AbiStage::last_error() const { return st_->error(st_, nullptr); }

sdk::Spec AbiStage::start(const sdk::Spec& in) {
  fp_spec out{};
  fp_stream_info info{};
  info.struct_size = sizeof info;
  if (st_->configure(st_, &in.raw(), &out, &info) != FP_OK) throw std::runtime_error(last_error());
  if (st_->start(st_, &in.raw(), &out) != FP_OK) throw std::runtime_error(last_error());
  return sdk::Spec(out);
}

fp_stream_info AbiStage::stream_info(const sdk::Spec& in) {
  fp_spec out{};
  fp_stream_info info{};
  info.struct_size = sizeof info;
  if (st_->configure(st_, &in.raw(), &out, &info) != FP_OK) throw std::runtime_error(last_error());
  return info;
}

npy::Array AbiStage::run(const npy::Array& in, int axis, int64_t chunk, int out_axis) {
  const int64_t len = in.shape[static_cast<size_t>(axis)];
  if (chunk <= 0) chunk = len;
  int64_t outer = 1, inner = 1;
  for (int k = 0; k < axis; ++k) outer *= in.shape[static_cast<size_t>(k)];
  for (size_t k = static_cast<size_t>(axis) + 1; k < in.shape.size(); ++k) inner *= in.shape[k];
  std::vector<std::vector<float>> pieces;
  std::vector<int64_t> piece_len;
  npy::Array result;
  auto take = [&](const fp_tensor& o) {
    if (!o.data || o.rank == 0 || o.shape[out_axis] == 0) return;
    result.shape.assign(o.shape, o.shape + o.rank);
    pieces.emplace_back(o.data, o.data + sdk::numel(o));
    piece_len.push_back(o.shape[out_axis]);
  };
  for (int64_t at = 0; at < len; at += chunk) {
    const int64_t n = std::min(chunk, len - at);
    std::vector<float> buf(static_cast<size_t>(outer * n * inner));
    for (int64_t o = 0; o < outer; ++o)
      std::memcpy(buf.data() + o * n * inner, in.data.data() + (o * len + at) * inner, sizeof(float) * n * inner);
    fp_tensor t{};
    t.data = buf.data();
    t.rank = static_cast<int32_t>(in.shape.size());
    for (int k = 0; k < t.rank; ++k) t.shape[k] = in.shape[static_cast<size_t>(k)];
    t.shape[axis] = n;
    fp_tensor o{};
    if (st_->push(st_, &t, &o) != FP_OK) throw std::runtime_error(last_error());
    take(o);
  }
  fp_tensor o{};
  if (st_->flush(st_, &o) != FP_OK) throw std::runtime_error(last_error());
  take(o);
  int64_t total = 0;
  for (int64_t n : piece_len) total += n;
  if (result.shape.empty()) return result;
  result.shape[static_cast<size_t>(out_axis)] = total;
  int64_t o_outer = 1, o_inner = 1;
  for (int k = 0; k < out_axis; ++k) o_outer *= result.shape[static_cast<size_t>(k)];
  for (size_t k = static_cast<size_t>(out_axis) + 1; k < result.shape.size(); ++k) o_inner *= result.shape[k];
  result.data.resize(static_cast<size_t>(o_outer * total * o_inner));
  int64_t off = 0;
  for (size_t p = 0; p < pieces.size(); ++p) {
    for (int64_t oo = 0; oo < o_outer; ++oo)
      std::memcpy(result.data.data() + (oo * total + off) * o_inner, pieces[p].data() + oo * piece_len[p] * o_inner,
                  sizeof(float) * piece_len[p] * o_inner);
    off += piece_len[p];
  }
  return result;
}

}  // namespace featpipe::test
