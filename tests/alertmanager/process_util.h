// Test helpers for tests that run real programs (prometheus-alertmanager,
// amtool): temporary directories (the shared tests/testing/temp_dir.h), child
// processes that are always killed, bounded polling.
//
// Thread-safety: none of these are meant to be shared between threads.
#ifndef CRASHCTL_TESTS_ALERTMANAGER_PROCESS_UTIL_H_
#define CRASHCTL_TESTS_ALERTMANAGER_PROCESS_UTIL_H_

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "tests/testing/server_process.h"
#include "tests/testing/temp_dir.h"

namespace crashctl {
namespace alertmanager {
namespace testing_util {

// The shared TempDir named "crashctl-alerting-XXXXXX".
class TempDir : public ::crashctl::testing::TempDir {
 public:
  TempDir() : ::crashctl::testing::TempDir("alerting") {}
};

// Writes `content` to `path`; returns false on failure.
bool WriteFile(const std::string& path, const std::string& content);

// A child process; SIGTERM (then SIGKILL after 3 s) on destruction. Output
// goes to `log_path` when given, else is discarded.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv,
               const std::string& log_path = "");
  ~ChildProcess();
  bool running();
  pid_t pid() const { return pid_; }
  void Stop();

 private:
  pid_t pid_ = -1;
};

// Runs argv to completion (at most `timeout` seconds, then SIGKILL) with
// the shared crashctl::testing::RunCommand; returns its exit status (128 +
// signal when killed) and stdout; its stderr goes to the test's.
int RunCommand(const std::vector<std::string>& argv, std::string* output,
               double timeout = 10);

// Polls `condition` every 20 ms until it holds or `timeout` seconds pass.
using ::crashctl::testing::WaitFor;

// GET http://127.0.0.1:<port><path> with a 2 s timeout (the shared
// crashctl::testing::HttpCall); HTTP status or 0.
int HttpGet(int port, const std::string& path, std::string* body = nullptr);

// Contents of a file ("" if unreadable).
std::string ReadFile(const std::string& path);

}  // namespace testing_util
}  // namespace alertmanager
}  // namespace crashctl

#endif  // CRASHCTL_TESTS_ALERTMANAGER_PROCESS_UTIL_H_
