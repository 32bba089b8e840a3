// PostgresServer: a real, private PostgreSQL server for a test. For tests
// only.
//
// Contract
// - Create() finds the server binaries (initdb, postgres:
//   $CRASHCTL_PG_BINDIR, else the newest /usr/lib/postgresql/<N>/bin, else
//   `pg_config --bindir`), makes a TempDir ("pg"), runs initdb into
//   <dir>/data (superuser "crashctl", trust authentication, UTF8, C
//   locale), starts the server and creates the database "crashctl_test".
//   It fails (null, `*error` says why) when something is missing:
//   Available() tells beforehand, for GTEST_SKIP.
// - Unprivileged: initdb and postgres refuse to run as root. When the
//   test runs as root, both run as the system user $CRASHCTL_PG_USER
//   (default "postgres", which Debian's postgresql package creates), in
//   forked children that drop privileges (setgroups/setgid/setuid) before
//   exec; the temporary directory is chowned to that user. When not root,
//   they run as the current user.
// - The server listens on 127.0.0.1 only, on a free port chosen at
//   creation and kept across restarts, and on a unix socket in the
//   temporary directory; pg_hba trusts local and loopback connections.
//   fsync, synchronous_commit and full_page_writes stay on (the durability
//   is real); it is made small and quick: shared_buffers 16MB,
//   max_connections from Options, autovacuum off, jit off, wal_level
//   minimal. (initdb itself runs with --no-sync: a machine crash during a
//   test is not something the tests survive anyway.)
// - Start() waits, bounded (60 s), until the server accepts connections
//   (a libpq ping), and fails early with the log's tail if the postmaster
//   exits. Stop() is `pg_ctl stop -m fast`'s signal (SIGINT to the
//   postmaster), waits up to 30 s, then kills. Kill() is SIGKILL to the
//   postmaster and every backend (its process group), like a power cut for
//   the server processes (the page cache survives). Start() again on the
//   same data directory works after either (after Kill, PostgreSQL runs
//   crash recovery). The postmaster gets SIGKILL if the thread that started
//   it ends (PR_SET_PDEATHSIG), so a crashed test leaves no server behind:
//   call Start() from a thread that outlives the server (the test's main
//   thread).
// - The destructor stops the server (immediate shutdown: no checkpoint for
//   data about to be deleted) and removes the directory.
//
// Thread-safety: one PostgresServer is driven by one thread (Start, Stop,
// Kill, the destructor); the accessors (port, ConnectionString) may be read
// from any thread. Several servers (also in several processes) may run at
// once: each has its own directory and port.
#ifndef CRASHCTL_TESTS_TESTING_POSTGRES_SERVER_H_
#define CRASHCTL_TESTS_TESTING_POSTGRES_SERVER_H_

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/testing/temp_dir.h"

namespace crashctl {
namespace testing {

class PostgresServer {
 public:
  struct Options {
    int max_connections = 40;
    // More "name=value" server settings, passed as -c name=value.
    std::vector<std::string> settings;
  };

  // True when a server can be made here; else `*why` (for GTEST_SKIP).
  static bool Available(std::string* why);
  // The directory holding initdb and postgres, "" when none is found.
  static std::string FindBinDir();

  static std::unique_ptr<PostgresServer> Create(const Options& options,
                                                std::string* error);
  static std::unique_ptr<PostgresServer> Create(std::string* error) {
    return Create(Options(), error);
  }
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  bool Start(std::string* error);
  bool Stop(std::string* error);
  bool Kill(std::string* error);
  bool running() const { return pid_ > 0; }
  pid_t postmaster_pid() const { return pid_; }

  int port() const { return port_; }
  const std::string& host() const { return host_; }
  const std::string& socket_dir() const { return dir_.path(); }
  const std::string& user() const { return user_; }
  // A libpq connection string over TCP to `dbname`:
  // "host=127.0.0.1 port=N user=crashctl dbname=crashctl_test".
  std::string ConnectionString(
      const std::string& dbname = "crashctl_test") const;
  // CREATE DATABASE `name` (a plain identifier).
  bool CreateDatabase(const std::string& name, std::string* error);
  // Runs one SQL statement as the superuser in `dbname` (setup helpers).
  bool Exec(const std::string& sql, std::string* error,
            const std::string& dbname = "crashctl_test");
  // Runs one query as the superuser in `dbname`; `*rows` gets every row's
  // columns as text (NULL as ""), or stays empty for a command.
  bool Query(const std::string& sql,
             std::vector<std::vector<std::string>>* rows, std::string* error,
             const std::string& dbname = "crashctl_test");
  // The last `bytes` of the server log.
  std::string LogTail(size_t bytes = 4000) const;

  // Seconds the last initdb and the last Start() took (for the docs).
  double initdb_seconds() const { return initdb_seconds_; }
  double start_seconds() const { return start_seconds_; }

 private:
  PostgresServer();
  bool InitDb(std::string* error);
  bool Spawn(const std::vector<std::string>& argv, const std::string& log,
             bool new_group, pid_t* pid, std::string* error);
  bool WaitReady(std::string* error);
  // Waits (bounded) until no process of the server's group and none of
  // `children` (its setsid() children) is alive.
  bool WaitGone(const std::vector<pid_t>& children, std::string* error);

  TempDir dir_;
  std::string bin_dir_;
  std::string host_ = "127.0.0.1";
  std::string user_ = "crashctl";  // the database superuser
  Options options_;
  int port_ = 0;
  bool drop_privileges_ = false;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  pid_t pid_ = 0;
  double initdb_seconds_ = 0;
  double start_seconds_ = 0;
};

// The process's shared server, created on first call and stopped at exit;
// null (and `*why`) when PostgreSQL is not available. Tests that stop,
// kill or reconfigure a server make their own with Create().
PostgresServer* SharedPostgresServer(std::string* why);

// A schema of its own on `server`'s database: the connection string whose
// search_path is that schema ("" and `*error` on failure); `*schema_name`
// (may be null) gets its name. A fresh, empty database for one test.
std::string PostgresSchemaConninfo(PostgresServer* server, std::string* error,
                                   std::string* schema_name = nullptr);

// The storage settings of `crashctl serve` and its commands for a test on
// `backend` ("sqlite" or "postgres"), as CRASHCTL_* variables to add to
// ServerProcess::Options::env: none for SQLite (the data directory); for
// PostgreSQL, the driver and the DSN of a fresh schema on the shared
// server. False with `*why` when PostgreSQL is wanted but not available
// (the test should skip) or cannot be set up.
bool StorageEnv(const std::string& backend,
                std::map<std::string, std::string>* env, std::string* why);

}  // namespace testing
}  // namespace crashctl

#endif  // CRASHCTL_TESTS_TESTING_POSTGRES_SERVER_H_
