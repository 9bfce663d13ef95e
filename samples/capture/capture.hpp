// The capture sample's pieces: options, class prototypes, the two loops.
#pragma once

#include <featpipe/featpipe.hpp>

#include <atomic>
#include <string>
#include <vector>

namespace capture {

struct Options {
  std::string audio, video;          // the source: one of the two is set
  std::string pipeline;              // pipeline file
  std::vector<std::string> classes;  // reference files or folders of them
  double rate = 16000;               // sample rate of the pushed audio
  int chunk = 160;                   // samples per push (10 ms at 16 kHz)
  int every = 10;                    // feature frames per printed line
  double seconds = 0;                // stop after this much audio (0: at the end)
  long frames = 0;                   // stop after this many video frames (0: at the end)
};

// Set by SIGINT (Ctrl-C): the loops stop reading, flush and summarize.
extern std::atomic<bool> g_stop;

// Nearest class by cosine similarity. Each class is one reference file run
// through the pipeline in batch (Session::run_file); its prototype is the
// mean feature vector over the output's frames (or the whole output when
// it has no frame axis), L2-normalized. A query is normalized the same way,
// so the cosine is a dot product.
class Prototypes {
 public:
  struct Match {
    int index = -1;
    float cosine = 0;
  };
  // Runs every reference file through a session of `pipe`; folders are
  // listed (not recursively) for the files the pipeline's first step reads.
  void build(const featpipe::Pipeline& pipe, const std::vector<std::string>& paths);
  Match nearest(std::vector<float> query) const;  // query: a summary vector
  const std::string& label(int k) const { return labels_[static_cast<size_t>(k)]; }
  size_t size() const { return labels_.size(); }
  size_t dim() const { return dim_; }

  // Mean over the frames of a [frame, feature...] tensor (stream axis 0),
  // or the tensor flattened when it has no frames axis.
  static std::vector<float> summary(const featpipe::Tensor& t, bool frames_axis0);
  static void normalize(std::vector<float>& v);

 private:
  std::vector<std::string> labels_;
  std::vector<std::vector<float>> vectors_;
  size_t dim_ = 0;
};

int run_audio(const Options& o);
int run_video(const Options& o);

}  // namespace capture
