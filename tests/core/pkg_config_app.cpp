// An embedder built with nothing but `pkg-config --cflags --libs featpipe`
// (pkg_config.sh): loads a pipeline through featpipe.hpp, runs it on one
// file, writes the result as .npy and prints the pipeline's provenance.
//   pkg_config_app PIPELINE INPUT OUT.npy
#include <featpipe/featpipe.hpp>
#include <featpipe/npy.hpp>

#include <fstream>
#include <iostream>

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: pkg_config_app PIPELINE INPUT OUT.npy\n";
    return 2;
  }
  try {
    auto pipe = featpipe::Pipeline::load(argv[1]);
    featpipe::Tensor t = pipe->session()->run_file(argv[2]);
    std::ofstream out(argv[3], std::ios::binary);
    featpipe::npy::write(out, t.shape, t.data.data());
    if (!out) throw featpipe::Error(std::string("cannot write ") + argv[3]);
    std::cout << pipe->provenance_json() << "\n";
  } catch (const featpipe::Error& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  return 0;
}
