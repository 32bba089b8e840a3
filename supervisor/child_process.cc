#include "supervisor/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "supervisor/log_tail.h"

extern char** environ;

namespace crashctl {
namespace supervisor {
namespace {

constexpr size_t kMaxCrashRecord = 1 << 20;
constexpr int kForwarded[] = {SIGTERM, SIGINT, SIGHUP};
constexpr int kNumForwarded = sizeof(kForwarded) / sizeof(kForwarded[0]);

volatile sig_atomic_t g_child_pid = 0;
volatile sig_atomic_t g_forwarded = 0;

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
                     const std::vector<std::string>& extra_env) {
  ChildResult result;
  if (argv.empty()) {
    result.error = "no command";
    return result;
  }
  int out[2] = {-1, -1}, err[2] = {-1, -1}, crash[2] = {-1, -1};
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0 ||
      pipe2(crash, O_CLOEXEC) != 0) {
    result.error = std::string("pipe: ") + std::strerror(errno);
    ClosePipe(out), ClosePipe(err), ClosePipe(crash);
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

  auto started_at = std::chrono::steady_clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    // Child: default dispositions, pipes as stdout/stderr, exec.
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig : kForwarded) sigaction(sig, &dfl, nullptr);
    sigaction(SIGPIPE, &dfl, nullptr);
    dup2(out[1], STDOUT_FILENO);
    dup2(err[1], STDERR_FILENO);
    execvpe(args[0], args.data(), envp.data());
    const char msg[] = "crashctl run: cannot execute command\n";
    (void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
    _exit(127);
  }
  if (crash_child_fd >= 0) close(crash_child_fd);
  close(out[1]), close(err[1]), close(crash[1]);
  out[1] = err[1] = crash[1] = -1;
  if (pid < 0) {
    result.error = std::string("fork: ") + std::strerror(errno);
    ClosePipe(out), ClosePipe(err), ClosePipe(crash);
    for (int i = 0; i < kNumForwarded; ++i) {
      sigaction(kForwarded[i], &previous[i], nullptr);
    }
    sigaction(SIGPIPE, &old_pipe, nullptr);
    return result;
  }
  g_child_pid = pid;
  result.started = true;
  result.pid = pid;

  LogTail tail;
  struct pollfd fds[3] = {
      {out[0], POLLIN, 0}, {err[0], POLLIN, 0}, {crash[0], POLLIN, 0}};
  bool reaped = false;
  std::chrono::steady_clock::time_point drain_deadline;
  char buf[64 * 1024];
  // Bounded: ends at most 500 ms after the child is reaped.
  for (;;) {
    int ready = poll(fds, 3, 50);
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
    if (!reaped) {
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
  for (auto& p : fds) {
    if (p.fd >= 0) close(p.fd);
  }
  for (int i = 0; i < kNumForwarded; ++i) {
    sigaction(kForwarded[i], &previous[i], nullptr);
  }
  sigaction(SIGPIPE, &old_pipe, nullptr);

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
