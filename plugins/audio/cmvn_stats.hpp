// Global CMVN statistics from a file, for norm.cmvn {stats: FILE}:
//   - Kaldi's (compute-cmvn-stats, as apply-cmvn reads them): a 2 × (D+1)
//     matrix, row 0 the per-feature sums and the frame count last, row 1
//     the sums of squares (last column 0). Binary ("\0B" then "DM " or
//     "FM ", int32 rows and cols each after a size byte 4, then the values
//     little-endian) or text ("[ ... ]", one row a line); alone, or the one
//     entry of an archive ("key " before it).
//   - WeNet's global_cmvn JSON: {"mean_stat": [D], "var_stat": [D],
//     "frame_num": N} (the same sums).
// Both become mean = sum/N, var = sumsq/N − mean², the variance floored at
// 1e-20, as Kaldi's ApplyCmvn and WeNet's load_cmvn compute them.
#pragma once

#include <string>
#include <vector>

namespace featpipe::audio {

struct CmvnStats {
  std::vector<double> mean, var;  // per feature
  double count = 0;               // frames the statistics came from
  std::string format;             // "kaldi binary", "kaldi text", "wenet json"
};

// Reads and checks a statistics file; throws sdk::Error naming the file
// and what is wrong (on parameter "stats").
CmvnStats read_cmvn_stats(const std::string& path);

}  // namespace featpipe::audio
