// norm.l2 throughput against memcpy of the same bytes, single thread.
//
//   bench_l2 [PLUGIN.so] [ROWS] [COLS] [REPEATS]
//
// Loads the norm plugin through its C entry point (dlopen, as the engine
// does), creates norm.l2 {axis: -1, eps: 1e-12}, configures it for an
// in-memory [row, col] float32 tensor and times push() alone (in place, no
// file I/O). GB/s counts bytes read + bytes written (2 × the tensor), as
// for memcpy(dst, src, bytes). Prints one line per method:
//   <method> <best seconds> <GB/s>
// run.sh puts these beside numpy, torch and FAISS.
#include <featpipe/plugin.h>

#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#ifndef FEATPIPE_NORM_PLUGIN
#define FEATPIPE_NORM_PLUGIN ""
#endif

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "bench_l2: %s\n", msg.c_str());
  std::exit(1);
}

template <class F>
double best_of(int repeats, F&& f) {
  double best = 1e30;
  for (int r = 0; r < repeats; ++r) {
    const double t0 = now();
    f();
    best = std::min(best, now() - t0);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string plugin = argc > 1 && argv[1][0] ? argv[1] : FEATPIPE_NORM_PLUGIN;
  const int64_t rows = argc > 2 ? std::atoll(argv[2]) : 1000000;
  const int64_t cols = argc > 3 ? std::atoll(argv[3]) : 128;
  const int repeats = argc > 4 ? std::atoi(argv[4]) : 10;
  const size_t n = static_cast<size_t>(rows * cols), bytes = n * sizeof(float);

  // Random normal data; every page touched before timing.
  std::vector<float> x(n), src(n), dst(n);
  std::mt19937 rng(1);
  std::normal_distribution<float> normal;
  for (auto& v : src) v = normal(rng);
  std::memcpy(x.data(), src.data(), bytes);
  std::memset(dst.data(), 0, bytes);

  // memcpy of the same bytes (read + write).
  const double t_memcpy = best_of(repeats, [&] {
    std::memcpy(dst.data(), src.data(), bytes);
    asm volatile("" : : "r"(dst.data()) : "memory");
  });

  // The stage, through the plugin ABI.
  void* lib = dlopen(plugin.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib) die(std::string("cannot load plugin: ") + dlerror());
  auto entry = reinterpret_cast<fp_plugin_entry_fn>(dlsym(lib, FP_PLUGIN_ENTRY_SYMBOL));
  if (!entry) die("plugin has no " FP_PLUGIN_ENTRY_SYMBOL);
  const fp_plugin* p = entry();
  const fp_stage_desc* desc = nullptr;
  for (uint32_t k = 0; k < p->stage_count; ++k)
    if (std::strcmp(p->stages[k].name, "norm.l2") == 0) desc = &p->stages[k];
  if (!desc) die("plugin provides no norm.l2");

  std::vector<fp_value> values(desc->param_count);
  for (uint32_t k = 0; k < desc->param_count; ++k) {
    fp_value& v = values[k];
    v.struct_size = sizeof v;
    v.name = desc->params[k].name;
    v.type = desc->params[k].type;
    if (std::strcmp(v.name, "axis") == 0) v.s = "-1";
    else if (std::strcmp(v.name, "eps") == 0) v.f = 1e-12;
    else die(std::string("unexpected parameter ") + v.name);
  }
  fp_stage* st = desc->create(values.data(), static_cast<uint32_t>(values.size()));
  if (!st) die("create failed");
  fp_spec in{};
  in.rank = 2;
  in.shape[0] = rows;
  in.shape[1] = cols;
  std::strcpy(in.axes[0], "row");
  std::strcpy(in.axes[1], "col");
  in.stream_axis = -1;
  fp_spec out{};
  fp_stream_info info{};
  info.struct_size = sizeof info;
  if (st->configure(st, &in, &out, &info) != FP_OK || st->start(st, &in, &out) != FP_OK)
    die(std::string("configure failed: ") + st->error(st, nullptr));

  fp_tensor t{};
  t.data = x.data();
  t.rank = 2;
  t.shape[0] = rows;
  t.shape[1] = cols;
  fp_tensor y{};
  bool in_place = true;
  const double t_l2 = best_of(repeats, [&] {
    fp_tensor tin = t;
    if (st->push(st, &tin, &y) != FP_OK) die(std::string("push failed: ") + st->error(st, nullptr));
    in_place = in_place && y.data == x.data();
  });

  // Sanity: every row has unit length (the data was normalized repeatedly).
  double worst = 0;
  for (int64_t r = 0; r < rows; ++r) {
    double s = 0;
    for (int64_t c = 0; c < cols; ++c) s += double(y.data[r * cols + c]) * y.data[r * cols + c];
    worst = std::max(worst, std::fabs(std::sqrt(s) - 1));
  }
  if (worst > 1e-5) die("norm.l2 result is not unit length: max | |y| - 1 | = " + std::to_string(worst));
  st->destroy(st);

  const double gb = 2.0 * double(bytes) / 1e9;
  std::printf("memcpy %.6f %.2f\n", t_memcpy, gb / t_memcpy);
  std::printf("featpipe_norm.l2%s %.6f %.2f\n", in_place ? "(in-place)" : "", t_l2, gb / t_l2);
  return 0;
}
