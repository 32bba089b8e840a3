#include "tests/testing/postgres_server.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

namespace crashctl {
namespace testing {
namespace {

using Clock = std::chrono::steady_clock;

bool IsExecutable(const std::string& path) {
  return access(path.c_str(), X_OK) == 0;
}

bool HasServerBinaries(const std::string& dir) {
  return !dir.empty() && IsExecutable(dir + "/initdb") &&
         IsExecutable(dir + "/postgres");
}

std::string PgUserName() {
  const char* user = std::getenv("CRASHCTL_PG_USER");
  return user != nullptr && *user != '\0' ? user : "postgres";
}

// A port on 127.0.0.1 that was free a moment ago (0 on failure).
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  int port = 0;
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

std::string ReadTail(const std::string& path, size_t bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::string();
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  std::streamoff start =
      size > static_cast<std::streamoff>(bytes) ? size - bytes : 0;
  in.seekg(start);
  std::string out(static_cast<size_t>(size - start), '\0');
  in.read(&out[0], static_cast<std::streamsize>(out.size()));
  return out;
}

// Waits for child `pid` until `deadline`. True when it exited (status in
// *status); false on timeout.
bool WaitChild(pid_t pid, Clock::time_point deadline, int* status) {
  for (;;) {
    pid_t rc = waitpid(pid, status, WNOHANG);
    if (rc == pid) return true;
    if (rc < 0 && errno != EINTR) {
      *status = 0;
      return true;  // not our child any more (reaped elsewhere)
    }
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

// One line of /proc/<pid>/stat: what the server's process checks need.
struct ProcStat {
  pid_t pid = 0;
  char state = 0;
  pid_t ppid = 0;
  pid_t pgrp = 0;
};

// Every process's stat (bounded by the number of processes); empty when
// /proc cannot be read.
std::vector<ProcStat> ScanProc() {
  std::vector<ProcStat> out;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return out;
  while (dirent* entry = readdir(proc)) {
    const char* name = entry->d_name;
    if (name[0] < '0' || name[0] > '9') continue;
    std::ifstream stat(std::string("/proc/") + name + "/stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    size_t paren = line.rfind(')');
    if (paren == std::string::npos) continue;
    std::istringstream rest(line.substr(paren + 1));
    ProcStat ps;
    long ppid = 0;
    long pgrp = 0;
    if (!(rest >> ps.state >> ppid >> pgrp)) continue;
    ps.pid = static_cast<pid_t>(std::atol(name));
    ps.ppid = static_cast<pid_t>(ppid);
    ps.pgrp = static_cast<pid_t>(pgrp);
    out.push_back(ps);
  }
  closedir(proc);
  return out;
}

bool Live(const ProcStat& ps) { return ps.state != 'Z' && ps.state != 'X'; }

// The live children of `parent`. PostgreSQL's backends and auxiliary
// processes call setsid() (InitPostmasterChild), so a signal to the
// postmaster's process group does not reach them: they are found by parent.
std::vector<pid_t> ChildrenOf(pid_t parent) {
  std::vector<pid_t> out;
  for (const ProcStat& ps : ScanProc()) {
    if (ps.ppid == parent && Live(ps)) out.push_back(ps.pid);
  }
  return out;
}

// True while a process of group `pgid`, or one of `pids`, exists that is
// not a zombie.
bool AnyAlive(pid_t pgid, const std::vector<pid_t>& pids) {
  std::vector<ProcStat> procs = ScanProc();
  if (procs.empty()) return kill(-pgid, 0) == 0;
  for (const ProcStat& ps : procs) {
    if (!Live(ps)) continue;
    if (ps.pgrp == pgid) return true;
    for (pid_t pid : pids) {
      if (ps.pid == pid) return true;
    }
  }
  return false;
}

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

}  // namespace

std::string PostgresServer::FindBinDir() {
  const char* env = std::getenv("CRASHCTL_PG_BINDIR");
  if (env != nullptr && *env != '\0') {
    return HasServerBinaries(env) ? env : "";
  }
  // Debian: /usr/lib/postgresql/<major>/bin; the newest major wins.
  int best = -1;
  if (DIR* dir = opendir("/usr/lib/postgresql")) {
    while (dirent* entry = readdir(dir)) {
      char* end = nullptr;
      long major = std::strtol(entry->d_name, &end, 10);
      if (end == entry->d_name || *end != '\0' || major <= best) continue;
      if (HasServerBinaries("/usr/lib/postgresql/" +
                            std::string(entry->d_name) + "/bin")) {
        best = static_cast<int>(major);
      }
    }
    closedir(dir);
  }
  if (best >= 0) return "/usr/lib/postgresql/" + std::to_string(best) + "/bin";
  // Elsewhere: initdb and postgres side by side on PATH.
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (HasServerBinaries(dir)) return dir;
  }
  return std::string();
}

bool PostgresServer::Available(std::string* why) {
  if (FindBinDir().empty()) {
    *why =
        "PostgreSQL server binaries (initdb, postgres) not found: install "
        "Debian's postgresql package or set CRASHCTL_PG_BINDIR";
    return false;
  }
  if (geteuid() == 0) {
    struct passwd* pw = getpwnam(PgUserName().c_str());
    if (pw == nullptr || pw->pw_uid == 0) {
      *why = "running as root and there is no unprivileged user \"" +
             PgUserName() + "\" to run PostgreSQL as (set CRASHCTL_PG_USER)";
      return false;
    }
  }
  return true;
}

PostgresServer::PostgresServer() : dir_("pg") {}

std::unique_ptr<PostgresServer> PostgresServer::Create(const Options& options,
                                                       std::string* error) {
  if (!Available(error)) return nullptr;
  std::unique_ptr<PostgresServer> server(new PostgresServer());
  server->bin_dir_ = FindBinDir();
  server->options_ = options;
  if (geteuid() == 0) {
    struct passwd* pw = getpwnam(PgUserName().c_str());
    server->drop_privileges_ = true;
    server->uid_ = pw->pw_uid;
    server->gid_ = pw->pw_gid;
    if (chown(server->dir_.path().c_str(), server->uid_, server->gid_) != 0) {
      *error = "chown " + server->dir_.path() + ": " + std::strerror(errno);
      return nullptr;
    }
  }
  auto began = Clock::now();
  if (!server->InitDb(error)) return nullptr;
  server->initdb_seconds_ = Seconds(began);
  // The port was free a moment ago; another process may take it before the
  // server binds it, so a failed bind picks another (a few times).
  for (int attempt = 0;; ++attempt) {
    server->port_ = FreePort();
    if (server->port_ == 0) {
      *error = "no free port on 127.0.0.1";
      return nullptr;
    }
    if (server->Start(error)) break;
    bool bind_failed =
        server->LogTail().find("could not bind") != std::string::npos;
    if (!bind_failed || attempt >= 4) return nullptr;
  }
  if (!server->CreateDatabase("crashctl_test", error)) return nullptr;
  return server;
}

PostgresServer::~PostgresServer() {
  if (!running()) return;
  // The data goes away with the directory: an immediate shutdown (SIGQUIT,
  // `pg_ctl stop -m immediate`) skips the shutdown checkpoint.
  kill(pid_, SIGQUIT);
  int status = 0;
  if (!WaitChild(pid_, Clock::now() + std::chrono::seconds(10), &status)) {
    kill(-pid_, SIGKILL);
    WaitChild(pid_, Clock::now() + std::chrono::seconds(10), &status);
  }
  std::string ignored;
  WaitGone({}, &ignored);
  pid_ = 0;
}

bool PostgresServer::Spawn(const std::vector<std::string>& argv,
                           const std::string& log, bool new_group, pid_t* pid,
                           std::string* error) {
  // Everything the child needs is made before fork(): after it, only
  // async-signal-safe calls (the test process may have threads).
  std::vector<char*> args;
  for (const std::string& arg : argv)
    args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const std::string& dir = dir_.path();
  const bool drop = drop_privileges_;
  const uid_t uid = uid_;
  const gid_t gid = gid_;
  const pid_t parent = getpid();
  pid_t child = fork();
  if (child < 0) {
    *error = std::string("fork: ") + std::strerror(errno);
    return false;
  }
  if (child == 0) {
    if (new_group) setpgid(0, 0);
    if (drop) {
      if (setgroups(0, nullptr) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
        _exit(126);
      }
    }
    // After the credentials change (which would clear it): the server dies
    // with the thread that started it.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
    if (chdir(dir.c_str()) != 0) _exit(126);
    int null_fd = open("/dev/null", O_RDONLY);
    int log_fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (null_fd < 0 || log_fd < 0) _exit(126);
    dup2(null_fd, 0);
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    // No descriptor of the test (sockets, pipes) leaks into the server.
    if (syscall(SYS_close_range, 3u, ~0u, 0u) != 0) {
      for (int fd = 3; fd < 4096; ++fd) close(fd);
    }
    execv(args[0], args.data());
    _exit(127);
  }
  if (new_group) setpgid(child, child);  // also from here: no race with kill
  *pid = child;
  return true;
}

bool PostgresServer::InitDb(std::string* error) {
  std::string log = dir_.File("initdb.log");
  std::vector<std::string> argv = {bin_dir_ + "/initdb",
                                   "-D",
                                   dir_.File("data"),
                                   "-U",
                                   user_,
                                   "--auth=trust",
                                   "--no-sync",
                                   "--encoding=UTF8",
                                   "--no-locale",
                                   "--no-instructions"};
  pid_t pid = 0;
  if (!Spawn(argv, log, false, &pid, error)) return false;
  int status = 0;
  if (!WaitChild(pid, Clock::now() + std::chrono::seconds(120), &status)) {
    kill(pid, SIGKILL);
    WaitChild(pid, Clock::now() + std::chrono::seconds(10), &status);
    *error = "initdb did not finish within 120 s: " + ReadTail(log, 2000);
    return false;
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 126) {
    *error = "cannot run initdb as user " + PgUserName() + " in " +
             dir_.path() +
             " (can that user reach the directory? check "
             "$TMPDIR)";
    return false;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    *error = "initdb failed (status " + std::to_string(status) +
             "): " + ReadTail(log, 2000);
    return false;
  }
  return true;
}

bool PostgresServer::Start(std::string* error) {
  if (running()) return true;
  auto began = Clock::now();
  std::vector<std::string> argv = {
      bin_dir_ + "/postgres",
      "-D",
      dir_.File("data"),
      "-p",
      std::to_string(port_),
      "-c",
      "listen_addresses=" + host_,
      "-c",
      "unix_socket_directories=" + dir_.path(),
      "-c",
      "max_connections=" + std::to_string(options_.max_connections),
      "-c",
      "shared_buffers=16MB",
      "-c",
      "fsync=on",
      "-c",
      "synchronous_commit=on",
      "-c",
      "full_page_writes=on",
      "-c",
      "autovacuum=off",
      "-c",
      "jit=off",
      "-c",
      "wal_level=minimal",
      "-c",
      "max_wal_senders=0",
      "-c",
      "max_parallel_workers_per_gather=0",
      "-c",
      "huge_pages=off",
      "-c",
      "timezone=UTC",
      "-c",
      "lc_messages=C",
      "-c",
      "log_line_prefix=%m [%p] ",
  };
  for (const std::string& setting : options_.settings) {
    argv.push_back("-c");
    argv.push_back(setting);
  }
  // After Kill(), the kernel can hold the old server's shared memory
  // segment attached for a moment after its last process is gone (seen
  // under ASan on a loaded machine): PostgreSQL then refuses the data
  // directory ("pre-existing shared memory block ... is still in use").
  // Try again for up to 5 s in that case only.
  for (int attempt = 0;; ++attempt) {
    if (!Spawn(argv, dir_.File("server.log"), /*new_group=*/true, &pid_,
               error)) {
      pid_ = 0;
      return false;
    }
    if (WaitReady(error)) break;
    if (attempt >= 50 || running() ||
        error->find("pre-existing shared memory block") == std::string::npos) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  start_seconds_ = Seconds(began);
  return true;
}

bool PostgresServer::WaitReady(std::string* error) {
  const std::string conninfo =
      "host=" + host_ + " port=" + std::to_string(port_) + " user=" + user_ +
      " dbname=postgres connect_timeout=2";
  const auto began = Clock::now();
  // Crash recovery after Kill() fsyncs the whole data directory first: on a
  // busy disk that takes seconds.
  const auto deadline = began + std::chrono::seconds(60);
  for (;;) {
    int status = 0;
    pid_t rc = waitpid(pid_, &status, WNOHANG);
    if (rc == pid_) {
      pid_ = 0;
      *error = "postgres exited while starting (status " +
               std::to_string(status) + ", after " +
               std::to_string(Seconds(began)) + " s): " + LogTail(2000);
      return false;
    }
    PGPing ping = PQping(conninfo.c_str());
    if (ping == PQPING_OK) return true;
    if (ping == PQPING_NO_ATTEMPT) {
      *error = "PQping: bad connection parameters " + conninfo;
      return false;
    }
    if (Clock::now() >= deadline) {
      std::string ignored;
      Kill(&ignored);
      *error =
          "postgres did not accept connections within 60 s: " + LogTail(2000);
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

bool PostgresServer::WaitGone(const std::vector<pid_t>& children,
                              std::string* error) {
  // Backends exit after the postmaster (they notice its death); a restart
  // needs them gone, or PostgreSQL refuses the data directory.
  const auto deadline = Clock::now() + std::chrono::seconds(15);
  while (AnyAlive(pid_, children)) {
    if (Clock::now() >= deadline) {
      kill(-pid_, SIGKILL);
      for (pid_t child : children) kill(child, SIGKILL);
      *error = "postgres processes still alive 15 s after the postmaster";
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

bool PostgresServer::Stop(std::string* error) {
  if (!running()) return true;
  // SIGINT is what `pg_ctl stop -m fast` sends: abort open transactions,
  // checkpoint, exit.
  kill(pid_, SIGINT);
  int status = 0;
  bool ok = true;
  if (!WaitChild(pid_, Clock::now() + std::chrono::seconds(30), &status)) {
    *error = "postgres did not stop within 30 s; killed";
    kill(-pid_, SIGKILL);
    WaitChild(pid_, Clock::now() + std::chrono::seconds(10), &status);
    ok = false;
  }
  if (!WaitGone({}, error)) ok = false;
  pid_ = 0;
  return ok;
}

bool PostgresServer::Kill(std::string* error) {
  if (!running()) return true;
  // A stopped postmaster forks no new backend; its children are then all
  // known and die by the same SIGKILL, so none of them can still answer a
  // client after this returns (a backend that only noticed the
  // postmaster's death later could commit a COMMIT sent meanwhile).
  kill(pid_, SIGSTOP);
  std::vector<pid_t> children = ChildrenOf(pid_);
  for (pid_t child : children) kill(child, SIGKILL);
  kill(-pid_, SIGKILL);
  kill(pid_, SIGKILL);
  int status = 0;
  bool ok = true;
  if (!WaitChild(pid_, Clock::now() + std::chrono::seconds(10), &status)) {
    *error = "postgres did not die within 10 s of SIGKILL";
    ok = false;
  }
  if (!WaitGone(children, error)) ok = false;
  pid_ = 0;
  return ok;
}

std::string PostgresServer::ConnectionString(const std::string& dbname) const {
  return "host=" + host_ + " port=" + std::to_string(port_) + " user=" + user_ +
         " dbname=" + dbname + " sslmode=disable";
}

bool PostgresServer::Exec(const std::string& sql, std::string* error,
                          const std::string& dbname) {
  return Query(sql, nullptr, error, dbname);
}

bool PostgresServer::Query(const std::string& sql,
                           std::vector<std::vector<std::string>>* rows,
                           std::string* error, const std::string& dbname) {
  if (rows != nullptr) rows->clear();
  std::string conninfo = ConnectionString(dbname) +
                         " connect_timeout=5 options='-c "
                         "statement_timeout=60000'";
  PGconn* conn = PQconnectdb(conninfo.c_str());
  bool ok = false;
  if (PQstatus(conn) != CONNECTION_OK) {
    *error = std::string("connect: ") + PQerrorMessage(conn);
  } else {
    PGresult* res = PQexec(conn, sql.c_str());
    ExecStatusType st = PQresultStatus(res);
    ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok) *error = sql + ": " + PQresultErrorMessage(res);
    if (ok && rows != nullptr) {
      for (int r = 0; r < PQntuples(res); ++r) {
        std::vector<std::string> row;
        for (int c = 0; c < PQnfields(res); ++c) {
          row.emplace_back(PQgetvalue(res, r, c));
        }
        rows->push_back(std::move(row));
      }
    }
    PQclear(res);
  }
  PQfinish(conn);
  return ok;
}

bool PostgresServer::CreateDatabase(const std::string& name,
                                    std::string* error) {
  return Exec("CREATE DATABASE " + name, error, "postgres");
}

std::string PostgresServer::LogTail(size_t bytes) const {
  return ReadTail(dir_.File("server.log"), bytes);
}

PostgresServer* SharedPostgresServer(std::string* why) {
  static std::mutex mu;
  static std::unique_ptr<PostgresServer> server;
  static bool tried = false;
  static std::string failure;
  std::lock_guard<std::mutex> lock(mu);
  if (!tried) {
    tried = true;
    server = PostgresServer::Create(&failure);
    if (server != nullptr) {
      std::fprintf(stderr,
                   "postgres_server: initdb %.2f s, start %.2f s, "
                   "127.0.0.1:%d\n",
                   server->initdb_seconds(), server->start_seconds(),
                   server->port());
    }
  }
  if (server == nullptr) *why = failure;
  return server.get();
}

std::string PostgresSchemaConninfo(PostgresServer* server, std::string* error,
                                   std::string* schema_name) {
  static std::atomic<int> counter{0};
  const std::string schema =
      "s_" + std::to_string(getpid()) + "_" + std::to_string(++counter);
  if (!server->Exec("CREATE SCHEMA " + schema, error)) return "";
  if (schema_name != nullptr) *schema_name = schema;
  return server->ConnectionString() + " options='-c search_path=" + schema +
         "'";
}

bool StorageEnv(const std::string& backend,
                std::map<std::string, std::string>* env, std::string* why) {
  if (backend != "postgres") return true;
  if (!PostgresServer::Available(why)) return false;
  PostgresServer* server = SharedPostgresServer(why);
  if (server == nullptr) return false;
  const std::string conninfo = PostgresSchemaConninfo(server, why);
  if (conninfo.empty()) return false;
  (*env)["CRASHCTL_STORAGE_DRIVER"] = "postgres";
  (*env)["CRASHCTL_STORAGE_POSTGRES_DSN"] = conninfo;
  (*env)["CRASHCTL_STORAGE_POSTGRES_POOL_SIZE"] = "4";
  return true;
}

}  // namespace testing
}  // namespace crashctl
