// One loaded Pipeline, many threads: 16 threads open Streams (real audio
// pushed in varied chunk sizes) and Sessions (run_file) on the same two
// loaded pipelines at once, and every result equals, bit for bit, the one
// computed on a single thread beforehand. Sessions and streams share the
// pipeline's parameters and stage table, so any write to them would show
// up here (and under ThreadSanitizer, scripts/ci-tsan.sh) as a crash, an
// error or other bits.
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <mutex>
#include <random>
#include <thread>

using namespace featpipe;

namespace {

struct Samples {
  std::vector<float> interleaved;
  int channels = 1;
  double rate = 0;
  size_t frames() const { return interleaved.size() / static_cast<size_t>(channels); }
};

// The file's own samples and rate, channels kept, interleaved.
Samples decode(const fs::path& file) {
  auto raw = Pipeline::parse("featpipe: 1\nname: raw\nstages:\n  - use: audio.decode\n    with: {mono: false}\n",
                             "raw.yaml", "/tmp");
  Tensor t = raw->session()->run_file(file.string());
  Samples s;
  s.channels = static_cast<int>(t.shape[0]);
  s.rate = t.attrs.at("sample_rate");
  const size_t n = static_cast<size_t>(t.shape[1]);
  s.interleaved.resize(n * s.channels);
  for (int c = 0; c < s.channels; ++c)
    for (size_t k = 0; k < n; ++k) s.interleaved[k * s.channels + c] = t.data[c * n + k];
  return s;
}

// Pushes `s` in chunks cycling through `sizes`, pulling after each push;
// `reuse` (when given) is reset and used instead of a new stream.
std::vector<float> stream(const std::shared_ptr<const Pipeline>& p, const Samples& s, const std::vector<size_t>& sizes,
                          Stream* reuse = nullptr) {
  std::unique_ptr<Stream> own;
  Stream* st = reuse;
  if (st) st->reset();
  else st = (own = std::make_unique<Stream>(p, StreamFormat{s.rate, s.channels})).get();
  std::vector<float> out;
  auto take = [&](const FramesView& v) {
    if (!v.empty()) out.insert(out.end(), v.data, v.data + v.numel());
  };
  for (size_t at = 0, k = 0; at < s.frames(); ++k) {
    const size_t n = std::min(sizes[k % sizes.size()], s.frames() - at);
    st->push(s.interleaved.data() + at * s.channels, n);
    at += n;
    take(st->pull());
  }
  st->flush();
  take(st->pull());
  return out;
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
      for (const auto& sizes : chunkings) streamed[p][f].push_back(stream(pipes[p], samples[f], sizes));
    }
  }

  constexpr int kThreads = 16, kRounds = 4;
  std::latch start(kThreads);  // all threads create their streams and sessions at once
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
        std::unique_ptr<Stream> reused;  // of speech-logmel, for inputs of one format
        double reused_rate = 0;
        int reused_channels = 0;
        for (int r = 0; r < kRounds; ++r) {
          const Job j{static_cast<size_t>(t + r) % pipes.size(), static_cast<size_t>(t / 2 + r) % files.size(),
                      static_cast<size_t>(t + 2 * r) % chunkings.size()};
          const std::string name = "thread " + std::to_string(t) + " round " + std::to_string(r) + ": " +
                                   pipes[j.pipeline]->name() + " on " + files[j.file].filename().string();
          // A new stream every round, and one stream reset between inputs.
          if (stream(pipes[j.pipeline], samples[j.file], chunkings[j.chunking]) != streamed[j.pipeline][j.file][j.chunking])
            fail(name + ": new stream differs");
          const Samples& in = samples[j.file];
          if (j.pipeline == 0) {
            if (!reused || in.rate != reused_rate || in.channels != reused_channels) {
              reused = std::make_unique<Stream>(pipes[0], StreamFormat{in.rate, in.channels});
              reused_rate = in.rate;
              reused_channels = in.channels;
            }
            if (stream(pipes[0], in, chunkings[j.chunking], reused.get()) != streamed[0][j.file][j.chunking])
              fail(name + ": reset stream differs");
          }
          // A new session every round.
          if (pipes[j.pipeline]->session()->run_file(files[j.file].string()).data != batch[j.pipeline][j.file])
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
