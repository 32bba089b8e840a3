#include "child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "log_tail.h"

extern char** environ;

namespace crashctl {
namespace supervisor {
namespace {

constexpr size_t kMaxCrashRecord = 1 << 20;
constexpr int kForwarded[] = {SIGTERM, SIGINT, SIGHUP};
constexpr int kNumForwarded = sizeof(kForwarded) / sizeof(kForwarded[0]);

volatile sig_atomic_t g_child_pid = 0;
volatile sig_atomic_t g_forwarded = 0;
volatile sig_atomic_t g_wake_fd = -1;  // write end of the SIGCHLD self-pipe

void OnSigchld(int) {
  int saved = errno;
  int fd = g_wake_fd;
  if (fd >= 0) {
    char c = 0;
    (void)!write(fd, &c, 1);  // non-blocking: a full pipe already wakes us
  }
  errno = saved;
}

void ForwardSignal(int sig) {
  int saved = errno;
  pid_t pid = g_child_pid;
  if (pid > 0) {
    g_forwarded = sig;
    kill(pid, sig);
  }
  errno = saved;
}

void WriteAll(int fd, const char* data, size_t len) {
  size_t off = 0;
  for (int tries = 0; off < len && tries < 10000; ++tries) {
    ssize_t n = write(fd, data + off, len - off);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return;  // our own output is gone; keep supervising
    off += static_cast<size_t>(n);
  }
}

void ClosePipe(int p[2]) {
  for (int i = 0; i < 2; ++i) {
    if (p[i] >= 0) close(p[i]);
    p[i] = -1;
  }
}

}  // namespace

ChildResult RunChild(const std::vector<std::string>& argv,
                     const std::vector<std::string>& extra_env,
                     const RunOptions& options) {
  ChildResult result;
  if (argv.empty()) {
    result.error = "no command";
    return result;
  }
  int out[2] = {-1, -1}, err[2] = {-1, -1}, crash[2] = {-1, -1};
  // wake: SIGCHLD self-pipe; go: the child waits on it until it is seized.
  int wake[2] = {-1, -1}, go[2] = {-1, -1};
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0 ||
      pipe2(crash, O_CLOEXEC) != 0 ||
      pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0 || pipe2(go, O_CLOEXEC) != 0) {
    result.error = std::string("pipe: ") + std::strerror(errno);
    ClosePipe(out), ClosePipe(err), ClosePipe(crash), ClosePipe(wake);
    ClosePipe(go);
    return result;
  }
  // The crash pipe's write end, inherited across exec (no CLOEXEC) only by
  // the child: duplicated now, closed in the parent right after fork.
  int crash_child_fd = fcntl(crash[1], F_DUPFD, 3);

  // Everything the child needs is prepared before fork: after it, only
  // async-signal-safe calls.
  std::vector<std::string> env_strings;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (std::strncmp(*e, "CRASHCTL_CRASH_FD=", 18) == 0) continue;
    env_strings.emplace_back(*e);
  }
  for (const std::string& kv : extra_env) env_strings.push_back(kv);
  env_strings.push_back("CRASHCTL_CRASH_FD=" + std::to_string(crash_child_fd));
  std::vector<char*> envp, args;
  for (std::string& s : env_strings) envp.push_back(&s[0]);
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  for (std::string& s : argv_copy) args.push_back(&s[0]);
  args.push_back(nullptr);

  // Forwarding handlers go in before fork so no signal is lost.
  struct sigaction forward {
  }, previous[kNumForwarded], old_pipe;
  forward.sa_handler = ForwardSignal;
  forward.sa_flags = SA_RESTART;
  sigemptyset(&forward.sa_mask);
  g_child_pid = 0;
  g_forwarded = 0;
  for (int i = 0; i < kNumForwarded; ++i) {
    sigaction(kForwarded[i], &forward, &previous[i]);
  }
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ignore, &old_pipe);
  // SIGCHLD wakes the poll loop: with tracing, each stop of a tracee needs
  // an answer at once (a signal storm is thousands a second).
  struct sigaction chld {
  }, old_chld;
  chld.sa_handler = OnSigchld;
  chld.sa_flags = SA_RESTART;
  sigemptyset(&chld.sa_mask);
  g_wake_fd = wake[1];
  sigaction(SIGCHLD, &chld, &old_chld);
  auto restore_signals = [&] {
    for (int i = 0; i < kNumForwarded; ++i) {
      sigaction(kForwarded[i], &previous[i], nullptr);
    }
    sigaction(SIGPIPE, &old_pipe, nullptr);
    sigaction(SIGCHLD, &old_chld, nullptr);
    g_wake_fd = -1;
  };

  auto started_at = std::chrono::steady_clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    // Child: default dispositions, pipes as stdout/stderr, exec.
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig : kForwarded) sigaction(sig, &dfl, nullptr);
    sigaction(SIGPIPE, &dfl, nullptr);
    sigaction(SIGCHLD, &dfl, nullptr);
    dup2(out[1], STDOUT_FILENO);
    dup2(err[1], STDERR_FILENO);
    // Wait until the parent has seized us (or given up): EOF or a byte.
    close(go[1]);
    char c;
    while (read(go[0], &c, 1) < 0 && errno == EINTR) {
    }
    execvpe(args[0], args.data(), envp.data());
    const char msg[] = "crashctl run: cannot execute command\n";
    (void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
    _exit(127);
  }
  if (crash_child_fd >= 0) close(crash_child_fd);
  close(out[1]), close(err[1]), close(crash[1]), close(go[0]);
  out[1] = err[1] = crash[1] = go[0] = -1;
  if (pid < 0) {
    result.error = std::string("fork: ") + std::strerror(errno);
    ClosePipe(out), ClosePipe(err), ClosePipe(crash), ClosePipe(wake);
    ClosePipe(go);
    restore_signals();
    return result;
  }
  g_child_pid = pid;
  result.started = true;
  result.pid = pid;

  std::unique_ptr<Tracer> tracer;
  if (options.trace) {
    tracer.reset(new Tracer(options.tracer));
    int e = tracer->Seize(pid);
    if (e != 0) {
      result.trace_error = std::string("PTRACE_SEIZE: ") + std::strerror(e);
      tracer.reset();
    } else {
      result.traced = true;
    }
  }
  // Let the child exec the command.
  close(go[1]);
  go[1] = -1;
  // The child has its environment. Ours loses DEBUGINFOD_URLS: symbolising
  // a crash must not wait on debuginfod servers (elfutils' own timeout is
  // 90 s; the unwind has 2 s).
  unsetenv("DEBUGINFOD_URLS");

  LogTail tail;
  struct pollfd fds[4] = {{out[0], POLLIN, 0},
                          {err[0], POLLIN, 0},
                          {crash[0], POLLIN, 0},
                          {wake[0], POLLIN, 0}};
  bool reaped = false;
  std::chrono::steady_clock::time_point drain_deadline;
  char buf[64 * 1024];
  std::vector<CapturedCrash> pending;  // crashes not yet handed on
  auto take_crashes = [&] {
    if (!tracer) return;
    for (CapturedCrash& c : tracer->TakeCrashes()) {
      pending.push_back(std::move(c));
    }
    // A descendant's crash while the command runs on (a pre-forking
    // server's worker) is reported on its own once it is old enough that
    // the command's own death is not coming with it.
    if (!options.on_descendant_crash || reaped) return;
    const auto now = std::chrono::steady_clock::now();
    for (size_t i = 0; i < pending.size();) {
      if (pending[i].pid != pid &&
          now - pending[i].when >= options.descendant_delay) {
        options.on_descendant_crash(pending[i], tail.Lines());
        pending.erase(pending.begin() + static_cast<long>(i));
      } else {
        ++i;
      }
    }
  };
  // Bounded: ends at most 500 ms after the child is reaped.
  for (;;) {
    int ready = poll(fds, 4, 50);
    if (ready > 0 && fds[3].revents != 0) {
      while (read(wake[0], buf, sizeof(buf)) > 0) {
      }
    }
    if (tracer) {
      // Stops first: a stopped tracee waits for us, output does not.
      tracer->Poll();
      take_crashes();
      if (!reaped && tracer->root_reaped()) {
        reaped = true;
        result.run_time = std::chrono::steady_clock::now() - started_at;
        result.wait_status = tracer->root_status();
        drain_deadline =
            std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
        g_child_pid = 0;
      }
    }
    if (ready > 0) {
      for (int i = 0; i < 3; ++i) {
        if (fds[i].fd < 0 || fds[i].revents == 0) continue;
        ssize_t n = read(fds[i].fd, buf, sizeof(buf));
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n <= 0) {
          close(fds[i].fd);
          fds[i].fd = -1;
          continue;
        }
        if (i < 2) {
          WriteAll(i == 0 ? STDOUT_FILENO : STDERR_FILENO, buf,
                   static_cast<size_t>(n));
          tail.Feed(i, buf, static_cast<size_t>(n));
        } else if (result.crash_record.size() < kMaxCrashRecord) {
          result.crash_record.append(buf, static_cast<size_t>(n));
        }
      }
    }
    if (!reaped && !tracer) {
      int status = 0;
      pid_t r = waitpid(pid, &status, WNOHANG);
      if (r == pid) {
        reaped = true;
        result.run_time = std::chrono::steady_clock::now() - started_at;
        result.wait_status = status;
        drain_deadline =
            std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
        g_child_pid = 0;
      } else if (r < 0 && errno != EINTR) {
        reaped = true;  // not our child any more; nothing to wait for
        drain_deadline = std::chrono::steady_clock::now();
        g_child_pid = 0;
      }
    }
    bool all_closed = fds[0].fd < 0 && fds[1].fd < 0 && fds[2].fd < 0;
    if (reaped &&
        (all_closed || std::chrono::steady_clock::now() >= drain_deadline)) {
      break;
    }
  }
  if (tracer) {
    // What the command left running goes on untraced.
    tracer->DetachAll(std::chrono::milliseconds(500));
    take_crashes();
    result.crashes = std::move(pending);
    result.dropped_crashes = tracer->dropped_crashes();
    result.root_peak_rss = tracer->root_peak_rss();
    result.max_peak_rss = tracer->max_peak_rss();
    result.detached = tracer->detached();
  }
  restore_signals();
  for (int i = 0; i < 3; ++i) {
    if (fds[i].fd >= 0) close(fds[i].fd);
  }
  close(wake[0]), close(wake[1]);

  tail.Finish();
  result.last_lines = tail.Lines();
  result.forwarded_signal = g_forwarded;
  if (WIFEXITED(result.wait_status)) {
    result.exited = true;
    result.exit_code = WEXITSTATUS(result.wait_status);
  } else if (WIFSIGNALED(result.wait_status)) {
    result.signal = WTERMSIG(result.wait_status);
  }
  return result;
}

}  // namespace supervisor
}  // namespace crashctl
