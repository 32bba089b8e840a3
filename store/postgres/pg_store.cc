// PostgresStore: opening, projects and keys, reads of groups and events,
// status changes, maintenance and health. WriteEvents is in
// pg_store_write.cc, the schema in pg_schema.cc.
#include "pg_store.h"

#include <spdlog/spdlog.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "crashctl/store/pg/errors.h"
#include "crashctl/util/time.h"
#include "cursor.h"
#include "payload_codec.h"
#include "pg_rows.h"
#include "query_sql.h"
#include "rows.h"

namespace crashctl {
namespace store {

Status OpenPostgres(const PostgresOptions& options,
                    std::unique_ptr<Store>* out) {
  if (options.conninfo.empty()) {
    return Status::Invalid("postgres: storage.postgres.dsn is empty");
  }
  if (options.pool_size < 1) {
    return Status::Invalid("postgres: storage.postgres.pool_size must be >= 1");
  }
  auto store = std::make_unique<pg::PostgresStore>(options);
  Status status = store->Open();
  if (!status.ok()) return status;
  *out = std::move(store);
  return Status::Ok();
}

namespace pg {
namespace {

// Rows of one maintenance DELETE, and most batches of one call.
constexpr int64_t kDeleteBatch = 5000;
constexpr int kMaxDeleteBatches = 100000;
// The session advisory lock of retention (WithRetentionLock), one per
// schema: advisory locks are per database, and several crashctl
// installations (or test schemas) may share one.
constexpr char kRetentionLockKey[] =
    "hashtextextended('crashctl.retention.' || current_schema(), 0)";
// A project's open sessions leave the open count as they go (at most
// 5,000 a statement; the rows it deleted are its SELECT's).
constexpr char kDeleteOpenSessions[] =
    "WITH gone AS (DELETE FROM session_records WHERE ctid IN (SELECT ctid "
    "FROM session_records WHERE project_id = $1 AND closed = false LIMIT "
    "5000) RETURNING 1), counted AS (UPDATE session_open_count SET open = "
    "greatest(open - (SELECT count(*) FROM gone), 0) WHERE id = 1) SELECT 1 "
    "FROM gone";
constexpr size_t kMaxKeyLabelBytes = 200;

constexpr char kKeyColumns[] =
    "id, project_id, public_key, label, active, rate_limit_per_minute, "
    "created_at";

Status NotSupported(const char* method) {
  return Status::Internal(std::string(kPostgresNotSupported) + method);
}

void ReadKey(const Result& r, int row, model::ProjectKey* out) {
  out->id = r.IntOr(row, 0, 0);
  out->project_id = r.IntOr(row, 1, 0);
  out->public_key = r.Text(row, 2);
  out->label = r.Text(row, 3);
  bool active = true;
  r.Bool(row, 4, &active);
  out->active = active;
  out->rate_limit_per_minute = r.IntOr(row, 5, 0);
  out->created_at = r.DoubleOr(row, 6, 0);
}

Status ValidateKeyFields(const std::string* label, const int64_t* rate_limit) {
  if (label != nullptr && label->size() > kMaxKeyLabelBytes) {
    return Status::Invalid("label: at most " +
                           std::to_string(kMaxKeyLabelBytes) + " bytes");
  }
  if (rate_limit != nullptr && *rate_limit < 0) {
    return Status::Invalid(
        "rate_limit_per_minute: must be >= 0 (0 = no limit)");
  }
  return Status::Ok();
}

Status InsertKey(Connection* conn, model::ProjectKey* key) {
  Result r;
  Status st = conn->ExecPrepared(
      "INSERT INTO project_keys (project_id, public_key, label, active, "
      "rate_limit_per_minute, created_at) VALUES ($1, $2, $3, $4, $5, $6) "
      "RETURNING id",
      Params()
          .Int(key->project_id)
          .Text(key->public_key)
          .Text(key->label)
          .Bool(key->active)
          .Int(key->rate_limit_per_minute)
          .Double(key->created_at),
      &r);
  if (!st.ok()) return st;
  return r.Int(0, 0, &key->id);
}

Status LoadGroupRow(Connection* conn, int64_t id, model::Group* out) {
  Result r;
  Status st = conn->ExecPrepared(
      std::string("SELECT ") + kPgGroupColumns + " FROM groups WHERE id = $1",
      Params().Int(id), &r);
  if (!st.ok()) return st;
  if (r.rows() == 0) {
    return Status::NotFound("group " + std::to_string(id) + " not found");
  }
  ReadGroupRow(r, 0, out);
  return Status::Ok();
}

// The event column a pseudo tag is (IndexedTags), "" for a custom tag.
const char* PseudoTagColumn(const std::string& key) {
  if (key == "level") return "level";
  if (key == "release") return "release";
  if (key == "environment") return "environment";
  if (key == "server_name") return "server_name";
  if (key == "service") return "service";
  if (key == "user") return "user_id";
  return "";
}

// " AND <e>.<column> = $n" for a pseudo tag, else a containment test on
// the event's tags (a JSON array of [key, value] pairs).
void AddEventTagFilter(const std::string& alias,
                       const std::pair<std::string, std::string>& tag,
                       PgSql* sql) {
  const std::string column = PseudoTagColumn(tag.first);
  if (!column.empty()) {
    sql->Add(" AND " + alias + "." + column + " = " + sql->Text(tag.second));
    return;
  }
  sql->Add(" AND " + alias + ".tags <> '' AND " + alias +
           ".tags::jsonb @> jsonb_build_array(jsonb_build_array(" +
           sql->Text(tag.first) + "::text, " + sql->Text(tag.second) +
           "::text))");
}

}  // namespace

std::string ProjectNotFound(int64_t id) {
  return "project " + std::to_string(id) + " not found";
}

Status CheckProject(Connection* conn, int64_t id) {
  Result r;
  Status st = conn->ExecPrepared("SELECT 1 FROM projects WHERE id = $1",
                                 Params().Int(id), &r);
  if (!st.ok()) return st;
  if (r.rows() == 0) return Status::NotFound(ProjectNotFound(id));
  return Status::Ok();
}

PostgresStore::PostgresStore(const PostgresOptions& options)
    : options_(options) {
  PoolOptions pool;
  pool.connect.conninfo = options.conninfo;
  pool.connect.application_name = options.application_name;
  pool.connect.connect_timeout_ms = options.connect_timeout_ms;
  pool.connect.statement_timeout_ms = options.statement_timeout_ms;
  pool.size = options.pool_size;
  pool.acquire_timeout_ms = options.acquire_timeout_ms;
  pool_ = std::make_unique<Pool>(pool);
}

PostgresStore::~PostgresStore() = default;

Status PostgresStore::Open() {
  Pool::Lease lease;
  Status st = pool_->Acquire(&lease);
  if (!st.ok()) return st.Annotate("postgres: connect");
  MigrateReport report;
  st = ApplyMigrations(lease.get(), StoreMigrations(), MigrateOptions(),
                       &report);
  if (!st.ok()) return st.Annotate("postgres: migrate");
  for (const std::string& warning : report.warnings) {
    spdlog::warn("postgres: migrations: {}", warning);
  }
  spdlog::info(
      "postgres: connected to {}, schema version {}{} ({} applied now)",
      lease->description(), report.database_version,
      report.database_newer ? " (newer than this binary)" : "",
      report.applied.size());
  return Status::Ok();
}

Status PostgresStore::WithConnection(
    const std::string& what, const std::function<Status(Connection*)>& body) {
  Pool::Lease lease;
  Status st = pool_->Acquire(&lease);
  if (st.ok()) st = body(lease.get());
  return st.ok() || st.code() == Status::Code::kNotFound ||
                 st.code() == Status::Code::kInvalid ||
                 st.code() == Status::Code::kConflict
             ? st
             : st.Annotate(what);
}

Status PostgresStore::InTransaction(
    const std::string& what, const std::function<Status(Connection*)>& body) {
  return WithConnection(what, [&](Connection* conn) {
    return RunTransaction(conn, TransactionOptions(), body);
  });
}

// --- projects and keys -----------------------------------------------------

Status PostgresStore::CreateProject(const std::string& name,
                                    model::Project* out) {
  const std::string invalid = model::ProjectNameError(name);
  if (!invalid.empty()) return Status::Invalid(invalid);
  model::Project project;
  project.name = name;
  project.created_at = util::NowSeconds();
  Status status = RandomHexKey(&project.public_key, "create project");
  if (!status.ok()) return status;
  status = InTransaction("create project", [&](Connection* conn) {
    Result r;
    Status st = conn->ExecPrepared(
        "INSERT INTO projects (name, created_at) VALUES ($1, $2) "
        "ON CONFLICT (name) DO NOTHING RETURNING id",
        Params().Text(name).Double(project.created_at), &r);
    if (!st.ok()) return st;
    if (r.rows() == 0) {
      return Status::Conflict("project '" + name + "' already exists");
    }
    st = r.Int(0, 0, &project.id);
    if (!st.ok()) return st;
    model::ProjectKey key;  // its first key (the DSN key ingest accepts)
    key.project_id = project.id;
    key.public_key = project.public_key;
    key.label = "Default";
    key.created_at = project.created_at;
    return InsertKey(conn, &key);
  });
  if (status.ok() && out != nullptr) *out = project;
  return status;
}

Status PostgresStore::ListProjects(std::vector<model::Project>* out) {
  std::vector<model::Project> projects;
  Status status = WithConnection("list projects", [&](Connection* conn) {
    Result r;
    Status st = conn->ExecPrepared(std::string("SELECT ") + kPgProjectColumns +
                                       " FROM projects ORDER BY id",
                                   Params(), &r);
    if (!st.ok()) return st;
    for (int i = 0; i < r.rows(); ++i) {
      projects.emplace_back();
      ReadProjectRow(r, i, &projects.back());
    }
    return Status::Ok();
  });
  if (status.ok()) *out = std::move(projects);
  return status;
}

Status PostgresStore::GetProject(int64_t id, model::Project* out) {
  return WithConnection("get project", [&](Connection* conn) {
    Result r;
    Status st = conn->ExecPrepared(std::string("SELECT ") + kPgProjectColumns +
                                       " FROM projects WHERE id = $1",
                                   Params().Int(id), &r);
    if (!st.ok()) return st;
    if (r.rows() == 0) return Status::NotFound(ProjectNotFound(id));
    ReadProjectRow(r, 0, out);
    return Status::Ok();
  });
}

Status PostgresStore::DeleteProject(int64_t id) {
  Status status = WithConnection("delete project", [&](Connection* conn) {
    return CheckProject(conn, id);
  });
  if (!status.ok()) return status;
  // Keys first (ingest stops accepting the project's events once its key
  // cache reloads), then events in bounded batches, then the groups; the
  // final transaction takes what arrived meanwhile and the project.
  static const char* const kSteps[] = {
      "DELETE FROM project_keys WHERE project_id = $1",
      "DELETE FROM events WHERE id IN (SELECT id FROM events "
      "WHERE project_id = $1 LIMIT 5000)",
      "DELETE FROM transactions WHERE id IN (SELECT id FROM transactions "
      "WHERE project_id = $1 LIMIT 5000)",
      "DELETE FROM monitor_checkins WHERE id IN (SELECT c.id FROM "
      "monitor_checkins c JOIN monitors m ON m.id = c.monitor_id "
      "WHERE m.project_id = $1 LIMIT 5000)",
      "DELETE FROM attachments WHERE id IN (SELECT id FROM attachments "
      "WHERE project_id = $1 LIMIT 5000)",
      "DELETE FROM feedback WHERE id IN (SELECT id FROM feedback "
      "WHERE project_id = $1 LIMIT 5000)",
      kDeleteOpenSessions,
      "DELETE FROM session_records WHERE ctid IN (SELECT ctid FROM "
      "session_records WHERE project_id = $1 LIMIT 5000)",
      "DELETE FROM releases WHERE ctid IN (SELECT ctid FROM releases "
      "WHERE project_id = $1 LIMIT 5000)",
      "DELETE FROM release_sessions WHERE ctid IN (SELECT ctid FROM "
      "release_sessions WHERE project_id = $1 LIMIT 5000)",
      "DELETE FROM release_users WHERE ctid IN (SELECT ctid FROM "
      "release_users WHERE project_id = $1 LIMIT 5000)",
      "DELETE FROM groups g WHERE g.id IN (SELECT id FROM groups "
      "WHERE project_id = $1 LIMIT 5000) AND NOT EXISTS "
      "(SELECT 1 FROM events e WHERE e.group_id = g.id)",
  };
  int64_t deleted = 0;
  for (const char* sql : kSteps) {
    int64_t changes = 0;
    status = DeleteInBatches("delete project", sql, Params().Int(id), &changes);
    if (!status.ok()) return status;
    deleted += changes;
  }
  status = InTransaction("delete project", [&](Connection* conn) {
    for (const char* sql :
         {"DELETE FROM project_keys WHERE project_id = $1",
          "DELETE FROM events WHERE project_id = $1",
          "DELETE FROM transactions WHERE project_id = $1",
          "DELETE FROM monitors WHERE project_id = $1",
          "DELETE FROM attachments WHERE project_id = $1",
          "DELETE FROM feedback WHERE project_id = $1", kDeleteOpenSessions,
          "DELETE FROM session_records WHERE project_id = $1",
          "DELETE FROM releases WHERE project_id = $1",
          "DELETE FROM release_sessions WHERE project_id = $1",
          "DELETE FROM release_users WHERE project_id = $1",
          "DELETE FROM groups WHERE project_id = $1"}) {
      Status st = conn->ExecPrepared(sql, Params().Int(id));
      if (!st.ok()) return st;
    }
    Result r;
    Status st = conn->ExecPrepared("DELETE FROM projects WHERE id = $1",
                                   Params().Int(id), &r);
    if (!st.ok()) return st;
    if (r.affected_rows() == 0) return Status::NotFound(ProjectNotFound(id));
    return Status::Ok();
  });
  if (status.ok()) {
    spdlog::info("postgres: deleted project {} ({} rows)", id, deleted);
  }
  return status;
}

Status PostgresStore::ListKeys(int64_t project_id,
                               std::vector<model::ProjectKey>* out) {
  std::vector<model::ProjectKey> keys;
  Status status = WithConnection("list keys", [&](Connection* conn) {
    Status st = CheckProject(conn, project_id);
    if (!st.ok()) return st;
    Result r;
    st = conn->ExecPrepared(std::string("SELECT ") + kKeyColumns +
                                " FROM project_keys WHERE project_id = $1 "
                                "ORDER BY id",
                            Params().Int(project_id), &r);
    if (!st.ok()) return st;
    for (int i = 0; i < r.rows(); ++i) {
      keys.emplace_back();
      ReadKey(r, i, &keys.back());
    }
    return Status::Ok();
  });
  if (status.ok()) *out = std::move(keys);
  return status;
}

Status PostgresStore::ListAllKeys(std::vector<model::ProjectKey>* out) {
  std::vector<model::ProjectKey> keys;
  Status status = WithConnection("list keys", [&](Connection* conn) {
    Result r;
    Status st = conn->ExecPrepared(
        std::string("SELECT ") + kKeyColumns + " FROM project_keys ORDER BY id",
        Params(), &r);
    if (!st.ok()) return st;
    for (int i = 0; i < r.rows(); ++i) {
      keys.emplace_back();
      ReadKey(r, i, &keys.back());
    }
    return Status::Ok();
  });
  if (status.ok()) *out = std::move(keys);
  return status;
}

Status PostgresStore::CreateKey(int64_t project_id, const std::string& label,
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
  status = InTransaction("create key", [&](Connection* conn) {
    Status st = CheckProject(conn, project_id);
    if (!st.ok()) return st;
    return InsertKey(conn, &key);
  });
  if (status.ok() && out != nullptr) *out = key;
  return status;
}

Status PostgresStore::UpdateKey(int64_t project_id, int64_t key_id,
                                const KeyUpdate& update,
                                model::ProjectKey* out) {
  Status status = ValidateKeyFields(
      update.label ? &*update.label : nullptr,
      update.rate_limit_per_minute ? &*update.rate_limit_per_minute : nullptr);
  if (!status.ok()) return status;
  model::ProjectKey key;
  status = WithConnection("update key", [&](Connection* conn) {
    // One statement: fields not given keep their value.
    Result r;
    Status st = conn->ExecPrepared(
        std::string("UPDATE project_keys SET "
                    "label = CASE WHEN $3 THEN $4 ELSE label END, "
                    "active = CASE WHEN $5 THEN $6 ELSE active END, "
                    "rate_limit_per_minute = CASE WHEN $7 THEN $8 "
                    "ELSE rate_limit_per_minute END "
                    "WHERE id = $1 AND project_id = $2 RETURNING ") +
            kKeyColumns,
        Params()
            .Int(key_id)
            .Int(project_id)
            .Bool(update.label.has_value())
            .Text(update.label.value_or(""))
            .Bool(update.active.has_value())
            .Bool(update.active.value_or(true))
            .Bool(update.rate_limit_per_minute.has_value())
            .Int(update.rate_limit_per_minute.value_or(0)),
        &r);
    if (!st.ok()) return st;
    if (r.rows() == 0) {
      return Status::NotFound("project " + std::to_string(project_id) +
                              " has no key " + std::to_string(key_id));
    }
    ReadKey(r, 0, &key);
    return Status::Ok();
  });
  if (status.ok() && out != nullptr) *out = key;
  return status;
}

Status PostgresStore::DeleteKey(int64_t project_id, int64_t key_id) {
  return WithConnection("delete key", [&](Connection* conn) {
    Result r;
    Status st = conn->ExecPrepared(
        "DELETE FROM project_keys WHERE id = $1 AND project_id = $2",
        Params().Int(key_id).Int(project_id), &r);
    if (!st.ok()) return st;
    if (r.affected_rows() == 0) {
      return Status::NotFound("project " + std::to_string(project_id) +
                              " has no key " + std::to_string(key_id));
    }
    return Status::Ok();
  });
}

// --- groups and events -------------------------------------------------

void PostgresStore::PrepareWrite(model::WriteItem* item) const {
  EncodePayload(item->event.raw_json, &item->stored_payload);
}

Status PostgresStore::ListGroups(const GroupQuery& query,
                                 model::Page<model::Group>* out) {
  const std::string& sort = query.sort.empty() ? "last_seen" : query.sort;
  if (sort != "last_seen" && sort != "count" && sort != "first_seen") {
    return Status::Invalid("unknown sort '" + sort +
                           "' (want last_seen, count or first_seen)");
  }
  Status st = CheckTagFilters(query.tags);
  if (!st.ok()) return st;
  if (query.query) return NotSupported("ListGroups with a search query");
  Cursor cursor;
  const bool has_cursor = !query.cursor.empty();
  if (has_cursor) {
    std::string error;
    if (!DecodeCursor(query.cursor, sort, &cursor, &error)) {
      return Status::Invalid(error);
    }
  }
  const int limit = ClampLimit(query.limit);

  PgSql sql(std::string("SELECT ") + kPgGroupColumns +
            " FROM groups g WHERE true");
  if (query.project) sql.Add(" AND g.project_id = " + sql.Int(*query.project));
  if (query.status) {
    sql.Add(" AND g.status = " + sql.Text(model::ToString(*query.status)));
  }
  if (query.level) {
    sql.Add(" AND g.level = " + sql.Text(model::ToString(*query.level)));
  }
  if (!query.service.empty()) {
    sql.Add(" AND g.service = " + sql.Text(query.service));
  }
  if (!query.first_release.empty()) {
    sql.Add(" AND g.first_release = " + sql.Text(query.first_release));
  }
  if (query.since > 0)
    sql.Add(" AND g.last_seen >= " + sql.Double(query.since));
  if (query.until > 0) {
    sql.Add(" AND g.first_seen < " + sql.Double(query.until));
  }
  // release, environment, user and tags: groups with such an event.
  for (const auto& tag : GroupTagPairs(query)) {
    sql.Add(" AND EXISTS (SELECT 1 FROM events e WHERE e.group_id = g.id");
    AddEventTagFilter("e", tag, &sql);
    sql.Add(")");
  }
  const std::string column = "g." + sort;
  if (has_cursor) {
    const std::string value =
        sort == "count"
            ? sql.Int(static_cast<int64_t>(std::llround(cursor.value)))
            : sql.Double(cursor.value);
    sql.Add(" AND (" + column + ", g.id) < (" + value + ", " +
            sql.Int(cursor.id) + ")");
  }
  sql.Add(" ORDER BY " + column + " DESC, g.id DESC LIMIT " +
          sql.Int(limit + 1));

  model::Page<model::Group> page;
  Status status = WithConnection("list groups", [&](Connection* conn) {
    Result r;
    Status st = conn->ExecPrepared(sql.text(), sql.params(), &r);
    if (!st.ok()) return st;
    for (int i = 0; i < r.rows() && i < limit; ++i) {
      page.items.emplace_back();
      ReadGroupRow(r, i, &page.items.back());
    }
    st = LoadGroupLinks(conn, page.items.data(), page.items.size());
    if (!st.ok()) return st;
    if (r.rows() > limit) {
      const model::Group& last = page.items.back();
      Cursor next;
      next.sort = sort;
      next.id = last.id;
      next.value = sort == "count"        ? static_cast<double>(last.count)
                   : sort == "first_seen" ? last.first_seen
                                          : last.last_seen;
      page.next_cursor = EncodeCursor(next);
    }
    return Status::Ok();
  });
  if (status.ok()) *out = std::move(page);
  return status;
}

Status PostgresStore::GetGroup(int64_t id, model::Group* out) {
  return WithConnection("get group", [&](Connection* conn) {
    Status st = LoadGroupRow(conn, id, out);
    if (!st.ok()) return st;
    return LoadGroupLinks(conn, out, 1);
  });
}

Status PostgresStore::SetGroupStatus(int64_t id, model::GroupStatus status,
                                     model::Group* out) {
  std::vector<model::Group> groups;
  Status result = SetGroupsStatus({id}, status, &groups);
  if (result.ok() && out != nullptr) *out = std::move(groups.front());
  return result;
}

Status PostgresStore::SetGroupsStatus(const std::vector<int64_t>& ids,
                                      model::GroupStatus status,
                                      std::vector<model::Group>* out) {
  if (ids.empty() || ids.size() > kMaxBulkGroups) {
    return Status::Invalid("ids: give 1 to " + std::to_string(kMaxBulkGroups) +
                           " group ids");
  }
  const double now = util::NowSeconds();
  std::vector<model::Group> groups;
  std::string id_array;
  for (int64_t id : ids) {
    id_array += (id_array.empty() ? "" : ",") + std::to_string(id);
  }
  id_array = "{" + id_array + "}";
  Status result = InTransaction("set group status", [&](Connection* conn) {
    groups.clear();
    // Lock the rows first, in the order WriteEvents locks them ((project,
    // fingerprint), bytewise), so that a bulk change and an event batch on
    // the same groups wait for each other instead of deadlocking.
    Status locked = conn->ExecPrepared(
        "SELECT id FROM groups WHERE id = ANY($1::bigint[]) "
        "ORDER BY project_id, fingerprint COLLATE \"C\" FOR UPDATE",
        Params().Text(id_array));
    if (!locked.ok()) return locked;
    for (int64_t id : ids) {
      bool seen = false;
      for (const model::Group& g : groups) seen = seen || g.id == id;
      if (seen) continue;
      Result r;
      Status st = conn->ExecPrepared(
          std::string("UPDATE groups SET status = $2, resolved_at = "
                      "CASE WHEN $2 = 'resolved' THEN $3::float8 END "
                      "WHERE id = $1 RETURNING ") +
              kPgGroupColumns,
          Params().Int(id).Text(model::ToString(status)).Double(now), &r);
      if (!st.ok()) return st;
      if (r.rows() == 0) {  // rolls back the ones before
        return Status::NotFound("group " + std::to_string(id) + " not found");
      }
      groups.emplace_back();
      ReadGroupRow(r, 0, &groups.back());
    }
    return LoadGroupLinks(conn, groups.data(), groups.size());
  });
  if (result.ok() && out != nullptr) {
    // In `ids`' order, duplicates as often as given.
    out->clear();
    for (int64_t id : ids) {
      for (const model::Group& g : groups) {
        if (g.id == id) {
          out->push_back(g);
          break;
        }
      }
    }
  }
  return result;
}

Status PostgresStore::ListGroupEvents(int64_t group_id, int limit,
                                      const std::string& cursor_text,
                                      model::Page<model::StoredEvent>* out) {
  EventQuery query;
  query.group = group_id;
  query.limit = limit;
  query.cursor = cursor_text;
  Status status = WithConnection("list group events", [&](Connection* conn) {
    Result r;
    Status st = conn->ExecPrepared("SELECT 1 FROM groups WHERE id = $1",
                                   Params().Int(group_id), &r);
    if (!st.ok()) return st;
    if (r.rows() == 0) {
      return Status::NotFound("group " + std::to_string(group_id) +
                              " not found");
    }
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return ListEvents(query, out);
}

Status PostgresStore::ListEvents(const EventQuery& query,
                                 model::Page<model::StoredEvent>* out) {
  Status st = CheckTagFilters(query.tags);
  if (!st.ok()) return st;
  if (query.query) return NotSupported("ListEvents with a search query");
  Cursor cursor;
  const bool has_cursor = !query.cursor.empty();
  if (has_cursor) {
    std::string error;
    if (!DecodeCursor(query.cursor, "timestamp", &cursor, &error)) {
      return Status::Invalid(error);
    }
  }
  const int limit = ClampLimit(query.limit);
  PgSql sql(std::string("SELECT ") + kPgEventColumns + ", e.id FROM events e");
  const bool join_group = query.status || !query.first_release.empty();
  if (join_group) sql.Add(" JOIN groups g ON g.id = e.group_id");
  sql.Add(" WHERE true");
  if (query.project) sql.Add(" AND e.project_id = " + sql.Int(*query.project));
  if (query.group) sql.Add(" AND e.group_id = " + sql.Int(*query.group));
  if (query.status) {
    sql.Add(" AND g.status = " + sql.Text(model::ToString(*query.status)));
  }
  if (!query.first_release.empty()) {
    sql.Add(" AND g.first_release = " + sql.Text(query.first_release));
  }
  for (const auto& tag : EventTagPairs(query))
    AddEventTagFilter("e", tag, &sql);
  if (query.since > 0)
    sql.Add(" AND e.timestamp >= " + sql.Double(query.since));
  if (query.until > 0) sql.Add(" AND e.timestamp < " + sql.Double(query.until));
  if (has_cursor) {
    sql.Add(" AND (e.timestamp, e.id) < (" + sql.Double(cursor.value) + ", " +
            sql.Int(cursor.id) + ")");
  }
  sql.Add(" ORDER BY e.timestamp DESC, e.id DESC LIMIT " + sql.Int(limit + 1));

  model::Page<model::StoredEvent> page;
  Status status = WithConnection("list events", [&](Connection* conn) {
    Result r;
    Status st = conn->ExecPrepared(sql.text(), sql.params(), &r);
    if (!st.ok()) return st;
    int64_t last_row_id = 0;
    for (int i = 0; i < r.rows() && i < limit; ++i) {
      page.items.emplace_back();
      ReadEventRow(r, i, &page.items.back());
      last_row_id = r.IntOr(i, kPgEventColumnCount, 0);
    }
    if (r.rows() > limit) {
      Cursor next;
      next.sort = "timestamp";
      next.value = page.items.back().timestamp;
      next.id = last_row_id;
      page.next_cursor = EncodeCursor(next);
    }
    return Status::Ok();
  });
  if (status.ok()) *out = std::move(page);
  return status;
}

Status PostgresStore::GetEvent(const std::string& event_id,
                               model::StoredEvent* out) {
  return WithConnection("get event", [&](Connection* conn) {
    Result r;
    Status st = conn->ExecPrepared(
        std::string("SELECT ") + kPgEventColumns +
            ", e.payload FROM events e WHERE e.event_id = $1 "
            "ORDER BY e.id LIMIT 1",
        Params().Text(event_id), &r);
    if (!st.ok()) return st;
    if (r.rows() == 0)
      return Status::NotFound("event " + event_id + " not found");
    ReadEventRow(r, 0, out);
    std::string stored;
    st = r.Bytea(0, kPgEventColumnCount, &stored);
    if (!st.ok()) return st;
    if (DetectPayloadFormat(stored) == PayloadFormat::kUnknown) {
      out->payload = std::move(stored);  // kept as the JSON itself
    } else if (!DecodePayload(stored, &out->payload)) {
      return Status::Internal("event " + event_id +
                              ": stored payload is corrupt");
    }
    return Status::Ok();
  });
}

Status PostgresStore::CountGroups(std::vector<model::GroupCount>* out) {
  std::vector<model::GroupCount> counts;
  Status status = WithConnection("count groups", [&](Connection* conn) {
    Result r;
    Status st = conn->ExecPrepared(
        "SELECT project_id, status, count(*) FROM groups "
        "GROUP BY project_id, status ORDER BY project_id, status",
        Params(), &r);
    if (!st.ok()) return st;
    for (int i = 0; i < r.rows(); ++i) {
      model::GroupCount count;
      count.project_id = r.IntOr(i, 0, 0);
      count.status = GroupStatusFrom(r.Text(i, 1));
      count.count = r.IntOr(i, 2, 0);
      counts.push_back(count);
    }
    return Status::Ok();
  });
  if (status.ok()) *out = std::move(counts);
  return status;
}

Status PostgresStore::FindGroupsForPod(const std::string& pod, double from,
                                       double to,
                                       std::vector<int64_t>* group_ids) {
  group_ids->clear();
  if (pod.empty()) return Status::Ok();  // never match pod-less events
  std::vector<int64_t> ids;
  Status status = WithConnection("find groups for pod", [&](Connection* conn) {
    Result r;
    Status st = conn->ExecPrepared(
        "SELECT DISTINCT group_id FROM events WHERE pod = $1 "
        "AND timestamp >= $2 AND timestamp <= $3 ORDER BY group_id LIMIT 1000",
        Params().Text(pod).Double(from).Double(to), &r);
    if (!st.ok()) return st;
    for (int i = 0; i < r.rows(); ++i) ids.push_back(r.IntOr(i, 0, 0));
    return Status::Ok();
  });
  if (status.ok()) *group_ids = std::move(ids);
  return status;
}

// --- maintenance -----------------------------------------------------------

Status PostgresStore::DeleteEmptyGroups(double cutoff, int64_t* deleted,
                                        Connection* conn) {
  // A writer locks a group's row before it adds events, and moves its
  // last_seen forward. SKIP LOCKED passes over the rows a writer holds (a
  // later pass takes them if they are still empty), so retention never
  // waits on, or deadlocks with, an event batch; the recheck of last_seen
  // on the locked row (and the foreign key of events) keeps a group that
  // just got an event.
  *deleted = 0;
  return DeleteInBatches(
      "delete empty groups",
      "DELETE FROM groups g WHERE g.id IN (SELECT id FROM groups c "
      "WHERE c.last_seen < $1 AND NOT EXISTS "
      "(SELECT 1 FROM events e WHERE e.group_id = c.id) LIMIT 5000 "
      "FOR UPDATE SKIP LOCKED) AND g.last_seen < $1",
      Params().Double(cutoff), deleted, conn);
}

Status PostgresStore::DeleteInBatches(const std::string& what,
                                      const std::string& sql,
                                      const Params& params, int64_t* deleted,
                                      Connection* conn) {
  *deleted = 0;
  auto batch = [&](Connection* c, int64_t* changes) {
    Result r;
    Status s = c->ExecPrepared(sql, params, &r);
    *changes = r.affected_rows();
    return s;
  };
  for (int i = 0; i < kMaxDeleteBatches; ++i) {
    int64_t changes = 0;
    Status st = conn != nullptr ? batch(conn, &changes)
                                : WithConnection(what, [&](Connection* c) {
                                    return batch(c, &changes);
                                  });
    if (!st.ok()) return st;
    *deleted += changes;
    if (changes < kDeleteBatch) break;
  }
  return Status::Ok();
}

Status PostgresStore::WithRetentionLock(
    const std::string& what, const std::function<Status(Connection*)>& body) {
  return WithConnection(what, [&](Connection* conn) {
    Result r;
    Status st = conn->Exec(
        std::string("SELECT pg_try_advisory_lock(") + kRetentionLockKey + ")",
        &r);
    if (!st.ok()) return st;
    if (r.TextView(0, 0) != "t") {
      spdlog::info("postgres: {}: skipped, another replica runs retention",
                   what);
      return Status::Ok();
    }
    st = body(conn);
    if (conn->broken()) return st;  // the lock went with the session
    Status unlocked = conn->Exec(std::string("SELECT pg_advisory_unlock(") +
                                 kRetentionLockKey + ")");
    return st.ok() ? unlocked : st;
  });
}

Status PostgresStore::DeleteOlderThan(double cutoff, int64_t* deleted) {
  *deleted = 0;
  return WithRetentionLock("retention", [&](Connection* conn) {
    Status st = DeleteInBatches("delete old events",
                                "DELETE FROM events WHERE id IN (SELECT id "
                                "FROM events WHERE timestamp < $1 LIMIT 5000)",
                                Params().Double(cutoff), deleted, conn);
    if (!st.ok()) return st;
    int64_t groups = 0;
    st = DeleteEmptyGroups(cutoff, &groups, conn);
    if (!st.ok()) return st;
    // Crashes not updated since the cutoff; their links go by cascade.
    int64_t crashes = 0;
    st = DeleteInBatches("delete old crashes",
                         "DELETE FROM crashes WHERE id IN (SELECT id FROM "
                         "crashes WHERE updated_at < $1 LIMIT 5000)",
                         Params().Double(cutoff), &crashes, conn);
    if (!st.ok()) return st;
    // Cron monitor check-in rows (monitors themselves stay: their state).
    int64_t checkins = 0;
    st = DeleteInBatches("delete old monitor check-ins",
                         "DELETE FROM monitor_checkins WHERE id IN (SELECT id "
                         "FROM monitor_checkins WHERE received < $1::float8 "
                         "LIMIT 5000)",
                         Params().Double(cutoff), &checkins, conn);
    if (!st.ok()) return st;
    // Attachments and feedback of the deleted events went with them
    // (trigger); those without an event go by age.
    int64_t orphans = 0;
    st = DeleteOrphanItems(cutoff, &orphans, conn);
    if (!st.ok()) return st;
    // Releases not seen since the cutoff, with their session counters and
    // users; a release a writer holds (it locks the releases row first) is
    // left for the next pass.
    int64_t releases = 0;
    return DeleteInBatches(
        "delete old releases",
        "WITH gone AS (DELETE FROM releases WHERE ctid IN (SELECT ctid FROM "
        "releases WHERE last_seen < $1 LIMIT 5000 FOR UPDATE SKIP LOCKED) "
        "RETURNING project_id, release, environment), s AS (DELETE FROM "
        "release_sessions x USING gone g WHERE x.project_id = g.project_id "
        "AND x.release = g.release AND x.environment = g.environment), u AS "
        "(DELETE FROM release_users x USING gone g WHERE x.project_id = "
        "g.project_id AND x.release = g.release AND x.environment = "
        "g.environment) SELECT 1 FROM gone",
        Params().Double(cutoff), &releases, conn);
  });
}

Status PostgresStore::DeleteOldestEvents(int64_t limit, int64_t* deleted) {
  // Size-based retention deletes until UsedBytes() shrinks below its limit;
  // PostgreSQL's table sizes do not shrink on DELETE (VACUUM only makes the
  // space reusable), so that loop would delete far more than it should.
  (void)limit;
  *deleted = 0;
  return NotSupported("DeleteOldestEvents (retention.max_size)");
}

Status PostgresStore::UsedBytes(int64_t* bytes) {
  Status status = WithConnection("used bytes", [&](Connection* conn) {
    Result r;
    Status st = conn->ExecPrepared(
        "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind = 'r' AND "
        "c.relname IN ('projects', 'project_keys', 'groups', 'events', "
        "'group_users', 'crashes', 'crash_groups', 'store_health', "
        "'schema_migrations', 'sqlite_imports', 'transactions', "
        "'tracing_labels', 'monitors', 'monitor_checkins', 'attachments', "
        "'attachment_chunks', 'feedback', 'session_records', "
        "'session_open_count', 'release_sessions', 'release_users', "
        "'releases')",
        Params(), &r);
    if (!st.ok()) return st;
    return r.Int(0, 0, bytes);
  });
  if (status.ok()) size_bytes_.store(*bytes);
  return status;
}

Status PostgresStore::Maintain(Maintenance when) {
  const double now = util::NowSeconds();
  // Feedback groups that two writers left unfilled, at most once a minute
  // (a probe of an empty partial index when there are none).
  if (now - repaired_at_.load() >= 60) {
    repaired_at_.store(now);
    int64_t repaired = 0;
    Status st = RepairFeedbackGroups(&repaired);
    if (!st.ok()) return st;
  }
  // The size GetStats() reports, refreshed at most once a minute while
  // ingest is idle (a catalog query; GetStats itself does no I/O).
  if (when != Maintenance::kIdle) return Status::Ok();
  if (now - size_checked_at_.load() < 60) return Status::Ok();
  size_checked_at_.store(now);
  int64_t bytes = 0;
  return UsedBytes(&bytes);
}

Status PostgresStore::IntegrityCheck() {
  return NotSupported("IntegrityCheck");
}

Store::Stats PostgresStore::GetStats() {
  Stats stats;
  stats.size_bytes = size_bytes_.load();
  return stats;
}

Status PostgresStore::HealthProbe() {
  // A write that changes nothing of the data: it fails on a read-only
  // standby, a full disk or a lost server.
  return WithConnection("health probe", [&](Connection* conn) {
    return conn->ExecPrepared(
        "UPDATE store_health SET probed_at = $1 WHERE id = 1",
        Params().Double(util::NowSeconds()));
  });
}

}  // namespace pg
}  // namespace store
}  // namespace crashctl
