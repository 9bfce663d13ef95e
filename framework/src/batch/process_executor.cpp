// Workers in child processes, supervised: a plugin that crashes (or is
// killed, or runs out of memory) fails the input it was on, not the run; the
// child is replaced and the other inputs go on.
//
// One Unix socket pair per child. The parent sends a job's index as a line;
// the child answers with the entry as a JSON line (the manifest's fields
// plus media_seconds, and payload_bytes when the entry carries an encoded
// output for a sink writing in the parent: those bytes follow the line). Children are forked after the parent's setup, so the
// worker factory runs in the child (its session is the child's own).
//
// Each child also has a shared page, its beacon: the step it is in (from the
// engine's step trace) and whether an allocation failed, so that a child
// killed by a signal - no exception, no answer - is still reported with the
// step, and an allocation refused under --max-memory says so.
#include "executor.hpp"
#include "memory_limit.hpp"

#include "../step_trace.hpp"

#include <featpipe/featpipe.hpp>
#include <featpipe/runner.hpp>

#include <poll.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <deque>
#include <new>
#include <optional>
#include <sstream>
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
    char chunk[65536];  // an answer may carry an encoded output (tens of KB)
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    buf.append(chunk, static_cast<size_t>(n));
  }
}

// Exactly `n` bytes, those already buffered first; nullopt at end of file.
std::optional<std::string> read_bytes(int fd, std::string& buf, size_t n) {
  std::string out;
  out.reserve(n);
  const size_t had = std::min(n, buf.size());
  out.append(buf, 0, had);
  buf.erase(0, had);
  while (out.size() < n) {
    const size_t want = n - out.size();
    const size_t at = out.size();
    out.resize(n);
    ssize_t got = ::read(fd, out.data() + at, want);
    if (got < 0 && errno == EINTR) got = 0;
    else if (got <= 0) return std::nullopt;
    out.resize(at + static_cast<size_t>(got));
  }
  return out;
}

struct Beacon {
  char step[240];  // the step's context, "" outside the pipeline's steps
  volatile sig_atomic_t allocation_failed;
};

Beacon* my_beacon = nullptr;  // the child's own

std::string step_of(const Beacon& b) {
  std::string s(b.step, strnlen(b.step, sizeof b.step));
  return s.empty() ? "" : " in " + s;
}

std::string signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

std::string limit_message(uint64_t max_memory, const Beacon& b) {
  return "exceeded the per-worker memory limit of " + describe_bytes(max_memory) + step_of(b) +
         " (--max-memory raises it)";
}

// How a child on a job ended.
std::string describe_exit(int status, const Beacon& b, uint64_t max_memory) {
  if (b.allocation_failed && max_memory) {
    std::string why = limit_message(max_memory, b);
    if (WIFSIGNALED(status)) why += "; the worker then died of " + signal_name(WTERMSIG(status));
    return why;
  }
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    std::string why = "the worker process crashed: " + signal_name(sig) + " (signal " + std::to_string(sig) + ", " +
                      strsignal(sig) + ")" + step_of(b);
    if (sig == SIGKILL) why += " - killed by hand or by the system's out-of-memory killer";
    return why;
  }
  if (WIFEXITED(status))
    return "the worker process exited with status " + std::to_string(WEXITSTATUS(status)) + step_of(b);
  return "the worker process ended" + step_of(b);
}

void note_step(const std::string& context) {
  const size_t n = std::min(context.size(), sizeof my_beacon->step - 1);
  std::memcpy(my_beacon->step, context.data(), n);
  my_beacon->step[n] = '\0';
}

// The child: limit its memory, make the worker, say "ready" (or "!why"),
// then answer jobs.
[[noreturn]] void child_main(int fd, int w, const std::vector<Job>& jobs, const Executor::MakeWorker& make_worker,
                             Beacon* beacon, uint64_t max_memory, pid_t parent) {
  // A run killed outright (kill -9) takes its workers with it.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) ::_exit(1);
  my_beacon = beacon;
  *beacon = Beacon{};
  if (max_memory) {
    const rlimit lim{max_memory, max_memory};
    if (::setrlimit(RLIMIT_AS, &lim) != 0) {
      send_all(fd, std::string("!cannot set the per-worker memory limit: ") + std::strerror(errno) + "\n");
      ::_exit(1);
    }
  }
  // Marks the beacon, then fails as usual (bad_alloc): the entry can then
  // tell a refused allocation from any other error.
  std::set_new_handler([] {
    my_beacon->allocation_failed = 1;
    throw std::bad_alloc();
  });
  step_trace::hook = note_step;
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
    beacon->step[0] = '\0';
    beacon->allocation_failed = 0;
    ManifestEntry e = worker(jobs[k]);
    if (beacon->allocation_failed && max_memory && e.status == ManifestEntry::Status::error)
      e.error = limit_message(max_memory, *beacon);
    nlohmann::json j = e.to_json();
    j["media_seconds"] = e.media_seconds;
    if (!e.payload.empty()) j["payload_bytes"] = e.payload.size();
    std::string answer = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    answer += e.payload;  // one send: one wake-up of the parent
    if (!send_all(fd, answer)) break;
  }
  ::_exit(0);  // not exit(): the parent's atexit handlers and buffers are not ours
}

struct Child {
  Beacon* beacon = nullptr;  // shared with the child, kept across replacements
  pid_t pid = -1;
  int fd = -1;
  std::string buf;
  std::deque<size_t> queue;  // given, not answered: the first is the one it is on
};

class ProcessExecutor final : public Executor {
 public:
  explicit ProcessExecutor(ProcessOptions o) : o_(std::move(o)) {
    if (!memory_limit_supported()) o_.max_memory = 0;
    // A lower limit already in force (ulimit -v) stays, and is the one to name:
    // the children could not raise it anyway.
    rlimit cur{};
    if (o_.max_memory && ::getrlimit(RLIMIT_AS, &cur) == 0 && cur.rlim_cur != RLIM_INFINITY)
      o_.max_memory = std::min<uint64_t>(o_.max_memory, cur.rlim_cur);
  }

  void run(const std::vector<Job>& jobs, const MakeWorker& make_worker, const Done& done) override {
    const int n = std::max(1, std::min<int>(o_.processes, static_cast<int>(jobs.size())));
    std::vector<Child> children(n);
    // One page for all beacons, shared with the children across fork.
    const size_t bytes = sizeof(Beacon) * static_cast<size_t>(n);
    void* page = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) throw Error(std::string("cannot start the worker processes: ") + std::strerror(errno));
    struct Unmap {
      void* p;
      size_t n;
      ~Unmap() { ::munmap(p, n); }
    } unmap{page, bytes};
    for (int w = 0; w < n; ++w) children[w].beacon = static_cast<Beacon*>(page) + w;
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
      // Room for an answer with its encoded output in one go (best effort).
      const int room = 1 << 20;
      for (int fd : sv) {
        ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &room, sizeof room);
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &room, sizeof room);
      }
      std::unique_lock<std::mutex> held;
      if (o_.hold_threads) held = o_.hold_threads();
      const pid_t parent = ::getpid();
      const pid_t pid = ::fork();
      if (pid < 0) {
        ::close(sv[0]), ::close(sv[1]);
        throw Error(std::string("cannot start a worker process: ") + std::strerror(errno));
      }
      if (pid == 0) {
        ::close(sv[0]);
        for (Child& other : children)  // the siblings' sockets are the parent's business
          if (other.fd >= 0) ::close(other.fd);
        child_main(sv[1], w, jobs, make_worker, c.beacon, o_.max_memory, parent);
      }
      if (held) held.unlock();
      ::close(sv[1]);
      c = Child{c.beacon, pid, sv[0], "", {}};
      auto line = read_line(c.fd, c.buf);
      if (line && *line == "ready") return;
      const int status = reap(c);
      throw Error(line && !line->empty() && (*line)[0] == '!' ? line->substr(1) : describe_exit(status, *c.beacon, o_.max_memory));
    };

    size_t next = 0, finished = 0;
    std::deque<size_t> again;  // given to a child that died before starting them
    auto has_work = [&] { return !again.empty() || next < jobs.size(); };
    // A lone child gets two jobs queued: it starts the next while this
    // process stores the last answer, instead of idling for a round trip.
    // With more children the others keep the cores busy meanwhile, and one
    // job each keeps a slow input from holding up a job queued behind it.
    const size_t kDepth = n == 1 ? 2 : 1;
    auto give = [&](Child& c) {
      while (c.queue.size() < kDepth && has_work()) {
        const size_t k = again.empty() ? next : again.front();
        if (!send_all(c.fd, std::to_string(k) + "\n")) return;  // a dead child: its end of file says so
        if (again.empty()) ++next;
        else again.pop_front();
        c.queue.push_back(k);
      }
      if (!has_work()) ::shutdown(c.fd, SHUT_WR);  // no more: the child ends after its queue
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
          do {  // every answer already read: poll does not see buffered ones
            auto line = read_line(c.fd, c.buf);
            if (!line) {  // the child ended: the job it was on failed, the rest go to others; replace it while jobs remain
              const int status = reap(c);
              if (!c.queue.empty()) {
                const size_t k = c.queue.front();
                c.queue.pop_front();
                again.insert(again.end(), c.queue.begin(), c.queue.end());
                c.queue.clear();
                ManifestEntry e;
                e.input = jobs[k].input;
                e.output = jobs[k].output;
                e.utt_id = jobs[k].key;
                e.status = ManifestEntry::Status::error;
                e.error = describe_exit(status, *c.beacon, o_.max_memory);
                done(k, std::move(e));
                ++finished;
              }
              if (has_work()) spawn(w), give(c);
              break;
            }
            auto j = nlohmann::json::parse(*line, nullptr, false);
            auto e = ManifestEntry::from_json(j);
            if (!e || c.queue.empty()) throw Error("a worker process answered out of turn: " + line->substr(0, 200));
            if (j.contains("media_seconds") && j["media_seconds"].is_number()) e->media_seconds = j["media_seconds"].get<double>();
            if (j.contains("payload_bytes") && j["payload_bytes"].is_number_unsigned()) {
              // Sent right after the line; a child dying midway fails its input
              // (its end of file is then seen by the next poll).
              auto bytes = read_bytes(c.fd, c.buf, j["payload_bytes"].get<size_t>());
              if (bytes) {
                e->payload = std::move(*bytes);
              } else {
                e->status = ManifestEntry::Status::error;
                e->error = "the worker process ended while sending its output" + step_of(*c.beacon);
                e->shape.clear();
                e->axes.clear();
              }
            }
            const size_t k = c.queue.front();
            c.queue.pop_front();
            done(k, std::move(*e));
            ++finished;
            give(c);
          } while (c.fd >= 0 && c.buf.find('\n') != std::string::npos);
        }
      }
    } catch (...) {
      end_all();
      throw;
    }
    for (Child& c : children) reap(c);
  }

 private:
  ProcessOptions o_;
};

}  // namespace

std::unique_ptr<Executor> process_executor(ProcessOptions options) { return std::make_unique<ProcessExecutor>(std::move(options)); }

bool memory_limit_supported() {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  return false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
  return false;
#else
  return true;
#endif
#else
  return true;
#endif
}

unsigned long long default_max_memory(int workers) {
  return std::max<uint64_t>(usable_memory() / static_cast<uint64_t>(std::max(1, workers)), uint64_t{1} << 30);
}

std::string describe_bytes(uint64_t bytes) {
  static const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) v /= 1024, ++u;
  std::ostringstream os;
  os.precision(v < 10 && u ? 2 : 4);
  os << v << " " << units[u];
  return os.str();
}

}  // namespace featpipe
