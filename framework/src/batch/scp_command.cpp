#include "scp_command.hpp"

#include "atomic_file.hpp"
#include "names.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;

namespace featpipe {

namespace {

constexpr size_t kStderrKept = 4096;  // of the command's stderr, the end

struct Fd {
  int fd = -1;
  ~Fd() { reset(); }
  void reset() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

struct Outcome {
  int status = 0;
  bool timed_out = false;
  std::string stderr_tail;
};

std::string errno_text(const std::string& what) { return what + ": " + std::strerror(errno); }

// The last `n` non-empty lines of `text`, joined with " / ", printable.
std::string last_lines(const std::string& text, int n) {
  std::string out;
  size_t end = text.size();
  for (int k = 0; k < n && end > 0;) {
    const size_t nl = text.rfind('\n', end - 1);
    const size_t b = nl == std::string::npos ? 0 : nl + 1;
    std::string line = text.substr(b, end - b);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) {
      out = util::printable(line) + (out.empty() ? "" : " / " + out);
      ++k;
    }
    if (nl == std::string::npos) break;
    end = nl;
  }
  return out;
}

Outcome run_to_file(const std::string& command, const std::string& out_file, double timeout) {
  Fd out, null_in, err_r, err_w;
  out.fd = ::open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out.fd < 0) throw Error(errno_text("cannot create the file for the command's output " + out_file));
  null_in.fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int p[2];
  if (null_in.fd < 0 || ::pipe2(p, O_CLOEXEC) != 0) throw Error(errno_text("cannot run the command"));
  err_r.fd = p[0], err_w.fd = p[1];
  const char* argv[] = {"sh", "-c", command.c_str(), nullptr};
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw Error(errno_text("cannot run the command"));
  if (pid == 0) {
    // Only async-signal-safe calls here: the worker may have threads.
    ::setpgid(0, 0);  // its own group, so a timeout kills what it started too
    // A worker killed outright takes the command with it.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) ::_exit(127);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(SIGPIPE, &dfl, nullptr);  // a pipeline inside the command behaves as in a shell
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (::dup2(null_in.fd, 0) < 0 || ::dup2(out.fd, 1) < 0 || ::dup2(err_w.fd, 2) < 0) ::_exit(127);
    ::execv("/bin/sh", const_cast<char* const*>(argv));
    ::_exit(127);
  }
  err_w.reset();
  out.reset();
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(timeout));
  auto remaining_ms = [&]() -> int {
    if (timeout <= 0) return -1;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
    return left > 0 ? static_cast<int>(std::min<long long>(left, 1000)) : 0;
  };
  Outcome o;
  for (;;) {  // stderr until its end (or the deadline)
    pollfd fd{err_r.fd, POLLIN, 0};
    const int ms = remaining_ms();
    const int r = ::poll(&fd, 1, ms);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0 && ms == 0) {
      o.timed_out = true;
      break;
    }
    if (r == 0) continue;
    char buf[4096];
    const ssize_t n = ::read(err_r.fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    o.stderr_tail.append(buf, static_cast<size_t>(n));
    if (o.stderr_tail.size() > 2 * kStderrKept) o.stderr_tail.erase(0, o.stderr_tail.size() - kStderrKept);
  }
  for (;;) {  // its exit (stderr may close before it ends)
    if (o.timed_out) {
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
    }
    const pid_t w = ::waitpid(pid, &o.status, o.timed_out ? 0 : WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) throw Error(errno_text("waiting for the command"));
    if (w == 0) {
      if (remaining_ms() == 0) o.timed_out = true;
      else std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  if (o.stderr_tail.size() > kStderrKept) o.stderr_tail.erase(0, o.stderr_tail.size() - kStderrKept);
  return o;
}

std::string signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (size_t at = 0; !from.empty() && (at = s.find(from, at)) != std::string::npos; at += to.size())
    s.replace(at, from.size(), to);
}

}  // namespace

std::string command_of(const std::string& entry) {
  std::string c = entry;
  if (!c.empty() && c.back() == '|') c.pop_back();
  const size_t end = c.find_last_not_of(" \t\r\f\v");
  return end == std::string::npos ? "" : c.substr(0, end + 1);
}

Tensor run_command_input(const std::string& command, Session& session, const CommandOptions& o, int worker) {
  const fs::path dir = o.scratch_dir.empty() ? fs::temp_directory_path() : fs::path(o.scratch_dir);
  const std::string file = temporary_path(dir / "command-output", worker).string();
  struct Remove {
    const std::string& f;
    ~Remove() {
      std::error_code ec;
      fs::remove(f, ec);
    }
  } remove{file};
  const Outcome out = run_to_file(command, file, o.timeout);
  const std::string tail = last_lines(out.stderr_tail, 3);
  const std::string said = tail.empty() ? " (nothing on stderr)" : "; its stderr ends: " + tail;
  if (out.timed_out) {
    std::ostringstream t;
    t << o.timeout;
    throw Error("the command ran over --command-timeout (" + t.str() + " s) and was killed" + said);
  }
  if (WIFSIGNALED(out.status)) throw Error("the command was killed by " + signal_name(WTERMSIG(out.status)) + said);
  if (WIFEXITED(out.status) && WEXITSTATUS(out.status) != 0)
    throw Error("the command exited with status " + std::to_string(WEXITSTATUS(out.status)) +
                (WEXITSTATUS(out.status) == 127 ? " (127: the shell found no such program)" : "") + said);
  std::error_code ec;
  if (fs::file_size(file, ec) == 0 || ec) throw Error("the command printed nothing on stdout" + said);
  try {
    return session.run_file(file);
  } catch (const std::exception& e) {
    std::string msg = e.what();
    replace_all(msg, fs::path(file).filename().string(), "the command's output");
    replace_all(msg, file, "the command's output");
    throw Error("the command's output was not read: " + msg + said);
  }
}

}  // namespace featpipe
