// SqliteSnapshot: a read-only connection to a SQLite database holding one
// read transaction, so every query sees the same state (WAL snapshot).
// Private to migrate/.
//
// Thread-safety: one thread at a time.
#ifndef CRASHCTL_MIGRATE_SQLITE_SNAPSHOT_H_
#define CRASHCTL_MIGRATE_SQLITE_SNAPSHOT_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "crashctl/util/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace crashctl {
namespace migrate {

// The current row of a query, read by column index.
class SqliteRow {
 public:
  explicit SqliteRow(sqlite3_stmt* stmt) : stmt_(stmt) {}
  bool IsNull(int column) const;
  int64_t Int(int column) const;
  double Double(int column) const;
  // Text or blob bytes, whatever the column's type ("" for NULL).
  std::string_view Bytes(int column) const;

 private:
  sqlite3_stmt* stmt_;
};

class SqliteSnapshot {
 public:
  SqliteSnapshot() = default;
  ~SqliteSnapshot();
  SqliteSnapshot(const SqliteSnapshot&) = delete;
  SqliteSnapshot& operator=(const SqliteSnapshot&) = delete;

  // Opens `path` read-only and starts the read transaction.
  Status Open(const std::string& path);
  // Runs `sql` with integer parameters ?1..?n, calling `row` for each row
  // (stop early by returning false).
  Status Query(std::string_view sql, const std::vector<int64_t>& params,
               const std::function<bool(const SqliteRow&)>& row);
  // The single integer `sql` answers (0 for no row or NULL).
  Status QueryInt(std::string_view sql, int64_t* out);
  // Whether table `name` exists.
  bool HasTable(const std::string& name);

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
};

}  // namespace migrate
}  // namespace crashctl

#endif  // CRASHCTL_MIGRATE_SQLITE_SNAPSHOT_H_
