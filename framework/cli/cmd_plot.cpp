// featpipe plot FEATURES.npy -o IMAGE.png: a feature array as a color image.
// 2-D [frame, bin]: time runs left to right, low bins at the bottom (as a
// spectrogram is read). 3-D [channel, height, width]: channels tiled in a
// grid. 1-D: a strip. A side longer than 4096 cells is averaged in blocks.
// Colors: viridis over the 1st..99th percentile (--range robust, the
// default), the whole finite range (--range minmax) or a fixed one
// (--range=LO:HI), which gives several plots one color scale.
// The rendering lives in libfeatpipe_plot.so (OpenCV), loaded here only.
#include "commands.hpp"

#include <dlfcn.h>

#include <charconv>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <optional>

namespace featpipe::cli {

namespace {

// "LO:HI" as two finite numbers with LO < HI, or nullopt.
std::optional<std::pair<double, double>> parse_fixed_range(const std::string& s) {
  const auto colon = s.find(':', 1);  // from 1: a leading '-' belongs to LO
  if (colon == std::string::npos) return std::nullopt;
  double lo = 0, hi = 0;
  const char* end = s.data() + s.size();
  auto a = std::from_chars(s.data(), s.data() + colon, lo);
  auto b = std::from_chars(s.data() + colon + 1, end, hi);
  if (a.ec != std::errc() || a.ptr != s.data() + colon || b.ec != std::errc() || b.ptr != end) return std::nullopt;
  if (!std::isfinite(lo) || !std::isfinite(hi) || !(hi > lo)) return std::nullopt;
  return std::pair{lo, hi};
}

}  // namespace

Action add_plot(CLI::App& app) {
  auto in = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto range = std::make_shared<std::string>("robust");
  CLI::App* c = app.add_subcommand("plot", "render a feature array (.npy) as a color image");
  c->add_option("features", *in, "a .npy file written by featpipe run")->required();
  c->add_option("-o,--output", *out, "image file to write (.png)")->required();
  c->add_option("--range", *range,
                "color range: robust (1st..99th percentile, so outliers do not flatten the rest), minmax, or LO:HI "
                "(fixed, to give several plots one color scale)")
      ->check(
          [](const std::string& v) -> std::string {
            if (v == "robust" || v == "minmax" || parse_fixed_range(v)) return "";
            return "'" + v + "' is not robust, minmax or LO:HI (two finite numbers, LO < HI)";
          },
          "robust|minmax|LO:HI")
      ->capture_default_str();
  return [in, out, range] {
    // <prefix>/bin/featpipe -> <prefix>/lib/featpipe/libfeatpipe_plot.so (the build tree mirrors it)
    const auto exe = std::filesystem::canonical("/proc/self/exe");
    const auto module = exe.parent_path().parent_path() / FEATPIPE_LIBDIR / "featpipe" / "libfeatpipe_plot.so";
    void* h = dlopen(module.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) throw Error(std::string("cannot load the plot module: ") + dlerror());
    using Fn = int (*)(const char*, const char*, int, double, double, char*, size_t);
    auto fn = reinterpret_cast<Fn>(dlsym(h, "featpipe_plot_npy_v3"));
    if (!fn) throw Error(module.string() + ": no featpipe_plot_npy_v3 symbol (a module from another featpipe?)");
    const auto fixed = parse_fixed_range(*range);
    const int mode = fixed ? 2 : *range == "robust" ? 1 : 0;
    char msg[4096] = {0};
    if (fn(in->c_str(), out->c_str(), mode, fixed ? fixed->first : 0.0, fixed ? fixed->second : 1.0, msg, sizeof msg) != 0)
      throw Error(msg);
    std::cerr << "featpipe: " << msg << "\n";
    return 0;
  };
}

}  // namespace featpipe::cli
