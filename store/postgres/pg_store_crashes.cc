// PostgresStore: pod crashes and their links to groups, with the same
// semantics as the SQLite store (store/sqlite_store_crashes.cc): one row
// per dedup_key (an upsert keeps id, created_at and the links), links in
// both directions, newest first, at most kMaxLinks per side.
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "crashctl/store/pg/errors.h"
#include "crashctl/util/strings.h"
#include "crashctl/util/time.h"
#include "cursor.h"
#include "pg_rows.h"
#include "pg_store.h"
#include "rows.h"

namespace crashctl {
namespace store {
namespace pg {
namespace {

// The columns of kCrashColumns in the same order (rows.cc).
constexpr char kPgCrashColumns[] =
    "id, dedup_key, namespace, pod, pod_uid, container, node, workload_kind, "
    "workload, image, crash_type, reason, exit_code, signal, restart_count, "
    "memory_request, memory_limit, started_at, finished_at, created_at, "
    "updated_at, message, logs";

// One statement: a new dedup_key inserts, a known one updates everything
// but id and created_at. xmax is 0 only on a row this statement inserted.
constexpr char kUpsertCrash[] =
    "INSERT INTO crashes (dedup_key, namespace, pod, pod_uid, container, "
    "node, workload_kind, workload, image, crash_type, reason, exit_code, "
    "signal, restart_count, memory_request, memory_limit, started_at, "
    "finished_at, message, logs, created_at, updated_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, "
    "$15, $16, $17, $18, $19, $20, $21, $22) "
    "ON CONFLICT (dedup_key) DO UPDATE SET namespace = EXCLUDED.namespace, "
    "pod = EXCLUDED.pod, pod_uid = EXCLUDED.pod_uid, "
    "container = EXCLUDED.container, node = EXCLUDED.node, "
    "workload_kind = EXCLUDED.workload_kind, workload = EXCLUDED.workload, "
    "image = EXCLUDED.image, crash_type = EXCLUDED.crash_type, "
    "reason = EXCLUDED.reason, exit_code = EXCLUDED.exit_code, "
    "signal = EXCLUDED.signal, restart_count = EXCLUDED.restart_count, "
    "memory_request = EXCLUDED.memory_request, "
    "memory_limit = EXCLUDED.memory_limit, "
    "started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at, "
    "message = EXCLUDED.message, logs = EXCLUDED.logs, "
    "updated_at = EXCLUDED.updated_at "
    "RETURNING id, (xmax = 0) AS inserted";

// Text from a pod (its logs, a termination message) may be any bytes;
// PostgreSQL's text takes well-formed UTF-8 without NUL only.
Params& CrashText(Params& params, const std::string& value) {
  return params.Text(util::ToValidUtf8(value));
}

Params CrashParams(const model::Crash& crash, double created_at,
                   double updated_at) {
  Params p;
  CrashText(p, crash.dedup_key);
  CrashText(p, crash.namespace_);
  CrashText(p, crash.pod);
  CrashText(p, crash.pod_uid);
  CrashText(p, crash.container);
  CrashText(p, crash.node);
  CrashText(p, crash.workload_kind);
  CrashText(p, crash.workload);
  CrashText(p, crash.image);
  p.Text(model::ToString(crash.crash_type));
  CrashText(p, crash.reason);
  p.Int(crash.exit_code);
  CrashText(p, crash.signal);
  p.Int(crash.restart_count);
  CrashText(p, crash.memory_request);
  CrashText(p, crash.memory_limit);
  p.Double(crash.started_at).Double(crash.finished_at);
  CrashText(p, crash.message);
  CrashText(p, crash.logs);
  p.Double(created_at).Double(updated_at);
  return p;
}

void ReadCrashRow(const Result& r, int row, model::Crash* out) {
  out->id = r.IntOr(row, 0, 0);
  out->dedup_key = r.Text(row, 1);
  out->namespace_ = r.Text(row, 2);
  out->pod = r.Text(row, 3);
  out->pod_uid = r.Text(row, 4);
  out->container = r.Text(row, 5);
  out->node = r.Text(row, 6);
  out->workload_kind = r.Text(row, 7);
  out->workload = r.Text(row, 8);
  out->image = r.Text(row, 9);
  out->crash_type = CrashTypeFrom(r.Text(row, 10));
  out->reason = r.Text(row, 11);
  out->exit_code = static_cast<int>(r.IntOr(row, 12, 0));
  out->signal = r.Text(row, 13);
  out->restart_count = static_cast<int>(r.IntOr(row, 14, 0));
  out->memory_request = r.Text(row, 15);
  out->memory_limit = r.Text(row, 16);
  out->started_at = r.DoubleOr(row, 17, 0);
  out->finished_at = r.DoubleOr(row, 18, 0);
  out->created_at = r.DoubleOr(row, 19, 0);
  out->updated_at = r.DoubleOr(row, 20, 0);
  out->message = r.Text(row, 21);
  out->logs = r.Text(row, 22);
  out->linked_groups.clear();
}

// "{1,2,3}": a bigint[] parameter.
std::string IdArray(const std::vector<int64_t>& ids) {
  std::string text = "{";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) text += ",";
    text += std::to_string(ids[i]);
  }
  return text + "}";
}

// For each of `owners` (by id), the ids on the other side of crash_groups:
// `key` is the owners' column, `other` the linked one; newest (highest id)
// first, at most kMaxLinks each. One query for all owners.
Status LoadLinks(Connection* conn, const char* key, const char* other,
                 const std::vector<int64_t>& owners,
                 const std::function<std::vector<int64_t>*(int64_t)>& slot) {
  if (owners.empty()) return Status::Ok();
  Result r;
  Status st = conn->ExecPrepared(
      std::string("SELECT o.id, l.linked FROM unnest($1::bigint[]) AS o(id) "
                  "CROSS JOIN LATERAL (SELECT ") +
          other + " AS linked FROM crash_groups WHERE " + key +
          " = o.id ORDER BY " + other +
          " DESC LIMIT $2) l "
          "ORDER BY o.id, l.linked DESC",
      Params().Text(IdArray(owners)).Int(kMaxLinks), &r);
  if (!st.ok()) return st;
  for (int i = 0; i < r.rows(); ++i) {
    std::vector<int64_t>* ids = slot(r.IntOr(i, 0, 0));
    if (ids != nullptr) ids->push_back(r.IntOr(i, 1, 0));
  }
  return Status::Ok();
}

Status LoadCrashLinks(Connection* conn, std::vector<model::Crash>* crashes) {
  std::vector<int64_t> ids;
  for (const model::Crash& crash : *crashes) ids.push_back(crash.id);
  return LoadLinks(conn, "crash_id", "group_id", ids,
                   [&](int64_t id) -> std::vector<int64_t>* {
                     for (model::Crash& crash : *crashes) {
                       if (crash.id == id) return &crash.linked_groups;
                     }
                     return nullptr;
                   });
}

Status LoadCrashWhere(Connection* conn, const std::string& where,
                      const Params& params, const std::string& what,
                      model::Crash* out) {
  Result r;
  Status st = conn->ExecPrepared(
      std::string("SELECT ") + kPgCrashColumns + " FROM crashes WHERE " + where,
      params, &r);
  if (!st.ok()) return st;
  if (r.rows() == 0) return Status::NotFound(what + " not found");
  std::vector<model::Crash> crashes(1);
  ReadCrashRow(r, 0, &crashes[0]);
  st = LoadCrashLinks(conn, &crashes);
  if (st.ok()) *out = std::move(crashes[0]);
  return st;
}

}  // namespace

Status LoadGroupLinks(Connection* conn, model::Group* groups, size_t count) {
  std::vector<int64_t> ids;
  for (size_t i = 0; i < count; ++i) {
    groups[i].linked_crashes.clear();
    ids.push_back(groups[i].id);
  }
  return LoadLinks(conn, "group_id", "crash_id", ids,
                   [&](int64_t id) -> std::vector<int64_t>* {
                     for (size_t i = 0; i < count; ++i) {
                       if (groups[i].id == id) return &groups[i].linked_crashes;
                     }
                     return nullptr;
                   });
}

Status PostgresStore::UpsertCrash(const model::Crash& crash, int64_t* id,
                                  bool* inserted) {
  if (crash.dedup_key.empty()) {
    return Status::Invalid("crash dedup_key is empty");
  }
  const double now = util::NowSeconds();
  const double created_at = crash.created_at > 0 ? crash.created_at : now;
  const double updated_at = crash.updated_at > 0 ? crash.updated_at : now;
  int64_t row_id = 0;
  bool was_inserted = false;
  // One statement, committed by itself: a lost answer leaves the row
  // written or not, and running it again is harmless.
  Status status = WithConnection("upsert crash", [&](Connection* conn) {
    Result r;
    Status st = conn->ExecPrepared(
        kUpsertCrash, CrashParams(crash, created_at, updated_at), &r);
    if (!st.ok()) return st;
    st = r.Int(0, 0, &row_id);
    if (!st.ok()) return st;
    return r.Bool(0, 1, &was_inserted);
  });
  if (status.ok()) {
    if (id != nullptr) *id = row_id;
    if (inserted != nullptr) *inserted = was_inserted;
  }
  return status;
}

Status PostgresStore::GetCrashByKey(const std::string& dedup_key,
                                    model::Crash* out) {
  return WithConnection("get crash by key", [&](Connection* conn) {
    return LoadCrashWhere(conn, "dedup_key = $1",
                          Params().Text(util::ToValidUtf8(dedup_key)),
                          "crash '" + dedup_key + "'", out);
  });
}

Status PostgresStore::GetCrash(int64_t id, model::Crash* out) {
  return WithConnection("get crash", [&](Connection* conn) {
    return LoadCrashWhere(conn, "id = $1", Params().Int(id),
                          "crash " + std::to_string(id), out);
  });
}

Status PostgresStore::ListCrashes(const CrashQuery& query,
                                  model::Page<model::Crash>* out) {
  Cursor cursor;
  const bool has_cursor = !query.cursor.empty();
  if (has_cursor) {
    std::string error;
    if (!DecodeCursor(query.cursor, "updated_at", &cursor, &error)) {
      return Status::Invalid(error);
    }
  }
  const int limit = ClampLimit(query.limit);
  PgSql sql(std::string("SELECT ") + kPgCrashColumns +
            " FROM crashes WHERE true");
  if (!query.namespace_.empty()) {
    sql.Add(" AND namespace = " +
            sql.Text(util::ToValidUtf8(query.namespace_)));
  }
  if (query.crash_type) {
    sql.Add(" AND crash_type = " +
            sql.Text(model::ToString(*query.crash_type)));
  }
  if (!query.pod.empty()) {
    sql.Add(" AND pod = " + sql.Text(util::ToValidUtf8(query.pod)));
  }
  if (query.since > 0) sql.Add(" AND updated_at >= " + sql.Double(query.since));
  if (has_cursor) {
    sql.Add(" AND (updated_at, id) < (" + sql.Double(cursor.value) + ", " +
            sql.Int(cursor.id) + ")");
  }
  sql.Add(" ORDER BY updated_at DESC, id DESC LIMIT " + sql.Int(limit + 1));

  model::Page<model::Crash> page;
  Status status = WithConnection("list crashes", [&](Connection* conn) {
    Result r;
    Status st = conn->ExecPrepared(sql.text(), sql.params(), &r);
    if (!st.ok()) return st;
    for (int i = 0; i < r.rows() && i < limit; ++i) {
      page.items.emplace_back();
      ReadCrashRow(r, i, &page.items.back());
    }
    st = LoadCrashLinks(conn, &page.items);
    if (!st.ok()) return st;
    if (r.rows() > limit) {
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

Status PostgresStore::LinkCrashGroup(int64_t crash_id, int64_t group_id) {
  const std::string what = "link crash " + std::to_string(crash_id) +
                           " and group " + std::to_string(group_id);
  Status status = WithConnection(what, [&](Connection* conn) {
    return conn->ExecPrepared(
        "INSERT INTO crash_groups (crash_id, group_id) VALUES ($1, $2) "
        "ON CONFLICT DO NOTHING",
        Params().Int(crash_id).Int(group_id));
  });
  if (SqlStateOf(status) == "23503") {  // foreign_key_violation
    return Status::NotFound(what + ": no such crash or group");
  }
  return status;
}

}  // namespace pg
}  // namespace store
}  // namespace crashctl
