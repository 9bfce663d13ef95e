#include "commands.hpp"
#include "options.hpp"

#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>

namespace featpipe::cli {

static std::string clock_text(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  long t = std::lround(s);
  char buf[32];
  if (t >= 3600) std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
  else std::snprintf(buf, sizeof buf, "%ld:%02ld", t / 60, t % 60);
  return buf;
}

static std::string rates(const RunProgress& p) {
  const double secs = std::max(p.elapsed, 1e-9);
  char buf[96];
  int n = std::snprintf(buf, sizeof buf, "%.1f files/s", p.done / secs);
  if (p.media_seconds > 0) std::snprintf(buf + n, sizeof buf - n, ", %.0f media s/s", p.media_seconds / secs);
  return buf;
}

std::string summary_line(const RunProgress& p) {
  std::ostringstream os;
  os << "featpipe: " << count_text(p.total, "input") << ": " << p.ok << " ok, " << p.failed << " failed, " << p.skipped
     << " skipped";
  if (p.missed) os << ", " << p.missed << " not readable (see the errors above)";
  if (p.not_taken) os << " (" << count_text(p.not_taken, "other file") << " not taken)";
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.2f", p.elapsed);
  os << " in " << secs << " s (" << rates(p) << ")";
  return os.str();
}

std::function<void(const RunProgress&)> progress_printer(bool tty) {
  return [tty](const RunProgress& p) {
    if (p.finished) {
      if (tty) std::cerr << "\r\033[K";
      std::cerr << summary_line(p) << "\n";
      return;
    }
    const double eta = p.done ? p.elapsed / p.done * (p.total - p.done) : NAN;
    if (tty) {
      const int width = 30;
      const int filled = p.total ? static_cast<int>(width * p.done / p.total) : width;
      std::cerr << "\r\033[K[" << std::string(filled, '#') << std::string(width - filled, ' ') << "] " << p.done << "/"
                << p.total << "  " << rates(p) << "  ETA " << clock_text(eta) << std::flush;
    } else {
      std::cerr << "featpipe: " << p.done << "/" << p.total << " done (" << p.failed << " failed), " << rates(p)
                << ", ETA " << clock_text(eta) << "\n";
    }
  };
}

}  // namespace featpipe::cli
