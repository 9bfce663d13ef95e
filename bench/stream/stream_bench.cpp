// stream_bench — a featpipe::Stream fed 10 ms pushes of 16-bit audio, as a
// capture loop does (push_s16, then pull), for a simulated hour or more:
//  - compute time per push (push + pull): p50, p99, p99.9, max;
//  - heap allocations per steady-state push: operator new (C++) and
//    malloc/calloc/realloc (C libraries) are counted while armed, and each
//    distinct allocating call stack is printed with its count and the
//    library each frame is in (the plugin that allocates);
//  - resident memory (RSS) every simulated minute: first vs last.
//
//   stream_bench PIPELINE.yaml AUDIO_FILE [SECONDS=3600] [CHUNK=160] [RATE=16000]
//
// The audio file is decoded at RATE mono (the stream's capture rate; the
// pipeline resamples if its audio.decode asks for another) and looped to
// fill SECONDS.
#include <featpipe/featpipe.hpp>

#include <cxxabi.h>
#include <dlfcn.h>
#include <execinfo.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <new>
#include <string>
#include <vector>

// ------------------------------------------------------ allocation counting
// All counting state is plain globals: no allocation inside the hooks.
namespace alloc {
bool armed = false;       // count only between arm() and disarm()
bool in_hook = false;     // backtrace() may allocate: do not recurse
bool sites = false;       // also record call stacks (slow: not while timing)
long cxx_news = 0, c_mallocs = 0;
// Distinct allocating call stacks (sites) and how often each allocated.
constexpr int kSites = 8, kDepth = 24;
void* stacks[kSites][kDepth];
int depths[kSites];
long hits[kSites];
int site_count = 0;
long other_sites = 0;  // allocations from sites beyond the first kSites

void note(long& counter) {
  if (!armed || in_hook) return;
  ++counter;
  if (!sites) return;
  in_hook = true;
  void* frames[kDepth];
  const int depth = backtrace(frames, kDepth);
  in_hook = false;
  for (int k = 0; k < site_count; ++k)
    if (depths[k] == depth && std::memcmp(stacks[k], frames, sizeof(void*) * static_cast<size_t>(depth)) == 0) {
      ++hits[k];
      return;
    }
  if (site_count == kSites) {
    ++other_sites;
    return;
  }
  std::memcpy(stacks[site_count], frames, sizeof(void*) * static_cast<size_t>(depth));
  depths[site_count] = depth;
  hits[site_count++] = 1;
}
}  // namespace alloc

extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void __libc_free(void*);

// Interposed for the whole process (the plugins and their C libraries too).
void* malloc(size_t n) {
  alloc::note(alloc::c_mallocs);
  return __libc_malloc(n);
}
void* calloc(size_t n, size_t m) {
  alloc::note(alloc::c_mallocs);
  return __libc_calloc(n, m);
}
void* realloc(void* p, size_t n) {
  alloc::note(alloc::c_mallocs);
  return __libc_realloc(p, n);
}
void free(void* p) { __libc_free(p); }
}

// operator new goes straight to __libc_malloc so it is counted once, as new.
static void* counted_new(size_t n) {
  alloc::note(alloc::cxx_news);
  if (void* p = __libc_malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
static void* counted_new_aligned(size_t n, std::align_val_t a) {
  alloc::note(alloc::cxx_news);
  void* p = nullptr;
  if (posix_memalign(&p, std::max(sizeof(void*), static_cast<size_t>(a)), n ? n : 1) != 0) throw std::bad_alloc();
  return p;
}
void* operator new(size_t n) { return counted_new(n); }
void* operator new[](size_t n) { return counted_new(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept { return __libc_malloc(n ? n : 1); }
void* operator new[](size_t n, const std::nothrow_t&) noexcept { return __libc_malloc(n ? n : 1); }
void* operator new(size_t n, std::align_val_t a) { return counted_new_aligned(n, a); }
void* operator new[](size_t n, std::align_val_t a) { return counted_new_aligned(n, a); }
void operator delete(void* p) noexcept { __libc_free(p); }
void operator delete[](void* p) noexcept { __libc_free(p); }
void operator delete(void* p, size_t) noexcept { __libc_free(p); }
void operator delete[](void* p, size_t) noexcept { __libc_free(p); }
void operator delete(void* p, std::align_val_t) noexcept { __libc_free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { __libc_free(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { __libc_free(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { __libc_free(p); }

namespace {

long rss_kib() {
  std::ifstream f("/proc/self/statm");
  long size = 0, resident = 0;
  f >> size >> resident;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

// One allocation site: each frame's library and (exported) symbol.
void print_stack(int k) {
  std::printf("  site %d: %ld allocations\n", k + 1, alloc::hits[k]);
  bool hooks = true;  // the leading frames are this file's hooks: skip them
  for (int d = 0; d < alloc::depths[k]; ++d) {
    Dl_info info{};
    if (!dladdr(alloc::stacks[k][d], &info) || !info.dli_fname) continue;
    std::string lib = info.dli_fname;
    lib = lib.substr(lib.find_last_of('/') + 1);
    if (hooks && lib == "stream_bench") continue;
    hooks = false;
    std::string sym = info.dli_sname ? info.dli_sname : "";
    if (sym.empty()) {  // a hidden symbol: ask addr2line (the .so keeps its symbol table)
      char cmd[1024];
      std::snprintf(cmd, sizeof cmd, "addr2line -f -C -e '%s' 0x%lx 2>/dev/null", info.dli_fname,
                    static_cast<unsigned long>(static_cast<char*>(alloc::stacks[k][d]) - static_cast<char*>(info.dli_fbase) - 1));
      if (FILE* p = popen(cmd, "r")) {
        char line[512] = "";
        if (std::fgets(line, sizeof line, p)) sym = line;
        pclose(p);
        if (!sym.empty() && sym.back() == '\n') sym.pop_back();
      }
      if (sym.empty() || sym == "??") sym = "?";
      std::printf("    %-28s %s\n", lib.c_str(), sym.size() > 110 ? (sym.substr(0, 107) + "...").c_str() : sym.c_str());
      continue;
    }
    int status = 0;
    if (char* dm = abi::__cxa_demangle(sym.c_str(), nullptr, nullptr, &status); status == 0 && dm) {
      sym = dm;
      free(dm);
    }
    if (sym.size() > 110) sym = sym.substr(0, 107) + "...";
    std::printf("    %-28s %s\n", lib.c_str(), sym.c_str());
  }
}

double percentile(std::vector<double>& v, double q) {
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: stream_bench PIPELINE.yaml AUDIO_FILE [SECONDS=3600] [CHUNK=160] [RATE=16000]\n");
    return 2;
  }
  const std::string pipeline_path = argv[1], audio_path = argv[2];
  const double seconds = argc > 3 ? std::atof(argv[3]) : 3600;
  const size_t chunk = argc > 4 ? static_cast<size_t>(std::atol(argv[4])) : 160;
  const double rate = argc > 5 ? std::atof(argv[5]) : 16000;
  try {
    // The speech: decoded by featpipe itself at the capture rate, as 16-bit samples.
    auto loader = featpipe::Pipeline::parse("featpipe: 1\nname: load\nstages:\n  - use: audio.decode\n    with: {sample_rate: " +
                                                std::to_string(std::lround(rate)) + "}\n",
                                            "<bench>", ".");
    featpipe::Tensor audio = loader->session()->run_file(audio_path);
    std::vector<int16_t> speech(audio.data.size());
    for (size_t k = 0; k < speech.size(); ++k)
      speech[k] = static_cast<int16_t>(std::lrint(std::clamp(audio.data[k] * 32768.0f, -32768.0f, 32767.0f)));

    auto pipe = featpipe::Pipeline::load(pipeline_path);
    featpipe::Stream stream(pipe, featpipe::StreamFormat{rate, 1});

    // The looped input, one chunk at a time (wrapping copies into `buf`).
    std::vector<int16_t> buf(chunk);
    size_t pos = 0;
    auto next_chunk = [&] {
      for (size_t k = 0; k < chunk; ++k) {
        buf[k] = speech[pos];
        pos = pos + 1 == speech.size() ? 0 : pos + 1;
      }
    };
    const long pushes = std::lround(seconds * rate / static_cast<double>(chunk));
    const long per_minute = std::lround(60 * rate / static_cast<double>(chunk));
    std::vector<double> us(static_cast<size_t>(pushes));
    std::vector<long> rss;
    rss.reserve(static_cast<size_t>(pushes / per_minute + 2));
    int64_t frames = 0;

    void* probe[2];
    backtrace(probe, 2);  // loads libgcc's unwinder now, not while counting

    // Warm-up: 10 s, so every buffer reaches its steady size. Its
    // allocations are counted too (buffers growing): a check that the
    // counting hooks are live.
    alloc::armed = true;
    for (long k = 0; k < std::lround(10 * rate / static_cast<double>(chunk)); ++k) {
      next_chunk();
      stream.push_s16(buf.data(), chunk);
      frames += stream.pull().frames();
    }
    alloc::armed = false;
    const long warmup_allocs = alloc::cxx_news + alloc::c_mallocs;
    alloc::cxx_news = alloc::c_mallocs = 0;

    rss.push_back(rss_kib());
    long pushes_allocating = 0;
    using clock = std::chrono::steady_clock;
    for (long k = 0; k < pushes; ++k) {
      next_chunk();
      const long before = alloc::cxx_news + alloc::c_mallocs;
      alloc::armed = true;
      const auto t0 = clock::now();
      stream.push_s16(buf.data(), chunk);
      const featpipe::FramesView v = stream.pull();
      const auto t1 = clock::now();
      alloc::armed = false;
      frames += v.frames();
      us[static_cast<size_t>(k)] = std::chrono::duration<double, std::micro>(t1 - t0).count();
      if (alloc::cxx_news + alloc::c_mallocs != before) ++pushes_allocating;
      if ((k + 1) % per_minute == 0) rss.push_back(rss_kib());
    }
    const long cxx_news = alloc::cxx_news, c_mallocs = alloc::c_mallocs;

    // Attribution, untimed: which call stacks allocate, over 1000 more pushes.
    const long site_pushes = 1000;
    alloc::sites = alloc::armed = true;
    for (long k = 0; k < site_pushes; ++k) {
      next_chunk();
      stream.push_s16(buf.data(), chunk);
      frames += stream.pull().frames();
    }
    alloc::sites = alloc::armed = false;
    stream.flush();
    frames += stream.pull().frames();

    double mean = 0;
    for (double x : us) mean += x;
    mean /= static_cast<double>(us.size());
    const double mx = *std::max_element(us.begin(), us.end());
    std::printf("pipeline: %s (%s)\n", pipe->name().c_str(), pipeline_path.c_str());
    std::printf("input: %s looped, %.0f s simulated at %.0f Hz, %zu-sample pushes (%.1f ms), %ld timed pushes\n",
                audio_path.c_str(), seconds, rate, chunk, 1e3 * static_cast<double>(chunk) / rate, pushes);
    std::printf("output frames: %lld\n", static_cast<long long>(frames));
    // The stream's own latency, in capture samples (a resampler's delay
    // included); validate's figure is at the pipeline's rate.
    std::printf("latency: %.0f capture samples at %.0f Hz (%.2f ms); validate: %.0f samples at the pipeline's rate\n",
                stream.latency_samples(), rate, 1e3 * stream.latency_samples() / rate, pipe->latency_samples());
    std::printf("push+pull us: mean %.2f  p50 %.2f  p99 %.2f  p99.9 %.2f  max %.1f\n", mean, percentile(us, 0.5),
                percentile(us, 0.99), percentile(us, 0.999), mx);
    std::printf("allocations in %ld steady-state pushes: %ld operator new, %ld malloc/calloc/realloc; "
                "%ld pushes allocated (%.4f per push)\n",
                pushes, cxx_news, c_mallocs, pushes_allocating,
                static_cast<double>(cxx_news + c_mallocs) / static_cast<double>(pushes));
    std::printf("(warm-up, first 10 s: %ld allocations while buffers grow)\n", warmup_allocs);
    if (alloc::site_count) std::printf("allocation sites in %ld further (untimed) pushes:\n", site_pushes);
    for (int k = 0; k < alloc::site_count; ++k) print_stack(k);
    if (alloc::other_sites) std::printf("  other sites: %ld allocations\n", alloc::other_sites);
    const long rmax = *std::max_element(rss.begin(), rss.end());
    std::printf("RSS KiB: start %ld  after 1 min %ld  last (%zu min) %ld  max %ld  (%zu samples, one per simulated minute)\n",
                rss.front(), rss.size() > 1 ? rss[1] : rss.front(), rss.size() - 1, rss.back(), rmax, rss.size());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "stream_bench: %s\n", e.what());
    return 1;
  }
}
