// Runs a command under supervision: its stdout and stderr go through pipes
// and are copied to ours as they arrive (no buffering) while the last lines
// are kept; a third pipe, whose write end the child finds in env
// CRASHCTL_CRASH_FD, receives the SDK's crash record. SIGTERM, SIGINT and
// SIGHUP sent to the supervisor are forwarded to the child.
// Thread-safety: RunChild must be called from one thread at a time (it owns
// process-wide signal dispositions while it runs).
#ifndef CRASHCTL_SUPERVISOR_CHILD_PROCESS_H_
#define CRASHCTL_SUPERVISOR_CHILD_PROCESS_H_

#include <chrono>
#include <string>
#include <vector>

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

  // The status a shell would report: exit code, or 128 + signal.
  int ShellStatus() const { return exited ? exit_code : 128 + signal; }
};

// Runs argv[0] (looked up in PATH) with `extra_env` ("K=V") added to the
// environment. Returns once the child has exited and its pipes are drained.
ChildResult RunChild(const std::vector<std::string>& argv,
                     const std::vector<std::string>& extra_env);

}  // namespace supervisor
}  // namespace crashctl

#endif  // CRASHCTL_SUPERVISOR_CHILD_PROCESS_H_
