// Global CMVN statistics over a corpus, as Kaldi's compute-cmvn-stats and
// WeNet's tools/compute_cmvn_stats.py gather them: per dimension the sum and
// the sum of squares of every frame, and the frame count, in double.
//
// Frames are added one after the other (no reordering, no compensation), so
// the sums are exactly numpy's float64 sums over the same frames in the same
// order: np.concatenate(feats).astype(np.float64).sum(axis=0). The square of
// a float32 value is exact in double. (Kaldi squares in float before adding,
// a difference of ~1e-8 relative.)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace featpipe::cli {

class CmvnAccumulator {
 public:
  // A [rows, cols] matrix, C order. Throws Error naming `name` when cols
  // differ from the first matrix's, or a value is NaN or infinite.
  void add(const float* data, int64_t rows, int64_t cols, const std::string& name);

  int64_t dim() const { return dim_; }
  int64_t frames() const { return frames_; }
  const std::vector<double>& sum() const { return sum_; }
  const std::vector<double>& sum_squares() const { return sumsq_; }

 private:
  int64_t dim_ = -1, frames_ = 0;
  std::string first_;  // the matrix that set dim_, for messages
  std::vector<double> sum_, sumsq_;
};

enum class CmvnFormat { kaldi, kaldi_text, wenet };

// The file's bytes: Kaldi's 2 x (dim+1) matrix (row 0 the sums then the
// count, row 1 the sums of squares then 0), binary ("\0B" "DM ") or text
// (" [\n  ... \n  ... ]\n"); or WeNet's {"mean_stat", "var_stat", "frame_num"}.
std::string cmvn_stats_bytes(const CmvnAccumulator& acc, CmvnFormat format);

}  // namespace featpipe::cli
