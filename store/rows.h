// Row mapping shared by the SqliteStore files: the column lists of each table
// as selected, the readers that turn a statement row into a struct, and the
// link loaders. Internal to store/.
//
// Thread-safety: functions use only the connection they are given.
#ifndef CRASHCTL_STORE_ROWS_H_
#define CRASHCTL_STORE_ROWS_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "store/sqlite_db.h"
#include "store/store.h"

namespace crashctl {

// At most this many links are loaded per group / crash (newest first).
constexpr int kMaxLinks = 100;

// SELECT lists, in the order the Read* functions expect.
extern const char kProjectColumns[];
extern const char kGroupColumns[];
extern const char kEventColumns[];  // without payload
extern const char kCrashColumns[];

void ReadProject(const SqliteStmt& stmt, Project* out);
void ReadGroup(const SqliteStmt& stmt, Group* out);
void ReadEvent(const SqliteStmt& stmt, StoredEvent* out);
void ReadCrash(const SqliteStmt& stmt, Crash* out);

// Fills group->linked_crashes (crash ids, newest first, at most kMaxLinks).
StoreStatus LoadLinkedCrashes(SqliteDb* db, Group* group);
// Fills crash->linked_groups (group ids, newest first, at most kMaxLinks).
StoreStatus LoadLinkedGroups(SqliteDb* db, Crash* crash);

// Steps `stmt` to its first row. OK when there is one (read it from
// `stmt`); kNotFound with `not_found` when there is none; otherwise the
// connection's error, reported as `what`.
StoreStatus StepToRow(SqliteDb* db, SqliteStmt* stmt, const std::string& what,
                      const std::string& not_found);

// Steps `stmt`, reading at most `limit` rows into `items` with
// `read(stmt, &item)`. Returns true when a further row exists (this page is
// not the last). `*rc` gets the last step's result: SQLITE_ROW or
// SQLITE_DONE on success, an error code otherwise.
template <typename T, typename ReadFn>
bool ReadPageRows(SqliteStmt* stmt, int limit, ReadFn read,
                  std::vector<T>* items, int* rc) {
  while ((*rc = stmt->Step()) == SQLITE_ROW) {
    if (static_cast<int>(items->size()) == limit) return true;
    items->emplace_back();
    read(*stmt, &items->back());
  }
  return false;
}

// Clamps a page size: <= 0 means `fallback`, above 1000 means 1000.
int ClampLimit(int limit, int fallback = 50);

inline double NowSeconds() {
  return std::chrono::duration<double>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline StoreStatus MakeStatus(StoreStatus::Code code, std::string message) {
  StoreStatus status;
  status.code = code;
  status.message = std::move(message);
  return status;
}

}  // namespace crashctl

#endif  // CRASHCTL_STORE_ROWS_H_
