// Helpers for the store tests: a temporary directory per test and builders
// for WriteItems.
#ifndef CRASHCTL_TESTS_STORE_STORE_TEST_UTIL_H_
#define CRASHCTL_TESTS_STORE_STORE_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "crashctl/store/sqlite.h"
#include "crashctl/store/store.h"
#include "store/sqlite_store.h"
#include "tests/testing/temp_dir.h"

namespace crashctl {
namespace store {
namespace testing_util {

// A fresh directory per test, removed on destruction
// (tests/testing/temp_dir.h).
class TempDir : public ::crashctl::testing::TempDir {
 public:
  TempDir() : ::crashctl::testing::TempDir("store-test") {}
};

// Runs `sql` on the database file itself (read-only, the default VFS),
// past the store: what another process would see. `read` gets the first
// row; returns whether there was one.
template <typename ReadRow>
bool QueryFirstRow(const std::string& path, const std::string& sql,
                   ReadRow read) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
            SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  const bool found = sqlite3_step(stmt) == SQLITE_ROW;
  if (found) read(stmt);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return found;
}

// The first column of the first row as an integer; -1 if no row.
inline int64_t QueryInt(const std::string& path, const std::string& sql) {
  int64_t value = -1;
  QueryFirstRow(path, sql, [&](sqlite3_stmt* stmt) {
    value = sqlite3_column_int64(stmt, 0);
  });
  return value;
}

// The first column of the first row as text; "" if no row.
inline std::string QueryText(const std::string& path, const std::string& sql) {
  std::string value;
  QueryFirstRow(path, sql, [&](sqlite3_stmt* stmt) {
    const unsigned char* text = sqlite3_column_text(stmt, 0);
    if (text != nullptr) value = reinterpret_cast<const char*>(text);
  });
  return value;
}

// 32 lowercase hex characters derived from `n` (distinct for distinct n).
inline std::string EventId(int64_t n) {
  char buf[33];
  std::snprintf(buf, sizeof(buf), "%032llx",
                static_cast<unsigned long long>(n));
  return buf;
}

inline model::WriteItem MakeItem(int64_t project, int64_t n,
                                 const std::string& fingerprint,
                                 double timestamp) {
  model::WriteItem item;
  item.event.event_id = EventId(n);
  item.event.project_id = project;
  item.event.timestamp = timestamp;
  item.event.received = timestamp + 0.5;
  item.event.level = model::Level::kError;
  item.event.platform = "node";
  item.event.message = "message " + std::to_string(n);
  item.event.raw_json = "{\"event_id\":\"" + EventId(n) + "\"}";
  item.grouping.fingerprint = fingerprint;
  item.grouping.title = "Error: " + fingerprint;
  item.grouping.culprit = "app.js in handler";
  item.grouping.method = "fingerprint";
  return item;
}

// Base fixture: a store in a temp dir with one project.
class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    store_ = SqliteStore::Open(dir_.File("data/crashctl.db"), options_, &error);
    ASSERT_NE(store_, nullptr) << error;
    ASSERT_TRUE(store_->CreateProject("default", &project_).ok());
  }

  // Writes items one batch; asserts success; returns outcomes.
  std::vector<model::WriteOutcome> Write(
      const std::vector<model::WriteItem>& items) {
    std::vector<model::WriteOutcome> outcomes;
    Status status = store_->WriteEvents(items, &outcomes);
    EXPECT_TRUE(status.ok()) << status.message();
    return outcomes;
  }

  TempDir dir_;
  SqliteStore::Options options_;
  std::unique_ptr<SqliteStore> store_;
  model::Project project_;
};

}  // namespace testing_util
}  // namespace store
}  // namespace crashctl

#endif  // CRASHCTL_TESTS_STORE_STORE_TEST_UTIL_H_
