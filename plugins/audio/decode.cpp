// audio.decode — audio files (libsndfile) or raw sample buffers to a float
// signal in [-1, 1], mixed down to mono or with channels kept, resampled
// with libsoxr (very high quality) when `sample_rate` differs.
//
//   - use: audio.decode
//     with: {sample_rate: 16000}
//
// Output [time] (mono: the mean of the channels) or [channel, time] with
// `mono: false`; attribute sample_rate. Two ways in:
//   - file mode: open_file(path) decodes the file (any format the installed
//     libsndfile reads: WAV PCM 8/16/24/32 and float, FLAC, OGG/Vorbis,
//     Opus, MP3, AIFF, ...), flush() emits it;
//   - push mode (in-memory or live buffers): start() with a [time] or
//     [channel, time] spec carrying attribute sample_rate, then push().
// Both resample through the same incremental libsoxr code, fed in chunks,
// so a file and the same samples streamed give the same output.
//
// Resource bounds (a file's header sizes what is allocated): a file longer
// than `max_duration` seconds (default 3600, one hour; 230 MB of float
// samples per channel at 16 kHz) is refused before its samples are read,
// and so is a header sample rate outside [kMinFileRate, kMaxFileRate] (a
// WAV claiming 1 Hz would otherwise resample 400 KB to ~3e9 samples).
#include "dsp.hpp"
#include "stages.hpp"

#include <sndfile.h>
#include <soxr.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <tuple>
#include <mutex>

namespace featpipe::audio {
namespace {

using sdk::check;
using sdk::Error;

// Sample rates accepted in a file's header: telephone audio is 8 kHz and
// ultrasound recorders reach a few hundred kHz; anything outside is a
// broken or hostile header.
constexpr int kMinFileRate = 1000;
constexpr int kMaxFileRate = 1000000;

// x / 32768 exactly as libsndfile's float read (exact: a power of two),
// cloned for AVX-512 / AVX2 / baseline.
__attribute__((target_clones("avx512f", "avx2", "default"))) void shorts_to_float(const short* __restrict x,
                                                                                  float* __restrict y, int64_t n) {
  for (int64_t k = 0; k < n; ++k) y[k] = static_cast<float>(x[k]) * (1.0f / 32768.0f);
}

// libsoxr's quality recipes, by the names `resample_quality` takes.
unsigned long soxr_recipe(const std::string& name) {
  return name == "hq" ? SOXR_HQ : name == "mq" ? SOXR_MQ : name == "lq" ? SOXR_LQ : SOXR_VHQ;
}

// Incremental planar resampler over libsoxr (very high quality by default).
class Resampler {
 public:
  Resampler(double in_rate, double out_rate, int channels, unsigned long recipe = SOXR_VHQ)
      : channels_(channels), ratio_(out_rate / in_rate) {
    soxr_error_t err = nullptr;
    soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_S, SOXR_FLOAT32_S);
    soxr_quality_spec_t q = soxr_quality_spec(recipe, 0);
    soxr_runtime_spec_t rt = soxr_runtime_spec(1);  // one thread: workers run in parallel already
    soxr_ = soxr_create(in_rate, out_rate, static_cast<unsigned>(channels), &err, &io, &q, &rt);
    check(soxr_ != nullptr && err == nullptr, nullptr, "cannot create a resampler from ", in_rate, " Hz to ",
          out_rate, " Hz: ", err ? err : "unknown error");
    out_.resize(static_cast<size_t>(channels));
    in_ptrs_.resize(static_cast<size_t>(channels));
    out_ptrs_.resize(static_cast<size_t>(channels));
  }

  // The stream look-ahead of resampling in_rate -> out_rate, in input
  // samples: the most input a stream must push beyond an output sample's
  // time before that sample comes out. soxr_delay() is 0 right after
  // creation (the filter starts lazily) and then counts the output held
  // back, filter delay plus block buffering, which varies from push to
  // push; so a probe feeds one second of silence in 16-sample pushes and
  // keeps the largest soxr_delay(), converted to input samples (48 kHz ->
  // 16 kHz: 3696). Probed once per pair of rates (~0.5 ms).
  static int64_t lookahead(double in_rate, double out_rate, unsigned long recipe) {
    static std::mutex m;
    static std::map<std::tuple<double, double, unsigned long>, int64_t> known;
    std::lock_guard<std::mutex> lock(m);
    auto it = known.find({in_rate, out_rate, recipe});
    if (it != known.end()) return it->second;
    Resampler r(in_rate, out_rate, 1, recipe);
    const std::vector<float> zeros(16, 0.0f);
    std::vector<float> sink(static_cast<size_t>(std::ceil(16 * r.ratio_)) + 64);
    double most = 0;
    for (double fed = 0; fed < in_rate + 16; fed += 16) {
      const float* in = zeros.data();
      float* out = sink.data();
      size_t idone = 0, odone = 0;
      soxr_process(r.soxr_, &in, 16, &idone, &out, sink.size(), &odone);
      most = std::max(most, soxr_delay(r.soxr_));
    }
    const int64_t samples = static_cast<int64_t>(std::ceil(most / r.ratio_));
    known.emplace(std::make_tuple(in_rate, out_rate, recipe), samples);
    return samples;
  }
  ~Resampler() { soxr_delete(soxr_); }
  Resampler(const Resampler&) = delete;
  Resampler& operator=(const Resampler&) = delete;

  // Consumes `n` samples of each channel (planar: channel c at x + c*stride)
  // and appends what is ready to out(c); x == nullptr drains the filter at
  // the end of the input.
  void process(const float* x, int64_t n, int64_t stride) {
    std::vector<const float*>& in = in_ptrs_;  // members: steady-state pushes do not allocate
    std::vector<float*>& out = out_ptrs_;
    const size_t cap = static_cast<size_t>(std::ceil(static_cast<double>(std::max<int64_t>(n, 4096)) * ratio_)) + 256;
    int64_t done = 0;
    for (;;) {
      for (int c = 0; c < channels_; ++c) {
        if (x) in[static_cast<size_t>(c)] = x + c * stride + done;
        auto& o = out_[static_cast<size_t>(c)];
        o.resize(o.size() + cap);
        out[static_cast<size_t>(c)] = o.data() + (o.size() - cap);
      }
      size_t idone = 0, odone = 0;
      soxr_error_t err = soxr_process(soxr_, x ? static_cast<soxr_in_t>(in.data()) : nullptr,
                                      x ? static_cast<size_t>(n - done) : 0, &idone,
                                      static_cast<soxr_out_t>(out.data()), cap, &odone);
      for (auto& o : out_) o.resize(o.size() - cap + odone);
      check(err == nullptr, nullptr, "resampling failed: ", err ? err : "");
      done += static_cast<int64_t>(idone);
      if (!x) {
        if (odone == 0) break;
      } else if (done >= n && odone < cap) {
        break;
      }
    }
  }
  std::vector<float>& out(int c) { return out_[static_cast<size_t>(c)]; }
  void clear() { for (auto& o : out_) o.clear(); }

 private:
  soxr_t soxr_ = nullptr;
  int channels_;
  double ratio_;
  std::vector<std::vector<float>> out_;
  std::vector<const float*> in_ptrs_;
  std::vector<float*> out_ptrs_;
};

class Decode final : public sdk::Stage, public sdk::StageDefaults {
 public:
  static constexpr const char* kName = "audio.decode";
  static constexpr const char* kDoc =
      "decodes audio with libsndfile to float in [-1, 1]; mono = mean of channels (or `channel` alone); resamples with libsoxr "
      "(very high quality) when sample_rate differs from the file's";
  static constexpr const char* kExample = "- use: audio.decode\n  with: {sample_rate: 16000}";
  static constexpr const char* kExtensions = "wav flac ogg oga opus mp3 aiff aif aifc au snd caf w64 rf64";
  static constexpr uint32_t kFlags = FP_STAGE_SOURCE;
  static constexpr fp_param_desc kParams[] = {
      sdk::Param::Int("sample_rate", "null").nullable().range(1, 1e7).unit("Hz")
          .doc("output sample rate; null keeps the file's"),
      sdk::Param::Bool("mono", "true").doc("mix channels down to their mean ([time]); false keeps [channel, time]"),
      sdk::Param::Int("channel", "null").nullable().range(0, 1023)
          .doc("take this channel alone (0: the first), as Kaldi's --channel, instead of the mean; a file with "
               "fewer channels fails"),
      sdk::Param::Choice("resample_quality", "vhq", "vhq|hq|mq|lq")
          .doc("libsoxr recipe; lower ones shorten a live stream's resampling delay (vhq: ~77 ms at 48 kHz) "
               "at some accuracy"),
      sdk::Param::Float("max_duration", "null").nullable().range(1e-3, 1e9).unit("s")
          .doc("refuse files longer than this (checked on the header before decoding, and while reading); null: "
               "no limit when the file is read in chunks (no later step needs the whole input), else 3600 (an "
               "hour held in memory)"),
  };

  explicit Decode(const sdk::Params& p)
      : rate_(p.is_null("sample_rate") ? 0.0 : static_cast<double>(p.i("sample_rate"))), mono_(p.b("mono")),
        channel_(p.is_null("channel") ? -1 : p.i("channel")), recipe_(soxr_recipe(p.s("resample_quality"))),
        max_duration_(p.is_null("max_duration") ? 0.0 : p.f("max_duration")) {
    check(channel_ < 0 || mono_, "channel", "channel picks one channel ([time]): it cannot be used with mono: false");
  }

  sdk::Spec configure(const sdk::Spec& in, fp_stream_info& info) override {
    info.hop = 1.0;
    if (in.rank() == 0) {  // file mode, at load time: sizes come with each file
      double rate = rate_ > 0 ? rate_ : std::numeric_limits<double>::quiet_NaN();
      return out_spec(-1, -1, rate);
    }
    // Push mode: raw samples [time] or [channel, time] with a sample rate.
    check(in.rank() <= 2 && in.axis(in.rank() - 1) == "time", nullptr,
          "audio.decode takes raw samples [time] or [channel, time], got ", in.axes_text());
    const double in_rate = in.attr("sample_rate");
    check(!(in_rate <= 0), nullptr, "the input's sample_rate must be positive, got ", in_rate);
    const int64_t channels = in.rank() == 2 ? in.dim(0) : 1;
    check(channel_ < 0 || (channels >= 0 && channel_ < channels), "channel", "channel ", channel_,
          " asks for channel ", channel_ + 1, " (counted from 0) of an input of ", channels, " channel(s)");
    double rate = rate_ > 0 ? rate_ : in_rate;
    if (rate_ > 0 && std::isfinite(in_rate) && in_rate != rate_) {
      info.hop = in_rate / rate_;
      info.lookahead = Resampler::lookahead(in_rate, rate_, recipe_);
    }
    const int64_t n = in.dim(in.rank() - 1);
    return out_spec(channels, rate == in_rate || n < 0 ? n : -1, rate);
  }

  sdk::Spec start(const sdk::Spec& in) override {
    fp_stream_info info{};
    sdk::Spec out = configure(in, info);
    if (in.rank() == 0) return out;  // file mode: open_file() follows
    reader_.reset();
    file_mode_ = false;
    in_rate_ = in.attr("sample_rate");
    check(std::isfinite(in_rate_), nullptr, "raw samples need a sample_rate attribute");
    in_channels_ = in.rank() == 2 ? in.dim(0) : 1;
    setup_resampler(in_rate_, mono_ ? 1 : static_cast<int>(std::max<int64_t>(in_channels_, 1)));
    return out;
  }

  sdk::Spec open_file(const std::string& path) override {
    open_reader(path, max_duration_ > 0 ? max_duration_ : kWholeFileDuration);
    FileReader& r = *reader_;
    const int ch = r.info.channels;
    const int out_ch = mono_ ? 1 : ch;
    std::vector<std::vector<float>> planes(static_cast<size_t>(out_ch));
    int64_t total = 0;
    for (;;) {
      if (ch == 1) {  // common case: read straight into mono_buf_ (kept across files: no zero fill)
        if (mono_buf_.size() < static_cast<size_t>(total) + kBlock)
          mono_buf_.resize(std::max(mono_buf_.size() * 2, static_cast<size_t>(total) + kBlock));
      }
      const int64_t got = read_block(r, mono_buf_.data() + (ch == 1 ? total : 0), planes);
      if (got <= 0) break;
      total += got;
    }
    end_of_file(r);
    const std::string name = r.name;
    reader_.reset();

    // Resample through the incremental path, in chunks, as a stream would.
    data_.clear();
    emit_ = nullptr;
    std::vector<float> planar;
    if (ch > 1) {  // planar [out_ch, total]
      planar.resize(static_cast<size_t>(out_ch) * static_cast<size_t>(total));
      for (int c = 0; c < out_ch; ++c)
        std::copy(planes[static_cast<size_t>(c)].begin(), planes[static_cast<size_t>(c)].end(),
                  planar.begin() + static_cast<std::ptrdiff_t>(c * total));
      planes.clear();
    }
    const float* src = ch > 1 ? planar.data() : mono_buf_.data();
    if (!resampler_) {
      if (ch > 1) data_.swap(planar);
      emit_ = ch > 1 ? data_.data() : mono_buf_.data();
      length_ = total;
    } else {
      resampler_->clear();
      // Input chunks whose output stays near 64K samples: the resampler's
      // output buffer follows the input chunk times the rate ratio.
      const double ratio = rate_ / in_rate_;
      const int64_t chunk = std::clamp<int64_t>(static_cast<int64_t>(65536 / std::max(ratio, 1.0)), 256, 1 << 16);
      for (int64_t at = 0; at < total; at += chunk)
        resampler_->process(src + at, std::min(chunk, total - at), total);
      resampler_->process(nullptr, 0, 0);
      length_ = static_cast<int64_t>(resampler_->out(0).size());
      for (int c = 0; c < out_ch; ++c) data_.insert(data_.end(), resampler_->out(c).begin(), resampler_->out(c).end());
      resampler_->clear();
      emit_ = data_.data();
    }
    check(length_ > 0, nullptr, "'", name, "' holds too few samples to resample");
    out_channels_ = out_ch;
    return out_spec(mono_ ? -1 : ch, length_, rate_ > 0 ? rate_ : in_rate_);
  }

  // The engine's path when no step needs the whole input: the file is read
  // `chunk` frames at a time by flush(), so memory does not grow with its
  // length (and max_duration, when not set, does not apply).
  sdk::Spec open_file_chunked(const std::string& path, int64_t chunk) {
    check(chunk > 0, nullptr, "open_file_chunked: chunk must be positive");
    open_reader(path, max_duration_ > 0 ? max_duration_ : std::numeric_limits<double>::infinity());
    chunk_ = chunk;
    emitted_ = true;  // flush() reads from reader_, not the whole-file buffer
    emitted_length_ = 0;
    out_channels_ = mono_ ? 1 : reader_->info.channels;
    if (resampler_) resampler_->clear();
    // The length is known up front only without resampling, and not for
    // MP3 (its header's frame count is an estimate).
    const int64_t n = !resampler_ && reader_->exact ? static_cast<int64_t>(reader_->info.frames) : -1;
    return out_spec(mono_ ? -1 : reader_->info.channels, n, rate_ > 0 ? rate_ : in_rate_);
  }

  const void* extension(std::string_view id) override {
    return id == FP_EXT_SOURCE_CHUNKS ? sdk::source_chunks<Decode>() : nullptr;
  }

  void push(fp_tensor& in, fp_tensor& out) override {
    check(!file_mode_, nullptr, "audio.decode: push() after open_file()");
    const int64_t n = in.shape[in.rank - 1];
    const int64_t ch = in.rank == 2 ? in.shape[0] : 1;
    check_finite(in.data, n * ch, "the input");
    const float* x = in.data;
    int64_t out_ch = ch;
    if (channel_ >= 0) {  // one row of [channel, time], as it is
      check(channel_ < ch, nullptr, "channel ", channel_, " asks for channel ", channel_ + 1,
            " (counted from 0) of an input of ", ch, " channel(s)");
      x = in.data + channel_ * n;
      out_ch = 1;
      if (!resampler_) {
        out = sdk::view(in.data + channel_ * n, {n});
        return;
      }
    } else if (mono_ && ch > 1) {  // mean of channels
      mix_.assign(static_cast<size_t>(n), 0.0f);
      for (int64_t c = 0; c < ch; ++c)
        for (int64_t t = 0; t < n; ++t) mix_[static_cast<size_t>(t)] += in.data[c * n + t];
      const float inv = 1.0f / static_cast<float>(ch);
      for (float& v : mix_) v *= inv;
      x = mix_.data();
      out_ch = 1;
    }
    if (!resampler_) {
      if (x != in.data) {
        out = sdk::view(mix_.data(), {n});
      } else if (mono_) {
        out = sdk::view(in.data, {n});  // [1, time] -> [time]
      } else {
        out = in;
      }
      return;
    }
    resampler_->clear();
    resampler_->process(x, n, n);
    emit_resampled(out_ch, out);
  }

  void flush(fp_tensor& out) override {
    if (reader_) {
      chunk_flush(out);
      return;
    }
    if (file_mode_) {
      if (emitted_) { out = fp_tensor{}; return; }
      emitted_ = true;
      out = fp_tensor{};
      out.data = emit_;
      if (mono_) {
        out.rank = 1;
        out.shape[0] = length_;
      } else {
        out.rank = 2;
        out.shape[0] = out_channels_;
        out.shape[1] = length_;
      }
      return;
    }
    if (!resampler_) { out = fp_tensor{}; return; }
    resampler_->clear();
    resampler_->process(nullptr, 0, 0);
    emit_resampled(mono_ ? 1 : in_channels_, out);
  }

 private:
  sdk::Spec out_spec(int64_t channels, int64_t n, double rate) const {
    sdk::Spec s;
    if (!mono_) s.append("channel", channels);
    s.append("time", n);
    s.set_stream_axis(s.rank() - 1);
    s.set_attr("sample_rate", rate);
    return s;
  }

  // A fresh resampler (filter state) per input when the rates differ.
  void setup_resampler(double in_rate, int channels) {
    if (rate_ > 0 && in_rate != rate_)
      resampler_ = std::make_unique<Resampler>(in_rate, rate_, channels, recipe_);
    else
      resampler_.reset();
  }

  void emit_resampled(int64_t channels, fp_tensor& out) {
    const int64_t n = static_cast<int64_t>(resampler_->out(0).size());
    if (channels == 1) {
      out = sdk::view(resampler_->out(0).data(), {n});
      if (!mono_) out = sdk::view(resampler_->out(0).data(), {1, n});
      return;
    }
    mix_.clear();
    for (int64_t c = 0; c < channels; ++c)
      mix_.insert(mix_.end(), resampler_->out(static_cast<int>(c)).begin(), resampler_->out(static_cast<int>(c)).end());
    out = sdk::view(mix_.data(), {channels, n});
  }

  // libsndfile reads in blocks of this many frames.
  static constexpr int64_t kBlock = 65536;
  // max_duration when not set and the file is decoded whole (a later step
  // needs the whole input): an hour is 230 MB of float samples at 16 kHz.
  static constexpr double kWholeFileDuration = 3600;

  // An open file: its header checked, frames read block by block.
  struct FileReader {
    std::unique_ptr<SNDFILE, int (*)(SNDFILE*)> f{nullptr, &sf_close};
    SF_INFO info{};
    std::string name;
    double limit = 0;  // seconds
    int64_t max_frames = 0;
    int64_t total = 0;  // frames read so far
    bool pcm16 = false, raw16 = false;
    bool exact = false;  // info.frames is the true length (not MP3's estimate)
  };

  // "max_duration (2.5 s)", or the whole-file default and how to raise it.
  std::string limit_text(double limit) const {
    if (max_duration_ > 0) return sdk::cat("max_duration (", limit, " s)");
    return sdk::cat("max_duration (", limit,
                    " s when not set and a later step needs the whole input, which holds the file in memory; "
                    "raise it with audio.decode's max_duration)");
  }

  void open_reader(const std::string& path, double limit) {
    file_mode_ = true;
    emitted_ = false;
    reader_.reset();
    auto r = std::make_unique<FileReader>();
    r->name = std::filesystem::path(path).filename().string();
    const std::string& name = r->name;
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    check(!ec, nullptr, "cannot read '", name, "': ", ec.message());
    check(size > 0, nullptr, "'", name, "' is empty (0 bytes)");

    SF_INFO& info = r->info;
    r->f.reset(sf_open(path.c_str(), SFM_READ, &info));
    check(r->f != nullptr, nullptr, "cannot decode '", name, "': ", sf_strerror(nullptr));
    check(info.channels > 0 && info.samplerate > 0, nullptr, "'", name, "' declares ", info.channels,
          " channels at ", info.samplerate, " Hz");
    check(info.samplerate >= kMinFileRate && info.samplerate <= kMaxFileRate, nullptr, "'", name,
          "' declares a sample rate of ", info.samplerate, " Hz in its header; audio.decode reads files of ",
          kMinFileRate, " to ", kMaxFileRate, " Hz");
    // frames is exact for most formats, an estimate for MP3: read_block()
    // checks again as samples arrive.
    r->limit = limit;
    r->max_frames = std::isinf(limit) ? std::numeric_limits<int64_t>::max()
                                      : static_cast<int64_t>(std::floor(limit * info.samplerate));
    check(info.frames <= r->max_frames || info.frames >= std::numeric_limits<sf_count_t>::max() / 2, nullptr, "'",
          name, "' is ", sdk::cat(static_cast<double>(info.frames) / info.samplerate), " s long (", info.frames,
          " frames at ", info.samplerate, " Hz), over ", limit_text(limit));
    check_not_truncated(r->f.get(), name);
    check(channel_ < info.channels, nullptr, "'", name, "' has ", info.channels, " channel(s); channel: ", channel_,
          " asks for channel ", channel_ + 1, " (counted from 0)");
    r->pcm16 = (info.format & SF_FORMAT_SUBMASK) == SF_FORMAT_PCM_16 &&
               ((info.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_WAV || (info.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_FLAC);
    // Plain little-endian 16-bit WAV: the raw bytes are the samples
    // (libsndfile's own short read copies them through a slower loop).
    r->raw16 = r->pcm16 && (info.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_WAV &&
               std::endian::native == std::endian::little &&
               sf_command(r->f.get(), SFC_RAW_DATA_NEEDS_ENDSWAP, nullptr, 0) == SF_FALSE;
    if (r->pcm16 && info.channels == 1) shorts_.resize(kBlock);  // kept across files
    r->exact = (info.format & SF_FORMAT_TYPEMASK) != SF_FORMAT_MPEG && info.frames > 0 &&
               info.frames < std::numeric_limits<sf_count_t>::max() / 2;
    in_rate_ = info.samplerate;
    setup_resampler(in_rate_, mono_ ? 1 : info.channels);
    reader_ = std::move(r);
  }

  // Reads up to kBlock frames: mono files into `mono_dst` (room for kBlock),
  // others appended to `planes` (the mean, the `channel`, or each channel).
  // Returns the frames read, 0 at the end.
  int64_t read_block(FileReader& r, float* mono_dst, std::vector<std::vector<float>>& planes) {
    const SF_INFO& info = r.info;
    check(r.total <= r.max_frames, nullptr, "'", r.name, "' is longer than ", limit_text(r.limit), ": over ", r.total,
          " frames at ", info.samplerate, " Hz");
    const int ch = info.channels;
    SNDFILE* f = r.f.get();
    if (ch == 1) {
      sf_count_t got;
      if (r.pcm16) {  // x / 32768 exactly as libsndfile's float read, vectorized
        got = r.raw16 ? sf_read_raw(f, shorts_.data(), kBlock * 2) / 2 : sf_readf_short(f, shorts_.data(), kBlock);
        shorts_to_float(shorts_.data(), mono_dst, got);
      } else {
        got = sf_readf_float(f, mono_dst, kBlock);
        check_block(mono_dst, got, 1, r.total, r.name);
      }
      if (got <= 0) return 0;
      r.total += got;
      return got;
    }
    block_.resize(static_cast<size_t>(kBlock) * static_cast<size_t>(ch));
    const sf_count_t got = sf_readf_float(f, block_.data(), kBlock);
    if (got <= 0) return 0;
    check_block(block_.data(), got, ch, r.total, r.name);
    for (auto& p : planes) p.reserve(p.size() + static_cast<size_t>(got));
    if (channel_ >= 0) {  // Kaldi's --channel: one channel as it is
      auto& p = planes[0];
      for (sf_count_t t = 0; t < got; ++t) p.push_back(block_[static_cast<size_t>(t * ch + channel_)]);
    } else if (mono_) {
      auto& p = planes[0];
      const float inv = 1.0f / static_cast<float>(ch);
      for (sf_count_t t = 0; t < got; ++t) {
        const float* fr = block_.data() + t * ch;
        float s = 0.0f;
        for (int c = 0; c < ch; ++c) s += fr[c];
        p.push_back(s * inv);
      }
    } else {
      for (sf_count_t t = 0; t < got; ++t)
        for (int c = 0; c < ch; ++c) planes[static_cast<size_t>(c)].push_back(block_[static_cast<size_t>(t * ch + c)]);
    }
    r.total += got;
    return got;
  }

  // After the last block: what only the end can tell.
  static void end_of_file(FileReader& r) {
    check(sf_error(r.f.get()) == SF_ERR_NO_ERROR, nullptr, "cannot decode '", r.name, "': ", sf_strerror(r.f.get()));
    check(r.total > 0, nullptr, "'", r.name, "' holds no audio samples (0 frames)");
    check(!r.exact || r.total >= r.info.frames, nullptr, "'", r.name, "' is truncated: its header declares ",
          r.info.frames, " frames, only ", r.total, " could be read");
  }

  // flush() after open_file_chunked(): the next chunk_ frames (rounded up
  // to whole blocks), resampled; nothing once the file has ended.
  void chunk_flush(fp_tensor& out) {
    FileReader& r = *reader_;
    const int ch = r.info.channels;
    const int64_t out_ch = out_channels_;
    out = fp_tensor{};
    for (;;) {  // until something comes out (a resampler holds back its first samples) or the end
      chunk_planes_.resize(static_cast<size_t>(ch == 1 ? 0 : out_ch));
      for (auto& p : chunk_planes_) p.clear();
      int64_t n = 0;
      bool ended = false;
      while (n < chunk_) {
        if (ch == 1 && mono_buf_.size() < static_cast<size_t>(n + kBlock)) mono_buf_.resize(static_cast<size_t>(n + kBlock));
        const int64_t got = read_block(r, ch == 1 ? mono_buf_.data() + n : nullptr, chunk_planes_);
        if (got <= 0) {
          ended = true;
          break;
        }
        n += got;
      }
      if (ended) end_of_file(r);
      const float* src = mono_buf_.data();
      if (ch > 1) {  // planar [out_ch, n]
        planar_.resize(static_cast<size_t>(out_ch * n));
        for (int64_t c = 0; c < out_ch; ++c)
          std::copy(chunk_planes_[static_cast<size_t>(c)].begin(), chunk_planes_[static_cast<size_t>(c)].end(),
                    planar_.begin() + c * n);
        src = planar_.data();
      }
      int64_t m = 0;  // output samples per channel
      if (!resampler_) {
        m = n;
        if (n > 0) out = mono_ ? sdk::view(const_cast<float*>(src), {n}) : sdk::view(const_cast<float*>(src), {out_ch, n});
      } else {
        resampler_->clear();
        if (n > 0) resampler_->process(src, n, n);
        if (ended) resampler_->process(nullptr, 0, 0);
        m = static_cast<int64_t>(resampler_->out(0).size());
        if (m > 0) emit_resampled(out_ch, out);
      }
      emitted_length_ += m;
      if (ended) {
        const std::string name = r.name;
        reader_.reset();
        check(emitted_length_ > 0, nullptr, "'", name, "' holds too few samples to resample");
        return;
      }
      if (m > 0) return;
    }
  }

  // Refuses NaN and infinite samples (float files), naming the first.
  static void check_block(const float* x, int64_t got, int ch, int64_t total, const std::string& name) {
    const int64_t k = sdk::first_nonfinite(x, got * ch);
    if (k < 0) return;
    throw Error(sdk::cat("'", name, "' contains ", std::isnan(x[k]) ? "NaN" : "infinite",
                         " samples (first at frame ", total + k / ch, ch > 1 ? sdk::cat(", channel ", k % ch) : "", ")"));
  }

  // libsndfile reads a WAV whose data chunk runs past the end of the file
  // without complaint (it logs "data : N (should be M)"); we refuse it.
  static void check_not_truncated(SNDFILE* f, const std::string& name) {
    char log[8192] = {0};
    sf_command(f, SFC_GET_LOG_INFO, log, sizeof log);
    const char* at = std::strstr(log, "\ndata : ");
    if (!at) return;
    unsigned long long declared = 0, actual = 0;
    if (std::sscanf(at, "\ndata : %llu (should be %llu)", &declared, &actual) == 2 && actual < declared &&
        declared != 0xFFFFFFFFull && declared != 0xFFFFFFFEull)
      throw Error(sdk::cat("'", name, "' is truncated: its header declares ", declared,
                           " bytes of audio data, the file holds ", actual));
  }

  double rate_;  // 0: keep the input's
  bool mono_;
  int64_t channel_;  // -1: the mean (mono) or every channel
  unsigned long recipe_;  // libsoxr quality recipe
  double max_duration_;   // seconds; longer files are refused; 0: not set
  bool file_mode_ = false, emitted_ = false;
  double in_rate_ = 0;
  int64_t in_channels_ = 1;
  std::unique_ptr<Resampler> resampler_;
  std::unique_ptr<FileReader> reader_;  // while a file is read (chunked, or whole in open_file)
  int64_t chunk_ = 0;                   // frames per flush() when chunked
  int64_t emitted_length_ = 0;          // samples per channel emitted so far (chunked)
  std::vector<float> block_, planar_;   // interleaved read block; a chunk made planar
  std::vector<std::vector<float>> chunk_planes_;
  std::vector<float> data_, mix_;
  std::vector<float> mono_buf_;  // mono file samples, reused from file to file
  std::vector<short> shorts_;    // 16-bit read block, likewise
  float* emit_ = nullptr;  // what flush() emits in file mode
  int64_t out_channels_ = 1;
  int64_t length_ = 0;
};

}  // namespace

fp_stage_desc decode_stage() { return sdk::stage<Decode>(); }

}  // namespace featpipe::audio
