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
#include <utility>
#include <vector>

#include "crashctl/store/store.h"
#include "sqlite_db.h"

namespace crashctl {
namespace store {

// At most this many links are loaded per group / crash (newest first).
constexpr int kMaxLinks = 100;

// SELECT lists, in the order the Read* functions expect.
extern const char kProjectColumns[];
extern const char kGroupColumns[];
extern const char kEventColumns[];  // without payload
// Columns kept for a transaction, without its spans; the number of them is
// kTransactionColumnCount (the next column index a SELECT may add).
extern const char kTransactionColumns[];
constexpr int kTransactionColumnCount = 22;
// The number of columns in kEventColumns.
constexpr int kEventColumnCount = 18;
extern const char kCrashColumns[];

// events.sdk (schema 8): "name/version" ("" when both are empty); split at
// the last '/' when read.
std::string SdkColumn(const std::string& name, const std::string& version);
void SplitSdkColumn(const std::string& column, std::string* name,
                    std::string* version);
// events.tags (schema 9): a JSON array of [key, value] pairs ("" for none).
// A column that does not parse reads as no tags.
std::string TagsColumn(
    const std::vector<std::pair<std::string, std::string>>& tags);
void ParseTagsColumn(const std::string& column,
                     std::vector<std::pair<std::string, std::string>>* tags);

// The tags an event is indexed by (event_tags, group_tags): the pseudo tags
// level, release, environment, server_name, service and user (when not
// empty), then at most kMaxCustomTags of its own tags whose key is at most
// kMaxTagKeyBytes and value at most kMaxTagValueBytes (longer ones, empty
// ones and repeats of a key already listed are left out).
constexpr size_t kMaxCustomTags = 50;
using TagList = std::vector<std::pair<std::string, std::string>>;
TagList IndexedTags(const model::Event& event);
// The event's own tags of IndexedTags() (without the pseudo tags), as
// events.tags keeps them.
TagList CustomTags(const model::Event& event);
// The text full-text search sees of an event's exceptions: "type: value"
// of each, one per line, at most kMaxSearchExceptionBytes.
constexpr size_t kMaxSearchExceptionBytes = 4096;
std::string ExceptionSearchText(const model::Event& event);
// The start of an event's message that full-text search sees: a message
// can be kilobytes of log text, and every distinct word of it would cost an
// index entry per event.
constexpr size_t kMaxSearchMessageBytes = 1024;
std::string MessageSearchText(const model::Event& event);

void ReadProject(const SqliteStmt& stmt, model::Project* out);

// Project keys (store/sqlite_store_keys.cc): 32 random lowercase hex digits
// (kInternal naming `what` when no randomness), and the insert of `*key`
// (its id is set).
Status RandomHexKey(std::string* key, const std::string& what);
Status InsertProjectKey(SqliteDb* db, model::ProjectKey* key);
void ReadGroup(const SqliteStmt& stmt, model::Group* out);
void ReadEvent(const SqliteStmt& stmt, model::StoredEvent* out);
// Steps `stmt` (event columns, then events.id at kEventColumnCount, newest
// first, at most limit + 1 rows) into `page`: up to `limit` events, and a
// "timestamp" cursor after the last when there is one more. `what` names the
// read in errors.
Status ReadEventPage(SqliteDb* db, SqliteStmt* stmt, int limit,
                     const char* what, model::Page<model::StoredEvent>* page);
void ReadCrash(const SqliteStmt& stmt, model::Crash* out);
// Fills everything but transaction.spans (cleared).
void ReadTransaction(const SqliteStmt& stmt, model::StoredTransaction* out);

// Reads group `id` with its linked crashes; kNotFound "group <id> not
// found" when there is none (sqlite_store_events.cc).
Status LoadGroup(SqliteDb* db, int64_t id, model::Group* out);
// Fills group->linked_crashes (crash ids, newest first, at most kMaxLinks).
Status LoadLinkedCrashes(SqliteDb* db, model::Group* group);
// Fills crash->linked_groups (group ids, newest first, at most kMaxLinks).
Status LoadLinkedGroups(SqliteDb* db, model::Crash* crash);

// Steps `stmt` to its first row. OK when there is one (read it from
// `stmt`); kNotFound with `not_found` when there is none; otherwise the
// connection's error, reported as `what`.
Status StepToRow(SqliteDb* db, SqliteStmt* stmt, const std::string& what,
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

// `value` when finite, else `fallback` (a non-finite time would fail a
// NOT NULL column).
double FiniteOr(double value, double fallback);

// Reads a stored spelling; what no version ever wrote reads as the default.
inline model::Level LevelFrom(const std::string& text) {
  model::Level level = model::Level::kError;
  model::ParseLevel(text, &level);
  return level;
}
inline model::GroupStatus GroupStatusFrom(const std::string& text) {
  model::GroupStatus status = model::GroupStatus::kUnresolved;
  model::ParseGroupStatus(text, &status);
  return status;
}
inline model::CrashType CrashTypeFrom(const std::string& text) {
  model::CrashType type = model::CrashType::kErrorExit;
  model::ParseCrashType(text, &type);
  return type;
}

inline Status MakeStatus(Status::Code code, std::string message) {
  return Status(code, std::move(message));
}

}  // namespace store
}  // namespace crashctl

#endif  // CRASHCTL_STORE_ROWS_H_
