#include "session.hpp"
#include "step_trace.hpp"

#include <cmath>
#include <cstring>

namespace featpipe {

namespace {

bool empty(const fp_tensor& t) { return t.data == nullptr || sdk::numel(t) == 0; }

// Frames of a file decoded per read when files are streamed: 8 s at 16 kHz
// (0.5 MB a channel), long enough that per-chunk costs vanish.
constexpr int64_t kFileChunk = 1 << 17;

int64_t first_nonfinite(const fp_tensor& t) { return sdk::first_nonfinite(t.data, sdk::numel(t)); }

}  // namespace

Session::Impl::Impl(std::shared_ptr<const Pipeline> pipe) : keep(std::move(pipe)), p(Internal::of(*keep)) {
  stages.reserve(p.steps.size());
  for (const auto& def : p.steps) {
    stages.emplace_back(def, p.file);
    fp_spec out{};
    fp_stream_info info{};
    info.struct_size = sizeof info;
    StageHandle& h = stages.back();
    h.check(h.get()->configure(h.get(), &def.in.raw(), &out, &info));
  }
  specs.resize(p.steps.size());
  if (p.chunked_files) {
    StageHandle& s0 = stages.front();
    chunks_ = static_cast<const fp_source_chunks*>(s0.get()->get_extension(s0.get(), FP_EXT_SOURCE_CHUNKS));
    if (!chunks_) throw Error(s0.def().context + ": no longer offers " FP_EXT_SOURCE_CHUNKS);
  }
}

void Session::Impl::start_from(size_t k) {
  for (; k < stages.size(); ++k) {
    fp_spec out{};
    step_trace::enter(stages[k].def().context);
    stages[k].check(stages[k].get()->start(stages[k].get(), &specs[k - 1].raw(), &out));
    specs[k] = out;
  }
  source_samples = 0;
  media_seconds = 0;
  saw_nonfinite = false;
  for (FrameBuffer& b : whole_) b.clear();  // left over when an input failed
}

void Session::Impl::begin_file(const std::string& path) {
  StageHandle& s0 = stages.front();
  if (!s0.get()->open_file) throw Error(s0.def().context + ": does not read files");
  fp_spec out{};
  step_trace::enter(s0.def().context);
  s0.check(s0.get()->open_file(s0.get(), path.c_str(), &out));
  specs[0] = out;
  start_from(1);
}

void Session::Impl::begin(const sdk::Spec& in) {
  in_ = in;
  fp_spec out{};
  step_trace::enter(stages[0].def().context);
  stages[0].check(stages[0].get()->start(stages[0].get(), &in.raw(), &out));
  specs[0] = out;
  start_from(1);
}

void Session::Impl::check_finite(const fp_tensor& t, size_t k) const {
  int64_t at = first_nonfinite(t);
  if (at >= 0)
    throw Error(stages[k].def().context + ": produced a non-finite value (" + (std::isnan(t.data[at]) ? "NaN" : "Inf") +
                ") at element " + std::to_string(at) + " of its output");
}

void Session::Impl::push(size_t k, fp_tensor& t) {
  if (empty(t)) return;
  if (k == 1) {  // what the first step emits: the input's length
    const int sa = specs[0].stream_axis();
    if (sa >= 0 && sa < t.rank) source_samples += static_cast<double>(t.shape[sa]);
  }
  if (k == stages.size()) {
    sink(t);
    return;
  }
  if (stages[k].def().stream.whole_input) {  // handed over in one push by finish()
    if (whole_.size() < stages.size()) whole_.resize(stages.size());
    whole_[k].append(t, (k ? specs[k - 1] : in_).stream_axis());
    return;
  }
  fp_tensor out{};
  step_trace::enter(stages[k].def().context);
  stages[k].check(stages[k].get()->push(stages[k].get(), &t, &out));
  if (check_each && !empty(out)) check_finite(out, k);
  push(k + 1, out);
}

void Session::Impl::finish(size_t k) {
  for (; k < stages.size(); ++k) {
    if (k < whole_.size() && whole_[k].frames() > 0) {
      fp_tensor all{};
      whole_[k].take(joined_, all.shape, all.rank);
      all.data = joined_.data();
      fp_tensor out{};
      step_trace::enter(stages[k].def().context);
      stages[k].check(stages[k].get()->push(stages[k].get(), &all, &out));
      if (check_each && !empty(out)) check_finite(out, k);
      push(k + 1, out);
    }
    fp_tensor out{};
    step_trace::enter(stages[k].def().context);
    stages[k].check(stages[k].get()->flush(stages[k].get(), &out));
    if (check_each && !empty(out)) check_finite(out, k);
    push(k + 1, out);
  }
  const double rate = specs[0].attr("sample_rate");
  media_seconds = std::isfinite(rate) && rate > 0 ? source_samples / rate : 0;
}

void Session::Impl::reset_result() {
  result_.clear();
  saw_nonfinite = false;
}

void Session::Impl::sink(const fp_tensor& t) {
  if (first_nonfinite(t) >= 0) saw_nonfinite = true;
  if (on_output) on_output(t, specs.back());
  else result_.append(t, specs.back().stream_axis());
}

Tensor Session::Impl::result_header() const {
  const sdk::Spec& spec = specs.back();
  Tensor r;
  for (int k = 0; k < spec.rank(); ++k) r.axes.emplace_back(spec.axis(k));
  for (uint32_t k = 0; k < spec.raw().attr_count; ++k)
    if (std::isfinite(spec.raw().attrs[k].value)) r.attrs[spec.raw().attrs[k].key] = spec.raw().attrs[k].value;
  return r;
}

Tensor Session::Impl::take_result() {
  const sdk::Spec& spec = specs.back();
  Tensor r = result_header();
  if (result_.frames() == 0) {  // nothing emitted: zero length on the stream axis
    for (int k = 0; k < spec.rank(); ++k) r.shape.push_back(k == spec.stream_axis() ? 0 : std::max<int64_t>(spec.dim(k), 0));
    return r;
  }
  int64_t shape[FP_MAX_RANK];
  int rank = 0;
  result_.take(r.data, shape, rank);
  r.shape.assign(shape, shape + rank);
  return r;
}

// ------------------------------------------------------------ Session

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Session::~Session() = default;

std::unique_ptr<Session> Internal::make(std::unique_ptr<SessionImpl> impl) {
  return std::unique_ptr<Session>(new Session(std::move(impl)));
}

std::unique_ptr<Session> Pipeline::session() const {
  return Internal::make(std::make_unique<SessionImpl>(shared_from_this()));
}

void Session::Impl::run_file_once(const std::string& path) {
  reset_result();
  StageHandle& s0 = stages.front();
  if (chunks_) {
    fp_spec out{};
    step_trace::enter(s0.def().context);
    s0.check(chunks_->open_file_chunked(s0.get(), path.c_str(), kFileChunk, &out));
    specs[0] = out;
    start_from(1);
    for (;;) {
      fp_tensor t{};
      step_trace::enter(s0.def().context);
      s0.check(s0.get()->flush(s0.get(), &t));
      if (empty(t)) break;
      if (check_each) check_finite(t, 0);
      push(1, t);
    }
  } else {
    begin_file(path);
    fp_tensor t{};
    step_trace::enter(s0.def().context);
    s0.check(s0.get()->flush(s0.get(), &t));
    if (check_each && !empty(t)) check_finite(t, 0);
    push(1, t);
  }
  finish(1);
}

void Session::Impl::run_file_checked(const std::string& path, const std::function<void()>& before_rerun) {
  if (!p.source) throw Error("pipeline " + p.file + ": its first step takes a tensor, not a file");
  run_file_once(path);
  if (!saw_nonfinite) return;
  // Rare: run again checking every step, to name the one at fault.
  if (before_rerun) before_rerun();
  check_each = true;
  try {
    run_file_once(path);
  } catch (...) {
    check_each = false;
    throw;
  }
  check_each = false;
  throw Error("the output holds non-finite values (NaN or Inf)");
}

Tensor Session::run_file(const std::string& path) {
  impl_->run_file_checked(path, nullptr);
  return impl_->take_result();
}

Tensor Session::run_file(const std::string& path, const std::function<void(const FramesView&)>& out) {
  Impl& s = *impl_;
  int64_t frames = 0;
  FramesView last{};
  bool quiet = false;  // during the re-run that names a NaN's step
  auto keep = std::move(s.on_output);
  s.on_output = [&](const fp_tensor& t, const sdk::Spec& spec) {
    if (quiet) return;
    FramesView v;
    v.data = t.data;
    v.rank = t.rank;
    std::memcpy(v.shape, t.shape, sizeof(int64_t) * static_cast<size_t>(t.rank));
    v.stream_axis = std::max(spec.stream_axis(), 0);
    frames += v.frames();
    last = v;
    out(v);
  };
  struct Restore {
    Impl& s;
    std::function<void(const fp_tensor&, const sdk::Spec&)> keep;
    ~Restore() { s.on_output = std::move(keep); }
  } restore{s, std::move(keep)};
  s.run_file_checked(path, [&] { quiet = true; });
  Tensor r = s.result_header();
  const sdk::Spec& spec = s.specs.back();
  if (last.rank == 0) {  // nothing emitted: zero length on the stream axis
    for (int k = 0; k < spec.rank(); ++k) r.shape.push_back(k == spec.stream_axis() ? 0 : std::max<int64_t>(spec.dim(k), 0));
  } else {
    r.shape.assign(last.shape, last.shape + last.rank);
    r.shape[static_cast<size_t>(last.stream_axis)] = frames;
  }
  return r;
}

namespace {

// Runs `in` whose values the stages may overwrite at `data` (in.data's
// values, or a copy of them).
Tensor run_in_place(SessionImpl& s, const TensorView& in, float* data) {
  sdk::Spec spec;
  for (size_t k = 0; k < in.shape.size(); ++k) spec.append(in.axes[k], in.shape[k]);
  // The first step's agreed input names the stream axis; keep it.
  const sdk::Spec& agreed = s.p.steps.front().in;
  if (agreed.stream_axis() >= 0) spec.set_stream_axis(spec.find(agreed.axis(agreed.stream_axis())));
  else if (int t = spec.find("time"); t >= 0) spec.set_stream_axis(t);
  if (in.attrs)
    for (const auto& [k, v] : *in.attrs) spec.set_attr(k, v);

  s.check_each = true;  // the input is consumed in place: no second run
  s.reset_result();
  s.begin(spec);
  fp_tensor t{};
  t.data = data;
  t.rank = static_cast<int32_t>(in.shape.size());
  for (int k = 0; k < t.rank; ++k) t.shape[k] = in.shape[k];
  if (const int64_t at = sdk::first_nonfinite(data, in.numel()); at >= 0)
    throw Error("input tensor holds a non-finite value (" + std::string(std::isnan(data[at]) ? "NaN" : "Inf") +
                ") at element " + std::to_string(at));
  if (!empty(t)) s.push(0, t);
  s.finish(0);
  s.check_each = false;
  if (s.saw_nonfinite) throw Error("the output holds non-finite values (NaN or Inf)");
  return s.take_result();
}

void check_axes(const TensorView& in) {
  if (in.axes.size() != in.shape.size())
    throw Error("input tensor: " + std::to_string(in.axes.size()) + " axis names for " +
                std::to_string(in.shape.size()) + " dimensions");
}

}  // namespace

Tensor Session::run(Tensor input) {
  const TensorView v = input.view();
  check_axes(v);
  if (input.data.size() != static_cast<size_t>(input.numel()))
    throw Error("input tensor: " + std::to_string(input.data.size()) + " values for shape of " + std::to_string(input.numel()));
  return run_in_place(*impl_, v, input.data.data());
}

Tensor Session::run(const TensorView& input) {
  check_axes(input);
  const int64_t n = input.numel();
  if (n < 0) throw Error("input tensor: negative dimension");
  if (n > 0 && !input.data) throw Error("input tensor: no data for shape of " + std::to_string(n));
  std::vector<float>& buf = impl_->input_copy;  // stages work in place; the caller's buffer stays as it was
  buf.assign(input.data, input.data + n);
  return run_in_place(*impl_, input, buf.data());
}

double Session::last_media_seconds() const { return impl_->media_seconds; }

}  // namespace featpipe
