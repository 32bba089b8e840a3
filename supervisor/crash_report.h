// Decides whether a child died badly and describes how, as one Sentry event.
// Thread-safety: pure functions, thread-safe.
#ifndef CRASHCTL_SUPERVISOR_CRASH_REPORT_H_
#define CRASHCTL_SUPERVISOR_CRASH_REPORT_H_

#include <string>
#include <vector>

#include "crashctl/sdk.h"
#include "supervisor/child_process.h"

namespace crashctl {
namespace supervisor {

struct ReportContext {
  std::string service;
  std::vector<std::string> command;
  bool oom_killed = false;  // cgroup oom_kill counter went up while it ran
};

// True unless the child exited with status 0.
bool DiedBadly(const ChildResult& child);

// The fatal event for a child that died badly: exception type the signal
// name ("SIGSEGV"), the C++ exception type for an uncaught exception,
// "OOMKilled", or "ExitCode"; frames from the SDK's crash record (if any)
// symbolised against the child's binaries; tags service, exit_code, signal;
// extra with the last log lines, run time and command; server_name the host
// or pod name.
sdk::Event BuildCrashEvent(const ChildResult& child, const ReportContext& ctx);

}  // namespace supervisor
}  // namespace crashctl

#endif  // CRASHCTL_SUPERVISOR_CRASH_REPORT_H_
