// In-process crash capture: handlers for SIGSEGV, SIGBUS, SIGILL, SIGFPE and
// SIGABRT on an alternate signal stack, and a std::terminate handler that
// records the uncaught exception's type and what() before aborting.
//
// The signal handler is async-signal-safe: it walks the stack with
// libunwind's local unwinder from the signal's ucontext, and writes a text
// crash record (format in docs/supervisor.md) with the raw program counters
// and the module load addresses computed at install time to a file
// descriptor chosen at install time, then restores the previous handler and
// re-raises the signal. Symbolising happens outside the crashed process.
//
// Thread-safety: Install/Uninstall must not race with each other; the
// handlers themselves may fire on any thread.
#ifndef CRASHCTL_SDK_SRC_CRASH_HANDLER_H_
#define CRASHCTL_SDK_SRC_CRASH_HANDLER_H_

#include <string>

namespace crashctl {
namespace sdk {

// Installs the handlers. The record goes to the fd in env CRASHCTL_CRASH_FD
// when it names an open descriptor (a supervising `crashctl run`); otherwise
// to "<spool_dir>/crash-<pid>.record", opened now. Returns false if neither
// is available (handlers are then not installed).
bool InstallCrashHandler(const std::string& spool_dir, bool debug);

// Restores the previous handlers; removes this process' record file when it
// is still empty.
void UninstallCrashHandler();

// Re-reads the loaded modules (call after dlopen so crashes in the new
// library are attributed). Not async-signal-safe.
void RefreshCrashModules();

}  // namespace sdk
}  // namespace crashctl

#endif  // CRASHCTL_SDK_SRC_CRASH_HANDLER_H_
