// Test support for the supervisor tests: finding and running the toolchains
// (go, rustc, cc, python3, node) that build and run the crash programs.
//
// Thread-safety: functions are reentrant.
#ifndef CRASHCTL_TESTS_SUPERVISOR_TOOLS_H_
#define CRASHCTL_TESTS_SUPERVISOR_TOOLS_H_

#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace crashctl {
namespace run_test {

// Runs a shell command; true if it exited 0.
inline bool Shell(const std::string& command) {
  return std::system(command.c_str()) == 0;
}

// The first of `candidates` on PATH (a bare name) or executable (a path),
// or "".
inline std::string FindTool(const std::vector<std::string>& candidates) {
  for (const std::string& c : candidates) {
    if (c.find('/') == std::string::npos) {
      if (Shell("command -v " + c + " >/dev/null 2>&1")) return c;
    } else if (access(c.c_str(), X_OK) == 0) {
      return c;
    }
  }
  return "";
}

}  // namespace run_test
}  // namespace crashctl

#endif  // CRASHCTL_TESTS_SUPERVISOR_TOOLS_H_
