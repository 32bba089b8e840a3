// SqliteStore: cron monitors and their check-in rows (docs/monitors.md).
//
// A monitor's state machine (releases::MonitorState) is one JSON column;
// every check-in and every scheduler tick loads it, applies the transition
// and stores the new state, its next deadline and the transition's records
// in one write transaction, so a run is reported missed (or timed out) once,
// also across a restart.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "cursor.h"
#include "monitor_rows.h"
#include "rows.h"
#include "sqlite_store.h"

namespace crashctl {
namespace store {
namespace {

constexpr char kMonitorColumns[] =
    "id, project_id, slug, environment, state_json, next_deadline, "
    "created_at, updated_at, last_checkin, last_status, checkins_total, "
    "missed_total, timeouts_total, incident_reason, incident_started";

constexpr char kCheckInColumns[] =
    "id, monitor_id, check_in_id, status, kind, run_started, duration, "
    "received, missed_count, last_scheduled, release, trace_id";

void ReadMonitor(const SqliteStmt& stmt, model::Monitor* out) {
  out->id = stmt.Int(0);
  out->project_id = stmt.Int(1);
  out->slug = stmt.Text(2);
  out->environment = stmt.Text(3);
  out->state_json = stmt.Text(4);
  if (stmt.IsNull(5)) {
    out->next_deadline.reset();
  } else {
    out->next_deadline = stmt.Int(5);
  }
  out->created_at = stmt.Double(6);
  out->updated_at = stmt.Double(7);
  out->last_checkin = stmt.Double(8);
  out->last_status = stmt.Text(9);
  out->checkins_total = stmt.Int(10);
  out->missed_total = stmt.Int(11);
  out->timeouts_total = stmt.Int(12);
}

void ReadMonitorRow(const SqliteStmt& stmt, MonitorRow* out) {
  ReadMonitor(stmt, &out->monitor);
  out->incident_reason = stmt.Text(13);
  out->incident_started = stmt.Int(14);
}

void ReadCheckInRow(const SqliteStmt& stmt, model::MonitorCheckIn* out) {
  out->id = stmt.Int(0);
  out->monitor_id = stmt.Int(1);
  out->check_in_id = stmt.Text(2);
  out->status = stmt.Text(3);
  out->kind = stmt.Text(4);
  out->run_started = stmt.Int(5);
  if (stmt.IsNull(6)) {
    out->duration_seconds.reset();
  } else {
    out->duration_seconds = stmt.Double(6);
  }
  out->received = stmt.Int(7);
  out->missed_count = stmt.Int(8);
  out->last_scheduled = stmt.Int(9);
  out->release = stmt.Text(10);
  out->trace_id = stmt.Text(11);
}

// Loads the monitor selected by `where` (parameters bound by `bind`).
// *found false when there is none.
template <typename BindFn>
Status LoadMonitor(SqliteDb* db, const std::string& where, const BindFn& bind,
                   MonitorRow* out, bool* found) {
  Status st;
  SqliteStmt stmt;
  if (!db->Prepare(std::string("SELECT ") + kMonitorColumns +
                       " FROM monitors WHERE " + where,
                   &stmt, &st)) {
    return st;
  }
  bind(&stmt);
  const int rc = stmt.Step();
  if (rc == SQLITE_ROW) {
    ReadMonitorRow(stmt, out);
    *found = true;
    return Status::Ok();
  }
  *found = false;
  if (rc == SQLITE_DONE) return Status::Ok();
  return db->LastStatus("load monitor");
}

// Stores the transition `t` of `monitor` (id 0: a new monitor, inserted),
// at `now`; `check_in` (may be null) gives release and trace id of the
// received check-in's rows. Updates *monitor to what was stored.
Status StoreTransition(SqliteDb* db, const releases::CheckIn* check_in,
                       int64_t now, MonitorRow* row, MonitorUpdate* update) {
  Status st;
  const releases::MonitorTransition& t = update->transition;
  model::Monitor* monitor = &row->monitor;
  const bool trim = ApplyMonitorTransition(now, row, update);
  const std::optional<int64_t>& deadline = monitor->next_deadline;

  if (monitor->id == 0) {
    SqliteStmt stmt;
    if (!db->Prepare(
            "INSERT INTO monitors (project_id, slug, environment, state_json, "
            "next_deadline, created_at, updated_at, last_checkin, "
            "last_status, checkins_total, missed_total, timeouts_total, "
            "incident_reason, incident_started) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
            "?14)",
            &stmt, &st)) {
      return st;
    }
    stmt.Bind(1, monitor->project_id)
        .Bind(2, monitor->slug)
        .Bind(3, monitor->environment)
        .Bind(4, monitor->state_json);
    if (deadline) {
      stmt.Bind(5, *deadline);
    } else {
      stmt.BindNull(5);
    }
    stmt.Bind(6, monitor->created_at)
        .Bind(7, monitor->updated_at)
        .Bind(8, monitor->last_checkin)
        .Bind(9, monitor->last_status)
        .Bind(10, monitor->checkins_total)
        .Bind(11, monitor->missed_total)
        .Bind(12, monitor->timeouts_total)
        .Bind(13, row->incident_reason)
        .Bind(14, row->incident_started);
    if (stmt.Run() != SQLITE_DONE) {
      if (db->last_rc() == SQLITE_CONSTRAINT_FOREIGNKEY) {
        return MakeStatus(
            Status::Code::kNotFound,
            "monitor: no project " + std::to_string(monitor->project_id));
      }
      return db->LastStatus("insert monitor");
    }
    monitor->id = db->LastInsertRowid();
  } else {
    SqliteStmt stmt;
    if (!db->Prepare(
            "UPDATE monitors SET state_json = ?2, next_deadline = ?3, "
            "updated_at = ?4, last_checkin = ?5, last_status = ?6, "
            "checkins_total = ?7, missed_total = ?8, timeouts_total = ?9, "
            "incident_reason = ?10, incident_started = ?11 WHERE id = ?1",
            &stmt, &st)) {
      return st;
    }
    stmt.Bind(1, monitor->id).Bind(2, monitor->state_json);
    if (deadline) {
      stmt.Bind(3, *deadline);
    } else {
      stmt.BindNull(3);
    }
    stmt.Bind(4, monitor->updated_at)
        .Bind(5, monitor->last_checkin)
        .Bind(6, monitor->last_status)
        .Bind(7, monitor->checkins_total)
        .Bind(8, monitor->missed_total)
        .Bind(9, monitor->timeouts_total)
        .Bind(10, row->incident_reason)
        .Bind(11, row->incident_started);
    if (stmt.Run() != SQLITE_DONE) return db->LastStatus("update monitor");
  }

  for (const releases::CheckInRecord& r : t.records) {
    SqliteStmt stmt;
    if (!db->Prepare("INSERT INTO monitor_checkins (monitor_id, check_in_id, "
                     "status, kind, run_started, duration, received, "
                     "missed_count, last_scheduled, release, trace_id) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                     &stmt, &st)) {
      return st;
    }
    const bool received = IsReceivedCheckIn(r);
    stmt.Bind(1, monitor->id)
        .Bind(2, r.check_in_id)
        .Bind(3, r.status)
        .Bind(4, std::string(CheckInKindName(r.kind)))
        .Bind(5, r.run_started);
    if (r.duration_seconds) {
      stmt.Bind(6, *r.duration_seconds);
    } else {
      stmt.BindNull(6);
    }
    stmt.Bind(7, r.received)
        .Bind(8, r.missed_count)
        .Bind(9, r.last_scheduled)
        .Bind(10, received && check_in != nullptr ? check_in->release
                                                  : std::string())
        .Bind(11, received && check_in != nullptr ? check_in->trace_id
                                                  : std::string());
    if (stmt.Run() != SQLITE_DONE) {
      return db->LastStatus("insert monitor check-in");
    }
  }

  // Cap the rows of one monitor (cheap: only every kTrimCheckInsEveryRows
  // rows).
  if (trim) {
    SqliteStmt stmt;
    if (!db->Prepare(
            "DELETE FROM monitor_checkins WHERE id IN (SELECT id FROM "
            "monitor_checkins WHERE monitor_id = ?1 ORDER BY received DESC, "
            "id DESC LIMIT ?3 OFFSET ?2)",
            &stmt, &st)) {
      return st;
    }
    stmt.Bind(1, monitor->id)
        .Bind(2, kMaxCheckInRowsPerMonitor)
        .Bind(3, kTrimCheckInsBatch);
    if (stmt.Run() != SQLITE_DONE) {
      return db->LastStatus("trim monitor check-ins");
    }
  }
  return Status::Ok();
}

}  // namespace

Status SqliteStore::ApplyCheckIn(int64_t project_id,
                                 const releases::CheckIn& check_in, int64_t now,
                                 size_t max_monitors_per_project,
                                 MonitorUpdate* out) {
  MonitorUpdate update;
  Status status = Write("apply check-in", [&](SqliteDb* db) {
    update = MonitorUpdate();
    MonitorRow row;
    bool found = false;
    Status st = LoadMonitor(
        db, "project_id = ?1 AND slug = ?2 AND environment = ?3",
        [&](SqliteStmt* stmt) {
          stmt->Bind(1, project_id)
              .Bind(2, check_in.monitor_slug)
              .Bind(3, check_in.environment);
        },
        &row, &found);
    if (!st.ok()) return st;
    releases::MonitorState state;
    if (found) {
      state = LoadMonitorState(row.monitor);
    } else {
      SqliteStmt stmt;
      if (!db->Prepare("SELECT count(*) FROM monitors WHERE project_id = ?1",
                       &stmt, &st)) {
        return st;
      }
      stmt.Bind(1, project_id);
      if (stmt.Step() != SQLITE_ROW) return db->LastStatus("count monitors");
      if (stmt.Int(0) >= static_cast<int64_t>(max_monitors_per_project)) {
        return Status::TooLarge("project " + std::to_string(project_id) +
                                " has " + std::to_string(stmt.Int(0)) +
                                " monitors (monitors.max_per_project " +
                                std::to_string(max_monitors_per_project) +
                                "); monitor \"" + check_in.monitor_slug +
                                "\" (" + check_in.environment +
                                ") not created");
      }
      update.created = true;
      row.monitor.project_id = project_id;
      row.monitor.slug = check_in.monitor_slug;
      row.monitor.environment = check_in.environment;
    }
    update.transition = releases::ApplyCheckIn(state, check_in, now);
    st = StoreTransition(db, &check_in, now, &row, &update);
    update.monitor = row.monitor;
    return st;
  });
  if (status.ok() && out != nullptr) *out = std::move(update);
  return status;
}

Status SqliteStore::TickMonitors(int64_t now, size_t max_monitors,
                                 std::vector<MonitorUpdate>* out) {
  std::vector<MonitorUpdate> updates;
  Status status = Write("tick monitors", [&](SqliteDb* db) {
    updates.clear();
    std::vector<MonitorRow> due;
    {
      Status st;
      SqliteStmt stmt;
      if (!db->Prepare(std::string("SELECT ") + kMonitorColumns +
                           " FROM monitors WHERE next_deadline IS NOT NULL "
                           "AND next_deadline <= ?1 ORDER BY next_deadline, "
                           "id LIMIT ?2",
                       &stmt, &st)) {
        return st;
      }
      stmt.Bind(1, now).Bind(2, static_cast<int64_t>(max_monitors));
      int rc;
      while ((rc = stmt.Step()) == SQLITE_ROW) {
        due.emplace_back();
        ReadMonitorRow(stmt, &due.back());
      }
      if (rc != SQLITE_DONE) return db->LastStatus("select due monitors");
    }
    for (MonitorRow& row : due) {
      MonitorUpdate update;
      update.transition =
          releases::TickMonitor(LoadMonitorState(row.monitor), now);
      Status st = StoreTransition(db, nullptr, now, &row, &update);
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

Status SqliteStore::NextMonitorDeadline(std::optional<int64_t>* out) {
  std::optional<int64_t> deadline;
  Status status = Read("next monitor deadline", [&](SqliteDb* db) {
    Status st;
    SqliteStmt stmt;
    if (!db->Prepare("SELECT min(next_deadline) FROM monitors WHERE "
                     "next_deadline IS NOT NULL",
                     &stmt, &st)) {
      return st;
    }
    if (stmt.Step() != SQLITE_ROW) {
      return db->LastStatus("next monitor deadline");
    }
    if (!stmt.IsNull(0)) deadline = stmt.Int(0);
    return Status::Ok();
  });
  if (status.ok()) *out = deadline;
  return status;
}

Status SqliteStore::ListMonitors(const MonitorQuery& query,
                                 model::Page<model::Monitor>* out) {
  Cursor cursor;
  bool has_cursor = false;
  Status status = ParsePageCursor(query.cursor, "slug", &cursor, &has_cursor);
  if (!status.ok()) return status;
  const int limit = ClampLimit(query.limit);
  std::string sql =
      std::string("SELECT ") + kMonitorColumns + " FROM monitors WHERE 1 = 1";
  if (query.project) sql += " AND project_id = ?1";
  if (!query.environment.empty()) sql += " AND environment = ?2";
  // Keyset on (slug, environment, id) of the cursor's monitor (monitors are
  // never deleted, so it still exists).
  if (has_cursor) {
    sql +=
        " AND (slug, environment, id) > (SELECT slug, environment, id FROM "
        "monitors WHERE id = ?3)";
  }
  sql += " ORDER BY slug, environment, id LIMIT ?4";
  model::Page<model::Monitor> page;
  status = Read("list monitors", [&](SqliteDb* db) {
    page = model::Page<model::Monitor>();
    Status st;
    SqliteStmt stmt;
    if (!db->Prepare(sql, &stmt, &st)) return st;
    if (query.project) stmt.Bind(1, *query.project);
    if (!query.environment.empty()) stmt.Bind(2, query.environment);
    if (has_cursor) stmt.Bind(3, cursor.id);
    stmt.Bind(4, limit + 1);
    int rc;
    const bool more = ReadPageRows(&stmt, limit, ReadMonitor, &page.items, &rc);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
      return db->LastStatus("list monitors");
    }
    if (more) {
      page.next_cursor = CursorAfter("slug", 0, page.items.back().id);
    }
    return Status::Ok();
  });
  if (status.ok()) *out = std::move(page);
  return status;
}

Status SqliteStore::GetMonitor(int64_t id, model::Monitor* out) {
  MonitorRow row;
  Status status = Read("get monitor", [&](SqliteDb* db) {
    bool found = false;
    Status st = LoadMonitor(
        db, "id = ?1", [&](SqliteStmt* stmt) { stmt->Bind(1, id); }, &row,
        &found);
    if (!st.ok()) return st;
    if (!found) {
      return MakeStatus(Status::Code::kNotFound,
                        "monitor " + std::to_string(id) + " not found");
    }
    return Status::Ok();
  });
  if (status.ok()) *out = std::move(row.monitor);
  return status;
}

Status SqliteStore::ListMonitorCheckIns(
    int64_t monitor_id, int limit, const std::string& cursor_text,
    model::Page<model::MonitorCheckIn>* out) {
  Cursor cursor;
  bool has_cursor = false;
  Status status =
      ParsePageCursor(cursor_text, "received", &cursor, &has_cursor);
  if (!status.ok()) return status;
  const int page_limit = ClampLimit(limit);
  std::string sql = std::string("SELECT ") + kCheckInColumns +
                    " FROM monitor_checkins WHERE monitor_id = ?1";
  if (has_cursor) sql += " AND (received, id) < (?2, ?3)";
  sql += " ORDER BY received DESC, id DESC LIMIT ?4";
  model::Page<model::MonitorCheckIn> page;
  status = Read("list monitor check-ins", [&](SqliteDb* db) {
    page = model::Page<model::MonitorCheckIn>();
    Status st;
    SqliteStmt stmt;
    if (!db->Prepare(sql, &stmt, &st)) return st;
    stmt.Bind(1, monitor_id);
    if (has_cursor) {
      stmt.Bind(2, static_cast<int64_t>(cursor.value)).Bind(3, cursor.id);
    }
    stmt.Bind(4, page_limit + 1);
    int rc;
    const bool more =
        ReadPageRows(&stmt, page_limit, ReadCheckInRow, &page.items, &rc);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
      return db->LastStatus("list monitor check-ins");
    }
    if (more) {
      page.next_cursor = CursorAfter(
          "received", static_cast<double>(page.items.back().received),
          page.items.back().id);
    }
    return Status::Ok();
  });
  if (status.ok()) *out = std::move(page);
  return status;
}

}  // namespace store
}  // namespace crashctl
