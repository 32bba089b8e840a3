// COMMIT outcomes when the server dies: a COMMIT that got no answer is
// "outcome unknown", never success; what did commit survives a kill -9 of
// every server process (fsync is on). Each test has its own server, since
// it kills it.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "crashctl/store/pg/connection.h"
#include "crashctl/store/pg/errors.h"
#include "tests/store/postgres/postgres_test_util.h"

namespace crashctl {
namespace store {
namespace pg {
namespace {

using Code = Status::Code;
using testing::PostgresServer;

class PgCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PG_SKIP_IF_UNAVAILABLE();
    std::string error;
    server_ = PostgresServer::Create(&error);
    ASSERT_NE(server_, nullptr) << error;
    options_ = testutil::OptionsFor(*server_, "crashctl_test");
  }

  std::unique_ptr<Connection> Connect() {
    std::unique_ptr<Connection> conn;
    Status st = Connection::Open(options_, &conn);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return conn;
  }

  // Polls (bounded) until `pid` runs `query` (pg_stat_activity).
  bool WaitUntilRunning(Connection* watcher, int pid, const char* query) {
    for (int i = 0; i < 1000; ++i) {
      Result r;
      Status st = watcher->Exec(
          "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND "
          "state = 'active' AND query = $2",
          Params().Int(pid).Text(query), &r);
      if (!st.ok()) return false;
      if (r.IntOr(0, 0, 0) == 1) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }

  int64_t Count(const char* sql) {
    auto conn = Connect();
    if (conn == nullptr) return -1;
    Result r;
    Status st = conn->Exec(sql, &r);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return r.IntOr(0, 0, -1);
  }

  std::unique_ptr<PostgresServer> server_;
  ConnectOptions options_;
};

TEST_F(PgCommitTest, ServerKilledDuringCommitIsUnknownOutcome) {
  auto conn = Connect();
  ASSERT_NE(conn, nullptr);
  // A deferred trigger that sleeps makes COMMIT itself take 3 s, so the
  // server can be killed while it runs.
  PG_ASSERT_OK(conn->ExecScript(
      "CREATE TABLE t (id int PRIMARY KEY);"
      "CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS "
      "$$ BEGIN PERFORM pg_sleep(3); RETURN NULL; END $$;"
      "CREATE CONSTRAINT TRIGGER slow AFTER INSERT ON t DEFERRABLE "
      "INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit()"));
  PG_ASSERT_OK(conn->Begin());
  PG_ASSERT_OK(conn->Exec("INSERT INTO t VALUES (1)"));
  auto watcher = Connect();
  ASSERT_NE(watcher, nullptr);

  Status commit;
  std::thread committer([&] { commit = conn->Commit(); });
  bool running = WaitUntilRunning(watcher.get(), conn->backend_pid(), "COMMIT");
  std::string error;
  EXPECT_TRUE(server_->Kill(&error)) << error;
  committer.join();
  ASSERT_TRUE(running) << "COMMIT never showed in pg_stat_activity";

  EXPECT_FALSE(commit.ok());
  EXPECT_EQ(commit.code(), Code::kUnavailable) << commit.ToString();
  EXPECT_TRUE(IsUnknownOutcome(commit)) << commit.ToString();
  EXPECT_FALSE(IsRetryable(commit));
  EXPECT_TRUE(conn->broken());

  ASSERT_TRUE(server_->Start(&error)) << error;
  // Killed before its commit record: PostgreSQL's crash recovery has no
  // row (the client could not know which way it went).
  EXPECT_EQ(Count("SELECT count(*) FROM t"), 0);
}

TEST_F(PgCommitTest, ServerKilledBeforeCommitNeverReportsSuccess) {
  auto conn = Connect();
  ASSERT_NE(conn, nullptr);
  PG_ASSERT_OK(conn->ExecScript("CREATE TABLE t (id int PRIMARY KEY)"));
  PG_ASSERT_OK(conn->Begin());
  PG_ASSERT_OK(conn->Exec("INSERT INTO t VALUES (1)"));
  std::string error;
  ASSERT_TRUE(server_->Kill(&error)) << error;
  // The client has not noticed yet; COMMIT either fails to send
  // (definitely not committed) or gets no answer (unknown): never OK.
  Status commit = conn->Commit();
  EXPECT_EQ(commit.code(), Code::kUnavailable) << commit.ToString();
  EXPECT_TRUE(conn->broken());
  ASSERT_TRUE(server_->Start(&error)) << error;
  EXPECT_EQ(Count("SELECT count(*) FROM t"), 0);
}

TEST_F(PgCommitTest, AutocommitStatementCutOffIsUnknownOutcome) {
  auto conn = Connect();
  ASSERT_NE(conn, nullptr);
  PG_ASSERT_OK(conn->ExecScript("CREATE TABLE t (id int PRIMARY KEY)"));
  auto watcher = Connect();
  ASSERT_NE(watcher, nullptr);
  const char* kSlowInsert = "INSERT INTO t SELECT 1 FROM pg_sleep(3)";
  Status insert;
  std::thread writer([&] { insert = conn->Exec(kSlowInsert); });
  bool running =
      WaitUntilRunning(watcher.get(), conn->backend_pid(), kSlowInsert);
  std::string error;
  EXPECT_TRUE(server_->Kill(&error)) << error;
  writer.join();
  ASSERT_TRUE(running);
  EXPECT_EQ(insert.code(), Code::kUnavailable) << insert.ToString();
  EXPECT_TRUE(IsUnknownOutcome(insert)) << insert.ToString();
}

TEST_F(PgCommitTest, CommittedRowsSurviveAKillOfEveryServerProcess) {
  auto conn = Connect();
  ASSERT_NE(conn, nullptr);
  PG_ASSERT_OK(conn->ExecScript("CREATE TABLE t (id int PRIMARY KEY)"));
  for (int i = 0; i < 50; ++i) {
    PG_ASSERT_OK(conn->Begin());
    PG_ASSERT_OK(conn->Exec("INSERT INTO t VALUES ($1)", Params().Int(i)));
    PG_ASSERT_OK(conn->Commit());
  }
  std::string error;
  ASSERT_TRUE(server_->Kill(&error)) << error;
  EXPECT_FALSE(server_->running());
  ASSERT_TRUE(server_->Start(&error)) << error;
  EXPECT_EQ(Count("SELECT count(*) FROM t"), 50);
  // Stop/Start (fast shutdown) on the same data directory works too.
  ASSERT_TRUE(server_->Stop(&error)) << error;
  ASSERT_TRUE(server_->Start(&error)) << error;
  EXPECT_EQ(Count("SELECT count(*) FROM t"), 50);
}

}  // namespace
}  // namespace pg
}  // namespace store
}  // namespace crashctl
