// Stream behaviour: what each stage declares (frame-wise: hop 1; over the
// stream axis: whole input), batch results with a stream axis, and chunked
// pushes through the plugin C ABI equal to one batch push — including a
// stream axis that is not the first, and in-place output.
#include "norm_support.hpp"

#include <featpipe/sdk.hpp>
#include <gtest/gtest.h>

#include <dlfcn.h>

#include <cstring>
#include <map>
#include <random>

namespace featpipe::test {
namespace {

// [channel=2, frame=T, mel=3] with the stream axis `frame` (index 1).
Tensor frames(int64_t t, unsigned seed = 3) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.5f, 2.0f);
  std::vector<float> d(static_cast<size_t>(2 * t * 3));
  for (auto& v : d) v = n(rng);
  return make_tensor({2, t, 3}, {"channel", "frame", "mel"}, d);
}

struct Declared {
  const char* step;
  bool whole;
};

TEST(NormStream, StagesDeclareFrameWiseOrWholeInput) {
  const Tensor x = frames(5);
  const Declared cases[] = {
      {"  - use: norm.l2\n    with: {axis: mel}\n", false},
      {"  - use: norm.l2\n    with: {axis: channel}\n", false},
      {"  - use: norm.l2\n    with: {axis: frame}\n", true},
      {"  - use: norm.l2\n    with: {axis: all}\n", true},
      {"  - use: norm.minmax\n    with: {axis: mel}\n", false},
      {"  - use: norm.minmax\n    with: {axis: frame}\n", true},
      {"  - use: norm.standardize\n    with: {axis: -1}\n", false},
      {"  - use: norm.standardize\n    with: {axis: 1}\n", true},
      {"  - use: norm.power\n", false},
      {"  - use: math.log\n", false},
      {"  - use: math.pool\n    with: {axes: [mel]}\n", false},
      {"  - use: math.pool\n    with: {axes: [channel, frame]}\n", true},
      {"  - use: math.pool\n    with: {axes: [all]}\n", true},
  };
  for (const Declared& c : cases) {
    SCOPED_TRACE(c.step);
    auto pipe = load_steps(c.step, x, 1);
    ASSERT_EQ(pipe->steps().size(), 1u);
    const StreamInfo& s = pipe->steps()[0].stream;
    EXPECT_EQ(s.whole_input, c.whole ? 1 : 0);
    EXPECT_EQ(pipe->batch_only_step().has_value(), c.whole);
    if (!c.whole) EXPECT_EQ(s.hop, 1.0);
  }
  // Without a stream axis, `all` is an ordinary in-place transform.
  auto still = load_steps("  - use: norm.l2\n    with: {axis: all}\n", x, -1);
  EXPECT_EQ(still->steps()[0].stream.whole_input, 0);
  EXPECT_FALSE(still->batch_only_step().has_value());
}

TEST(NormStream, BatchResultsWithAStreamAxis) {
  const Tensor x = frames(7);
  auto check = [&](const std::string& step, const std::vector<double>& ref) {
    SCOPED_TRACE(step);
    const Tensor y = run_steps(step, x, 1);
    EXPECT_LE(max_diff(y.data, ref), bound(ref));
  };
  check("  - use: norm.l2\n    with: {axis: frame}\n", ref_l2(x, 1, 1e-12));
  check("  - use: norm.l2\n    with: {axis: mel}\n", ref_l2(x, 2, 1e-12));
  check("  - use: norm.minmax\n    with: {axis: frame}\n", ref_minmax(x, 1, 0, 1));
  check("  - use: norm.standardize\n    with: {axis: frame}\n", ref_standardize(x, 1, 1e-8));
  std::vector<int64_t> shape;
  const Tensor p = run_steps("  - use: math.pool\n    with: {op: max, axes: [frame]}\n", x, 1);
  const auto ref = ref_pool(x, {1}, "max", 0, &shape);
  EXPECT_EQ(p.shape, shape);
  EXPECT_LE(max_diff(p.data, ref), bound(ref));
}

// ---- the C ABI directly: chunked pushes

struct Plugin {
  void* lib = nullptr;
  const fp_plugin* p = nullptr;
  explicit Plugin(const char* file) {
    lib = dlopen(file, RTLD_NOW | RTLD_LOCAL);
    if (!lib) return;
    auto entry = reinterpret_cast<fp_plugin_entry_fn>(dlsym(lib, FP_PLUGIN_ENTRY_SYMBOL));
    p = entry ? entry() : nullptr;
  }
  ~Plugin() {
    if (lib) dlclose(lib);
  }
  const fp_stage_desc* find(const char* name) const {
    for (uint32_t k = 0; p && k < p->stage_count; ++k)
      if (std::strcmp(p->stages[k].name, name) == 0) return &p->stages[k];
    return nullptr;
  }
};

// Creates `desc` with the given text/number values (defaults otherwise).
fp_stage* create(const fp_stage_desc* desc, const std::map<std::string, std::string>& text,
                 const std::map<std::string, double>& num, std::vector<const char*>* axes_storage) {
  std::vector<fp_value> v(desc->param_count);
  for (uint32_t k = 0; k < desc->param_count; ++k) {
    const fp_param_desc& pd = desc->params[k];
    v[k].struct_size = sizeof(fp_value);
    v[k].name = pd.name;
    v[k].type = pd.type;
    const auto t = text.find(pd.name);
    const auto n = num.find(pd.name);
    if (pd.type == FP_T_AXES) {
      v[k].strings = axes_storage->data();
      v[k].count = static_cast<uint32_t>(axes_storage->size());
    } else if (t != text.end()) {
      v[k].s = t->second.c_str();
    } else if (n != num.end()) {
      v[k].f = n->second;
      v[k].i = static_cast<int64_t>(n->second);
    } else {
      v[k].s = pd.default_value;
      v[k].f = pd.default_value ? std::atof(pd.default_value) : 0;
    }
  }
  return desc->create(v.data(), static_cast<uint32_t>(v.size()));
}

fp_spec spec_of(const Tensor& x, int stream_axis) {
  fp_spec s{};
  s.rank = static_cast<int32_t>(x.shape.size());
  for (int k = 0; k < s.rank; ++k) {
    s.shape[k] = k == stream_axis ? -1 : x.shape[k];
    std::strncpy(s.axes[k], x.axes[k].c_str(), FP_AXIS_NAME_MAX - 1);
  }
  s.stream_axis = stream_axis;
  return s;
}

// Pushes `x` along axis 1 in chunks of the given lengths, then flushes;
// returns the frames emitted, joined along axis 1 (or the one output of a
// stage that removes the axis).
std::vector<float> run_chunks(fp_stage* st, const Tensor& x, const std::vector<int64_t>& chunks, int out_stream_axis,
                              bool* in_place) {
  const int64_t c = x.shape[0], t = x.shape[1], m = x.shape[2];
  std::vector<std::vector<float>> per_channel(static_cast<size_t>(c));
  std::vector<float> flat;  // outputs without a stream axis
  auto collect = [&](const fp_tensor& out) {
    if (!out.data) return;
    if (out_stream_axis == 1) {  // [channel, frame, ...]: join along frame
      const int64_t block = sdk::span_of(out, 1, out.rank);
      for (int64_t ch = 0; ch < c; ++ch)
        per_channel[ch].insert(per_channel[ch].end(), out.data + ch * block, out.data + (ch + 1) * block);
    } else {
      flat.insert(flat.end(), out.data, out.data + sdk::numel(out));
    }
  };
  int64_t at = 0;
  for (int64_t len : chunks) {
    std::vector<float> buf(static_cast<size_t>(c * len * m));
    for (int64_t ch = 0; ch < c; ++ch)
      std::copy_n(x.data.data() + (ch * t + at) * m, len * m, buf.data() + ch * len * m);
    fp_tensor in = sdk::view(buf.data(), {c, len, m});
    fp_tensor out{};
    EXPECT_EQ(st->push(st, &in, &out), FP_OK) << st->error(st, nullptr);
    if (out.data && len > 0) *in_place = *in_place && out.data == buf.data();
    collect(out);
    at += len;
  }
  fp_tensor out{};
  EXPECT_EQ(st->flush(st, &out), FP_OK) << st->error(st, nullptr);
  collect(out);
  std::vector<float> joined = flat;
  for (auto& p : per_channel) joined.insert(joined.end(), p.begin(), p.end());
  return joined;
}

struct ChunkCase {
  const char* stage;
  std::map<std::string, std::string> text;
  std::vector<const char*> axes;
  bool in_place;
};

TEST(NormStream, ChunkedPushesEqualOneBatchPush) {
  Plugin norm(FEATPIPE_NORM_PLUGIN_FILE), math(FEATPIPE_MATH_PLUGIN_FILE);
  ASSERT_TRUE(norm.p && math.p) << dlerror();
  const Tensor x = frames(11, 9);
  const std::vector<std::vector<int64_t>> splits{{11}, {1, 3, 0, 2, 5}, {4, 4, 3}, {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}};
  const ChunkCase cases[] = {
      {"norm.l2", {{"axis", "mel"}}, {}, true},
      {"norm.l2", {{"axis", "frame"}}, {}, false},
      {"norm.l2", {{"axis", "all"}}, {}, false},
      {"norm.minmax", {{"axis", "frame"}}, {}, false},
      {"norm.standardize", {{"axis", "channel"}}, {}, true},
      {"norm.standardize", {{"axis", "frame"}}, {}, false},
      {"norm.power", {}, {}, true},
      {"math.log", {}, {}, true},
      {"math.pool", {{"op", "max"}}, {"mel"}, false},
      {"math.pool", {{"op", "gem"}}, {"frame"}, false},
      {"math.pool", {{"op", "avg"}}, {"channel", "frame"}, false},
  };
  for (const ChunkCase& cc : cases) {
    SCOPED_TRACE(std::string(cc.stage) + " " + (cc.text.count("axis") ? cc.text.at("axis") : "") +
                 (cc.axes.empty() ? "" : cc.axes[0]));
    const fp_stage_desc* desc = norm.find(cc.stage) ? norm.find(cc.stage) : math.find(cc.stage);
    ASSERT_NE(desc, nullptr);
    std::vector<const char*> axes = cc.axes;
    std::vector<float> first;
    for (const auto& split : splits) {
      fp_stage* st = create(desc, cc.text, {}, &axes);
      ASSERT_NE(st, nullptr);
      fp_spec in = spec_of(x, 1), out{};
      fp_stream_info info{};
      info.struct_size = sizeof info;
      ASSERT_EQ(st->configure(st, &in, &out, &info), FP_OK) << st->error(st, nullptr);
      ASSERT_EQ(st->start(st, &in, &out), FP_OK) << st->error(st, nullptr);
      bool in_place = true;
      // A whole-input stage gets the whole input in one push: the engine
      // joins the chunks (tests/core: Session.WholeInputStageGetsOnePush).
      const std::vector<int64_t> chunks = info.whole_input ? std::vector<int64_t>{x.shape[1]} : split;
      const std::vector<float> y = run_chunks(st, x, chunks, out.stream_axis, &in_place);
      st->destroy(st);
      if (cc.in_place) EXPECT_TRUE(in_place) << "frame-wise stage did not return its input buffer";
      if (first.empty()) {
        first = y;
        ASSERT_FALSE(first.empty());
      } else {
        ASSERT_EQ(y.size(), first.size());
        EXPECT_EQ(std::memcmp(y.data(), first.data(), y.size() * sizeof(float)), 0)
            << "chunked result differs from the one-push result (bit for bit)";
      }
    }
  }
}

}  // namespace
}  // namespace featpipe::test
