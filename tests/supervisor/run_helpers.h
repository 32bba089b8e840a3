// Test helpers shared by the `crashctl run` tests: start the supervisor (the
// crashctl binary when it dispatches `run`, else run_driver) with its output
// in files, wait for it with a deadline, read what it reported. Tests only.
// Thread-safety: call from the test's thread.
#ifndef CRASHCTL_TESTS_SUPERVISOR_RUN_HELPERS_H_
#define CRASHCTL_TESTS_SUPERVISOR_RUN_HELPERS_H_

#include <fcntl.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/supervisor/tools.h"
#include "tests/testing/temp_dir.h"

namespace crashctl {
namespace run_test {

using std::chrono::milliseconds;
using std::chrono::seconds;

inline std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string Example(const std::string& name) {
  return std::string(CRASHCTL_EXAMPLES_DIR) + "/crashctl_example_" + name;
}

struct Process {
  testing::TempDir dir{"run-test"};  // holds out_path and err_path
  pid_t pid = -1;
  std::string out_path, err_path;
};

// Starts `argv` with `env` added, stdout/stderr into files. `in_child` runs
// in the child before exec (e.g. to join a cgroup); its failure is exit 125.
inline Process Start(const std::vector<std::string>& argv,
                     const std::vector<std::string>& env,
                     const std::function<bool()>& in_child = nullptr) {
  Process p;
  p.out_path = p.dir.File("stdout");
  p.err_path = p.dir.File("stderr");
  p.pid = fork();
  if (p.pid == 0) {
    int out = open(p.out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = open(p.err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(out, 1);
    dup2(err, 2);
    for (const std::string& kv : env) putenv(strdup(kv.c_str()));
    if (in_child && !in_child()) _exit(125);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(strdup(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(126);
  }
  return p;
}

// Waits up to `timeout`; kills it after that. Returns the wait status.
inline int Wait(const Process& p, milliseconds timeout = seconds(30)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (waitpid(p.pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(p.pid, SIGKILL);
      waitpid(p.pid, &status, 0);
      ADD_FAILURE() << "supervisor did not finish in time";
      break;
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
  return status;
}

// The supervisor command: `$CRASHCTL_BINARY run` once main.cc dispatches
// it (probed: a bare `run` must be a usage error naming "crashctl run"),
// else the test driver around RunMain.
inline std::vector<std::string> Supervisor() {
  static std::vector<std::string> cmd = [] {
    const char* bin = std::getenv("CRASHCTL_BINARY");
    if (bin != nullptr && access(bin, X_OK) == 0) {
      Process probe = Start({bin, "run"}, {});
      int status = Wait(probe, seconds(10));
      if (WIFEXITED(status) && WEXITSTATUS(status) == 2 &&
          ReadAll(probe.err_path).find("crashctl run") != std::string::npos) {
        return std::vector<std::string>{bin, "run"};
      }
    }
    return std::vector<std::string>{CRASHCTL_RUN_DRIVER};
  }();
  return cmd;
}

struct Outcome {
  int status = 0;  // wait status of the supervisor
  std::string out, err;
};

inline Outcome RunSupervised(const std::vector<std::string>& args,
                             const std::vector<std::string>& env,
                             const std::function<bool()>& in_child = nullptr,
                             milliseconds timeout = seconds(30)) {
  std::vector<std::string> argv = Supervisor();
  argv.insert(argv.end(), args.begin(), args.end());
  Process p = Start(argv, env, in_child);
  Outcome o;
  o.status = Wait(p, timeout);
  o.out = ReadAll(p.out_path);
  o.err = ReadAll(p.err_path);
  return o;
}

inline int ExitStatus(const Outcome& o) {
  return WIFEXITED(o.status) ? WEXITSTATUS(o.status) : -1;
}

// The innermost frame marked in_app, or null.
inline const rapidjson::Value* TopInApp(const rapidjson::Value& exception) {
  if (!exception.HasMember("stacktrace")) return nullptr;
  const auto& frames = exception["stacktrace"]["frames"];
  for (rapidjson::SizeType i = frames.Size(); i-- > 0;) {
    if (frames[i]["in_app"].GetBool()) return &frames[i];
  }
  return nullptr;
}

inline bool HasLogLine(const rapidjson::Document& doc,
                       const std::string& line) {
  const auto& lines = doc["extra"]["log_lines"];
  for (const auto& l : lines.GetArray()) {
    if (line == l.GetString()) return true;
  }
  return false;
}

}  // namespace run_test
}  // namespace crashctl

#endif  // CRASHCTL_TESTS_SUPERVISOR_RUN_HELPERS_H_
