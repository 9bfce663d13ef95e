// Workers in child processes, supervised: a plugin that crashes (or is
// killed, or runs out of memory) fails the input it was on, not the run; the
// child is replaced and the other inputs go on.
//
// One Unix socket pair per child. The parent sends a job's index as a line;
// the child answers with the entry as a JSON line (the manifest's fields
// plus media_seconds). Children are forked after the parent's setup, so the
// worker factory runs in the child (its session is the child's own).
#include "executor.hpp"

#include <featpipe/featpipe.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <optional>
#include <string>

namespace featpipe {

namespace {

bool send_all(int fd, const std::string& s) {
  for (size_t at = 0; at < s.size();) {
    ssize_t n = ::send(fd, s.data() + at, s.size() - at, MSG_NOSIGNAL);  // a dead peer: EPIPE, no SIGPIPE
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    at += static_cast<size_t>(n);
  }
  return true;
}

// Reads up to the next newline; nullopt at end of file.
std::optional<std::string> read_line(int fd, std::string& buf) {
  for (;;) {
    if (size_t nl = buf.find('\n'); nl != std::string::npos) {
      std::string line = buf.substr(0, nl);
      buf.erase(0, nl + 1);
      return line;
    }
    char chunk[4096];
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    buf.append(chunk, static_cast<size_t>(n));
  }
}

std::string describe_exit(int status) {
  if (WIFSIGNALED(status))
    return "the worker process died of signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
  if (WIFEXITED(status)) return "the worker process exited with status " + std::to_string(WEXITSTATUS(status));
  return "the worker process ended";
}

// The child: make the worker, say "ready" (or "!why"), then answer jobs.
[[noreturn]] void child_main(int fd, int w, const std::vector<Job>& jobs, const Executor::MakeWorker& make_worker) {
  Executor::Worker worker;
  try {
    worker = make_worker(w);
  } catch (const std::exception& e) {
    std::string why = e.what();
    std::replace(why.begin(), why.end(), '\n', ' ');
    send_all(fd, "!" + why + "\n");
    ::_exit(1);
  }
  if (!send_all(fd, "ready\n")) ::_exit(1);
  std::string buf;
  while (auto line = read_line(fd, buf)) {
    const size_t k = std::stoul(*line);
    ManifestEntry e = worker(jobs[k]);
    nlohmann::json j = e.to_json();
    j["media_seconds"] = e.media_seconds;
    if (!send_all(fd, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n")) break;
  }
  ::_exit(0);  // not exit(): the parent's atexit handlers and buffers are not ours
}

struct Child {
  pid_t pid = -1;
  int fd = -1;
  std::string buf;
  std::optional<size_t> job;  // in flight
};

class ProcessExecutor final : public Executor {
 public:
  explicit ProcessExecutor(int processes) : processes_(processes) {}

  void run(const std::vector<Job>& jobs, const MakeWorker& make_worker, const Done& done) override {
    const int n = std::max(1, std::min<int>(processes_, static_cast<int>(jobs.size())));
    std::vector<Child> children(n);
    auto reap = [](Child& c) {
      int status = 0;
      if (c.fd >= 0) ::close(c.fd);
      c.fd = -1;
      if (c.pid > 0) ::waitpid(c.pid, &status, 0);
      c.pid = -1;
      return status;
    };
    auto end_all = [&] {
      for (Child& c : children) {
        if (c.pid > 0) ::kill(c.pid, SIGKILL);
        reap(c);
      }
    };
    auto spawn = [&](int w) {
      Child& c = children[w];
      int sv[2];
      if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        throw Error(std::string("cannot start a worker process: ") + std::strerror(errno));
      const pid_t pid = ::fork();
      if (pid < 0) {
        ::close(sv[0]), ::close(sv[1]);
        throw Error(std::string("cannot start a worker process: ") + std::strerror(errno));
      }
      if (pid == 0) {
        ::close(sv[0]);
        for (Child& other : children)  // the siblings' sockets are the parent's business
          if (other.fd >= 0) ::close(other.fd);
        child_main(sv[1], w, jobs, make_worker);
      }
      ::close(sv[1]);
      c = Child{pid, sv[0], "", std::nullopt};
      auto line = read_line(c.fd, c.buf);
      if (line && *line == "ready") return;
      const int status = reap(c);
      throw Error(line && !line->empty() && (*line)[0] == '!' ? line->substr(1) : describe_exit(status));
    };

    size_t next = 0, finished = 0;
    auto give = [&](Child& c) {
      if (next < jobs.size() && send_all(c.fd, std::to_string(next) + "\n")) c.job = next++;
      else if (next >= jobs.size()) ::shutdown(c.fd, SHUT_WR);  // no more: the child ends
    };
    try {
      for (int w = 0; w < n; ++w) spawn(w);  // every worker made before any job
      for (Child& c : children) give(c);
      while (finished < jobs.size()) {
        std::vector<pollfd> fds;
        for (const Child& c : children) fds.push_back({c.fd, POLLIN, 0});
        if (::poll(fds.data(), fds.size(), -1) < 0) {
          if (errno == EINTR) continue;
          throw Error(std::string("waiting for the worker processes: ") + std::strerror(errno));
        }
        for (int w = 0; w < n; ++w) {
          if (!fds[w].revents) continue;
          Child& c = children[w];
          auto line = read_line(c.fd, c.buf);
          if (!line) {  // the child ended: on a job, that job failed; replace it while jobs remain
            const int status = reap(c);
            if (c.job) {
              ManifestEntry e;
              e.input = jobs[*c.job].input;
              e.output = jobs[*c.job].output;
              e.status = ManifestEntry::Status::error;
              e.error = describe_exit(status);
              done(*c.job, std::move(e));
              c.job.reset();
              ++finished;
            }
            if (next < jobs.size()) spawn(w), give(c);
            continue;
          }
          auto j = nlohmann::json::parse(*line, nullptr, false);
          auto e = ManifestEntry::from_json(j);
          if (!e || !c.job) throw Error("a worker process answered out of turn: " + line->substr(0, 200));
          if (j.contains("media_seconds") && j["media_seconds"].is_number()) e->media_seconds = j["media_seconds"].get<double>();
          const size_t k = *c.job;
          c.job.reset();
          done(k, std::move(*e));
          ++finished;
          give(c);
        }
      }
    } catch (...) {
      end_all();
      throw;
    }
    for (Child& c : children) reap(c);
  }

 private:
  int processes_;
};

}  // namespace

std::unique_ptr<Executor> process_executor(int processes) { return std::make_unique<ProcessExecutor>(processes); }

}  // namespace featpipe
