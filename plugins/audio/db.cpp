// audio.db — power or magnitude to decibels, ≡ torchaudio.transforms.AmplitudeToDB.
//
//   - use: audio.db
//     with: {stype: power, top_db: 80}
//
// y = m · log10(max(x, amin)), m = 10 (power) or 20 (magnitude), ref 1.
// With top_db, y = max(y, max(y) − top_db) where max(y) is over the whole
// input (as torchaudio for one utterance [.., frame, feature] or
// [channel, ...]): the stage then needs the whole input (batch-only; the
// engine hands it over in one push).
// Without top_db it is element-wise and streams.
#include "dsp.hpp"
#include "stages.hpp"

#include <cmath>

namespace featpipe::audio {
namespace {

using sdk::check;

class Db final : public sdk::Stage, public sdk::StageDefaults {
 public:
  static constexpr const char* kName = "audio.db";
  static constexpr const char* kDoc =
      "decibels: 10·log10(max(x, amin)) for power, 20·log10 for magnitude; top_db clamps below max − top_db "
      "(whole input); ≡ torchaudio.transforms.AmplitudeToDB";
  static constexpr const char* kExample = "- use: audio.db\n  with: {stype: power, top_db: 80}";
  static constexpr fp_param_desc kParams[] = {
      sdk::Param::Choice("stype", "power", "power|magnitude").doc("what the input holds"),
      sdk::Param::Float("top_db", "null").nullable().range(0, 1e6).unit("dB")
          .doc("floor at max − top_db over the whole input (makes the stage batch-only)"),
      sdk::Param::Float("amin", "1e-10").range(1e-38, 1).doc("smallest input value (log floor)"),
  };

  explicit Db(const sdk::Params& p)
      : mult_(p.s("stype") == "power" ? 10.0f : 20.0f),
        top_db_(p.is_null("top_db") ? -1.0 : p.f("top_db")),
        amin_(static_cast<float>(p.f("amin"))) {}

  sdk::Spec configure(const sdk::Spec& in, fp_stream_info& info) override {
    check(in.rank() >= 1, nullptr, "audio.db takes a tensor, got a scalar");
    info.hop = in.stream_axis() >= 0 ? 1.0 : 0.0;
    info.whole_input = top_db_ >= 0 ? 1 : 0;
    info.whole_input_reason = "top_db is set (it clips below the loudest value of the whole input): remove top_db, or set it to null, to stream";
    return in;
  }

  void push(fp_tensor& in, fp_tensor& out) override {
    const int64_t n = sdk::numel(in);
    for (int64_t k = 0; k < n; ++k) in.data[k] = mult_ * std::log10(std::max(in.data[k], amin_));
    out = in;
    if (top_db_ < 0) return;
    // top_db: `in` is the whole input (whole_input).
    float peak = -std::numeric_limits<float>::infinity();
    for (int64_t k = 0; k < n; ++k) peak = std::max(peak, in.data[k]);
    const float floor = peak - static_cast<float>(top_db_);
    for (int64_t k = 0; k < n; ++k) in.data[k] = std::max(in.data[k], floor);
  }

 private:
  float mult_;
  double top_db_;
  float amin_;
};

}  // namespace

fp_stage_desc db_stage() { return sdk::stage<Db>(); }

}  // namespace featpipe::audio
