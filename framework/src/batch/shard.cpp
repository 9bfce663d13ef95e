// --shard K/N and --shard auto (Slurm array jobs, Kubernetes indexed jobs).
#include <featpipe/runner.hpp>

#include <cstdlib>

namespace featpipe {

namespace {
constexpr long long kMaxShards = 1000000;  // far above any cluster's job array
}  // namespace

void parse_shard(const std::string& text, int count_option, int& index, int& count) {
  // Digits only, at most kMaxShards: strtol's sign, spaces, "0x" and wrap
  // into int (4294967297 -> 1) would silently run a different shard.
  auto to_int = [&](const std::string& s, const char* what) {
    bool digits = !s.empty() && s.size() <= 18;
    for (char c : s) digits = digits && c >= '0' && c <= '9';
    if (!digits) throw Error(std::string("--shard: ") + what + " '" + s + "' is not a non-negative integer");
    const long long v = std::stoll(s);
    if (v > kMaxShards) throw Error(std::string("--shard: ") + what + " " + s + " is more than " + std::to_string(kMaxShards));
    return static_cast<int>(v);
  };
  if (text == "auto") {
    if (const char* id = std::getenv("SLURM_ARRAY_TASK_ID")) {
      const char* n = std::getenv("SLURM_ARRAY_TASK_COUNT");
      if (!n) throw Error("--shard auto: SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not");
      const char* min = std::getenv("SLURM_ARRAY_TASK_MIN");  // arrays may start at 1
      index = to_int(id, "SLURM_ARRAY_TASK_ID") - (min ? to_int(min, "SLURM_ARRAY_TASK_MIN") : 0);
      count = to_int(n, "SLURM_ARRAY_TASK_COUNT");
    } else if (const char* k = std::getenv("JOB_COMPLETION_INDEX")) {
      if (count_option <= 0) throw Error("--shard auto: a Kubernetes indexed job needs --shard-count N (its completions)");
      index = to_int(k, "JOB_COMPLETION_INDEX");
      count = count_option;
    } else {
      throw Error("--shard auto: neither a Slurm array job (SLURM_ARRAY_TASK_ID) nor a Kubernetes indexed job "
                  "(JOB_COMPLETION_INDEX) is visible");
    }
  } else {
    size_t slash = text.find('/');
    if (slash == std::string::npos || text.find('/', slash + 1) != std::string::npos) throw Error("--shard takes K/N (e.g. 0/4) or auto, got '" + text + "'");
    index = to_int(text.substr(0, slash), "K");
    count = to_int(text.substr(slash + 1), "N");
  }
  if (count > kMaxShards) throw Error("--shard: N " + std::to_string(count) + " is more than " + std::to_string(kMaxShards));
  if (count < 1 || index < 0 || index >= count)
    throw Error("--shard: need 0 <= K < N, got K=" + std::to_string(index) + " N=" + std::to_string(count));
}

}  // namespace featpipe
