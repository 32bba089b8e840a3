// SqliteStore: project keys and project deletes (issue 19,
// docs/rest-api.md "Projects and keys").
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <string>
#include <utility>
#include <vector>

#include "crashctl/util/time.h"
#include "rows.h"
#include "sqlite_store.h"

namespace crashctl {
namespace store {
namespace {

constexpr size_t kMaxKeyLabelBytes = 200;

constexpr char kKeyColumns[] =
    "id, project_id, public_key, label, active, rate_limit_per_minute, "
    "created_at";

void ReadKey(const SqliteStmt& stmt, model::ProjectKey* out) {
  out->id = stmt.Int(0);
  out->project_id = stmt.Int(1);
  out->public_key = stmt.Text(2);
  out->label = stmt.Text(3);
  out->active = stmt.Int(4) != 0;
  out->rate_limit_per_minute = stmt.Int(5);
  out->created_at = stmt.Double(6);
}

Status ValidateKeyFields(const std::string* label, const int64_t* rate_limit) {
  if (label != nullptr && label->size() > kMaxKeyLabelBytes) {
    return MakeStatus(
        Status::Code::kInvalid,
        "label: at most " + std::to_string(kMaxKeyLabelBytes) + " bytes");
  }
  if (rate_limit != nullptr && *rate_limit < 0) {
    return MakeStatus(Status::Code::kInvalid,
                      "rate_limit_per_minute: must be >= 0 (0 = no limit)");
  }
  return Status::Ok();
}

std::string ProjectNotFound(int64_t id) {
  return "project " + std::to_string(id) + " not found";
}

// kNotFound unless project `id` exists.
Status CheckProject(SqliteDb* db, int64_t id) {
  Status st;
  SqliteStmt stmt;
  if (!db->Prepare("SELECT 1 FROM projects WHERE id = ?1", &stmt, &st)) {
    return st;
  }
  stmt.Bind(1, id);
  return StepToRow(db, &stmt, "project lookup", ProjectNotFound(id));
}

// Reads key `key_id` of project `project_id`; kNotFound when it has none.
Status LoadKey(SqliteDb* db, int64_t project_id, int64_t key_id,
               model::ProjectKey* out) {
  Status st;
  SqliteStmt stmt;
  if (!db->Prepare(std::string("SELECT ") + kKeyColumns +
                       " FROM project_keys WHERE id = ?1 AND project_id = ?2",
                   &stmt, &st)) {
    return st;
  }
  stmt.Bind(1, key_id).Bind(2, project_id);
  st = StepToRow(db, &stmt, "key lookup",
                 "project " + std::to_string(project_id) + " has no key " +
                     std::to_string(key_id));
  if (!st.ok()) return st;
  ReadKey(stmt, out);
  return Status::Ok();
}

Status ReadKeys(SqliteDb* db, const std::string& sql, const int64_t* project,
                std::vector<model::ProjectKey>* out) {
  Status st;
  SqliteStmt stmt;
  if (!db->Prepare(sql, &stmt, &st)) return st;
  if (project != nullptr) stmt.Bind(1, *project);
  int rc;
  while ((rc = stmt.Step()) == SQLITE_ROW) {
    out->emplace_back();
    ReadKey(stmt, &out->back());
  }
  if (rc != SQLITE_DONE) return db->LastStatus("list keys");
  return Status::Ok();
}

// One table's share of a project delete: `before` (may be null) and
// `sql` run in the same transaction, with ?1 = the project and ?2 = the
// rows of this batch (-1: all that are left). `sql` deletes at most ?2
// rows and its changes decide whether another batch is needed.
struct DeleteStep {
  const char* what;
  const char* sql;
  const char* before;
};

// In dependency order: keys first (ingest stops accepting the project's
// events once its key cache reloads), events before their groups, groups
// without events only (an event stored meanwhile keeps its group until the
// final pass). Triggers and cascades take event_search, event_tags,
// attachments and feedback of an event, the group_* tables, crash links
// and group_search of a group, the check-ins of a monitor, the session
// counters and users of a release.
constexpr DeleteStep kProjectDeleteSteps[] = {
    {"keys",
     "DELETE FROM project_keys WHERE id IN (SELECT id FROM project_keys "
     "WHERE project_id = ?1 LIMIT ?2)",
     nullptr},
    {"events",
     "DELETE FROM events WHERE id IN (SELECT id FROM events "
     "WHERE project_id = ?1 LIMIT ?2)",
     nullptr},
    {"transactions",
     "DELETE FROM transactions WHERE id IN (SELECT id FROM transactions "
     "WHERE project_id = ?1 LIMIT ?2)",
     nullptr},
    {"attachments",
     "DELETE FROM attachments WHERE rowid IN (SELECT rowid FROM attachments "
     "WHERE project_id = ?1 LIMIT ?2)",
     nullptr},
    {"feedback",
     "DELETE FROM feedback WHERE rowid IN (SELECT rowid FROM feedback "
     "WHERE project_id = ?1 LIMIT ?2)",
     nullptr},
    {"groups",
     "DELETE FROM groups WHERE id IN (SELECT g.id FROM groups g "
     "WHERE g.project_id = ?1 AND NOT EXISTS "
     "(SELECT 1 FROM events e WHERE e.group_id = g.id) LIMIT ?2)",
     nullptr},
    {"group aliases",
     "DELETE FROM group_aliases WHERE (project_id, fingerprint) IN (SELECT "
     "project_id, fingerprint FROM group_aliases WHERE project_id = ?1 "
     "LIMIT ?2)",
     nullptr},
    {"monitor check-ins",
     "DELETE FROM monitor_checkins WHERE id IN (SELECT c.id FROM "
     "monitor_checkins c JOIN monitors m ON m.id = c.monitor_id "
     "WHERE m.project_id = ?1 LIMIT ?2)",
     nullptr},
    {"monitors",
     "DELETE FROM monitors WHERE id IN (SELECT id FROM monitors "
     "WHERE project_id = ?1 LIMIT ?2)",
     nullptr},
    // Open sessions leave the open count (session_open_count) as they go.
    {"open sessions",
     "DELETE FROM session_records WHERE (project_id, sid) IN (SELECT "
     "project_id, sid FROM session_records WHERE project_id = ?1 AND "
     "closed = 0 LIMIT ?2)",
     "UPDATE session_open_count SET open = max(open - (SELECT count(*) FROM "
     "(SELECT 1 FROM session_records WHERE project_id = ?1 AND closed = 0 "
     "LIMIT ?2)), 0) WHERE id = 1"},
    {"sessions",
     "DELETE FROM session_records WHERE (project_id, sid) IN (SELECT "
     "project_id, sid FROM session_records WHERE project_id = ?1 LIMIT ?2)",
     nullptr},
    {"releases",
     "DELETE FROM releases WHERE (project_id, release, environment) IN "
     "(SELECT project_id, release, environment FROM releases "
     "WHERE project_id = ?1 LIMIT ?2)",
     nullptr},
    {"release sessions",
     "DELETE FROM release_sessions WHERE (project_id, release, environment, "
     "status) IN (SELECT project_id, release, environment, status FROM "
     "release_sessions WHERE project_id = ?1 LIMIT ?2)",
     nullptr},
    {"release users",
     "DELETE FROM release_users WHERE (project_id, release, environment, "
     "distinct_id_hash) IN (SELECT project_id, release, environment, "
     "distinct_id_hash FROM release_users WHERE project_id = ?1 LIMIT ?2)",
     nullptr},
};

// Runs `step` once for project `id` with a batch of `limit` rows (-1 =
// all); `*changes` = the rows it deleted.
Status RunDeleteStep(SqliteDb* db, const DeleteStep& step, int64_t id,
                     int64_t limit, int* changes) {
  const std::string what = std::string("delete project: ") + step.what;
  Status st;
  if (step.before != nullptr) {
    SqliteStmt before;
    if (!db->Prepare(step.before, &before, &st)) return st;
    before.Bind(1, id).Bind(2, limit);
    if (before.Run() != SQLITE_DONE) return db->LastStatus(what);
  }
  SqliteStmt stmt;
  if (!db->Prepare(step.sql, &stmt, &st)) return st;
  stmt.Bind(1, id).Bind(2, limit);
  if (stmt.Run() != SQLITE_DONE) return db->LastStatus(what);
  *changes = db->Changes();
  return Status::Ok();
}

// At most this many batches per table (with 5000 rows a batch, 500 million
// rows); what is left then goes in the final transaction.
constexpr int kMaxProjectDeleteBatches = 100000;

}  // namespace

Status RandomHexKey(std::string* key, const std::string& what) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    return MakeStatus(Status::Code::kInternal, what + ": RAND_bytes failed");
  }
  static const char kHex[] = "0123456789abcdef";
  key->clear();
  for (unsigned char b : bytes) {
    key->push_back(kHex[b >> 4]);
    key->push_back(kHex[b & 15]);
  }
  return Status::Ok();
}

Status InsertProjectKey(SqliteDb* db, model::ProjectKey* key) {
  Status st;
  SqliteStmt insert;
  if (!db->Prepare("INSERT INTO project_keys (project_id, public_key, label, "
                   "active, rate_limit_per_minute, created_at) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                   &insert, &st)) {
    return st;
  }
  insert.Bind(1, key->project_id)
      .Bind(2, key->public_key)
      .Bind(3, key->label)
      .Bind(4, key->active ? 1 : 0)
      .Bind(5, key->rate_limit_per_minute)
      .Bind(6, key->created_at);
  if (insert.Run() != SQLITE_DONE) return db->LastStatus("insert key");
  key->id = db->LastInsertRowid();
  return Status::Ok();
}

Status SqliteStore::DeleteProject(int64_t id) {
  Status status = Read("delete project",
                       [&](SqliteDb* db) { return CheckProject(db, id); });
  if (!status.ok()) return status;
  // Counters held in memory go into `groups` first: the groups of this
  // project must not be written back once deleted.
  status = FlushGroupCounters();
  if (!status.ok()) return status;
  const int64_t batch =
      options_.delete_batch > 0 ? options_.delete_batch : 5000;
  int64_t deleted = 0;
  for (const DeleteStep& step : kProjectDeleteSteps) {
    for (int i = 0; i < kMaxProjectDeleteBatches; ++i) {
      int changes = 0;
      status = Write("delete project", [&](SqliteDb* db) {
        return RunDeleteStep(db, step, id, batch, &changes);
      });
      if (!status.ok()) return status;
      deleted += changes;
      if (changes < batch) break;
    }
  }
  // The final transaction: whatever arrived meanwhile (ingest may accept a
  // few events until its key cache reloads), then the project. Event ids
  // must only grow (GroupFolds): if the newest events were this project's,
  // groups_folded_below (a lower bound) is lowered to what is left so that
  // recovery still covers the ids SQLite hands out again.
  status = Write("delete project", [&](SqliteDb* db) {
    for (const DeleteStep& step : kProjectDeleteSteps) {
      int changes = 0;
      Status st = RunDeleteStep(db, step, id, -1, &changes);
      if (!st.ok()) return st;
      deleted += changes;
    }
    Status st = db->Exec(
        "UPDATE store_state SET value = min(value, (SELECT coalesce(max(id), "
        "0) + 1 FROM events)) WHERE name = 'groups_folded_below'",
        "delete project: folded bound");
    if (!st.ok()) return st;
    SqliteStmt stmt;
    if (!db->Prepare("DELETE FROM projects WHERE id = ?1", &stmt, &st)) {
      return st;
    }
    stmt.Bind(1, id);
    if (stmt.Run() != SQLITE_DONE) return db->LastStatus("delete project");
    if (db->Changes() == 0) {
      return MakeStatus(Status::Code::kNotFound, ProjectNotFound(id));
    }
    return Status::Ok();
  });
  if (status.ok()) {
    VacuumFreePages();
    spdlog::info("store: deleted project {} ({} rows)", id, deleted);
  }
  return status;
}

Status SqliteStore::ListKeys(int64_t project_id,
                             std::vector<model::ProjectKey>* out) {
  std::vector<model::ProjectKey> keys;
  Status status = Read("list keys", [&](SqliteDb* db) {
    Status st = CheckProject(db, project_id);
    if (!st.ok()) return st;
    return ReadKeys(db,
                    std::string("SELECT ") + kKeyColumns +
                        " FROM project_keys WHERE project_id = ?1 ORDER BY id",
                    &project_id, &keys);
  });
  if (status.ok()) *out = std::move(keys);
  return status;
}

Status SqliteStore::ListAllKeys(std::vector<model::ProjectKey>* out) {
  std::vector<model::ProjectKey> keys;
  Status status = Read("list keys", [&](SqliteDb* db) {
    return ReadKeys(
        db,
        std::string("SELECT ") + kKeyColumns + " FROM project_keys ORDER BY id",
        nullptr, &keys);
  });
  if (status.ok()) *out = std::move(keys);
  return status;
}

Status SqliteStore::CreateKey(int64_t project_id, const std::string& label,
                              int64_t rate_limit_per_minute,
                              model::ProjectKey* out) {
  Status status = ValidateKeyFields(&label, &rate_limit_per_minute);
  if (!status.ok()) return status;
  model::ProjectKey key;
  key.project_id = project_id;
  key.label = label;
  key.rate_limit_per_minute = rate_limit_per_minute;
  key.created_at = util::NowSeconds();
  status = RandomHexKey(&key.public_key, "create key");
  if (!status.ok()) return status;
  status = Write("create key", [&](SqliteDb* db) {
    Status st = CheckProject(db, project_id);
    if (!st.ok()) return st;
    return InsertProjectKey(db, &key);
  });
  if (status.ok() && out != nullptr) *out = key;
  return status;
}

Status SqliteStore::UpdateKey(int64_t project_id, int64_t key_id,
                              const KeyUpdate& update, model::ProjectKey* out) {
  Status status = ValidateKeyFields(
      update.label ? &*update.label : nullptr,
      update.rate_limit_per_minute ? &*update.rate_limit_per_minute : nullptr);
  if (!status.ok()) return status;
  model::ProjectKey key;
  status = Write("update key", [&](SqliteDb* db) {
    Status st = LoadKey(db, project_id, key_id, &key);
    if (!st.ok()) return st;
    if (update.label) key.label = *update.label;
    if (update.active) key.active = *update.active;
    if (update.rate_limit_per_minute) {
      key.rate_limit_per_minute = *update.rate_limit_per_minute;
    }
    SqliteStmt stmt;
    if (!db->Prepare("UPDATE project_keys SET label = ?1, active = ?2, "
                     "rate_limit_per_minute = ?3 WHERE id = ?4",
                     &stmt, &st)) {
      return st;
    }
    stmt.Bind(1, key.label)
        .Bind(2, key.active ? 1 : 0)
        .Bind(3, key.rate_limit_per_minute)
        .Bind(4, key_id);
    if (stmt.Run() != SQLITE_DONE) return db->LastStatus("update key");
    return Status::Ok();
  });
  if (status.ok() && out != nullptr) *out = key;
  return status;
}

Status SqliteStore::DeleteKey(int64_t project_id, int64_t key_id) {
  return Write("delete key", [&](SqliteDb* db) {
    Status st;
    SqliteStmt stmt;
    if (!db->Prepare(
            "DELETE FROM project_keys WHERE id = ?1 AND project_id = ?2", &stmt,
            &st)) {
      return st;
    }
    stmt.Bind(1, key_id).Bind(2, project_id);
    if (stmt.Run() != SQLITE_DONE) return db->LastStatus("delete key");
    if (db->Changes() == 0) {
      return MakeStatus(Status::Code::kNotFound,
                        "project " + std::to_string(project_id) +
                            " has no key " + std::to_string(key_id));
    }
    return Status::Ok();
  });
}

}  // namespace store
}  // namespace crashctl
