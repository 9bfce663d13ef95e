#include "job.hpp"

#include <chrono>
#include <cmath>
#include <new>

namespace featpipe {

ManifestEntry run_job(const Job& job, Session& session, Sink& sink, int worker, const CommandOptions& commands) {
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
        Tensor t = job.command ? run_command_input(command_of(job.input), session, commands, worker)
                               : session.run_file(job.input);
        e.media_seconds = session.last_media_seconds();  // counted even if the write fails
        const Stored stored = sink.write(job.output, t, worker);
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
