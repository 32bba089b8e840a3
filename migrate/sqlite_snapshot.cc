#include "sqlite_snapshot.h"

#include <sqlite3.h>

namespace crashctl {
namespace migrate {

bool SqliteRow::IsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

int64_t SqliteRow::Int(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

double SqliteRow::Double(int column) const {
  return sqlite3_column_double(stmt_, column);
}

std::string_view SqliteRow::Bytes(int column) const {
  // sqlite3_column_blob converts nothing (a TEXT value's bytes as stored);
  // the length must be asked for after it.
  const void* data = sqlite3_column_blob(stmt_, column);
  const int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr || size <= 0) return std::string_view();
  return std::string_view(static_cast<const char*>(data),
                          static_cast<size_t>(size));
}

SqliteSnapshot::~SqliteSnapshot() {
  if (db_ != nullptr) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close_v2(db_);
  }
}

Status SqliteSnapshot::Open(const std::string& path) {
  path_ = path;
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) !=
      SQLITE_OK) {
    const std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
    return Status::Unavailable("open " + path + " read-only: " + why);
  }
  sqlite3_busy_timeout(db_, 10000);
  // BEGIN alone takes no snapshot; the first read does.
  char* message = nullptr;
  if (sqlite3_exec(db_, "BEGIN; SELECT count(*) FROM schema_migrations;",
                   nullptr, nullptr, &message) != SQLITE_OK) {
    const std::string why = message ? message : sqlite3_errmsg(db_);
    sqlite3_free(message);
    return Status::Unavailable("read snapshot of " + path + ": " + why);
  }
  return Status::Ok();
}

Status SqliteSnapshot::Query(std::string_view sql,
                             const std::vector<int64_t>& params,
                             const std::function<bool(const SqliteRow&)>& row) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt,
                         nullptr) != SQLITE_OK) {
    return Status::Internal("read " + path_ + ": " + sqlite3_errmsg(db_) +
                            " in: " + std::string(sql));
  }
  for (size_t i = 0; i < params.size(); ++i) {
    sqlite3_bind_int64(stmt, static_cast<int>(i + 1), params[i]);
  }
  const SqliteRow current(stmt);
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    if (!row(current)) {
      rc = SQLITE_DONE;
      break;
    }
  }
  Status status = Status::Ok();
  if (rc != SQLITE_DONE) {
    status = Status::Internal("read " + path_ + ": " + sqlite3_errmsg(db_));
  }
  sqlite3_finalize(stmt);
  return status;
}

Status SqliteSnapshot::QueryInt(std::string_view sql, int64_t* out) {
  *out = 0;
  return Query(sql, {}, [out](const SqliteRow& row) {
    *out = row.Int(0);
    return false;
  });
}

bool SqliteSnapshot::HasTable(const std::string& name) {
  bool found = false;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_,
                         "SELECT 1 FROM sqlite_master WHERE type = 'table' "
                         "AND name = ?1",
                         -1, &stmt, nullptr) != SQLITE_OK) {
    return false;
  }
  sqlite3_bind_text(stmt, 1, name.c_str(), static_cast<int>(name.size()),
                    SQLITE_TRANSIENT);
  found = sqlite3_step(stmt) == SQLITE_ROW;
  sqlite3_finalize(stmt);
  return found;
}

}  // namespace migrate
}  // namespace crashctl
