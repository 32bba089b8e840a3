// The migration runner: order, idempotence, atomicity of a failing
// migration, a newer database, edited migrations, and three processes
// migrating one database at once (each migration applied exactly once).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "crashctl/store/pg/migrations.h"
#include "tests/store/postgres/postgres_test_util.h"

namespace crashctl {
namespace store {
namespace pg {
namespace {

using Code = Status::Code;
using testutil::PgTest;

// Each migration records that it ran in `runs`, which has no unique key:
// a migration applied twice leaves two rows.
std::vector<Migration> Migrations() {
  return {
      {1, "runs and projects",
       "CREATE TABLE runs (version int NOT NULL);"
       "CREATE TABLE projects (id bigserial PRIMARY KEY, name text UNIQUE);"
       "INSERT INTO runs VALUES (1)"},
      {2, "groups",
       // Slow, so that concurrent runners overlap.
       "SELECT pg_sleep(0.3);"
       "CREATE TABLE groups (id bigserial PRIMARY KEY, project_id bigint "
       "NOT NULL REFERENCES projects(id) ON DELETE CASCADE);"
       "INSERT INTO runs VALUES (2)"},
      {3, "groups.level",
       "ALTER TABLE groups ADD COLUMN level text NOT NULL DEFAULT '';"
       "CREATE INDEX groups_level ON groups (level);"
       "INSERT INTO runs VALUES (3)"},
  };
}

class PgMigrationsTest : public PgTest {
 protected:
  int64_t Scalar(const std::string& sql) {
    Result r;
    Status st = conn_->Exec(sql, &r);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return r.IntOr(0, 0, -1);
  }
};

TEST_F(PgMigrationsTest, AppliesInOrderOnceAndThenNothing) {
  MigrateReport report;
  PG_ASSERT_OK(
      ApplyMigrations(conn_.get(), Migrations(), MigrateOptions(), &report));
  EXPECT_EQ(report.applied, (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(report.database_version, 3);
  EXPECT_FALSE(report.database_newer);
  EXPECT_TRUE(report.warnings.empty());
  EXPECT_EQ(Scalar("SELECT count(*) FROM schema_migrations"), 3);
  EXPECT_EQ(Scalar("SELECT count(*) FROM runs"), 3);
  Result r;
  PG_ASSERT_OK(conn_->Exec(
      "SELECT string_agg(version::text || ':' || name, ',' ORDER BY version) "
      "FROM schema_migrations",
      &r));
  EXPECT_EQ(r.Text(0, 0), "1:runs and projects,2:groups,3:groups.level");

  PG_ASSERT_OK(
      ApplyMigrations(conn_.get(), Migrations(), MigrateOptions(), &report));
  EXPECT_TRUE(report.applied.empty());
  EXPECT_EQ(report.database_version, 3);
  EXPECT_EQ(Scalar("SELECT count(*) FROM runs"), 3);
  EXPECT_FALSE(conn_->in_transaction());
}

TEST_F(PgMigrationsTest, AppliesOnlyWhatIsMissing) {
  std::vector<Migration> first = Migrations();
  first.pop_back();
  MigrateReport report;
  PG_ASSERT_OK(ApplyMigrations(conn_.get(), first, MigrateOptions(), &report));
  EXPECT_EQ(report.applied, (std::vector<int64_t>{1, 2}));
  PG_ASSERT_OK(
      ApplyMigrations(conn_.get(), Migrations(), MigrateOptions(), &report));
  EXPECT_EQ(report.applied, (std::vector<int64_t>{3}));
  EXPECT_EQ(Scalar("SELECT count(*) FROM runs"), 3);
}

TEST_F(PgMigrationsTest, FailingMigrationLeavesNothingBehind) {
  std::vector<Migration> migrations = Migrations();
  migrations[1].sql =
      "CREATE TABLE groups (id bigserial PRIMARY KEY);"
      "INSERT INTO runs VALUES (2);"
      "INSERT INTO no_such_table VALUES (1)";
  MigrateReport report;
  Status st =
      ApplyMigrations(conn_.get(), migrations, MigrateOptions(), &report);
  EXPECT_EQ(st.code(), Code::kInternal) << st.ToString();
  EXPECT_NE(st.message().find("migration 2 (groups)"), std::string::npos)
      << st.message();
  EXPECT_EQ(report.applied, (std::vector<int64_t>{1}));
  EXPECT_FALSE(conn_->in_transaction());
  EXPECT_EQ(Scalar("SELECT count(*) FROM schema_migrations"), 1);
  EXPECT_EQ(Scalar("SELECT count(*) FROM runs"), 1);
  EXPECT_EQ(Scalar("SELECT count(*) FROM pg_tables WHERE schemaname = "
                   "current_schema() AND tablename = "
                   "'groups'"),
            0);
  // Fixed in the next release: it goes on from there.
  PG_ASSERT_OK(
      ApplyMigrations(conn_.get(), Migrations(), MigrateOptions(), &report));
  EXPECT_EQ(report.applied, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(Scalar("SELECT count(*) FROM runs"), 3);
}

TEST_F(PgMigrationsTest, NewerDatabaseIsAcceptedByAnOlderRelease) {
  PG_ASSERT_OK(
      ApplyMigrations(conn_.get(), Migrations(), MigrateOptions(), nullptr));
  std::vector<Migration> older = Migrations();
  older.pop_back();
  MigrateReport report;
  PG_ASSERT_OK(ApplyMigrations(conn_.get(), older, MigrateOptions(), &report));
  EXPECT_TRUE(report.applied.empty());
  EXPECT_TRUE(report.database_newer);
  EXPECT_EQ(report.database_version, 3);
}

TEST_F(PgMigrationsTest, EditedMigrationIsReportedNotReapplied) {
  PG_ASSERT_OK(
      ApplyMigrations(conn_.get(), Migrations(), MigrateOptions(), nullptr));
  std::vector<Migration> edited = Migrations();
  edited[0].sql += ";INSERT INTO runs VALUES (100)";
  MigrateReport report;
  PG_ASSERT_OK(ApplyMigrations(conn_.get(), edited, MigrateOptions(), &report));
  EXPECT_TRUE(report.applied.empty());
  ASSERT_EQ(report.warnings.size(), 1u);
  EXPECT_NE(report.warnings[0].find("migration 1"), std::string::npos);
  EXPECT_EQ(Scalar("SELECT count(*) FROM runs"), 3);
}

TEST_F(PgMigrationsTest, InvalidListIsRefusedBeforeTouchingTheDatabase) {
  std::vector<Migration> migrations = Migrations();
  migrations.push_back({4, "drop projects", "DROP TABLE projects"});
  Status st =
      ApplyMigrations(conn_.get(), migrations, MigrateOptions(), nullptr);
  EXPECT_EQ(st.code(), Code::kInvalid) << st.ToString();
  EXPECT_EQ(Scalar("SELECT count(*) FROM pg_tables WHERE schemaname = "
                   "current_schema() AND tablename = "
                   "'schema_migrations'"),
            0);
}

TEST_F(PgMigrationsTest, WaitForAnotherRunnerIsBounded) {
  // Another process holds the runner's lock (say, a long migration).
  auto holder = Connect();
  ASSERT_NE(holder, nullptr);
  MigrateOptions options;
  options.lock_timeout_ms = 200;
  PG_ASSERT_OK(holder->Begin());
  PG_ASSERT_OK(holder->Exec("SELECT pg_advisory_xact_lock($1)",
                            Params().Int(options.lock_key)));
  auto began = std::chrono::steady_clock::now();
  Status st = ApplyMigrations(conn_.get(), Migrations(), options, nullptr);
  EXPECT_LT(std::chrono::steady_clock::now() - began, std::chrono::seconds(5));
  EXPECT_EQ(st.code(), Code::kUnavailable) << st.ToString();
  EXPECT_EQ(SqlStateOf(st), "55P03") << st.ToString();
  PG_ASSERT_OK(holder->Rollback());
  PG_ASSERT_OK(ApplyMigrations(conn_.get(), Migrations(), options, nullptr));
}

TEST_F(PgMigrationsTest, ThreeProcessesAtOnceApplyEachMigrationOnce) {
  constexpr int kProcesses = 3;
  int start[2];
  ASSERT_EQ(pipe(start), 0);
  int results[2];
  ASSERT_EQ(pipe(results), 0);
  std::vector<pid_t> children;
  for (int i = 0; i < kProcesses; ++i) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      // The child: its own connection, started with the others.
      close(start[1]);
      char go;
      ssize_t n = read(start[0], &go, 1);
      (void)n;
      std::unique_ptr<Connection> conn;
      Status st = Connection::Open(options_, &conn);
      MigrateReport report;
      if (st.ok()) {
        st = ApplyMigrations(conn.get(), Migrations(), MigrateOptions(),
                             &report);
      }
      char applied =
          st.ok() ? static_cast<char>('0' + report.applied.size()) : 'E';
      ssize_t w = write(results[1], &applied, 1);
      (void)w;
      if (!st.ok()) std::fprintf(stderr, "child: %s\n", st.ToString().c_str());
      _exit(st.ok() ? 0 : 1);
    }
    children.push_back(pid);
  }
  close(start[0]);
  close(results[1]);
  close(start[1]);  // EOF: every child starts now
  int exited_ok = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (pid_t pid : children) {
    int status = 0;
    pid_t rc = 0;
    while ((rc = waitpid(pid, &status, WNOHANG)) == 0 &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (rc == 0) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
    }
    if (rc == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      ++exited_ok;
    }
  }
  EXPECT_EQ(exited_ok, kProcesses);
  char buf[16];
  ssize_t n = read(results[0], buf, sizeof(buf));
  close(results[0]);
  ASSERT_EQ(n, kProcesses);
  int total = 0;
  for (ssize_t i = 0; i < n; ++i) {
    ASSERT_NE(buf[i], 'E');
    total += buf[i] - '0';
  }
  EXPECT_EQ(total, 3);  // between them, each migration once
  Result r;
  PG_ASSERT_OK(conn_->Exec(
      "SELECT version, count(*) FROM runs GROUP BY version ORDER BY version",
      &r));
  ASSERT_EQ(r.rows(), 3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(r.IntOr(i, 0, -1), i + 1);
    EXPECT_EQ(r.IntOr(i, 1, -1), 1) << "migration " << i + 1;
  }
  EXPECT_EQ(Scalar("SELECT count(*) FROM schema_migrations"), 3);
}

}  // namespace
}  // namespace pg
}  // namespace store
}  // namespace crashctl
