// SqliteStore: pod crashes and their links to groups.
#include <string>
#include <utility>

#include "crashctl/util/time.h"
#include "cursor.h"
#include "rows.h"
#include "sqlite_store.h"

namespace crashctl {
namespace store {
namespace {

constexpr char kInsertCrash[] =
    "INSERT INTO crashes (dedup_key, namespace, pod, pod_uid, container, "
    "node, workload_kind, workload, image, crash_type, reason, exit_code, "
    "signal, restart_count, memory_request, memory_limit, started_at, "
    "finished_at, message, logs, created_at, updated_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
    "?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)";

constexpr char kUpdateCrash[] =
    "UPDATE crashes SET namespace = ?2, pod = ?3, pod_uid = ?4, "
    "container = ?5, node = ?6, workload_kind = ?7, workload = ?8, "
    "image = ?9, crash_type = ?10, reason = ?11, exit_code = ?12, "
    "signal = ?13, restart_count = ?14, memory_request = ?15, "
    "memory_limit = ?16, started_at = ?17, finished_at = ?18, "
    "message = ?19, logs = ?20, updated_at = ?22 "
    "WHERE dedup_key = ?1";

// Binds ?1..?20 (every field but id and the timestamps) and ?21/?22
// (created_at, updated_at).
void BindCrash(SqliteStmt* stmt, const model::Crash& crash, double created_at,
               double updated_at) {
  stmt->Bind(1, crash.dedup_key)
      .Bind(2, crash.namespace_)
      .Bind(3, crash.pod)
      .Bind(4, crash.pod_uid)
      .Bind(5, crash.container)
      .Bind(6, crash.node)
      .Bind(7, crash.workload_kind)
      .Bind(8, crash.workload)
      .Bind(9, crash.image)
      .Bind(10, crash.crash_type)
      .Bind(11, crash.reason)
      .Bind(12, crash.exit_code)
      .Bind(13, crash.signal)
      .Bind(14, crash.restart_count)
      .Bind(15, crash.memory_request)
      .Bind(16, crash.memory_limit)
      .Bind(17, crash.started_at)
      .Bind(18, crash.finished_at)
      .Bind(19, crash.message)
      .Bind(20, crash.logs)
      .Bind(21, created_at)
      .Bind(22, updated_at);
}

// Reads the crash selected by `where` (one parameter, ?1) and its links.
template <typename Key>
Status LoadCrash(SqliteDb* db, const char* where, const Key& key,
                 const std::string& what, model::Crash* out) {
  Status st;
  SqliteStmt stmt;
  if (!db->Prepare(std::string("SELECT ") + kCrashColumns +
                       " FROM crashes WHERE " + where,
                   &stmt, &st)) {
    return st;
  }
  stmt.Bind(1, key);
  st = StepToRow(db, &stmt, "get " + what, what + " not found");
  if (!st.ok()) return st;
  ReadCrash(stmt, out);
  stmt = SqliteStmt();
  return LoadLinkedGroups(db, out);
}

}  // namespace

Status SqliteStore::UpsertCrash(const model::Crash& crash, int64_t* id,
                                bool* inserted) {
  if (crash.dedup_key.empty()) {
    return MakeStatus(Status::Code::kInvalid, "crash dedup_key is empty");
  }
  const double now = util::NowSeconds();
  const double created_at = crash.created_at > 0 ? crash.created_at : now;
  const double updated_at = crash.updated_at > 0 ? crash.updated_at : now;
  int64_t row_id = 0;
  bool was_inserted = false;
  Status status = Write("upsert crash", [&](SqliteDb* db) {
    Status st;
    {
      SqliteStmt find;
      if (!db->Prepare("SELECT id FROM crashes WHERE dedup_key = ?1", &find,
                       &st)) {
        return st;
      }
      find.Bind(1, crash.dedup_key);
      int rc = find.Step();
      if (rc == SQLITE_ROW) {
        row_id = find.Int(0);
      } else if (rc != SQLITE_DONE) {
        return db->LastStatus("upsert crash: lookup");
      }
    }
    SqliteStmt stmt;
    if (!db->Prepare(row_id == 0 ? kInsertCrash : kUpdateCrash, &stmt, &st)) {
      return st;
    }
    BindCrash(&stmt, crash, created_at, updated_at);
    if (stmt.Run() != SQLITE_DONE) {
      return db->LastStatus("upsert crash " + crash.dedup_key);
    }
    was_inserted = row_id == 0;
    if (was_inserted) row_id = db->LastInsertRowid();
    return Status::Ok();
  });
  if (status.ok()) {
    if (id != nullptr) *id = row_id;
    if (inserted != nullptr) *inserted = was_inserted;
  }
  return status;
}

Status SqliteStore::GetCrashByKey(const std::string& dedup_key,
                                  model::Crash* out) {
  return Read("get crash by key", [&](SqliteDb* db) {
    return LoadCrash(db, "dedup_key = ?1", dedup_key,
                     "crash '" + dedup_key + "'", out);
  });
}

Status SqliteStore::GetCrash(int64_t id, model::Crash* out) {
  return Read("get crash", [&](SqliteDb* db) {
    return LoadCrash(db, "id = ?1", id, "crash " + std::to_string(id), out);
  });
}

Status SqliteStore::ListCrashes(const CrashQuery& query,
                                model::Page<model::Crash>* out) {
  Cursor cursor;
  bool has_cursor = !query.cursor.empty();
  if (has_cursor) {
    std::string error;
    if (!DecodeCursor(query.cursor, "updated_at", &cursor, &error)) {
      return MakeStatus(Status::Code::kInvalid, error);
    }
  }
  const int limit = ClampLimit(query.limit);
  std::string sql =
      std::string("SELECT ") + kCrashColumns + " FROM crashes WHERE 1 = 1";
  if (!query.namespace_.empty()) sql += " AND namespace = ?1";
  if (query.crash_type) sql += " AND crash_type = ?2";
  if (!query.pod.empty()) sql += " AND pod = ?3";
  if (query.since > 0) sql += " AND updated_at >= ?4";
  if (has_cursor) sql += " AND (updated_at, id) < (?5, ?6)";
  sql += " ORDER BY updated_at DESC, id DESC LIMIT ?7";

  model::Page<model::Crash> page;
  Status status = Read("list crashes", [&](SqliteDb* db) {
    page = model::Page<model::Crash>();
    Status st;
    SqliteStmt stmt;
    if (!db->Prepare(sql, &stmt, &st)) return st;
    if (!query.namespace_.empty()) stmt.Bind(1, query.namespace_);
    if (query.crash_type) stmt.Bind(2, *query.crash_type);
    if (!query.pod.empty()) stmt.Bind(3, query.pod);
    if (query.since > 0) stmt.Bind(4, query.since);
    if (has_cursor) stmt.Bind(5, cursor.value).Bind(6, cursor.id);
    stmt.Bind(7, limit + 1);
    int rc;
    const bool more = ReadPageRows(&stmt, limit, ReadCrash, &page.items, &rc);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
      return db->LastStatus("list crashes");
    }
    stmt = SqliteStmt();
    for (model::Crash& crash : page.items) {
      st = LoadLinkedGroups(db, &crash);
      if (!st.ok()) return st;
    }
    if (more) {
      Cursor next;
      next.sort = "updated_at";
      next.value = page.items.back().updated_at;
      next.id = page.items.back().id;
      page.next_cursor = EncodeCursor(next);
    }
    return Status::Ok();
  });
  if (status.ok()) *out = std::move(page);
  return status;
}

Status SqliteStore::LinkCrashGroup(int64_t crash_id, int64_t group_id) {
  return Write("link crash and group", [&](SqliteDb* db) {
    Status st;
    SqliteStmt stmt;
    if (!db->Prepare("INSERT OR IGNORE INTO crash_groups (crash_id, group_id) "
                     "VALUES (?1, ?2)",
                     &stmt, &st)) {
      return st;
    }
    stmt.Bind(1, crash_id).Bind(2, group_id);
    if (stmt.Run() != SQLITE_DONE) {
      if (db->last_rc() == SQLITE_CONSTRAINT_FOREIGNKEY) {
        return MakeStatus(Status::Code::kNotFound,
                          "link crash " + std::to_string(crash_id) +
                              " and group " + std::to_string(group_id) +
                              ": no such crash or group");
      }
      return db->LastStatus("link crash " + std::to_string(crash_id) +
                            " and group " + std::to_string(group_id));
    }
    return Status::Ok();
  });
}

}  // namespace store
}  // namespace crashctl
