#include "crashctl/migrate/migrate.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "crashctl/store/pg/batch.h"
#include "crashctl/store/pg/connection.h"
#include "crashctl/store/postgres.h"
#include "crashctl/store/sqlite.h"
#include "crashctl/util/strings.h"
#include "crashctl/util/time.h"
#include "sqlite_snapshot.h"

namespace crashctl {
namespace migrate {
namespace {

using store::pg::Connection;
using store::pg::Params;
using store::pg::Result;

// How a column's SQLite value becomes a PostgreSQL parameter.
enum class Kind {
  kInt,
  kNullableInt,  // NULL kept (a monitor with nothing pending)
  kDouble,
  kNullableDouble,
  kText,           // made well-formed UTF-8 without NUL (what text accepts)
  kBool,           // SQLite 0/1
  kBytes,          // bytea, byte for byte (payloads: zstd, zlib, or the JSON)
  kNullableBytes,  // kBytes, NULL kept (a transaction without spans)
};

struct Column {
  const char* name;
  Kind kind;
};

// One table copied in key order, in batches. The first `key_columns`
// columns are the keyset (integers).
struct TableSpec {
  const char* table;
  std::vector<Column> columns;
  int key_columns = 1;
  // A condition on the row (alias x): rows failing it point at rows the
  // source lacks. "" = every row.
  const char* eligible = "";
  // true: ON CONFLICT (id) DO UPDATE every other column (small tables,
  // rewritten on every run); false: ON CONFLICT DO NOTHING.
  bool upsert = false;
  // Resume after the target's highest id instead of from the start.
  bool append = false;
  // Tables keyed by text (release health): no keyset; the whole table is
  // streamed from the snapshot in key order and every row upserted ON
  // CONFLICT (<conflict>) with its current values, so a run after an
  // interruption rewrites them all (they are bounded by the session
  // limits and the number of releases). key_columns is ignored.
  const char* conflict = nullptr;
};

// Columns of `events` read by position for its users.
constexpr int kEventGroupId = 3;
constexpr int kEventUserId = 19;

const std::vector<TableSpec>& Tables() {
  static const std::vector<TableSpec>* tables = new std::vector<TableSpec>{
      {"projects",
       {{"id", Kind::kInt},
        {"name", Kind::kText},
        {"created_at", Kind::kDouble}},
       1,
       "",
       true,
       false},
      {"project_keys",
       {{"id", Kind::kInt},
        {"project_id", Kind::kInt},
        {"public_key", Kind::kText},
        {"label", Kind::kText},
        {"active", Kind::kBool},
        {"rate_limit_per_minute", Kind::kInt},
        {"created_at", Kind::kDouble}},
       1,
       "EXISTS (SELECT 1 FROM projects p WHERE p.id = x.project_id)",
       true,
       false},
      {"groups",
       {{"id", Kind::kInt},
        {"project_id", Kind::kInt},
        {"fingerprint", Kind::kText},
        {"title", Kind::kText},
        {"culprit", Kind::kText},
        {"level", Kind::kText},
        {"status", Kind::kText},
        {"count", Kind::kInt},
        {"first_seen", Kind::kDouble},
        {"last_seen", Kind::kDouble},
        {"service", Kind::kText},
        {"release", Kind::kText},
        {"first_release", Kind::kText},
        {"regression_count", Kind::kInt},
        {"users", Kind::kInt},
        {"resolved_at", Kind::kNullableDouble}},
       1,
       "EXISTS (SELECT 1 FROM projects p WHERE p.id = x.project_id)",
       true,
       false},
      {"events",
       {{"id", Kind::kInt},           {"event_id", Kind::kText},
        {"project_id", Kind::kInt},   {"group_id", Kind::kInt},
        {"timestamp", Kind::kDouble}, {"received", Kind::kDouble},
        {"level", Kind::kText},       {"platform", Kind::kText},
        {"message", Kind::kText},     {"release", Kind::kText},
        {"environment", Kind::kText}, {"server_name", Kind::kText},
        {"service", Kind::kText},     {"pod", Kind::kText},
        {"title", Kind::kText},       {"payload", Kind::kBytes},
        {"trace_id", Kind::kText},    {"span_id", Kind::kText},
        {"sdk", Kind::kText},         {"user_id", Kind::kText},
        {"tags", Kind::kText}},
       1,
       "EXISTS (SELECT 1 FROM groups g WHERE g.id = x.group_id "
       "AND g.project_id = x.project_id AND EXISTS (SELECT 1 FROM projects p "
       "WHERE p.id = g.project_id))",
       false,
       true},
      {"crashes",
       {{"id", Kind::kInt},
        {"dedup_key", Kind::kText},
        {"namespace", Kind::kText},
        {"pod", Kind::kText},
        {"pod_uid", Kind::kText},
        {"container", Kind::kText},
        {"node", Kind::kText},
        {"workload_kind", Kind::kText},
        {"workload", Kind::kText},
        {"image", Kind::kText},
        {"crash_type", Kind::kText},
        {"reason", Kind::kText},
        {"exit_code", Kind::kInt},
        {"signal", Kind::kText},
        {"restart_count", Kind::kInt},
        {"memory_request", Kind::kText},
        {"memory_limit", Kind::kText},
        {"started_at", Kind::kDouble},
        {"finished_at", Kind::kDouble},
        {"created_at", Kind::kDouble},
        {"updated_at", Kind::kDouble},
        {"message", Kind::kText},
        {"logs", Kind::kText}},
       1,
       "",
       true,
       false},
      {"crash_groups",
       {{"crash_id", Kind::kInt}, {"group_id", Kind::kInt}},
       2,
       "EXISTS (SELECT 1 FROM crashes c WHERE c.id = x.crash_id) AND EXISTS "
       "(SELECT 1 FROM groups g WHERE g.id = x.group_id AND EXISTS (SELECT 1 "
       "FROM projects p WHERE p.id = g.project_id))",
       false,
       false},
      {"transactions",
       {{"id", Kind::kInt},
        {"project_id", Kind::kInt},
        {"event_id", Kind::kText},
        {"trace_id", Kind::kText},
        {"span_id", Kind::kText},
        {"parent_span_id", Kind::kText},
        {"name", Kind::kText},
        {"source", Kind::kText},
        {"op", Kind::kText},
        {"status", Kind::kText},
        {"method", Kind::kText},
        {"http_status", Kind::kInt},
        {"start_timestamp", Kind::kDouble},
        {"timestamp", Kind::kDouble},
        {"duration", Kind::kDouble},
        {"received", Kind::kDouble},
        {"release", Kind::kText},
        {"environment", Kind::kText},
        {"service", Kind::kText},
        {"platform", Kind::kText},
        {"time_shift", Kind::kDouble},
        {"spans_cut", Kind::kInt},
        {"spans_invalid", Kind::kInt},
        {"span_count", Kind::kInt},
        {"spans", Kind::kNullableBytes}},
       1,
       "EXISTS (SELECT 1 FROM projects p WHERE p.id = x.project_id)",
       false,
       true},
      // Cron monitors with their state machines (small: rewritten on
      // every run) and their check-in rows (appended, as events).
      {"monitors",
       {{"id", Kind::kInt},
        {"project_id", Kind::kInt},
        {"slug", Kind::kText},
        {"environment", Kind::kText},
        {"state_json", Kind::kText},
        {"next_deadline", Kind::kNullableInt},
        {"created_at", Kind::kDouble},
        {"updated_at", Kind::kDouble},
        {"last_checkin", Kind::kDouble},
        {"last_status", Kind::kText},
        {"checkins_total", Kind::kInt},
        {"missed_total", Kind::kInt},
        {"timeouts_total", Kind::kInt},
        {"incident_reason", Kind::kText},
        {"incident_started", Kind::kInt}},
       1,
       "EXISTS (SELECT 1 FROM projects p WHERE p.id = x.project_id)",
       true,
       false},
      {"monitor_checkins",
       {{"id", Kind::kInt},
        {"monitor_id", Kind::kInt},
        {"check_in_id", Kind::kText},
        {"status", Kind::kText},
        {"kind", Kind::kText},
        {"run_started", Kind::kInt},
        {"duration", Kind::kNullableDouble},
        {"received", Kind::kInt},
        {"missed_count", Kind::kInt},
        {"last_scheduled", Kind::kInt},
        {"release", Kind::kText},
        {"trace_id", Kind::kText}},
       1,
       "EXISTS (SELECT 1 FROM monitors m WHERE m.id = x.monitor_id AND "
       "EXISTS (SELECT 1 FROM projects p WHERE p.id = m.project_id))",
       false,
       true},
      // User feedback (appended, as events); the group it points at is
      // copied above. Attachments are copied by CopyAttachments: their
      // bytes go in chunks.
      {"feedback",
       {{"id", Kind::kInt},
        {"project_id", Kind::kInt},
        {"kind", Kind::kText},
        {"feedback_id", Kind::kText},
        {"event_id", Kind::kText},
        {"group_id", Kind::kInt},
        {"name", Kind::kText},
        {"email", Kind::kText},
        {"comments", Kind::kText},
        {"url", Kind::kText},
        {"timestamp", Kind::kDouble},
        {"received", Kind::kDouble}},
       1,
       "EXISTS (SELECT 1 FROM projects p WHERE p.id = x.project_id)",
       false,
       true},
      // Release health: session records (open ones go on being merged by
      // sid), their open count, and per release the counters, users and
      // first/last seen (docs/release-health.md).
      {"session_records",
       {{"project_id", Kind::kInt},
        {"sid", Kind::kText},
        {"distinct_id_hash", Kind::kText},
        {"release", Kind::kText},
        {"environment", Kind::kText},
        {"started", Kind::kDouble},
        {"last_seen", Kind::kDouble},
        {"order_key", Kind::kInt},
        {"errors", Kind::kInt},
        {"duration", Kind::kNullableDouble},
        {"closed", Kind::kBool},
        {"forget_at", Kind::kDouble},
        {"deadline", Kind::kDouble}},
       0,
       "EXISTS (SELECT 1 FROM projects p WHERE p.id = x.project_id)",
       true,
       false,
       "project_id, sid"},
      {"session_open_count",
       {{"id", Kind::kInt}, {"open", Kind::kInt}},
       0,
       "",
       true,
       false,
       "id"},
      {"releases",
       {{"project_id", Kind::kInt},
        {"release", Kind::kText},
        {"environment", Kind::kText},
        {"first_seen", Kind::kDouble},
        {"last_seen", Kind::kDouble},
        {"errors", Kind::kInt}},
       0,
       "EXISTS (SELECT 1 FROM projects p WHERE p.id = x.project_id)",
       true,
       false,
       "project_id, release, environment"},
      {"release_sessions",
       {{"project_id", Kind::kInt},
        {"release", Kind::kText},
        {"environment", Kind::kText},
        {"status", Kind::kText},
        {"count", Kind::kInt}},
       0,
       "EXISTS (SELECT 1 FROM projects p WHERE p.id = x.project_id)",
       true,
       false,
       "project_id, release, environment, status"},
      {"release_users",
       {{"project_id", Kind::kInt},
        {"release", Kind::kText},
        {"environment", Kind::kText},
        {"distinct_id_hash", Kind::kText},
        {"crashed", Kind::kBool}},
       0,
       "EXISTS (SELECT 1 FROM projects p WHERE p.id = x.project_id)",
       true,
       false,
       "project_id, release, environment, distinct_id_hash"},
      // The label budget's state (one row), so the replicas keep the
      // series the single server had.
      {"tracing_labels",
       {{"id", Kind::kInt},
        {"state", Kind::kText},
        {"saved_at", Kind::kDouble}},
       1,
       "",
       true,
       false},
  };
  return *tables;
}

const TableSpec& Spec(const std::string& table) {
  for (const TableSpec& spec : Tables()) {
    if (table == spec.table) return spec;
  }
  return Tables().front();  // not reached: callers name a table above
}

// What the postgres driver does not store yet: counted, not copied.
const std::vector<std::string>& NotCopiedTables() {
  static const std::vector<std::string>* tables = new std::vector<std::string>{
      "session_records", "releases", "group_aliases"};
  return *tables;
}

// Attachments: rows per transaction, and the bytes of one chunk row (the
// store reads chunks of any size back in order).
constexpr int kAttachmentRowsPerBatch = 50;
constexpr int64_t kAttachmentChunk = int64_t{1} << 20;
constexpr char kAttachmentsEligible[] =
    "EXISTS (SELECT 1 FROM projects p WHERE p.id = x.project_id)";

// Session-level advisory lock of `crashctl migrate` (one at a time per
// target); the schema runner's key is another.
constexpr int64_t kMigrateLockKey = 0x6372617368696d70;  // "crashimp"

std::string Where(const TableSpec& spec) {
  return spec.eligible[0] == '\0' ? std::string("1")
                                  : "(" + std::string(spec.eligible) + ")";
}

std::string SelectSql(const TableSpec& spec) {
  std::string columns;
  for (const Column& column : spec.columns) {
    if (!columns.empty()) columns += ", ";
    columns += std::string("x.") + column.name;
  }
  if (spec.conflict != nullptr) {
    return "SELECT " + columns + " FROM " + spec.table + " x WHERE " +
           Where(spec) + " ORDER BY " + spec.conflict;
  }
  std::string keys = std::string("x.") + spec.columns[0].name;
  std::string params = "?1";
  if (spec.key_columns == 2) {
    keys += std::string(", x.") + spec.columns[1].name;
    params += ", ?2";
  }
  const std::string limit = spec.key_columns == 2 ? "?3" : "?2";
  return "SELECT " + columns + " FROM " + spec.table + " x WHERE " +
         Where(spec) + " AND (" + keys + ") > (" + params + ") ORDER BY " +
         keys + " LIMIT " + limit;
}

std::string ConflictSql(const TableSpec& spec) {
  if (!spec.upsert) return "ON CONFLICT DO NOTHING";
  const std::string target = spec.conflict != nullptr ? spec.conflict : "id";
  // The conflict target's columns come first in `columns`.
  const size_t keys =
      static_cast<size_t>(std::count(target.begin(), target.end(), ',')) + 1;
  std::string sql = "ON CONFLICT (" + target + ") DO UPDATE SET ";
  for (size_t i = keys; i < spec.columns.size(); ++i) {
    if (i > keys) sql += ", ";
    sql += std::string(spec.columns[i].name) + " = EXCLUDED." +
           spec.columns[i].name;
  }
  return sql;
}

void AppendValue(const SqliteRow& row, int index, Kind kind, Params* params) {
  switch (kind) {
    case Kind::kInt:
      params->Int(row.Int(index));
      break;
    case Kind::kNullableInt:
      if (row.IsNull(index)) {
        params->Null();
      } else {
        params->Int(row.Int(index));
      }
      break;
    case Kind::kDouble:
      params->Double(row.Double(index));
      break;
    case Kind::kNullableDouble:
      if (row.IsNull(index)) {
        params->Null();
      } else {
        params->Double(row.Double(index));
      }
      break;
    case Kind::kText:
      params->Text(util::ToValidUtf8(row.Bytes(index)));
      break;
    case Kind::kBool:
      params->Bool(row.Int(index) != 0);
      break;
    case Kind::kBytes:
      params->Bytea(row.Bytes(index));
      break;
    case Kind::kNullableBytes:
      if (row.IsNull(index)) {
        params->Null();
      } else {
        params->Bytea(row.Bytes(index));
      }
      break;
  }
}

Status QueryTargetInt(Connection* conn, const std::string& sql, int64_t* out) {
  Result result;
  Status status = conn->Exec(sql, &result);
  if (!status.ok()) return status;
  *out = result.rows() > 0 ? result.IntOr(0, 0, 0) : 0;
  return Status::Ok();
}

Status WithContext(const Status& status, const std::string& context) {
  if (status.ok()) return status;
  return Status(status.code(), context + ": " + status.message());
}

class Migration {
 public:
  Migration(const Options& options, Report* report)
      : options_(options), report_(report) {}
  Migration(const Migration&) = delete;
  Migration& operator=(const Migration&) = delete;

  Status Run() {
    Status status = OpenSource();
    if (!status.ok()) return status;
    status = OpenTarget();
    if (!status.ok()) return status;
    status = CheckTarget();
    if (!status.ok()) return status;
    CountSkipped();
    for (const TableSpec& spec : Tables()) {
      status = CopyTable(spec);
      if (!status.ok()) return status;
    }
    status = CopyAttachments();
    if (!status.ok()) return status;
    status = MoveSequences();
    if (!status.ok()) return status;
    status = Verify();
    if (!status.ok()) return status;
    return Finish();
  }

 private:
  Status OpenSource() {
    struct stat st;
    if (::stat(options_.sqlite_path.c_str(), &st) != 0 ||
        !S_ISREG(st.st_mode)) {
      return Status::Invalid("no SQLite database at " + options_.sqlite_path +
                             " (--from is the data directory, storage.path)");
    }
    // As `serve` opens it: refused while one runs on it, the schema brought
    // up to date and unwritten group counters recovered. Held (and so the
    // lock) until the copy is done.
    std::string error;
    source_store_ = store::OpenSqliteForIngest(options_.sqlite_path, &error);
    if (!source_store_) {
      return Status::Conflict("open " + options_.sqlite_path + ": " + error);
    }
    Status status = source_.Open(options_.sqlite_path);
    if (!status.ok()) return status;
    return source_.QueryInt("SELECT max(version) FROM schema_migrations",
                            &report_->source_schema_version);
  }

  Status OpenTarget() {
    // The store's own open applies the schema (advisory-locked).
    store::PostgresOptions pg;
    pg.conninfo = options_.conninfo;
    pg.pool_size = 1;
    pg.connect_timeout_ms = options_.connect_timeout_ms;
    pg.application_name = "crashctl-migrate";
    std::unique_ptr<store::Store> schema;
    Status status = store::OpenPostgres(pg, &schema);
    if (!status.ok()) return WithContext(status, "target");
    schema.reset();
    store::pg::ConnectOptions connect;
    connect.conninfo = options_.conninfo;
    connect.application_name = "crashctl-migrate";
    connect.connect_timeout_ms = options_.connect_timeout_ms;
    connect.statement_timeout_ms = options_.statement_timeout_ms;
    status = Connection::Open(connect, &target_);
    if (!status.ok()) return WithContext(status, "target");
    Result locked;
    status = target_->Exec("SELECT pg_try_advisory_lock($1)",
                           Params().Int(kMigrateLockKey), &locked);
    if (!status.ok()) return WithContext(status, "target");
    if (locked.TextView(0, 0) != "t") {
      return Status::Conflict(
          "another crashctl migrate is running on the target database");
    }
    return Status::Ok();
  }

  // Refuses a target that holds what no import wrote.
  Status CheckTarget() {
    int64_t imports = 0;
    int64_t rows = 0;
    Status status = QueryTargetInt(
        target_.get(), "SELECT count(*) FROM sqlite_imports", &imports);
    if (status.ok()) {
      status = QueryTargetInt(target_.get(),
                              "SELECT (SELECT count(*) FROM projects) + "
                              "(SELECT count(*) FROM crashes)",
                              &rows);
    }
    if (!status.ok()) return WithContext(status, "target");
    if (rows > 0 && imports == 0) {
      return Status::Conflict(
          "the target database holds projects or crashes that crashctl "
          "migrate did not write; migrate into an empty database");
    }
    report_->resumed = imports > 0;
    int64_t target_max = 0;
    int64_t source_max = 0;
    status = QueryTargetInt(
        target_.get(), "SELECT coalesce(max(id), 0) FROM events", &target_max);
    if (!status.ok()) return WithContext(status, "target");
    status = source_.QueryInt("SELECT coalesce(max(id), 0) FROM events",
                              &source_max);
    if (!status.ok()) return status;
    if (target_max > source_max) {
      return Status::Conflict(
          "the target database holds events with ids beyond the source's (" +
          std::to_string(target_max) + " > " + std::to_string(source_max) +
          "): a server has written there since the last migrate; the copy "
          "would lose events");
    }
    Result id;
    status = target_->Exec(
        "INSERT INTO sqlite_imports (source, source_schema_version, "
        "started_at) VALUES ($1, $2, $3) RETURNING id",
        Params()
            .Text(util::ToValidUtf8(options_.sqlite_path))
            .Int(report_->source_schema_version)
            .Double(util::NowSeconds()),
        &id);
    if (!status.ok()) return WithContext(status, "target: record the import");
    import_id_ = id.IntOr(0, 0, 0);
    return Status::Ok();
  }

  void CountSkipped() {
    for (const std::string& table : NotCopiedTables()) {
      if (!source_.HasTable(table)) continue;
      int64_t rows = 0;
      if (source_.QueryInt("SELECT count(*) FROM " + table, &rows).ok() &&
          rows > 0) {
        report_->skipped.push_back({table, rows});
      }
    }
  }

  Status CopyTable(const TableSpec& spec) {
    TableReport table;
    table.table = spec.table;
    int64_t all = 0;
    Status status = source_.QueryInt(
        std::string("SELECT count(*) FROM ") + spec.table, &all);
    if (status.ok()) {
      status = source_.QueryInt(std::string("SELECT count(*) FROM ") +
                                    spec.table + " x WHERE " + Where(spec),
                                &table.source_rows);
    }
    if (!status.ok()) return status;
    table.orphans = all - table.source_rows;
    if (table.orphans > 0) {
      spdlog::warn(
          "migrate: {} rows of {} point at rows the source no longer has; "
          "left out",
          table.orphans, spec.table);
    }
    std::vector<int64_t> last(spec.key_columns,
                              std::numeric_limits<int64_t>::min());
    if (spec.append) {
      status = QueryTargetInt(
          target_.get(),
          std::string("SELECT coalesce(max(id), 0) FROM ") + spec.table,
          &last[0]);
      if (!status.ok()) return WithContext(status, spec.table);
    }
    const std::string select = SelectSql(spec);
    const std::string conflict = ConflictSql(spec);
    std::vector<std::string> names;
    for (const Column& column : spec.columns) names.push_back(column.name);
    if (spec.conflict != nullptr) {
      status = StreamTable(spec, select, conflict, names, &table);
      if (!status.ok()) return status;
      return FinishTable(spec, &table);
    }
    const bool users = std::string(spec.table) == "events";
    const int batch = options_.batch_rows;
    // Every batch moves `last` forward, and the source snapshot is finite.
    for (;;) {
      std::vector<Params> rows;
      std::vector<Params> user_rows;
      std::vector<int64_t> params = last;
      params.push_back(batch);
      status = source_.Query(select, params, [&](const SqliteRow& row) {
        Params p;
        for (size_t i = 0; i < spec.columns.size(); ++i) {
          AppendValue(row, static_cast<int>(i), spec.columns[i].kind, &p);
        }
        rows.push_back(std::move(p));
        for (int k = 0; k < spec.key_columns; ++k) last[k] = row.Int(k);
        if (users && !row.Bytes(kEventUserId).empty()) {
          user_rows.push_back(
              Params()
                  .Int(row.Int(kEventGroupId))
                  .Text(util::ToValidUtf8(row.Bytes(kEventUserId))));
        }
        return true;
      });
      if (!status.ok()) return status;
      if (rows.empty()) break;
      status =
          store::pg::RunTransaction(target_.get(), {}, [&](Connection* conn) {
            Status s = store::pg::InsertRows(conn, spec.table, names, rows,
                                             conflict, nullptr);
            if (s.ok() && !user_rows.empty()) {
              s = store::pg::InsertRows(conn, "group_users",
                                        {"group_id", "user_id"}, user_rows,
                                        "ON CONFLICT DO NOTHING", nullptr);
            }
            return s;
          });
      if (!status.ok()) {
        return WithContext(status, std::string("copy ") + spec.table +
                                       " (run crashctl migrate again to "
                                       "resume)");
      }
      table.copied += static_cast<int64_t>(rows.size());
      if (options_.progress) {
        options_.progress(spec.table, table.copied, table.source_rows);
      }
      if (static_cast<int>(rows.size()) < batch) break;
    }
    return FinishTable(spec, &table);
  }

  // Counts the target's rows of `spec` into the report.
  Status FinishTable(const TableSpec& spec, TableReport* table) {
    Status status = QueryTargetInt(
        target_.get(), std::string("SELECT count(*) FROM ") + spec.table,
        &table->target_rows);
    if (!status.ok()) return WithContext(status, spec.table);
    report_->tables.push_back(*table);
    return Status::Ok();
  }

  // A table without an integer keyset (TableSpec::conflict): one query over
  // the snapshot, upserted in batches of options_.batch_rows, each its own
  // target transaction (bounded: the snapshot is finite).
  Status StreamTable(const TableSpec& spec, const std::string& select,
                     const std::string& conflict,
                     const std::vector<std::string>& names,
                     TableReport* table) {
    std::vector<Params> rows;
    Status written = Status::Ok();
    auto flush = [&]() {
      if (rows.empty()) return Status::Ok();
      Status st =
          store::pg::RunTransaction(target_.get(), {}, [&](Connection* conn) {
            return store::pg::InsertRows(conn, spec.table, names, rows,
                                         conflict, nullptr);
          });
      if (!st.ok()) {
        return WithContext(st, std::string("copy ") + spec.table +
                                   " (run crashctl migrate again to resume)");
      }
      table->copied += static_cast<int64_t>(rows.size());
      if (options_.progress) {
        options_.progress(spec.table, table->copied, table->source_rows);
      }
      rows.clear();
      return Status::Ok();
    };
    Status status = source_.Query(select, {}, [&](const SqliteRow& row) {
      Params p;
      for (size_t i = 0; i < spec.columns.size(); ++i) {
        AppendValue(row, static_cast<int>(i), spec.columns[i].kind, &p);
      }
      rows.push_back(std::move(p));
      if (static_cast<int>(rows.size()) < options_.batch_rows) return true;
      written = flush();
      return written.ok();
    });
    if (!status.ok()) return status;
    if (!written.ok()) return written;
    return flush();
  }

  // Attachments in rowid order, kAttachmentRowsPerBatch rows per target
  // transaction, each one's bytes read from the source blob a chunk at a
  // time (substr) into attachment_chunks, so a large one is never held
  // whole. An attachment the target has (an interrupted earlier run
  // committed its batch) is skipped with its chunks: the row and its
  // chunks commit together.
  Status CopyAttachments() {
    TableReport table;
    table.table = "attachments";
    int64_t all = 0;
    const std::string where = std::string("(") + kAttachmentsEligible + ")";
    Status status = source_.QueryInt("SELECT count(*) FROM attachments", &all);
    if (status.ok()) {
      status =
          source_.QueryInt("SELECT count(*) FROM attachments x WHERE " + where,
                           &table.source_rows);
    }
    if (!status.ok()) return status;
    table.orphans = all - table.source_rows;
    struct Row {
      int64_t rowid = 0;
      int64_t length = 0;  // of the blob
      Params params;       // the attachments row
    };
    int64_t last = std::numeric_limits<int64_t>::min();
    // Every batch moves `last` forward, and the source snapshot is finite.
    for (;;) {
      std::vector<Row> rows;
      status = source_.Query(
          "SELECT x.rowid, coalesce(length(x.data), 0), x.id, x.project_id, "
          "x.event_id, x.position, x.filename, x.content_type, "
          "x.attachment_type, x.size, x.received FROM attachments x WHERE " +
              where + " AND x.rowid > ?1 ORDER BY x.rowid LIMIT ?2",
          {last, kAttachmentRowsPerBatch}, [&](const SqliteRow& r) {
            Row row;
            row.rowid = r.Int(0);
            row.length = r.Int(1);
            row.params.Text(util::ToValidUtf8(r.Bytes(2)))
                .Int(r.Int(3))
                .Text(util::ToValidUtf8(r.Bytes(4)))
                .Int(r.Int(5))
                .Text(util::ToValidUtf8(r.Bytes(6)))
                .Text(util::ToValidUtf8(r.Bytes(7)))
                .Text(util::ToValidUtf8(r.Bytes(8)))
                .Int(r.Int(9))
                .Double(r.Double(10));
            last = row.rowid;
            rows.push_back(std::move(row));
            return true;
          });
      if (!status.ok()) return status;
      if (rows.empty()) break;
      int64_t copied = 0;
      status =
          store::pg::RunTransaction(target_.get(), {}, [&](Connection* conn) {
            copied = 0;
            for (const Row& row : rows) {
              Status s = CopyAttachment(conn, row.rowid, row.length, row.params,
                                        &copied);
              if (!s.ok()) return s;
            }
            return Status::Ok();
          });
      if (!status.ok()) {
        return WithContext(status,
                           "copy attachments (run crashctl migrate again to "
                           "resume)");
      }
      table.copied += copied;
      if (options_.progress) {
        options_.progress("attachments", table.copied, table.source_rows);
      }
      if (static_cast<int>(rows.size()) < kAttachmentRowsPerBatch) break;
    }
    status = QueryTargetInt(target_.get(), "SELECT count(*) FROM attachments",
                            &table.target_rows);
    if (!status.ok()) return WithContext(status, "attachments");
    report_->tables.push_back(table);
    return Status::Ok();
  }

  // One attachment's row and, when the target lacks it, its chunks.
  Status CopyAttachment(Connection* conn, int64_t rowid, int64_t length,
                        const Params& row, int64_t* copied) {
    Result inserted;
    Status status = conn->Exec(
        "INSERT INTO attachments (id, project_id, event_id, position, "
        "filename, content_type, attachment_type, size, received) VALUES "
        "($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING "
        "RETURNING id",
        row, &inserted);
    if (!status.ok() || inserted.rows() == 0) return status;
    ++*copied;
    const std::string id = inserted.Text(0, 0);
    // Bounded: length / kAttachmentChunk chunks.
    for (int64_t offset = 0; offset < length; offset += kAttachmentChunk) {
      std::string chunk;
      status = source_.Query(
          "SELECT substr(data, ?1, ?2) FROM attachments "
          "WHERE rowid = ?3",
          {offset + 1, kAttachmentChunk, rowid}, [&](const SqliteRow& r) {
            chunk.assign(r.Bytes(0));
            return false;
          });
      if (!status.ok()) return status;
      status = conn->Exec(
          "INSERT INTO attachment_chunks (attachment_id, seq, data) VALUES "
          "($1, $2, $3)",
          Params().Text(id).Int(offset / kAttachmentChunk).Bytea(chunk));
      if (!status.ok()) return status;
    }
    return Status::Ok();
  }

  // New rows get ids after the copied ones.
  Status MoveSequences() {
    for (const char* table :
         {"projects", "project_keys", "groups", "events", "crashes",
          "transactions", "monitors", "monitor_checkins", "feedback"}) {
      const std::string t = table;
      Status status =
          target_->Exec("SELECT setval(pg_get_serial_sequence('" + t +
                        "', 'id'), m) FROM "
                        "(SELECT max(id) AS m FROM " +
                        t + ") s WHERE m IS NOT NULL");
      if (!status.ok()) return WithContext(status, "move the id of " + t);
    }
    return Status::Ok();
  }

  Status Verify() {
    std::string differences;
    for (const TableReport& table : report_->tables) {
      if (table.source_rows != table.target_rows) {
        differences += " " + table.table + ": source " +
                       std::to_string(table.source_rows) + ", target " +
                       std::to_string(table.target_rows) + ";";
      }
    }
    int64_t source_sum = 0;
    int64_t target_sum = 0;
    Status status = source_.QueryInt(
        "SELECT coalesce(sum(x.count), 0) FROM groups x WHERE " +
            Where(Spec("groups")),
        &source_sum);
    if (!status.ok()) return status;
    status = QueryTargetInt(target_.get(),
                            "SELECT coalesce(sum(count), 0) FROM groups",
                            &target_sum);
    if (!status.ok()) return WithContext(status, "verify");
    if (source_sum != target_sum) {
      differences += " sum of group counts: source " +
                     std::to_string(source_sum) + ", target " +
                     std::to_string(target_sum) + ";";
    }
    report_->group_count_sum = target_sum;
    // The attachments' bytes, beside their row count.
    int64_t source_bytes = 0;
    int64_t target_bytes = 0;
    status = source_.QueryInt(
        std::string("SELECT coalesce(sum(length(x.data)), 0) FROM "
                    "attachments x WHERE (") +
            kAttachmentsEligible + ")",
        &source_bytes);
    if (!status.ok()) return status;
    status = QueryTargetInt(
        target_.get(),
        "SELECT coalesce(sum(octet_length(data)), 0) FROM attachment_chunks",
        &target_bytes);
    if (!status.ok()) return WithContext(status, "verify");
    if (source_bytes != target_bytes) {
      differences += " attachment bytes: source " +
                     std::to_string(source_bytes) + ", target " +
                     std::to_string(target_bytes) + ";";
    }
    if (!differences.empty()) {
      differences.pop_back();
      return Status::Internal("verification failed:" + differences +
                              " (did a server change either database "
                              "meanwhile?)");
    }
    return Status::Ok();
  }

  Status Finish() {
    std::string summary;
    for (const TableReport& table : report_->tables) {
      summary += table.table + "=" + std::to_string(table.target_rows) + " ";
    }
    for (const SkippedTable& skipped : report_->skipped) {
      summary += "not copied " + skipped.table + "=" +
                 std::to_string(skipped.rows) + " ";
    }
    Status status = target_->Exec(
        "UPDATE sqlite_imports SET finished_at = $1, summary = $2 WHERE id = "
        "$3",
        Params().Double(util::NowSeconds()).Text(summary).Int(import_id_));
    return WithContext(status, "target: record the import");
  }

  const Options& options_;
  Report* report_;
  std::unique_ptr<store::Store> source_store_;
  SqliteSnapshot source_;
  std::unique_ptr<Connection> target_;
  int64_t import_id_ = 0;
};

}  // namespace

Status MigrateSqliteToPostgres(const Options& options, Report* report) {
  *report = Report();
  if (options.sqlite_path.empty()) {
    return Status::Invalid("no source: the SQLite database path is empty");
  }
  if (options.conninfo.empty()) {
    return Status::Invalid(
        "no target: the PostgreSQL connection string is "
        "empty");
  }
  if (options.batch_rows < 1 || options.batch_rows > 50000) {
    return Status::Invalid("batch rows must be 1..50000");
  }
  const auto start = std::chrono::steady_clock::now();
  Migration migration(options, report);
  const Status status = migration.Run();
  report->seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  return status;
}

}  // namespace migrate
}  // namespace crashctl
