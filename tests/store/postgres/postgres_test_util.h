// Helpers of the store/postgres tests: a fresh schema on the process's
// shared PostgreSQL server (tests/testing/postgres_server.h), connection
// options for it, and status assertions.
#ifndef CRASHCTL_TESTS_STORE_POSTGRES_POSTGRES_TEST_UTIL_H_
#define CRASHCTL_TESTS_STORE_POSTGRES_POSTGRES_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>

#include "crashctl/store/pg/connection.h"
#include "crashctl/store/pg/errors.h"
#include "tests/testing/postgres_server.h"

#define PG_ASSERT_OK(expr)                                 \
  do {                                                     \
    ::crashctl::Status pg_status_ = (expr);                \
    ASSERT_TRUE(pg_status_.ok()) << pg_status_.ToString(); \
  } while (0)
#define PG_EXPECT_OK(expr)                                 \
  do {                                                     \
    ::crashctl::Status pg_status_ = (expr);                \
    EXPECT_TRUE(pg_status_.ok()) << pg_status_.ToString(); \
  } while (0)

// In a test body or SetUp: skips when PostgreSQL is not installed here.
#define PG_SKIP_IF_UNAVAILABLE()                                     \
  do {                                                               \
    std::string pg_why_;                                             \
    if (!::crashctl::testing::PostgresServer::Available(&pg_why_)) { \
      GTEST_SKIP() << pg_why_;                                       \
    }                                                                \
  } while (0)

namespace crashctl {
namespace store {
namespace pg {
namespace testutil {

// A name no other test of this process (or another process) uses.
inline std::string UniqueName(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + "_" + std::to_string(getpid()) + "_" +
         std::to_string(++counter);
}

inline ConnectOptions OptionsFor(const testing::PostgresServer& server,
                                 const std::string& dbname) {
  ConnectOptions options;
  options.conninfo = server.ConnectionString(dbname);
  options.application_name = "crashctl-test";
  options.connect_timeout_ms = 5000;
  options.statement_timeout_ms = 20000;
  return options;
}

// A test on its own schema (first in search_path) of the shared server's
// database, with one open connection `conn_`.
class PgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PG_SKIP_IF_UNAVAILABLE();
    std::string why;
    server_ = testing::SharedPostgresServer(&why);
    ASSERT_NE(server_, nullptr) << why;
    // A schema of its own (cheaper than a database: no 7 MB copy).
    db_ = "crashctl_test";
    schema_ = UniqueName("t");
    ASSERT_TRUE(server_->Exec("CREATE SCHEMA " + schema_, &why)) << why;
    options_ = OptionsFor(*server_, db_);
    options_.conninfo += " options='-c search_path=" + schema_ + "'";
    PG_ASSERT_OK(Connection::Open(options_, &conn_));
  }

  std::unique_ptr<Connection> Connect() {
    std::unique_ptr<Connection> conn;
    Status st = Connection::Open(options_, &conn);
    EXPECT_TRUE(st.ok()) << st.ToString();
    return conn;
  }

  testing::PostgresServer* server_ = nullptr;
  std::string db_;
  std::string schema_;
  ConnectOptions options_;
  std::unique_ptr<Connection> conn_;
};

}  // namespace testutil
}  // namespace pg
}  // namespace store
}  // namespace crashctl

#endif  // CRASHCTL_TESTS_STORE_POSTGRES_POSTGRES_TEST_UTIL_H_
