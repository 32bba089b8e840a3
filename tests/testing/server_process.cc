#include "server_process.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace crashctl {
namespace testing {
namespace {

size_t AppendBody(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

size_t AppendHeader(char* data, size_t size, size_t n, void* out) {
  std::string line(data, size * n);
  const size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) {
      value.pop_back();
    }
    (*static_cast<std::map<std::string, std::string>*>(out))[name] = value;
  }
  return size * n;
}

int ExitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Waits for `pid` up to `timeout_seconds`; returns its exit status or -1.
int WaitPid(pid_t pid, double timeout_seconds) {
  int status = 0;
  int result = -1;
  WaitFor(
      [&] {
        const pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) result = ExitStatus(status);
        return r == pid || r < 0;
      },
      timeout_seconds);
  return result;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

[[noreturn]] void ExecWithEnv(const std::vector<std::string>& argv,
                              const std::map<std::string, std::string>& env) {
  for (const auto& kv : env) setenv(kv.first.c_str(), kv.second.c_str(), 1);
  std::vector<char*> args;
  for (const std::string& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  execvp(args[0], args.data());
  _exit(127);
}

}  // namespace

HttpResult HttpCall(const std::string& method, const std::string& url,
                    const std::string& body,
                    const std::vector<std::string>& headers, long timeout_ms) {
  HttpResult result;
  CURL* curl = curl_easy_init();
  if (!curl) {
    result.error = "curl_easy_init failed";
    return result;
  }
  curl_slist* list = nullptr;
  for (const std::string& h : headers)
    list = curl_slist_append(list, h.c_str());
  list = curl_slist_append(list, "Expect:");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &AppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &result.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &AppendHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &result.headers);
  if (method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  if (method != "GET" && method != "HEAD") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(body.size()));
  }
  const CURLcode code = curl_easy_perform(curl);
  if (code == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &result.status);
  } else {
    result.error = curl_easy_strerror(code);
  }
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return result;
}

std::vector<int> FreePorts(int n) {
  // Every socket stays bound until all n ports are known, so the kernel cannot
  // hand out the same port twice.
  std::vector<int> fds;
  std::vector<int> ports;
  for (int i = 0; i < n; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) break;
    fds.push_back(fd);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      break;
    }
    ports.push_back(ntohs(addr.sin_port));
  }
  for (int fd : fds) close(fd);
  if (static_cast<int>(ports.size()) != n) {
    throw std::runtime_error("cannot find free ports");
  }
  return ports;
}

int FreePort() { return FreePorts(1)[0]; }

bool ListensOn(pid_t pid, int port) {
  // /proc/net/tcp: "sl local_address rem_address st ... inode"; a listening
  // socket has state 0A. Its inode must be one of the process' fds.
  std::ifstream tcp("/proc/net/tcp");
  std::string line;
  std::getline(tcp, line);  // header
  std::vector<std::string> inodes;
  while (std::getline(tcp, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state, skip, inode;
    fields >> slot >> local >> remote >> state;
    for (int i = 0; i < 5; ++i)
      fields >> skip;  // tx/rx, tr, retrnsmt, uid, timeout
    fields >> inode;
    const size_t colon = local.find(':');
    if (state != "0A" || colon == std::string::npos) continue;
    if (std::stoi(local.substr(colon + 1), nullptr, 16) == port) {
      inodes.push_back("socket:[" + inode + "]");
    }
  }
  if (inodes.empty()) return false;
  const std::string fd_dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* dir = opendir(fd_dir.c_str());
  if (dir == nullptr) return false;
  bool found = false;
  while (dirent* entry = readdir(dir)) {
    char target[128];
    const std::string link = fd_dir + "/" + entry->d_name;
    const ssize_t n = readlink(link.c_str(), target, sizeof(target) - 1);
    if (n <= 0) continue;
    target[n] = '\0';
    if (std::find(inodes.begin(), inodes.end(), target) != inodes.end()) {
      found = true;
      break;
    }
  }
  closedir(dir);
  return found;
}

bool WaitFor(const std::function<bool()>& condition, double timeout_seconds) {
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration<double>(timeout_seconds);
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

CommandResult RunCommand(const std::vector<std::string>& argv,
                         const std::map<std::string, std::string>& env,
                         double timeout_seconds) {
  CommandResult result;
  int out_pipe[2];
  int err_pipe[2];
  if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0) return result;
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    close(out_pipe[0]);
    close(err_pipe[0]);
    close(out_pipe[1]);
    close(err_pipe[1]);
    ExecWithEnv(argv, env);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration<double>(timeout_seconds);
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_fds = 2;
  bool killed = false;
  while (open_fds > 0) {
    if (!killed && std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      killed = true;
    }
    if (poll(fds, 2, 100) < 0) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
      char buffer[4096];
      const ssize_t n = read(fds[i].fd, buffer, sizeof(buffer));
      if (n > 0) {
        sinks[i]->append(buffer, static_cast<size_t>(n));
      } else {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = ExitStatus(status);
  return result;
}

std::string CrashctlBinary() {
  const char* path = std::getenv("CRASHCTL_BINARY");
  return path ? path : "crashctl";
}

std::string SourceDir() {
  const char* path = std::getenv("CRASHCTL_SOURCE_DIR");
  return path ? path : ".";
}

std::unique_ptr<ServerProcess> ServerProcess::Start(const Options& options,
                                                    std::string* error) {
  // A port chosen here can be taken by another test before crashctl binds
  // it; then crashctl exits and the start is retried on a new port.
  const int attempts = options.port ? 1 : 3;
  for (int attempt = 1;; ++attempt) {
    std::unique_ptr<ServerProcess> server = StartOnce(options, error);
    if (server != nullptr || attempt == attempts) return server;
  }
}

std::unique_ptr<ServerProcess> ServerProcess::StartOnce(const Options& options,
                                                        std::string* error) {
  std::unique_ptr<ServerProcess> server(new ServerProcess());
  if (options.data_dir.empty()) {
    server->own_data_dir_ = std::make_unique<TempDir>("data");
    server->data_dir_ = server->own_data_dir_->path();
  } else {
    server->data_dir_ = options.data_dir;
  }
  server->port_ = options.port ? options.port : FreePort();
  for (const auto& [name, value] : options.env) {
    if (name.rfind("CRASHCTL_STORAGE_", 0) == 0) {
      server->storage_env_[name] = value;
    }
  }
  server->log_path_ = server->data_dir_ + "/server.log";
  std::vector<std::string> argv = {
      CrashctlBinary(), "serve",
      "--listen",       "127.0.0.1:" + std::to_string(server->port_),
      "--data",         server->data_dir_};
  argv.insert(argv.end(), options.extra_args.begin(), options.extra_args.end());
  const pid_t pid = fork();
  if (pid == 0) {
    const int log =
        open(server->log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (log >= 0) {
      dup2(log, 1);
      dup2(log, 2);
    }
    ExecWithEnv(argv, options.env);
  }
  server->pid_ = pid;
  if (!options.wait_ready) return server;
  // Healthy means: this child listens on the port (not some other test's
  // server that took it) and answers /healthz.
  const bool up = WaitFor(
      [&] {
        int status = 0;
        if (waitpid(pid, &status, WNOHANG) == pid) {
          server->pid_ = -1;
          return true;
        }
        return ListensOn(pid, server->port_) &&
               server->Get("/healthz").status == 200;
      },
      20);
  if (!up || server->pid_ < 0) {
    *error = "crashctl serve on port " + std::to_string(server->port_) +
             " did not become healthy; log:\n" + server->Log();
    return nullptr;
  }
  return server;
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    if (WaitPid(pid_, 10) < 0) {
      kill(pid_, SIGKILL);
      WaitPid(pid_, 10);
    }
  }
}

std::string ServerProcess::base_url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

HttpResult ServerProcess::Get(const std::string& path,
                              const std::vector<std::string>& headers) {
  return HttpCall("GET", base_url() + path, "", headers);
}

HttpResult ServerProcess::Post(const std::string& path, const std::string& body,
                               const std::vector<std::string>& headers) {
  return HttpCall("POST", base_url() + path, body, headers);
}

HttpResult ServerProcess::Patch(const std::string& path,
                                const std::string& body,
                                const std::vector<std::string>& headers) {
  return HttpCall("PATCH", base_url() + path, body, headers);
}

ServerProcess::ProjectInfo ServerProcess::CreateProject(
    const std::string& name) {
  std::map<std::string, std::string> env = storage_env_;
  env["CRASHCTL_SERVER_BASE_URL"] = base_url();
  const CommandResult result =
      RunCommand({CrashctlBinary(), "project", "create", "--name", name,
                  "--data", data_dir_},
                 env);
  if (result.exit_code != 0) {
    throw std::runtime_error("project create failed: " + result.err);
  }
  ProjectInfo info;
  std::istringstream lines(result.out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("DSN: ", 0) == 0) info.dsn = line.substr(5);
    if (line.rfind("Short DSN: ", 0) == 0) info.short_dsn = line.substr(11);
  }
  // http://KEY@host:port/ID
  const size_t scheme = info.dsn.find("://");
  const size_t at = info.dsn.find('@');
  const size_t slash = info.dsn.rfind('/');
  if (scheme == std::string::npos || at == std::string::npos ||
      slash == std::string::npos) {
    throw std::runtime_error("unexpected project create output: " + result.out);
  }
  info.key = info.dsn.substr(scheme + 3, at - scheme - 3);
  info.id = std::stoll(info.dsn.substr(slash + 1));
  return info;
}

int ServerProcess::Stop(int sig) {
  if (pid_ <= 0) return -1;
  kill(pid_, sig);
  const int status = WaitPid(pid_, 20);
  if (status >= 0) pid_ = -1;
  return status;
}

std::string ServerProcess::Log() const { return ReadFile(log_path_); }

}  // namespace testing
}  // namespace crashctl
