// BackendStoreTest: a store test run against both Store backends. The
// parameter names the backend: "sqlite" (a database file in a temporary
// directory) or "postgres" (a schema of its own on the shared test server
// of tests/testing/postgres_server.h; the case skips when PostgreSQL is not
// installed). Each test gets a fresh store with one project, "default".
//
//   using CrashTest = BackendStoreTest;
//   CRASHCTL_STORE_BACKENDS(CrashTest);
//   TEST_P(CrashTest, ...) { store_->... }
//
// Thread-safety: a gtest fixture; store_ itself is thread-safe.
#ifndef CRASHCTL_TESTS_STORE_BACKEND_FIXTURE_H_
#define CRASHCTL_TESTS_STORE_BACKEND_FIXTURE_H_

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "crashctl/store/postgres.h"
#include "crashctl/store/store.h"
#include "tests/testing/postgres_server.h"
#include "tests/testing/temp_dir.h"

namespace crashctl {
namespace store {
namespace testing_util {

using ::crashctl::testing::PostgresSchemaConninfo;

// Options for a test's PostgresStore on `conninfo` (pool of 8, short
// timeouts).
PostgresOptions PostgresTestOptions(const std::string& conninfo);

class BackendStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override;

  bool postgres() const { return GetParam() == "postgres"; }

  // Writes `items` as one batch; a failure fails the test.
  std::vector<model::WriteOutcome> Write(
      const std::vector<model::WriteItem>& items);
  // Group `id`; a failure fails the test.
  model::Group Group(int64_t id);
  // The first column of the first row of `sql`, as text ("" for none or
  // NULL), read beside the store: in the SQLite file, or in this test's
  // PostgreSQL schema. A failure fails the test.
  std::string QueryValue(const std::string& sql);
  int64_t QueryCount(const std::string& sql) {
    const std::string value = QueryValue(sql);
    return value.empty() ? -1 : std::stoll(value);
  }
  // Closes the store and opens a new one on the same data (for
  // PostgreSQL: what another replica would see).
  void Reopen();
  // Another store on the same data, beside store_ (for PostgreSQL: another
  // replica; for SQLite: a second handle on the file). A failure fails the
  // test and returns null.
  std::unique_ptr<Store> OpenReplica();

  std::string sqlite_path() const { return dir_.File("data/crashctl.db"); }

  ::crashctl::testing::TempDir dir_{"backend-test"};
  std::string conninfo_;  // postgres: the schema's connection string
  std::string schema_;    // postgres: the schema's name
  std::unique_ptr<Store> store_;
  model::Project project_;
};

}  // namespace testing_util
}  // namespace store
}  // namespace crashctl

// A Status expression that must be OK (the test stops / goes on).
#define ASSERT_OK(expr)                                       \
  do {                                                        \
    ::crashctl::Status st_ = (expr);                          \
    ASSERT_TRUE(st_.ok()) << #expr << ": " << st_.ToString(); \
  } while (0)
#define EXPECT_OK(expr)                                       \
  do {                                                        \
    ::crashctl::Status st_ = (expr);                          \
    EXPECT_TRUE(st_.ok()) << #expr << ": " << st_.ToString(); \
  } while (0)

// Runs the TEST_Ps of `fixture` (a BackendStoreTest) on both backends.
#define CRASHCTL_STORE_BACKENDS(fixture)                            \
  INSTANTIATE_TEST_SUITE_P(Backends, fixture,                       \
                           ::testing::Values("sqlite", "postgres"), \
                           [](const auto& info) { return info.param; })

#endif  // CRASHCTL_TESTS_STORE_BACKEND_FIXTURE_H_
