// Small helpers shared by the SDK and the supervisor.
// Thread-safety: all functions are thread-safe (none is async-signal-safe).
#ifndef CRASHCTL_SDK_SRC_UTIL_H_
#define CRASHCTL_SDK_SRC_UTIL_H_

#include <string>

namespace crashctl {
namespace sdk {

// A random 32-lowercase-hex Sentry event id.
std::string NewEventId();

// Current UTC time as "2026-11-22T22:47:29.123Z".
std::string Iso8601Now();

// Host or pod name: env HOSTNAME if set, else gethostname().
std::string HostName();

// Demangles a C++ symbol or type name; returns the input if it is not one.
std::string Demangle(const std::string& mangled);

// Spool directory: `configured` if not empty, else env CRASHCTL_SPOOL_DIR,
// else $XDG_STATE_HOME/crashctl/spool, else ~/.local/state/crashctl/spool.
std::string ResolveSpoolDir(const std::string& configured);

// mkdir -p; true if the directory exists afterwards.
bool MakeDirs(const std::string& path);

}  // namespace sdk
}  // namespace crashctl

#endif  // CRASHCTL_SDK_SRC_UTIL_H_
