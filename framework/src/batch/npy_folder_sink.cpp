#include "npy_folder_sink.hpp"

#include <featpipe/npy.hpp>

#include "atomic_file.hpp"

namespace fs = std::filesystem;

namespace featpipe {

bool NpyFolderSink::exists(const std::string& output) const {
  std::error_code ec;
  return fs::exists(outdir_ / output, ec);
}

void NpyFolderSink::write(const std::string& output, const Tensor& t, int worker) {
  write_atomic(outdir_ / output, [&](std::ostream& os) { npy::write(os, t.shape, t.data.data()); }, worker);
}

}  // namespace featpipe
