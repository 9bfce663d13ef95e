// One loaded Pipeline, many threads: 16 threads open Streams (real audio
// pushed in varied chunk sizes) and Sessions (run_file) on the same two
// loaded pipelines at once, and every result equals, bit for bit, the one
// computed on a single thread beforehand. Sessions and streams share the
// pipeline's parameters and stage table, so any write to them would show
// up here (and under ThreadSanitizer, scripts/ci-tsan.sh) as a crash, an
// error or other bits.
#include "stream_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <mutex>
#include <random>
#include <thread>

using namespace featpipe;

namespace {

using test::decode;
using test::Samples;

// Pushes `s` into `st` in chunks cycling through `sizes`, pulling after
// each push, then flushes; returns every frame.
std::vector<float> stream(Stream& st, const Samples& s, const std::vector<size_t>& sizes) {
  std::vector<float> out;
  auto take = [&](const FramesView& v) {
    if (!v.empty()) out.insert(out.end(), v.data, v.data + v.numel());
  };
  for (size_t at = 0, k = 0; at < s.frames(); ++k) {
    const size_t n = std::min(sizes[k % sizes.size()], s.frames() - at);
    st.push(s.interleaved.data() + at * s.channels, n);
    at += n;
    take(st.pull());
  }
  st.flush();
  take(st.pull());
  return out;
}

std::unique_ptr<Stream> open(const std::shared_ptr<const Pipeline>& p, const Samples& s) {
  return std::make_unique<Stream>(p, StreamFormat{s.rate, s.channels});
}

struct Job {
  size_t pipeline, file, chunking;
};

}  // namespace

TEST(Concurrency, SixteenThreadsShareOneLoadedPipeline) {
  const fs::path dir = test::source_dir();
  const std::vector<std::shared_ptr<const Pipeline>> pipes = {
      Pipeline::load((dir / "pipelines" / "speech-logmel.yaml").string()),
      Pipeline::load((dir / "pipelines" / "kaldi-fbank.yaml").string())};
  std::vector<fs::path> files;
  for (const char* f : {"speech_espeak_16k.wav", "speech_8k.wav", "stereo_48k.flac", "front_center_16k.wav"})
    files.push_back(dir / "samples" / "audio" / f);
  std::vector<Samples> samples;
  for (const auto& f : files) samples.push_back(decode(f));

  std::mt19937 rng(7);
  std::vector<size_t> random_sizes(32);
  for (auto& n : random_sizes) n = std::uniform_int_distribution<size_t>(1, 3000)(rng);
  const std::vector<std::vector<size_t>> chunkings = {{160}, {1000}, {4096}, {37, 511, 2}, random_sizes};

  // References, one thread.
  std::vector<std::vector<std::vector<float>>> batch(pipes.size());
  std::vector<std::vector<std::vector<std::vector<float>>>> streamed(pipes.size());
  for (size_t p = 0; p < pipes.size(); ++p) {
    auto session = pipes[p]->session();
    for (size_t f = 0; f < files.size(); ++f) {
      batch[p].push_back(session->run_file(files[f].string()).data);
      ASSERT_FALSE(batch[p].back().empty());
      streamed[p].emplace_back();
      for (const auto& sizes : chunkings) streamed[p][f].push_back(stream(*open(pipes[p], samples[f]), samples[f], sizes));
    }
  }

  constexpr int kThreads = 16, kRounds = 4, kOpens = 50;
  auto job = [&](int t, int r) {
    return Job{static_cast<size_t>(t + r) % pipes.size(), static_cast<size_t>(t / 2 + r) % files.size(),
               static_cast<size_t>(t + 2 * r) % chunkings.size()};
  };
  std::latch start(kThreads);  // all threads open their streams and sessions at once
  std::atomic<int> checked{0};
  std::mutex mu;
  std::vector<std::string> failures;
  auto fail = [&](const std::string& what) {
    std::lock_guard<std::mutex> lock(mu);
    failures.push_back(what);
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      try {
        // Stage instances are made from the pipeline's shared parameters:
        // make many at once (the rounds use the last of each kind).
        std::vector<std::unique_ptr<Stream>> streams(kRounds);
        std::vector<std::unique_ptr<Session>> sessions(kRounds);
        for (int k = 0; k < kOpens; ++k)
          for (int r = 0; r < kRounds; ++r) {
            const Job j = job(t, r);
            streams[r] = open(pipes[j.pipeline], samples[j.file]);
            sessions[r] = pipes[j.pipeline]->session();
          }
        for (int r = 0; r < kRounds; ++r) {
          const Job j = job(t, r);
          const std::string name = "thread " + std::to_string(t) + " round " + std::to_string(r) + ": " +
                                   pipes[j.pipeline]->name() + " on " + files[j.file].filename().string();
          const Samples& in = samples[j.file];
          const auto& want = streamed[j.pipeline][j.file][j.chunking];
          if (stream(*streams[r], in, chunkings[j.chunking]) != want) fail(name + ": stream differs");
          // The same stream again after a reset, as for a new input.
          streams[r]->reset();
          if (stream(*streams[r], in, chunkings[j.chunking]) != want) fail(name + ": stream after reset differs");
          if (sessions[r]->run_file(files[j.file].string()).data != batch[j.pipeline][j.file])
            fail(name + ": run_file differs");
          checked += 1;
        }
      } catch (const std::exception& e) {
        fail("thread " + std::to_string(t) + ": " + e.what());
      }
    });
  for (auto& th : threads) th.join();
  for (const auto& f : failures) ADD_FAILURE() << f;
  EXPECT_EQ(checked.load(), kThreads * kRounds);
}
