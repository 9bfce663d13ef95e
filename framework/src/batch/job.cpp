#include "job.hpp"

#include <featpipe/runner.hpp>

#include <chrono>
#include <cmath>
#include <new>

namespace featpipe {

std::string why_files_not_streamed(const Pipeline& pipe) {
  if (!pipe.has_source()) return "the first step takes a tensor";
  if (auto k = pipe.batch_only_step())
    return "step " + std::to_string(*k + 1) + " '" + pipe.steps()[*k].use + "' needs the whole input";
  if (!pipe.streams_files()) return "step 1 '" + pipe.steps().front().use + "' decodes files whole";
  const TensorSpec& out = pipe.steps().back().output;
  if (out.stream_axis < 0) return "the output has no stream axis";
  for (int k = 0; k < out.stream_axis; ++k)
    if (out.shape[static_cast<size_t>(k)] != 1)
      return "the output's stream axis '" + out.axes[static_cast<size_t>(out.stream_axis)] + "' is not its first";
  return "";
}

ManifestEntry run_job(const Job& job, Session& session, Sink& sink, int worker, const CommandOptions& commands,
                      bool chunked) {
  const auto t0 = std::chrono::steady_clock::now();
  ManifestEntry e;
  e.input = job.input;
  e.output = job.output;
  e.utt_id = job.key;
  try {
    switch (job.action) {
      case Job::Action::skip:
        e.status = ManifestEntry::Status::skipped;
        break;
      case Job::Action::fail:
        throw Error(job.error);
      case Job::Action::run: {
        // Stat before reading: an input replaced while it is read looks
        // changed to the next --resume.
        // A command has no file to stat: no identity, so --resume redoes it.
        const InputIdentity id = job.command ? InputIdentity{} : input_identity(job.input);
        std::unique_ptr<ChunkWriter> writer = chunked && !job.command ? sink.open_chunked(job.output, worker) : nullptr;
        Tensor t;
        if (writer) t = session.run_file(job.input, [&](const FramesView& v) { writer->append(v); });
        else if (job.command) t = run_command_input(command_of(job.input), session, commands, worker);
        else t = session.run_file(job.input);
        e.media_seconds = session.last_media_seconds();  // counted even if the write fails
        const Stored stored = writer ? writer->commit(t.shape) : sink.write(job.output, t, worker);
        e.input_bytes = id.bytes;
        e.input_mtime_ns = id.mtime_ns;
        e.output_bytes = stored.bytes >= 0 ? stored.bytes : sink.bytes_of(job.output);
        e.output_xxh3 = stored.xxh3;
        if (auto rate = t.attrs.find("sample_rate"); rate != t.attrs.end() && std::isfinite(rate->second))
          e.sample_rate = rate->second;
        e.shape = std::move(t.shape);
        e.axes = std::move(t.axes);
        break;
      }
    }
  } catch (const std::bad_alloc&) {
    e.status = ManifestEntry::Status::error;
    e.error = "out of memory";
  } catch (const std::exception& ex) {
    e.status = ManifestEntry::Status::error;
    e.error = ex.what();
  }
  e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return e;
}

}  // namespace featpipe
