#include "tests/store/backend_fixture.h"

#include <sqlite3.h>

#include <string>
#include <utility>
#include <vector>

#include "crashctl/store/sqlite.h"

namespace crashctl {
namespace store {
namespace testing_util {

PostgresOptions PostgresTestOptions(const std::string& conninfo) {
  PostgresOptions options;
  options.conninfo = conninfo;
  options.pool_size = 8;
  options.connect_timeout_ms = 3000;
  options.statement_timeout_ms = 10000;
  options.acquire_timeout_ms = 5000;
  options.application_name = "crashctl-backends-test";
  return options;
}

void BackendStoreTest::SetUp() {
  if (!postgres()) {
    std::string error;
    store_ = OpenSqlite(sqlite_path(), &error);
    ASSERT_NE(store_, nullptr) << error;
  } else {
    std::string why;
    if (!::crashctl::testing::PostgresServer::Available(&why)) {
      GTEST_SKIP() << why;
    }
    ::crashctl::testing::PostgresServer* server =
        ::crashctl::testing::SharedPostgresServer(&why);
    ASSERT_NE(server, nullptr) << why;
    conninfo_ = PostgresSchemaConninfo(server, &why, &schema_);
    ASSERT_FALSE(conninfo_.empty()) << why;
    Status status = OpenPostgres(PostgresTestOptions(conninfo_), &store_);
    ASSERT_TRUE(status.ok()) << status.ToString();
  }
  Status status = store_->CreateProject("default", &project_);
  ASSERT_TRUE(status.ok()) << status.ToString();
}

std::vector<model::WriteOutcome> BackendStoreTest::Write(
    const std::vector<model::WriteItem>& items) {
  std::vector<model::WriteOutcome> outcomes;
  Status status = store_->WriteEvents(items, &outcomes);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return outcomes;
}

model::Group BackendStoreTest::Group(int64_t id) {
  model::Group group;
  Status status = store_->GetGroup(id, &group);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return group;
}

std::string BackendStoreTest::QueryValue(const std::string& sql) {
  std::string value;
  if (!postgres()) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(sqlite_path().c_str(), &db, SQLITE_OPEN_READONLY,
                              nullptr),
              SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr),
              SQLITE_OK)
        << sql << ": " << sqlite3_errmsg(db);
    if (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(stmt, 0);
      if (text != nullptr) value = reinterpret_cast<const char*>(text);
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return value;
  }
  std::string why;
  ::crashctl::testing::PostgresServer* server =
      ::crashctl::testing::SharedPostgresServer(&why);
  EXPECT_NE(server, nullptr) << why;
  if (server == nullptr) return value;
  std::vector<std::vector<std::string>> rows;
  // PQexec answers the last statement's rows.
  EXPECT_TRUE(
      server->Query("SET search_path TO " + schema_ + "; " + sql, &rows, &why))
      << why;
  if (!rows.empty() && !rows[0].empty()) value = rows[0][0];
  return value;
}

void BackendStoreTest::Reopen() {
  store_.reset();
  store_ = OpenReplica();
}

std::unique_ptr<Store> BackendStoreTest::OpenReplica() {
  std::unique_ptr<Store> store;
  if (!postgres()) {
    std::string error;
    store = OpenSqlite(sqlite_path(), &error);
    EXPECT_NE(store, nullptr) << error;
    return store;
  }
  Status status = OpenPostgres(PostgresTestOptions(conninfo_), &store);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return status.ok() ? std::move(store) : nullptr;
}

}  // namespace testing_util
}  // namespace store
}  // namespace crashctl
