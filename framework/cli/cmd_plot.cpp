// featpipe plot FEATURES.npy -o IMAGE.png: a feature array as a color image.
// 2-D [frame, bin]: time runs left to right, low bins at the bottom (as a
// spectrogram is read). 3-D [channel, height, width]: channels tiled in a
// grid. 1-D: a strip. A side longer than 4096 cells is averaged in blocks.
// Colors: viridis over the 1st..99th percentile (--range robust, the
// default) or the whole finite range (--range minmax).
// The rendering lives in libfeatpipe_plot.so (OpenCV), loaded here only.
#include "commands.hpp"

#include <dlfcn.h>

#include <filesystem>
#include <iostream>

namespace featpipe::cli {

Action add_plot(CLI::App& app) {
  auto in = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto range = std::make_shared<std::string>("robust");
  CLI::App* c = app.add_subcommand("plot", "render a feature array (.npy) as a color image");
  c->add_option("features", *in, "a .npy file written by featpipe run")->required();
  c->add_option("-o,--output", *out, "image file to write (.png)")->required();
  c->add_option("--range", *range,
                "color range: robust (1st..99th percentile, so outliers do not flatten the rest) or minmax")
      ->check(CLI::IsMember({"robust", "minmax"}))
      ->capture_default_str();
  return [in, out, range] {
    // <prefix>/bin/featpipe -> <prefix>/lib/featpipe/libfeatpipe_plot.so (the build tree mirrors it)
    const auto exe = std::filesystem::canonical("/proc/self/exe");
    const auto module = exe.parent_path().parent_path() / FEATPIPE_LIBDIR / "featpipe" / "libfeatpipe_plot.so";
    void* h = dlopen(module.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) throw Error(std::string("cannot load the plot module: ") + dlerror());
    using Fn = int (*)(const char*, const char*, int, char*, size_t);
    auto fn = reinterpret_cast<Fn>(dlsym(h, "featpipe_plot_npy_v2"));
    if (!fn) throw Error(module.string() + ": no featpipe_plot_npy_v2 symbol (a module from another featpipe?)");
    char msg[4096] = {0};
    if (fn(in->c_str(), out->c_str(), *range == "robust", msg, sizeof msg) != 0) throw Error(msg);
    std::cerr << "featpipe: " << msg << "\n";
    return 0;
  };
}

}  // namespace featpipe::cli
