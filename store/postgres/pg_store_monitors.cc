// PostgresStore: cron monitors and their check-in rows (docs/monitors.md,
// docs/postgres.md "Monitors"), with the SQLite store's semantics
// (store/sqlite_store_monitors.cc; the transition bookkeeping is shared in
// store/monitor_rows.h).
//
// Several replicas check in and tick at once, so every change locks the
// monitor's row in its transaction before it reads the state:
// - a check-in: SELECT ... FOR UPDATE on (project, slug, environment); a
//   monitor not there yet is created under a transaction-scoped advisory
//   lock on its project, so two first check-ins make one monitor and the
//   per-project limit holds;
// - a scheduler tick: the due monitors are selected FOR UPDATE SKIP LOCKED,
//   so two replicas never tick one monitor at once, and a monitor another
//   replica ticked meanwhile is re-checked against its new next_deadline
//   (READ COMMITTED re-evaluates the WHERE on the locked row): a missed run
//   or timeout is recorded, and alerted, once per cluster.
#include <string>
#include <utility>
#include <vector>

#include "crashctl/store/pg/batch.h"
#include "crashctl/util/strings.h"
#include "cursor.h"
#include "monitor_rows.h"
#include "pg_rows.h"
#include "pg_store.h"
#include "rows.h"

namespace crashctl {
namespace store {
namespace pg {
namespace {

constexpr char kMonitorColumns[] =
    "id, project_id, slug, environment, state_json, next_deadline, "
    "created_at, updated_at, last_checkin, last_status, checkins_total, "
    "missed_total, timeouts_total, incident_reason, incident_started";

constexpr char kCheckInColumns[] =
    "id, monitor_id, check_in_id, status, kind, run_started, duration, "
    "received, missed_count, last_scheduled, release, trace_id";

void ReadMonitor(const Result& r, int row, model::Monitor* out) {
  out->id = r.IntOr(row, 0, 0);
  out->project_id = r.IntOr(row, 1, 0);
  out->slug = r.Text(row, 2);
  out->environment = r.Text(row, 3);
  out->state_json = r.Text(row, 4);
  if (r.IsNull(row, 5)) {
    out->next_deadline.reset();
  } else {
    out->next_deadline = r.IntOr(row, 5, 0);
  }
  out->created_at = r.DoubleOr(row, 6, 0);
  out->updated_at = r.DoubleOr(row, 7, 0);
  out->last_checkin = r.DoubleOr(row, 8, 0);
  out->last_status = r.Text(row, 9);
  out->checkins_total = r.IntOr(row, 10, 0);
  out->missed_total = r.IntOr(row, 11, 0);
  out->timeouts_total = r.IntOr(row, 12, 0);
}

void ReadMonitorRow(const Result& r, int row, MonitorRow* out) {
  ReadMonitor(r, row, &out->monitor);
  out->incident_reason = r.Text(row, 13);
  out->incident_started = r.IntOr(row, 14, 0);
}

void ReadCheckIn(const Result& r, int row, model::MonitorCheckIn* out) {
  out->id = r.IntOr(row, 0, 0);
  out->monitor_id = r.IntOr(row, 1, 0);
  out->check_in_id = r.Text(row, 2);
  out->status = r.Text(row, 3);
  out->kind = r.Text(row, 4);
  out->run_started = r.IntOr(row, 5, 0);
  if (r.IsNull(row, 6)) {
    out->duration_seconds.reset();
  } else {
    out->duration_seconds = r.DoubleOr(row, 6, 0);
  }
  out->received = r.IntOr(row, 7, 0);
  out->missed_count = r.IntOr(row, 8, 0);
  out->last_scheduled = r.IntOr(row, 9, 0);
  out->release = r.Text(row, 10);
  out->trace_id = r.Text(row, 11);
}

Params& NullableInt(Params& params, const std::optional<int64_t>& value) {
  return value ? params.Int(*value) : params.Null();
}

// The monitor of (project, slug, environment), its row locked until the
// transaction ends; *found false when there is none.
Status LockMonitor(Connection* conn, int64_t project_id,
                   const std::string& slug, const std::string& environment,
                   MonitorRow* out, bool* found) {
  Result r;
  Status st = conn->ExecPrepared(
      std::string("SELECT ") + kMonitorColumns +
          " FROM monitors WHERE project_id = $1 AND slug = $2 AND "
          "environment = $3 FOR UPDATE",
      Params().Int(project_id).Text(slug).Text(environment), &r);
  if (!st.ok()) return st;
  *found = r.rows() > 0;
  if (*found) ReadMonitorRow(r, 0, out);
  return Status::Ok();
}

// Stores the transition in update->transition of *row (id 0: a new
// monitor, inserted) at `now`, as the SQLite store does; `check_in` (may be
// null) gives release and trace id of the received check-in's rows.
Status StoreTransition(Connection* conn, const releases::CheckIn* check_in,
                       int64_t now, MonitorRow* row, MonitorUpdate* update) {
  const bool trim = ApplyMonitorTransition(now, row, update);
  model::Monitor* monitor = &row->monitor;
  Params values;
  values.Text(monitor->state_json);
  NullableInt(values, monitor->next_deadline)
      .Double(monitor->updated_at)
      .Double(monitor->last_checkin)
      .Text(Utf8(monitor->last_status))
      .Int(monitor->checkins_total)
      .Int(monitor->missed_total)
      .Int(monitor->timeouts_total)
      .Text(Utf8(row->incident_reason))
      .Int(row->incident_started);
  Status st;
  if (monitor->id == 0) {
    Result r;
    st = conn->ExecPrepared(
        "INSERT INTO monitors (state_json, next_deadline, updated_at, "
        "last_checkin, last_status, checkins_total, missed_total, "
        "timeouts_total, incident_reason, incident_started, project_id, "
        "slug, environment, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, "
        "$8, $9, $10, $11, $12, $13, $14) RETURNING id",
        Params(values)
            .Int(monitor->project_id)
            .Text(monitor->slug)
            .Text(monitor->environment)
            .Double(monitor->created_at),
        &r);
    if (!st.ok()) return st;
    st = r.Int(0, 0, &monitor->id);
  } else {
    st = conn->ExecPrepared(
        "UPDATE monitors SET state_json = $1, next_deadline = $2, "
        "updated_at = $3, last_checkin = $4, last_status = $5, "
        "checkins_total = $6, missed_total = $7, timeouts_total = $8, "
        "incident_reason = $9, incident_started = $10 WHERE id = $11",
        Params(values).Int(monitor->id));
  }
  if (!st.ok()) return st;

  const releases::MonitorTransition& t = update->transition;
  if (!t.records.empty()) {
    std::vector<Params> rows;
    rows.reserve(t.records.size());
    for (const releases::CheckInRecord& rec : t.records) {
      const bool received = IsReceivedCheckIn(rec) && check_in != nullptr;
      Params p;
      p.Int(monitor->id)
          .Text(Utf8(rec.check_in_id))
          .Text(Utf8(rec.status))
          .Text(CheckInKindName(rec.kind))
          .Int(rec.run_started);
      if (rec.duration_seconds) {
        p.Double(*rec.duration_seconds);
      } else {
        p.Null();
      }
      p.Int(rec.received)
          .Int(rec.missed_count)
          .Int(rec.last_scheduled)
          .Text(received ? Utf8(check_in->release) : std::string())
          .Text(received ? Utf8(check_in->trace_id) : std::string());
      rows.push_back(std::move(p));
    }
    st = InsertRows(conn, "monitor_checkins",
                    {"monitor_id", "check_in_id", "status", "kind",
                     "run_started", "duration", "received", "missed_count",
                     "last_scheduled", "release", "trace_id"},
                    rows, "", nullptr);
    if (!st.ok()) return st;
  }
  if (!trim) return Status::Ok();
  // Cap the rows of one monitor (only when a multiple is crossed).
  return conn->ExecPrepared(
      "DELETE FROM monitor_checkins WHERE id IN (SELECT id FROM "
      "monitor_checkins WHERE monitor_id = $1 ORDER BY received DESC, "
      "id DESC LIMIT $3 OFFSET $2)",
      Params()
          .Int(monitor->id)
          .Int(kMaxCheckInRowsPerMonitor)
          .Int(kTrimCheckInsBatch));
}

}  // namespace

Status PostgresStore::ApplyCheckIn(int64_t project_id,
                                   const releases::CheckIn& check_in,
                                   int64_t now, size_t max_monitors_per_project,
                                   MonitorUpdate* out) {
  const std::string slug = Utf8(check_in.monitor_slug);
  const std::string environment = Utf8(check_in.environment);
  MonitorUpdate update;
  Status status = InTransaction("apply check-in", [&](Connection* conn) {
    update = MonitorUpdate();  // fresh on every attempt
    MonitorRow row;
    bool found = false;
    Status st = LockMonitor(conn, project_id, slug, environment, &row, &found);
    if (!st.ok()) return st;
    if (!found) {
      // Creating: one creator per project at a time (released at COMMIT),
      // then look again: another replica may have created it meanwhile.
      st = conn->ExecPrepared(
          "SELECT pg_advisory_xact_lock(hashtextextended("
          "'crashctl.monitors.' || $1::text, 0))",
          Params().Int(project_id));
      if (!st.ok()) return st;
      st = LockMonitor(conn, project_id, slug, environment, &row, &found);
      if (!st.ok()) return st;
    }
    releases::MonitorState state;
    if (found) {
      state = LoadMonitorState(row.monitor);
    } else {
      st = CheckProject(conn, project_id);
      if (!st.ok()) return st;
      Result r;
      st = conn->ExecPrepared(
          "SELECT count(*) FROM monitors WHERE project_id = $1",
          Params().Int(project_id), &r);
      if (!st.ok()) return st;
      const int64_t count = r.IntOr(0, 0, 0);
      if (count >= static_cast<int64_t>(max_monitors_per_project)) {
        return Status::TooLarge(
            "project " + std::to_string(project_id) + " has " +
            std::to_string(count) + " monitors (monitors.max_per_project " +
            std::to_string(max_monitors_per_project) + "); monitor \"" + slug +
            "\" (" + environment + ") not created");
      }
      update.created = true;
      row.monitor.project_id = project_id;
      row.monitor.slug = slug;
      row.monitor.environment = environment;
    }
    update.transition = releases::ApplyCheckIn(state, check_in, now);
    st = StoreTransition(conn, &check_in, now, &row, &update);
    update.monitor = row.monitor;
    return st;
  });
  if (status.ok() && out != nullptr) *out = std::move(update);
  return status;
}

Status PostgresStore::TickMonitors(int64_t now, size_t max_monitors,
                                   std::vector<MonitorUpdate>* out) {
  std::vector<MonitorUpdate> updates;
  Status status = InTransaction("tick monitors", [&](Connection* conn) {
    updates.clear();
    Result r;
    Status st = conn->ExecPrepared(
        std::string("SELECT ") + kMonitorColumns +
            " FROM monitors WHERE next_deadline IS NOT NULL AND "
            "next_deadline <= $1 ORDER BY next_deadline, id LIMIT $2 "
            "FOR UPDATE SKIP LOCKED",
        Params().Int(now).Int(static_cast<int64_t>(max_monitors)), &r);
    if (!st.ok()) return st;
    for (int i = 0; i < r.rows(); ++i) {
      MonitorRow row;
      ReadMonitorRow(r, i, &row);
      MonitorUpdate update;
      update.transition =
          releases::TickMonitor(LoadMonitorState(row.monitor), now);
      st = StoreTransition(conn, nullptr, now, &row, &update);
      if (!st.ok()) return st;
      update.monitor = std::move(row.monitor);
      if (!update.transition.records.empty() ||
          !update.transition.alerts.empty()) {
        updates.push_back(std::move(update));
      }
    }
    return Status::Ok();
  });
  if (status.ok() && out != nullptr) {
    for (MonitorUpdate& u : updates) out->push_back(std::move(u));
  }
  return status;
}

Status PostgresStore::NextMonitorDeadline(std::optional<int64_t>* out) {
  std::optional<int64_t> deadline;
  Status status = WithConnection("next monitor deadline", [&](Connection*
                                                                  conn) {
    Result r;
    Status st = conn->ExecPrepared(
        "SELECT min(next_deadline) FROM monitors WHERE next_deadline IS NOT "
        "NULL",
        Params(), &r);
    if (!st.ok()) return st;
    if (r.rows() > 0 && !r.IsNull(0, 0)) deadline = r.IntOr(0, 0, 0);
    return Status::Ok();
  });
  if (status.ok()) *out = deadline;
  return status;
}

Status PostgresStore::ListMonitors(const MonitorQuery& query,
                                   model::Page<model::Monitor>* out) {
  Cursor cursor;
  bool has_cursor = false;
  Status status = ParsePageCursor(query.cursor, "slug", &cursor, &has_cursor);
  if (!status.ok()) return status;
  const int limit = ClampLimit(query.limit);
  PgSql sql(std::string("SELECT ") + kMonitorColumns +
            " FROM monitors WHERE true");
  if (query.project) sql.Add(" AND project_id = " + sql.Int(*query.project));
  if (!query.environment.empty()) {
    sql.Add(" AND environment = " + sql.Text(Utf8(query.environment)));
  }
  // Keyset on (slug, environment, id) of the cursor's monitor; "C" collation
  // so the order is bytewise, as SQLite's.
  if (has_cursor) {
    sql.Add(
        " AND (slug COLLATE \"C\", environment COLLATE \"C\", id) > (SELECT "
        "slug COLLATE \"C\", environment COLLATE \"C\", id FROM monitors "
        "WHERE id = " +
        sql.Int(cursor.id) + ")");
  }
  sql.Add(" ORDER BY slug COLLATE \"C\", environment COLLATE \"C\", id LIMIT " +
          sql.Int(limit + 1));
  model::Page<model::Monitor> page;
  status = WithConnection("list monitors", [&](Connection* conn) {
    page = model::Page<model::Monitor>();
    Result r;
    Status st = conn->ExecPrepared(sql.text(), sql.params(), &r);
    if (!st.ok()) return st;
    for (int i = 0; i < r.rows() && i < limit; ++i) {
      page.items.emplace_back();
      ReadMonitor(r, i, &page.items.back());
    }
    if (r.rows() > limit) {
      page.next_cursor = CursorAfter("slug", 0, page.items.back().id);
    }
    return Status::Ok();
  });
  if (status.ok()) *out = std::move(page);
  return status;
}

Status PostgresStore::GetMonitor(int64_t id, model::Monitor* out) {
  model::Monitor monitor;
  Status status = WithConnection("get monitor", [&](Connection* conn) {
    Result r;
    Status st = conn->ExecPrepared(std::string("SELECT ") + kMonitorColumns +
                                       " FROM monitors WHERE id = $1",
                                   Params().Int(id), &r);
    if (!st.ok()) return st;
    if (r.rows() == 0) {
      return Status::NotFound("monitor " + std::to_string(id) + " not found");
    }
    ReadMonitor(r, 0, &monitor);
    return Status::Ok();
  });
  if (status.ok()) *out = std::move(monitor);
  return status;
}

Status PostgresStore::ListMonitorCheckIns(
    int64_t monitor_id, int limit, const std::string& cursor_text,
    model::Page<model::MonitorCheckIn>* out) {
  Cursor cursor;
  bool has_cursor = false;
  Status status =
      ParsePageCursor(cursor_text, "received", &cursor, &has_cursor);
  if (!status.ok()) return status;
  const int page_limit = ClampLimit(limit);
  PgSql sql(std::string("SELECT ") + kCheckInColumns +
            " FROM monitor_checkins WHERE monitor_id = ");
  sql.Add(sql.Int(monitor_id));
  if (has_cursor) {
    sql.Add(" AND (received, id) < (" +
            sql.Int(static_cast<int64_t>(cursor.value)) + ", " +
            sql.Int(cursor.id) + ")");
  }
  sql.Add(" ORDER BY received DESC, id DESC LIMIT " + sql.Int(page_limit + 1));
  model::Page<model::MonitorCheckIn> page;
  status = WithConnection("list monitor check-ins", [&](Connection* conn) {
    page = model::Page<model::MonitorCheckIn>();
    Result r;
    Status st = conn->ExecPrepared(sql.text(), sql.params(), &r);
    if (!st.ok()) return st;
    for (int i = 0; i < r.rows() && i < page_limit; ++i) {
      page.items.emplace_back();
      ReadCheckIn(r, i, &page.items.back());
    }
    if (r.rows() > page_limit) {
      page.next_cursor = CursorAfter(
          "received", static_cast<double>(page.items.back().received),
          page.items.back().id);
    }
    return Status::Ok();
  });
  if (status.ok()) *out = std::move(page);
  return status;
}

}  // namespace pg
}  // namespace store
}  // namespace crashctl
