// Test support: start the real crashctl binary on a free loopback port,
// talk HTTP to it, run commands, poll conditions. For tests only.
//
// Thread-safety: free functions are thread-safe; a ServerProcess is owned by
// one test thread.
#ifndef CRASHCTL_TESTS_TESTING_SERVER_PROCESS_H_
#define CRASHCTL_TESTS_TESTING_SERVER_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "temp_dir.h"

namespace crashctl {
namespace testing {

struct HttpResult {
  long status = 0;  // 0 when the request failed at the transport level
  std::string body;
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string error;                           // transport error, if any
};

// One HTTP request with libcurl (loopback only). `headers` are "Name: value"
// lines.
HttpResult HttpCall(const std::string& method, const std::string& url,
                    const std::string& body = "",
                    const std::vector<std::string>& headers = {},
                    long timeout_ms = 15000);

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreePort();
// `n` distinct such ports (chosen together, so no two are the same).
std::vector<int> FreePorts(int n);
// Whether process `pid` holds a socket listening on TCP `port` (IPv4), read
// from /proc.
bool ListensOn(pid_t pid, int port);
// Polls `condition` every 20 ms until it holds or `timeout_seconds` pass.
bool WaitFor(const std::function<bool()>& condition, double timeout_seconds);
// Seconds (steady clock) since `since`.
inline double SecondsSince(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since)
      .count();
}

struct CommandResult {
  int exit_code = -1;  // 128+signal when killed
  std::string out;
  std::string err;
};
// Runs argv[0] with `argv` and extra environment; kills it after
// `timeout_seconds`.
CommandResult RunCommand(const std::vector<std::string>& argv,
                         const std::map<std::string, std::string>& env = {},
                         double timeout_seconds = 60);

// Path of the crashctl binary under test ($CRASHCTL_BINARY).
std::string CrashctlBinary();
// Repository root ($CRASHCTL_SOURCE_DIR).
std::string SourceDir();

class ServerProcess {
 public:
  struct Options {
    std::vector<std::string> extra_args;     // after "serve"
    std::map<std::string, std::string> env;  // added to the environment
    // "" = a new TempDir, removed when the ServerProcess is destroyed (after
    // the server has stopped); else the caller's, which is left alone.
    std::string data_dir;
    int port = 0;            // 0 = a free port
    bool wait_ready = true;  // wait for /healthz
  };
  struct ProjectInfo {
    int64_t id = 0;
    std::string key;
    std::string dsn;        // http://KEY@127.0.0.1:PORT/ID
    std::string short_dsn;  // http://127.0.0.1:PORT/api/v1/events?key=KEY
    // The Sentry store endpoint: "/api/ID/store/?sentry_key=KEY".
    std::string StorePath() const {
      return "/api/" + std::to_string(id) + "/store/?sentry_key=" + key;
    }
  };

  // Starts `crashctl serve --listen 127.0.0.1:PORT --data DIR`; waits until
  // the process listens on PORT and /healthz answers (up to 20 s). With
  // `port` 0 a start that fails (say, the port was taken meanwhile) is retried
  // on a new port, up to three times. Returns null with `*error` on failure.
  static std::unique_ptr<ServerProcess> Start(const Options& options,
                                              std::string* error);
  // SIGTERM, then SIGKILL after 10 s; then removes the data dir if it is the
  // ServerProcess' own temp dir.
  ~ServerProcess();

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  // The server's data dir. When the ServerProcess made it, it is gone once the
  // ServerProcess is: to restart on the same data, pass a TempDir of your own
  // as Options::data_dir.
  const std::string& data_dir() const { return data_dir_; }
  std::string base_url() const;

  HttpResult Get(const std::string& path,
                 const std::vector<std::string>& headers = {});
  HttpResult Post(const std::string& path, const std::string& body,
                  const std::vector<std::string>& headers = {});
  HttpResult Patch(const std::string& path, const std::string& body,
                   const std::vector<std::string>& headers = {});

  // `crashctl project create --name NAME` on this server's data dir and
  // storage (the CRASHCTL_STORAGE_* variables of Options::env, so also on
  // PostgreSQL), with CRASHCTL_SERVER_BASE_URL set to this server. Throws
  // on error.
  ProjectInfo CreateProject(const std::string& name);

  // Sends `sig` and waits for the process; returns its exit status
  // (128+signal when killed by one).
  int Stop(int sig);
  // What the server wrote to stderr so far.
  std::string Log() const;

 private:
  ServerProcess() = default;
  static std::unique_ptr<ServerProcess> StartOnce(const Options& options,
                                                  std::string* error);
  // Set when Options::data_dir was empty. Members are destroyed after the
  // destructor's body has stopped the server.
  std::unique_ptr<TempDir> own_data_dir_;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string data_dir_;
  std::string log_path_;
  std::map<std::string, std::string> storage_env_;  // CRASHCTL_STORAGE_*
};

}  // namespace testing
}  // namespace crashctl

#endif  // CRASHCTL_TESTS_TESTING_SERVER_PROCESS_H_
