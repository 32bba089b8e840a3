#include "tests/store/backend_fixture.h"

#include <unistd.h>

#include <atomic>

#include "crashctl/store/sqlite.h"

namespace crashctl {
namespace store {
namespace testing_util {

std::string PostgresSchemaConninfo(::crashctl::testing::PostgresServer* server,
                                   std::string* error) {
  static std::atomic<int> counter{0};
  const std::string schema =
      "s_" + std::to_string(getpid()) + "_" + std::to_string(++counter);
  if (!server->Exec("CREATE SCHEMA " + schema, error)) return "";
  return server->ConnectionString() + " options='-c search_path=" + schema +
         "'";
}

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
    store_ = OpenSqlite(dir_.File("data/crashctl.db"), &error);
    ASSERT_NE(store_, nullptr) << error;
  } else {
    std::string why;
    if (!::crashctl::testing::PostgresServer::Available(&why)) {
      GTEST_SKIP() << why;
    }
    ::crashctl::testing::PostgresServer* server =
        ::crashctl::testing::SharedPostgresServer(&why);
    ASSERT_NE(server, nullptr) << why;
    const std::string conninfo = PostgresSchemaConninfo(server, &why);
    ASSERT_FALSE(conninfo.empty()) << why;
    Status status = OpenPostgres(PostgresTestOptions(conninfo), &store_);
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

}  // namespace testing_util
}  // namespace store
}  // namespace crashctl
