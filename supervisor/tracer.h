// Traces the supervised command and everything it starts (PTRACE_SEIZE with
// PTRACE_O_TRACEFORK, TRACEVFORK, TRACECLONE, TRACEEXEC, TRACEEXIT) so that a
// crash is unwound from outside, at the delivery that will kill:
//   - a signal-delivery-stop passes the signal on at once (PTRACE_CONT with
//     it); a group-stop is left in place with PTRACE_LISTEN, so SIGSTOP,
//     SIGTSTP and SIGCONT work as without a tracer; event stops (fork, clone,
//     exec, exit) and new tasks' first stops resume at once;
//   - a crash signal (signal_info.h IsCrashSignal) whose disposition in that
//     process is the default (not in SigCgt or SigIgn of /proc/TID/status) is
//     unwound once per process: every other thread (at most 63) is stopped
//     with PTRACE_INTERRUPT, all of them are unwound (ptrace_unwind.h), and
//     the signal is then delivered, so exit status and core dumps are as
//     without crashctl. A handled signal (Go's, the JVM's, Rust's stack guard,
//     the crashctl SDK's handler) is not a crash yet; the SDK's re-raise with
//     the default disposition is the delivery that is unwound;
//   - a Go program (ELF section .go.buildinfo, checked at every exec) is
//     detached from (PTRACE_DETACH) unless TracerOptions::detach_go is false:
//     its runtime handles every fault signal itself and prints its own
//     traceback, and its SIGURG preemption signals would each be a stop;
//     so is a program with LeakSanitizer's runtime (ASan, LSan), whose leak
//     check at exit ptraces its own threads and fails under another tracer
//     (its own handlers print the stack of a crash);
//   - a process that takes more than TracerOptions::max_signal_rate signals
//     in a second (each is a stop and a round trip through crashctl, some
//     50 us of CPU) is detached from, all its threads at once: a crash of it
//     is then reported without a stack;
//   - at each process' exit stop its VmHWM (peak RSS) is read.
// Wait events of tasks that are not the one being handled, reaped while
// stopping a process' threads, are queued and handled afterwards.
// Thread-safety: not thread-safe; every call must come from the thread that
// called Seize (ptrace requests are only accepted from the tracing thread).
#ifndef CRASHCTL_SUPERVISOR_TRACER_H_
#define CRASHCTL_SUPERVISOR_TRACER_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "crashctl/sdk.h"
#include "elf_probe.h"

namespace crashctl {
namespace supervisor {

struct TracerOptions {
  bool detach_go = true;
  bool detach_leak_sanitizer = true;
  // Signals a second (to one thread) above which its process is detached
  // from; 0: never.
  size_t max_signal_rate = 2000;
  std::chrono::milliseconds unwind_budget{2000};  // stop + unwind + symbolise
  size_t max_frames = 256;                        // per thread
  size_t max_threads = 64;                        // per process
  size_t max_crashes = 16;  // captured per run; later ones are counted only
};

// One crash as seen at its fatal signal delivery.
struct CapturedCrash {
  pid_t pid = 0;  // the process (thread group id)
  pid_t tid = 0;  // the thread the signal was for
  int signal = 0;
  int code = 0;                      // siginfo si_code
  uint64_t address = 0;              // siginfo si_addr
  std::string exe;                   // /proc/PID/exe at the crash
  std::vector<sdk::Thread> threads;  // the crashed thread first
  bool truncated = false;            // a frame, thread or time limit was hit
  std::string error;  // why a thread has no frames (libdw, ptrace), or ""
  std::chrono::steady_clock::time_point when;
};

class Tracer {
 public:
  explicit Tracer(const TracerOptions& options);
  ~Tracer() = default;
  Tracer(const Tracer&) = delete;
  Tracer& operator=(const Tracer&) = delete;

  // PTRACE_SEIZE of `pid` (the root: the command crashctl forked). Returns 0,
  // or the errno of the failure (EPERM under a seccomp profile that denies
  // ptrace, YAMA ptrace_scope 3, an already traced child, ...).
  int Seize(pid_t pid);

  // Reaps and handles every pending wait event of the traced tasks (and the
  // root's exit): waitpid(-1, __WALL | WNOHANG). Returns without blocking,
  // except for a crash's unwind (bounded by unwind_budget).
  void Poll();

  // True once the root was reaped; its wait status.
  bool root_reaped() const { return root_reaped_; }
  int root_status() const { return root_status_; }

  // Detaches from every task still traced (a daemon the command left behind)
  // so that it runs on untraced; tasks that do not stop within `timeout` are
  // detached by the kernel when crashctl exits.
  void DetachAll(std::chrono::milliseconds timeout);

  // Crashes captured since the last call, oldest first.
  std::vector<CapturedCrash> TakeCrashes();
  size_t dropped_crashes() const { return dropped_crashes_; }

  // Peak RSS (VmHWM at the exit stop) in bytes of the root, and the highest
  // of all traced processes; -1 when not seen.
  int64_t root_peak_rss() const { return root_peak_rss_; }
  int64_t max_peak_rss() const { return max_peak_rss_; }

  // Executables detached from, "PATH (Go program)", "PATH (LeakSanitizer)"
  // or "PATH (N signals/s)" (at most 16).
  const std::vector<std::string>& detached() const { return detached_; }

 private:
  void Handle(pid_t tid, int status);
  void OnCrashSignal(pid_t tid, int signal);
  // Stops the threads of `tgid` other than `tid` (already stopped); returns
  // the stopped ones, `tid` first.
  std::vector<pid_t> StopThreads(pid_t tgid, pid_t tid,
                                 std::chrono::steady_clock::time_point deadline,
                                 bool* truncated);
  void Resume(pid_t tid, int signal);
  // ProbeExecutable of the program `tid` runs, cached by file.
  ExecutableFacts Probe(pid_t tid, const std::string& exe);
  // Counts a signal of `tid`; true when its rate is over max_signal_rate.
  bool TooManySignals(pid_t tid);
  // Detaches every thread of the process of `tid` (stopped in the delivery
  // of `signal`, which it keeps). True if `tid` was detached.
  bool DetachProcess(pid_t tid, int signal, const std::string& why);
  void Queue(pid_t tid, int status);

  TracerOptions options_;
  pid_t root_ = 0;
  bool root_reaped_ = false;
  int root_status_ = 0;
  std::set<pid_t> traced_;   // tasks seen or announced (fork/clone events)
  std::set<pid_t> unwound_;  // processes whose crash was handled
  std::deque<std::pair<pid_t, int>> queued_;  // (tid, wait status)
  std::set<pid_t> queued_tids_;
  std::vector<CapturedCrash> crashes_;
  size_t captured_ = 0;
  size_t dropped_crashes_ = 0;
  int64_t root_peak_rss_ = -1;
  int64_t max_peak_rss_ = -1;
  std::vector<std::string> detached_;
  struct SignalWindow {
    std::chrono::steady_clock::time_point start;
    size_t count = 0;
  };
  std::map<pid_t, SignalWindow> signal_windows_;             // by tid
  using ProbeKey = std::tuple<uint64_t, uint64_t, int64_t>;  // dev, ino, mtime
  std::map<ProbeKey, ExecutableFacts> probe_cache_;
};

}  // namespace supervisor
}  // namespace crashctl

#endif  // CRASHCTL_SUPERVISOR_TRACER_H_
