// featpipe stage SDK — header-only C++ on top of the C ABI (plugin.h).
//
// A stage is one small class; this is a complete plugin (tests/core
// extracts it from this comment, builds it and runs it):
//
//   #include <featpipe/sdk.hpp>
//
//   #include <algorithm>
//
//   namespace sdk = featpipe::sdk;
//
//   class Clip final : public sdk::Stage, public sdk::StageDefaults {
//    public:
//     static constexpr const char* kName = "norm.clip";
//     static constexpr const char* kDoc = "y = min(max(x, lo), hi)";
//     static constexpr const char* kExample = "- use: norm.clip\n  with: {lo: -1, hi: 1}";
//     static constexpr fp_param_desc kParams[] = {
//         sdk::Param::Float("lo", "-1").doc("lower bound"),
//         sdk::Param::Float("hi", "1").doc("upper bound")};
//     explicit Clip(const sdk::Params& p) : lo_(float(p.f("lo"))), hi_(float(p.f("hi"))) {
//       sdk::check(lo_ <= hi_, "hi", "hi must be >= lo, got ", hi_, " < ", lo_);
//     }
//     sdk::Spec configure(const sdk::Spec& in, fp_stream_info& info) override {
//       info.hop = in.stream_axis() >= 0 ? 1 : 0;  // frame-wise
//       return in;
//     }
//     void push(fp_tensor& in, fp_tensor& out) override {
//       for (int64_t k = 0; k < sdk::numel(in); ++k) in.data[k] = std::clamp(in.data[k], lo_, hi_);
//       out = in;  // in place
//     }
//
//    private:
//     float lo_, hi_;
//   };
//
//   FEATPIPE_PLUGIN("my-stages", "1.0.0", sdk::stage<Clip>())
//
// StageDefaults supplies the optional members (kExample, kExtensions,
// kFlags); a stage that reads files sets kFlags = FP_STAGE_SOURCE and
// kExtensions. Exceptions thrown by a stage are caught at the ABI seam and
// become FP_ERROR plus a message; `sdk::Error` can name the parameter at
// fault so the engine points at its line in the pipeline file. A stage
// offers extensions by overriding `extension(id)`; a plugin offers
// plugin-wide ones (and an init hook) with FEATPIPE_PLUGIN_WITH.
#pragma once

#include <featpipe/plugin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <memory>
#include <new>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

// Symbols the SDK keeps per plugin library (never merged across plugins
// by the dynamic linker, whatever the plugin's default visibility).
#if defined(__GNUC__) && !defined(_WIN32)
#define FP_SDK_LOCAL __attribute__((visibility("hidden")))
#else
#define FP_SDK_LOCAL
#endif

namespace featpipe::sdk {

// ------------------------------------------------------------------ errors

// A stage's complaint in its own terms; `param` names the parameter at
// fault (empty: the stage as a whole).
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& msg, std::string param = {})
      : std::runtime_error(msg), param_(std::move(param)) {}
  const std::string& param() const { return param_; }

 private:
  std::string param_;
};

template <class... A>
std::string cat(const A&... a) {
  std::ostringstream os;
  (os << ... << a);
  return os.str();
}

// check(cond, "param", "message pieces", ...): throws Error when !cond.
template <class... A>
void check(bool cond, const char* param, const A&... msg) {
  if (!cond) throw Error(cat(msg...), param ? param : "");
}

// ------------------------------------------------------------------ host

namespace detail {
FP_SDK_LOCAL inline const fp_host* g_host = nullptr;  // set by the plugin's init
}  // namespace detail

// The engine that loaded this plugin; nullptr before init (e.g. a stage
// class used directly in a unit test).
inline const fp_host* host() { return detail::g_host; }

// log(FP_LOG_WARNING, "pieces ", 1, ...): one line to the engine's log;
// dropped when there is no host.
template <class... A>
void log(fp_log_level level, const A&... msg) {
  const fp_host* h = host();
  if (!h || !FP_HAS_FIELD(h, fp_host, log) || !h->log) return;
  const std::string text = cat(msg...);
  h->log(h, level, text.c_str());
}

// ------------------------------------------------------------------ params

// constexpr builder for fp_param_desc entries of a schema table.
struct Param : fp_param_desc {
  constexpr Param(const char* n, fp_type t, const char* def)
      : fp_param_desc{sizeof(fp_param_desc), n, t, def, 0, 1.0, 0.0, 0, 0, nullptr, "", ""} {}
  static constexpr Param Bool(const char* n, const char* def) { return {n, FP_T_BOOL, def}; }
  static constexpr Param Int(const char* n, const char* def) { return {n, FP_T_INT, def}; }
  static constexpr Param Float(const char* n, const char* def) { return {n, FP_T_FLOAT, def}; }
  static constexpr Param String(const char* n, const char* def) { return {n, FP_T_STRING, def}; }
  static constexpr Param Path(const char* n, const char* def) { return {n, FP_T_PATH, def}; }
  static constexpr Param Axis(const char* n, const char* def) { return {n, FP_T_AXIS, def}; }
  static constexpr Param Axes(const char* n, const char* def) { return {n, FP_T_AXES, def}; }
  static constexpr Param Ints(const char* n, const char* def) { return {n, FP_T_INTS, def}; }
  static constexpr Param Floats(const char* n, const char* def) { return {n, FP_T_FLOATS, def}; }
  static constexpr Param Choice(const char* n, const char* def, const char* choices) {
    Param p{n, FP_T_CHOICE, def};
    p.choices = choices;
    return p;
  }
  constexpr Param range(double lo, double hi) const { Param c = *this; c.min = lo; c.max = hi; return c; }
  constexpr Param at_least(double lo) const { return range(lo, std::numeric_limits<double>::infinity()); }
  constexpr Param count(int lo, int hi) const { Param c = *this; c.min_count = lo; c.max_count = hi; return c; }
  constexpr Param nullable() const { Param c = *this; c.fp_param_desc::nullable = 1; return c; }
  constexpr Param unit(const char* u) const { Param c = *this; c.fp_param_desc::unit = u; return c; }
  constexpr Param doc(const char* d) const { Param c = *this; c.fp_param_desc::doc = d; return c; }
};

// Read-only access to the checked values handed to a stage's constructor.
// The engine's fp_value may be shorter or longer than this build's: each is
// copied into this layout, fields the engine did not write left zero.
class Params {
 public:
  Params(const fp_value* v, uint32_t n) {
    const size_t stride = n ? v->struct_size : 0;
    v_.resize(n);
    for (uint32_t k = 0; k < n; ++k) {
      const auto* from = reinterpret_cast<const unsigned char*>(v) + k * stride;
      std::memcpy(&v_[k], from, std::min(stride, sizeof(fp_value)));
    }
  }
  const fp_value& get(std::string_view name) const {
    for (const fp_value& v : v_)
      if (name == v.name) return v;
    throw Error(cat("internal: no parameter '", name, "' in the schema"));
  }
  bool is_null(std::string_view n) const { return get(n).is_null != 0; }
  int64_t i(std::string_view n) const { return get(n).i; }
  double f(std::string_view n) const { return get(n).f; }
  bool b(std::string_view n) const { return get(n).i != 0; }
  std::string s(std::string_view n) const {
    const fp_value& v = get(n);
    return v.s ? v.s : "";
  }
  std::vector<double> numbers(std::string_view n) const {
    const fp_value& v = get(n);
    return v.numbers ? std::vector<double>(v.numbers, v.numbers + v.count) : std::vector<double>{};
  }
  std::vector<std::string> strings(std::string_view n) const {
    const fp_value& v = get(n);
    std::vector<std::string> out;
    for (uint32_t k = 0; k < v.count; ++k) out.emplace_back(v.strings[k]);
    return out;
  }

 private:
  std::vector<fp_value> v_;
};

// ------------------------------------------------------------------ specs

// Value wrapper around fp_spec with the operations stages need.
class Spec {
 public:
  Spec() { std::memset(&s_, 0, sizeof s_); s_.stream_axis = -1; }
  Spec(const fp_spec& s) : s_(s) {}  // NOLINT: implicit on purpose
  // Spec({{"frame", -1}, {"freq", 257}}, 0)
  Spec(std::initializer_list<std::pair<const char*, int64_t>> axes, int stream_axis = -1) : Spec() {
    for (auto& [name, len] : axes) append(name, len);
    s_.stream_axis = stream_axis;
  }

  const fp_spec& raw() const { return s_; }
  fp_spec& raw() { return s_; }
  int rank() const { return s_.rank; }
  int64_t dim(int k) const { return s_.shape[k]; }
  void set_dim(int k, int64_t n) { s_.shape[k] = n; }
  std::string_view axis(int k) const { return s_.axes[k]; }
  int stream_axis() const { return s_.stream_axis; }
  void set_stream_axis(int k) { s_.stream_axis = k; }

  int find(std::string_view name) const {
    for (int k = 0; k < s_.rank; ++k)
      if (name == s_.axes[k]) return k;
    return -1;
  }
  void append(std::string_view name, int64_t len) {
    check(s_.rank < FP_MAX_RANK, nullptr, "tensor rank would exceed ", FP_MAX_RANK);
    set_axis(s_.rank++, name, len);
  }
  void set_axis(int k, std::string_view name, int64_t len) {
    check(name.size() < FP_AXIS_NAME_MAX, nullptr, "axis name too long: ", name);
    std::memset(s_.axes[k], 0, FP_AXIS_NAME_MAX);
    std::memcpy(s_.axes[k], name.data(), name.size());
    s_.shape[k] = len;
  }
  void remove(int k) {
    for (int j = k; j + 1 < s_.rank; ++j) {
      s_.shape[j] = s_.shape[j + 1];
      std::memcpy(s_.axes[j], s_.axes[j + 1], FP_AXIS_NAME_MAX);
    }
    --s_.rank;
    if (s_.stream_axis == k) s_.stream_axis = -1;
    else if (s_.stream_axis > k) --s_.stream_axis;
  }

  // "mel", "-1", "2" -> index; throws Error naming `param` otherwise.
  int resolve_axis(std::string_view text, const char* param) const {
    int k = find(text);
    if (k >= 0) return k;
    char* end = nullptr;
    std::string t(text);
    long v = std::strtol(t.c_str(), &end, 10);
    if (!t.empty() && end && *end == '\0') {
      long idx = v < 0 ? v + s_.rank : v;
      check(idx >= 0 && idx < s_.rank, param, "axis ", v, " out of range for a tensor of rank ",
            s_.rank, " ", axes_text());
      return static_cast<int>(idx);
    }
    throw Error(cat("axis '", text, "' not in the input's axes ", axes_text()), param ? param : "");
  }

  // "[frame=?, mel=80]"
  std::string axes_text() const {
    std::string out = "[";
    for (int k = 0; k < s_.rank; ++k) {
      if (k) out += ", ";
      out += s_.axes[k];
      out += "=";
      out += s_.shape[k] < 0 ? std::string("?") : std::to_string(s_.shape[k]);
    }
    return out + "]";
  }

  // Attributes: NaN when absent or unknown.
  double attr(std::string_view key) const {
    for (uint32_t k = 0; k < s_.attr_count; ++k)
      if (key == s_.attrs[k].key) return s_.attrs[k].value;
    return std::numeric_limits<double>::quiet_NaN();
  }
  void set_attr(std::string_view key, double value) {
    for (uint32_t k = 0; k < s_.attr_count; ++k)
      if (key == s_.attrs[k].key) { s_.attrs[k].value = value; return; }
    check(s_.attr_count < FP_MAX_ATTRS, nullptr, "too many tensor attributes");
    check(key.size() < FP_ATTR_KEY_MAX, nullptr, "attribute key too long: ", key);
    fp_attr& a = s_.attrs[s_.attr_count++];
    std::memset(a.key, 0, sizeof a.key);
    std::memcpy(a.key, key.data(), key.size());
    a.value = value;
  }

 private:
  fp_spec s_;
};

// ------------------------------------------------------------------ tensors

inline int64_t numel(const fp_tensor& t) {
  int64_t n = 1;
  for (int k = 0; k < t.rank; ++k) n *= t.shape[k];
  return n;
}

// Product of the dimensions from `from` (inclusive) to `to` (exclusive).
inline int64_t span_of(const fp_tensor& t, int from, int to) {
  int64_t n = 1;
  for (int k = from; k < to; ++k) n *= t.shape[k];
  return n;
}

// A view over `data` with the shape of `t`, but `len` along axis `axis`.
inline fp_tensor view(float* data, const fp_tensor& like, int axis, int64_t len) {
  fp_tensor v = like;
  v.data = data;
  if (axis >= 0) v.shape[axis] = len;
  return v;
}

// A view with an explicit shape.
inline fp_tensor view(float* data, std::initializer_list<int64_t> shape) {
  fp_tensor v{};
  v.data = data;
  for (int64_t d : shape) v.shape[v.rank++] = d;
  return v;
}

// Index of the first NaN or infinity among x[0..n), or -1. The common case
// (all finite) is an integer OR over the exponent bits, which vectorizes
// and raises no floating-point exception.
inline int64_t first_nonfinite(const float* x, int64_t n) {
  uint32_t any = 0;
  for (int64_t k = 0; k < n; ++k) {
    uint32_t bits;
    std::memcpy(&bits, x + k, sizeof bits);
    any |= (bits & 0x7f800000u) == 0x7f800000u;
  }
  if (!any) return -1;
  for (int64_t k = 0; k < n; ++k)
    if (!std::isfinite(x[k])) return k;
  return -1;
}

// ------------------------------------------------------------------ stage

// The tags are plugin.h's: [stage-thread] calls on one instance never
// overlap.
class Stage {
 public:
  virtual ~Stage() = default;

  // [stage-thread] Check the input, allocate tables, describe the output
  // and how the stage moves along the stream axis. Called first on every
  // instance, and again by the default `start` for each input, so keep it
  // cheap when the input repeats.
  virtual Spec configure(const Spec& in, fp_stream_info& info) = 0;

  // [stage-thread] A new input with concrete attributes; reset state.
  virtual Spec start(const Spec& in) {
    fp_stream_info info{};
    Spec out = configure(in, info);
    reset();
    return out;
  }
  // Clear stream state (called by the default start).
  virtual void reset() {}

  // [stage-thread] Source stages only (kFlags has FP_STAGE_SOURCE): decode
  // a file; the data follows from flush().
  virtual Spec open_file(const std::string& /*path*/) { throw Error("this stage does not read files"); }

  // [stage-thread] Consume `in` (may overwrite it, may return it as out).
  // A stage that declared whole_input gets the whole input in one push.
  virtual void push(fp_tensor& in, fp_tensor& out) = 0;

  // [stage-thread] End of input: emit the rest. `out.data == nullptr` (the
  // default) or a zero-length stream axis means nothing more to emit.
  virtual void flush(fp_tensor& out) { out = fp_tensor{}; }

  // [stage-thread] Extra text for `featpipe validate`.
  virtual std::string describe() { return {}; }

  // [stage-thread] The extension struct for `id` ("NAME/REV"), or nullptr.
  // It must live as long as the instance (a static table, or a member); its
  // functions get the fp_stage, and instance<S>(st) finds the object.
  virtual const void* extension(std::string_view /*id*/) { return nullptr; }
};

namespace detail {

// The fp_stage a Stage hides behind; catches every exception at the seam.
template <class S>
struct Adapter {
  fp_stage st{};
  std::unique_ptr<S> impl;
  std::string err, err_param, described;

  template <class F>
  static fp_status guard(fp_stage* s, F&& f) noexcept {
    auto* a = static_cast<Adapter*>(s->self);
    try {
      if (!a->impl) return FP_ERROR;  // construction failed: keep its error
      a->err.clear();
      a->err_param.clear();
      f(*a->impl);
      return FP_OK;
    } catch (const Error& e) {
      a->set_error(e.what(), e.param());
    } catch (const std::bad_alloc&) {
      a->set_error("out of memory", "");
    } catch (const std::exception& e) {
      a->set_error(e.what(), "");
    } catch (...) {
      a->set_error("unknown exception", "");
    }
    return FP_ERROR;
  }
  void set_error(const char* m, const std::string& p) noexcept {
    try {
      err = m;
      err_param = p;
    } catch (...) {
    }
  }

  static fp_status configure(fp_stage* s, const fp_spec* in, fp_spec* out, fp_stream_info* info) {
    return guard(s, [&](S& x) {
      fp_stream_info i{};
      Spec o = x.configure(Spec(*in), i);
      *out = o.raw();
      // Only the fields the engine's fp_stream_info has (plugin.h, rule 3).
      const uint32_t room = info->struct_size;
      std::memcpy(info, &i, std::min<size_t>(room, sizeof i));
      info->struct_size = room;
    });
  }
  static fp_status start(fp_stage* s, const fp_spec* in, fp_spec* out) {
    return guard(s, [&](S& x) { *out = x.start(Spec(*in)).raw(); });
  }
  static fp_status open_file(fp_stage* s, const char* path, fp_spec* out) {
    return guard(s, [&](S& x) { *out = x.open_file(path).raw(); });
  }
  static fp_status push(fp_stage* s, fp_tensor* in, fp_tensor* out) {
    return guard(s, [&](S& x) { x.push(*in, *out); });
  }
  static fp_status flush(fp_stage* s, fp_tensor* out) {
    return guard(s, [&](S& x) { x.flush(*out); });
  }
  static const char* error(const fp_stage* s, const char** param) {
    auto* a = static_cast<const Adapter*>(s->self);
    if (param) *param = a->err_param.empty() ? nullptr : a->err_param.c_str();
    return a->err.c_str();
  }
  static const char* describe(fp_stage* s) {
    auto* a = static_cast<Adapter*>(s->self);
    a->described.clear();
    guard(s, [&](S& x) { a->described = x.describe(); });
    return a->described.c_str();
  }
  static void destroy(fp_stage* s) { delete static_cast<Adapter*>(s->self); }
  static const void* get_extension(const fp_stage* s, const char* id) {
    auto* a = static_cast<Adapter*>(s->self);
    if (!a->impl || !id) return nullptr;
    try {
      return a->impl->extension(id);
    } catch (...) {
      return nullptr;
    }
  }

  static fp_stage* create(const fp_value* values, uint32_t count) {
    auto* a = new (std::nothrow) Adapter;
    if (!a) return nullptr;
    a->st.struct_size = sizeof(fp_stage);
    a->st.self = a;
    a->st.configure = &configure;
    a->st.start = &start;
    a->st.open_file = (S::kFlags & FP_STAGE_SOURCE) ? &open_file : nullptr;
    a->st.push = &push;
    a->st.flush = &flush;
    a->st.error = &error;
    a->st.describe = &describe;
    a->st.destroy = &destroy;
    a->st.get_extension = &get_extension;
    try {
      a->impl = std::make_unique<S>(Params(values, count));
    } catch (const Error& e) {
      a->set_error(e.what(), e.param());
    } catch (const std::exception& e) {
      a->set_error(e.what(), "");
    } catch (...) {
      a->set_error("unknown exception while creating the stage", "");
    }
    return &a->st;
  }
};

}  // namespace detail

// A source stage S that can decode a file in bounded chunks returns this
// from extension(FP_EXT_SOURCE_CHUNKS): S defines
// `Spec open_file_chunked(const std::string& path, int64_t chunk)` and then
// emits the file chunk by chunk from flush() (see fp_source_chunks).
template <class S>
const fp_source_chunks* source_chunks() {
  static const fp_source_chunks ext{
      sizeof(fp_source_chunks), [](fp_stage* s, const char* path, int64_t chunk, fp_spec* out) -> fp_status {
        return detail::Adapter<S>::guard(s, [&](S& x) { *out = x.open_file_chunked(path, chunk).raw(); });
      }};
  return &ext;
}

// The object behind an instance of stage class S, for extension functions
// that receive the fp_stage (null if its constructor failed).
template <class S>
S* instance(const fp_stage* st) {
  return static_cast<detail::Adapter<S>*>(st->self)->impl.get();
}

// Base with the optional static members a stage may leave out.
struct StageDefaults {
  static constexpr const char* kExtensions = nullptr;  // file types a source reads
  static constexpr const char* kExample = "";
  static constexpr uint32_t kFlags = 0;                // FP_STAGE_*
};

// The descriptor for class S (S derives from Stage and StageDefaults or
// defines kName, kDoc, kExample, kExtensions, kFlags, kParams itself).
template <class S>
constexpr fp_stage_desc stage() {
  static_assert(((S::kFlags & FP_STAGE_SOURCE) != 0) == (S::kExtensions != nullptr),
                "a stage that reads files sets both kFlags = FP_STAGE_SOURCE and kExtensions; others neither");
  std::span<const fp_param_desc> params(S::kParams);
  return fp_stage_desc{sizeof(fp_stage_desc), S::kFlags, S::kName, S::kDoc, S::kExample, S::kExtensions,
                       static_cast<uint32_t>(params.size()), params.data(), &detail::Adapter<S>::create};
}

// Plugin-wide hooks for FEATPIPE_PLUGIN_WITH: derive and hide what you need.
struct PluginDefaults {
  // [once] After the engine checked the version; throw to refuse loading.
  static void init(const fp_host& /*host*/) {}
  // [any-thread] A plugin-wide extension struct for `id`, or nullptr.
  static const void* extension(std::string_view /*id*/) { return nullptr; }
};

namespace detail {
template <class Hooks>
fp_status plugin_init(const fp_host* h) noexcept {
  g_host = h;
  try {
    Hooks::init(*h);
    return FP_OK;
  } catch (const std::exception& e) {
    log(FP_LOG_ERROR, "init failed: ", e.what());
  } catch (...) {
    log(FP_LOG_ERROR, "init failed");
  }
  return FP_ERROR;
}
template <class Hooks>
const void* plugin_extension(const char* id) noexcept {
  try {
    return id ? Hooks::extension(id) : nullptr;
  } catch (...) {
    return nullptr;
  }
}
}  // namespace detail

}  // namespace featpipe::sdk

// One plugin per shared library: FEATPIPE_PLUGIN("name", "1.0.0", stage<A>(), stage<B>())
#define FEATPIPE_PLUGIN(NAME, VERSION, ...) FEATPIPE_PLUGIN_WITH(featpipe::sdk::PluginDefaults, NAME, VERSION, __VA_ARGS__)

// The same with plugin-wide hooks: HOOKS derives from sdk::PluginDefaults.
#define FEATPIPE_PLUGIN_WITH(HOOKS, NAME, VERSION, ...)                                           \
  extern "C" FP_EXPORT const fp_plugin* featpipe_plugin_entry(void) {                             \
    static const fp_stage_desc stages[] = {__VA_ARGS__};                                          \
    static const fp_plugin plugin = {                                                             \
        .abi = FP_ABI_VERSION_INIT,                                                               \
        .struct_size = sizeof(fp_plugin),                                                         \
        .name = NAME,                                                                             \
        .version = VERSION,                                                                       \
        .stage_count = static_cast<uint32_t>(sizeof stages / sizeof stages[0]),                   \
        .stages = stages,                                                                         \
        .init = &featpipe::sdk::detail::plugin_init<HOOKS>,                                       \
        .get_extension = &featpipe::sdk::detail::plugin_extension<HOOKS>,                         \
    };                                                                                            \
    return &plugin;                                                                               \
  }
