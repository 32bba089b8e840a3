// Runs a command under supervision: its stdout and stderr go through pipes
// and are copied to ours as they arrive (no buffering) while the last lines
// are kept; a third pipe, whose write end the child finds in env
// CRASHCTL_CRASH_FD, receives the SDK's crash record. SIGTERM, SIGINT and
// SIGHUP sent to the supervisor are forwarded to the child.
// With RunOptions::trace the child is seized with ptrace before it execs the
// command (it waits on a pipe until then) and traced with its descendants
// (tracer.h); a SIGCHLD handler wakes the poll loop for each ptrace stop. If
// PTRACE_SEIZE fails the command runs untraced (ChildResult::trace_error).
// Thread-safety: RunChild must be called from one thread at a time (it owns
// process-wide signal dispositions while it runs); the ptrace requests are
// all made from the calling thread.
#ifndef CRASHCTL_SUPERVISOR_CHILD_PROCESS_H_
#define CRASHCTL_SUPERVISOR_CHILD_PROCESS_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tracer.h"

namespace crashctl {
namespace supervisor {

struct ChildResult {
  bool started = false;  // false: fork/exec failed (see error)
  std::string error;
  int pid = 0;
  int wait_status = 0;  // as from waitpid
  bool exited = false;  // WIFEXITED
  int exit_code = 0;    // when exited
  int signal = 0;       // when killed by a signal
  std::chrono::steady_clock::duration run_time{};
  std::string crash_record;  // what came through the crash pipe (<= 1 MiB)
  std::vector<std::string> last_lines;  // last 100 lines, oldest first
  int forwarded_signal = 0;  // last signal we passed on to the child, or 0

  // Tracing (RunOptions::trace).
  bool traced = false;      // PTRACE_SEIZE succeeded
  std::string trace_error;  // why not, e.g. "PTRACE_SEIZE: Operation not
                            // permitted"; "" when traced or not asked
  // Crashes unwound at their fatal signal that were not handed to
  // RunOptions::on_descendant_crash, oldest first: the root's own and those of
  // descendants that crashed shortly before the run ended.
  std::vector<CapturedCrash> crashes;
  size_t dropped_crashes = 0;  // over TracerOptions::max_crashes
  int64_t root_peak_rss = -1;  // VmHWM of the command, bytes
  int64_t max_peak_rss = -1;   // highest VmHWM of any traced process
  // Programs detached from at their exec, "PATH (Go program)" or "PATH
  // (LeakSanitizer)".
  std::vector<std::string> detached;

  // The status a shell would report: exit code, or 128 + signal.
  int ShellStatus() const { return exited ? exit_code : 128 + signal; }
};

struct RunOptions {
  bool trace = false;
  TracerOptions tracer;
  // Called (on RunChild's thread) for the crash of a process other than the
  // command itself once it is `descendant_delay` old and the command still
  // runs: a pre-forking server's worker. Crashes not handed here end up in
  // ChildResult::crashes.
  // `last_lines`: the output tail at that moment.
  std::function<void(const CapturedCrash&,
                     const std::vector<std::string>& last_lines)>
      on_descendant_crash;
  std::chrono::milliseconds descendant_delay{3000};
};

// Runs argv[0] (looked up in PATH) with `extra_env` ("K=V") added to the
// environment. Returns once the child has exited and its pipes are drained
// (and, when tracing, every task still traced was detached from).
ChildResult RunChild(const std::vector<std::string>& argv,
                     const std::vector<std::string>& extra_env,
                     const RunOptions& options = RunOptions());

}  // namespace supervisor
}  // namespace crashctl

#endif  // CRASHCTL_SUPERVISOR_CHILD_PROCESS_H_
