// math.log — y = ln(x + offset), element-wise, in place, as
// torch.log(x + offset) on float32 (the sum is rounded to float32 first).
// The natural logarithm; x + offset ≤ 0 gives -inf/NaN as in torch, which
// the engine reports as a non-finite value from this step.
#include "stages.hpp"

#include <featpipe/sdk.hpp>

#include <cmath>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
// glibc's vector math library (libmvec): logf on 4/8/16 lanes, within 4 ulp
// of the correctly rounded result (glibc's documented bound). Scalar logf
// was a tenth of a log-mel run.
extern "C" __m128 _ZGVbN4v_logf(__m128);
extern "C" __m256 _ZGVdN8v_logf(__m256);
extern "C" __m512 _ZGVeN16v_logf(__m512);
#define FP_HAVE_MVEC 1
#endif

namespace featpipe::math {
namespace {

#ifdef FP_HAVE_MVEC
__attribute__((target("avx512f"))) void log_avx512(float* x, int64_t n, float offset) {
  const __m512 off = _mm512_set1_ps(offset);
  int64_t k = 0;
  for (; k + 16 <= n; k += 16) _mm512_storeu_ps(x + k, _ZGVeN16v_logf(_mm512_add_ps(_mm512_loadu_ps(x + k), off)));
  if (k < n) {  // the tail through the same vector code: a value's log never depends on the chunking
    alignas(64) float t[16];
    for (int i = 0; i < 16; ++i) t[i] = k + i < n ? x[k + i] : 1.0f;
    _mm512_storeu_ps(t, _ZGVeN16v_logf(_mm512_add_ps(_mm512_loadu_ps(t), off)));
    for (int64_t i = 0; k + i < n; ++i) x[k + i] = t[i];
  }
}
__attribute__((target("avx2,fma"))) void log_avx2(float* x, int64_t n, float offset) {
  const __m256 off = _mm256_set1_ps(offset);
  int64_t k = 0;
  for (; k + 8 <= n; k += 8) _mm256_storeu_ps(x + k, _ZGVdN8v_logf(_mm256_add_ps(_mm256_loadu_ps(x + k), off)));
  if (k < n) {  // the tail through the same vector code: a value's log never depends on the chunking
    alignas(64) float t[8];
    for (int i = 0; i < 8; ++i) t[i] = k + i < n ? x[k + i] : 1.0f;
    _mm256_storeu_ps(t, _ZGVdN8v_logf(_mm256_add_ps(_mm256_loadu_ps(t), off)));
    for (int64_t i = 0; k + i < n; ++i) x[k + i] = t[i];
  }
}
void log_sse(float* x, int64_t n, float offset) {
  const __m128 off = _mm_set1_ps(offset);
  int64_t k = 0;
  for (; k + 4 <= n; k += 4) _mm_storeu_ps(x + k, _ZGVbN4v_logf(_mm_add_ps(_mm_loadu_ps(x + k), off)));
  if (k < n) {  // the tail through the same vector code: a value's log never depends on the chunking
    alignas(64) float t[4];
    for (int i = 0; i < 4; ++i) t[i] = k + i < n ? x[k + i] : 1.0f;
    _mm_storeu_ps(t, _ZGVbN4v_logf(_mm_add_ps(_mm_loadu_ps(t), off)));
    for (int64_t i = 0; k + i < n; ++i) x[k + i] = t[i];
  }
}
using LogFn = void (*)(float*, int64_t, float);
LogFn pick_log() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return &log_avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return &log_avx2;
  return &log_sse;
}
#else
void log_scalar(float* x, int64_t n, float offset) {
  for (int64_t k = 0; k < n; ++k) x[k] = std::log(x[k] + offset);
}
using LogFn = void (*)(float*, int64_t, float);
LogFn pick_log() { return &log_scalar; }
#endif

const LogFn log_inplace = pick_log();

class Log final : public sdk::Stage, public sdk::StageDefaults {
 public:
  static constexpr const char* kName = "math.log";
  static constexpr const char* kDoc =
      "natural logarithm, element-wise: y = ln(x + offset), as torch.log(x + offset) in float32. "
      "In place; streams.";
  static constexpr const char* kExample = "- use: math.log\n  with: {offset: 1.0e-6}";
  static constexpr fp_param_desc kParams[] = {
      sdk::Param::Float("offset", "1e-6").doc("added to x before the logarithm (keeps log(0) finite)")};

  explicit Log(const sdk::Params& p) : offset_(static_cast<float>(p.f("offset"))) {}

  sdk::Spec configure(const sdk::Spec& in, fp_stream_info& info) override {
    info.hop = in.stream_axis() >= 0 ? 1 : 0;
    return in;
  }

  void push(fp_tensor& in, fp_tensor& out) override {
    log_inplace(in.data, sdk::numel(in), offset_);
    out = in;
  }

 private:
  float offset_;
};

}  // namespace

fp_stage_desc log_stage() { return sdk::stage<Log>(); }

}  // namespace featpipe::math
