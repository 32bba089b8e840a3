// SqliteStore: release health (issue 18, docs/release-health.md "What
// crashctl does"): sessions merged by (project, sid) in session_records,
// counted once at their end into release_sessions and release_users, the
// per-release summary of GET /api/v1/releases, and the error-event counter
// WriteEvents keeps per release.
#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "cursor.h"
#include "rows.h"
#include "session_writes.h"
#include "sqlite_store.h"

namespace crashctl {
namespace store {
namespace {

using releases::SessionCount;
using releases::SessionRecord;

constexpr char kSelectRecord[] =
    "SELECT project_id, sid, distinct_id_hash, release, environment, started, "
    "last_seen, order_key, errors, duration, closed, forget_at "
    "FROM session_records WHERE project_id = ?1 AND sid = ?2";

constexpr char kUpsertRecord[] =
    "INSERT OR REPLACE INTO session_records (project_id, sid, "
    "distinct_id_hash, release, environment, started, last_seen, order_key, "
    "errors, duration, closed, forget_at, deadline) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";

// The number of open records, kept in a one-row table (counting the index
// would read every open record whenever a session opens).
constexpr char kCountOpen[] =
    "SELECT open FROM session_open_count WHERE id = 1";
constexpr char kAddOpen[] =
    "UPDATE session_open_count SET open = max(open + ?1, 0) WHERE id = 1";

constexpr char kEarliestOpen[] =
    "SELECT project_id, sid, distinct_id_hash, release, environment, started, "
    "last_seen, order_key, errors, duration, closed, forget_at "
    "FROM session_records WHERE closed = 0 ORDER BY deadline LIMIT ?1";

constexpr char kExpiredOpen[] =
    "SELECT project_id, sid, distinct_id_hash, release, environment, started, "
    "last_seen, order_key, errors, duration, closed, forget_at "
    "FROM session_records WHERE closed = 0 AND deadline < ?1 "
    "ORDER BY deadline LIMIT ?2";

constexpr char kForgetClosed[] =
    "DELETE FROM session_records WHERE (project_id, sid) IN ("
    "SELECT project_id, sid FROM session_records "
    "WHERE closed = 1 AND deadline < ?1 ORDER BY deadline LIMIT ?2)";

constexpr char kAddSessions[] =
    "INSERT INTO release_sessions (project_id, release, environment, status, "
    "count) VALUES (?1, ?2, ?3, ?4, ?5) "
    "ON CONFLICT (project_id, release, environment, status) "
    "DO UPDATE SET count = count + excluded.count";

constexpr char kAddUser[] =
    "INSERT INTO release_users (project_id, release, environment, "
    "distinct_id_hash, crashed) VALUES (?1, ?2, ?3, ?4, ?5) "
    "ON CONFLICT (project_id, release, environment, distinct_id_hash) "
    "DO UPDATE SET crashed = 1 WHERE excluded.crashed = 1 AND crashed = 0";

// One upsert per (project, release, environment): the only statement the
// event batch adds (WriteEvents' hot path).
constexpr char kTouchRelease[] =
    "INSERT INTO releases (project_id, release, environment, first_seen, "
    "last_seen, errors) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
    "ON CONFLICT (project_id, release, environment) DO UPDATE SET "
    "first_seen = min(first_seen, excluded.first_seen), "
    "last_seen = max(last_seen, excluded.last_seen), "
    "errors = errors + excluded.errors";

// Releases listed at most per call of RecentReleases (all projects).
constexpr int64_t kMaxRecentRows = 1000000;

void ReadRecord(const SqliteStmt& stmt, SessionRecord* out) {
  out->project_id = stmt.Int(0);
  out->sid = stmt.Text(1);
  out->distinct_id_hash = stmt.Text(2);
  out->release = stmt.Text(3);
  out->environment = stmt.Text(4);
  out->started = stmt.Double(5);
  out->last_seen = stmt.Double(6);
  out->order_key = static_cast<uint64_t>(stmt.Int(7));
  out->errors = static_cast<uint64_t>(stmt.Int(8));
  out->duration.reset();
  if (!stmt.IsNull(9)) out->duration = stmt.Double(9);
  out->closed = stmt.Int(10) != 0;
  out->forget_at = stmt.Double(11);
}

// Writes what `tally` adds, a statement per row.
Status WriteTally(SqliteDb* db, const ReleaseTally& tally) {
  Status st;
  for (const auto& [key, n] : tally.sessions) {
    SqliteStmt add;
    if (!db->Prepare(kAddSessions, &add, &st)) return st;
    add.Bind(1, std::get<0>(key))
        .Bind(2, std::get<1>(key))
        .Bind(3, std::get<2>(key))
        .Bind(4, std::get<3>(key))
        .Bind(5, n);
    if (add.Run() != SQLITE_DONE) {
      return db->LastStatus("count sessions of release " + std::get<1>(key));
    }
  }
  for (const auto& [key, crashed] : tally.users) {
    SqliteStmt user;
    if (!db->Prepare(kAddUser, &user, &st)) return st;
    user.Bind(1, std::get<0>(key))
        .Bind(2, std::get<1>(key))
        .Bind(3, std::get<2>(key))
        .Bind(4, std::get<3>(key))
        .Bind(5, static_cast<int64_t>(crashed ? 1 : 0));
    if (user.Run() != SQLITE_DONE) {
      return db->LastStatus("record a user of release " + std::get<1>(key));
    }
  }
  for (const auto& [key, touch] : tally.touches) {
    SqliteStmt stmt;
    if (!db->Prepare(kTouchRelease, &stmt, &st)) return st;
    stmt.Bind(1, std::get<0>(key))
        .Bind(2, std::get<1>(key))
        .Bind(3, std::get<2>(key))
        .Bind(4, touch.first_seen)
        .Bind(5, touch.last_seen)
        .Bind(6, touch.errors);
    if (stmt.Run() != SQLITE_DONE) {
      return db->LastStatus("update release " + std::get<1>(key) +
                            " (project " + std::to_string(std::get<0>(key)) +
                            ")");
    }
  }
  return Status::Ok();
}

Status AddOpen(SqliteDb* db, int64_t delta) {
  if (delta == 0) return Status::Ok();
  Status st;
  SqliteStmt stmt;
  if (!db->Prepare(kAddOpen, &stmt, &st)) return st;
  stmt.Bind(1, delta);
  if (stmt.Run() != SQLITE_DONE) {
    return db->LastStatus("count open sessions");
  }
  return Status::Ok();
}

Status StoreRecord(SqliteDb* db, const SessionRecord& record,
                   const releases::TrackerOptions& options) {
  Status st;
  SqliteStmt stmt;
  if (!db->Prepare(kUpsertRecord, &stmt, &st)) return st;
  stmt.Bind(1, record.project_id)
      .Bind(2, record.sid)
      .Bind(3, record.distinct_id_hash)
      .Bind(4, record.release)
      .Bind(5, record.environment)
      .Bind(6, FiniteOr(record.started, 0))
      .Bind(7, FiniteOr(record.last_seen, 0))
      .Bind(8, static_cast<int64_t>(record.order_key))
      .Bind(9, static_cast<int64_t>(record.errors))
      .Bind(11, static_cast<int64_t>(record.closed ? 1 : 0))
      .Bind(12, FiniteOr(record.forget_at, 0))
      .Bind(13, FiniteOr(releases::RecordDeadline(record, options), 0));
  if (record.duration.has_value() && std::isfinite(*record.duration)) {
    stmt.Bind(10, *record.duration);
  } else {
    stmt.BindNull(10);
  }
  if (stmt.Run() != SQLITE_DONE) {
    return db->LastStatus("store session " + record.sid + " (project " +
                          std::to_string(record.project_id) + ")");
  }
  return Status::Ok();
}

// Reads up to `limit` records of `stmt` (already bound).
bool ReadRecords(SqliteStmt* stmt, std::vector<SessionRecord>* out, int* rc) {
  while ((*rc = stmt->Step()) == SQLITE_ROW) {
    SessionRecord record;
    ReadRecord(*stmt, &record);
    out->push_back(std::move(record));
  }
  return *rc == SQLITE_DONE;
}

// The records in the single writer's transaction (no locks needed).
class SqliteSessionRecords : public SessionRecords {
 public:
  SqliteSessionRecords(SqliteDb* db, const releases::TrackerOptions& options)
      : db_(db), options_(options) {}
  Status Load(int64_t project_id, const std::string& sid,
              std::optional<SessionRecord>* out) override {
    Status st;
    SqliteStmt select;
    if (!db_->Prepare(kSelectRecord, &select, &st)) return st;
    select.Bind(1, project_id).Bind(2, sid);
    const int rc = select.Step();
    if (rc == SQLITE_ROW) {
      SessionRecord record;
      ReadRecord(select, &record);
      *out = std::move(record);
    } else if (rc != SQLITE_DONE) {
      return db_->LastStatus("read session " + sid);
    }
    return Status::Ok();
  }
  Status CountOpen(int64_t* out) override {
    Status st;
    SqliteStmt count;
    if (!db_->Prepare(kCountOpen, &count, &st)) return st;
    if (count.Step() != SQLITE_ROW) {
      return db_->LastStatus("count open sessions");
    }
    *out = count.Int(0);
    return Status::Ok();
  }
  Status EarliestOpen(int64_t limit, std::vector<SessionRecord>* out) override {
    Status st;
    SqliteStmt earliest;
    if (!db_->Prepare(kEarliestOpen, &earliest, &st)) return st;
    earliest.Bind(1, limit);
    int rc;
    if (!ReadRecords(&earliest, out, &rc)) {
      return db_->LastStatus("find sessions to evict");
    }
    return Status::Ok();
  }
  Status Store(const SessionRecord& record) override {
    return StoreRecord(db_, record, options_);
  }

 private:
  SqliteDb* const db_;
  const releases::TrackerOptions& options_;
};

}  // namespace

Status SqliteStore::CountReleaseEvents(
    SqliteDb* db, const std::vector<model::WriteItem>& items,
    const std::vector<model::WriteOutcome>& outcomes) {
  ReleaseTally tally;
  tally.AddEvents(items, outcomes);
  return WriteTally(db, tally);
}

Status SqliteStore::WriteSessions(const SessionWrite& write,
                                  std::vector<SessionCount>* counts) {
  std::vector<SessionCount> applied;
  if (write.updates.empty() && write.aggregate_counts.empty()) {
    if (counts != nullptr) counts->clear();
    return Status::Ok();
  }
  Status status = Write("write sessions", [&](SqliteDb* db) {
    applied.clear();  // fresh on every retry
    ReleaseTally tally;
    SqliteSessionRecords records(db, write.options);
    int64_t open_delta = 0;
    Status st =
        MergeSessionWrite(write, &records, &tally, &applied, &open_delta);
    if (!st.ok()) return st;
    st = AddOpen(db, open_delta);
    if (!st.ok()) return st;
    return WriteTally(db, tally);
  });
  HandOverCounts(status, &applied, counts);
  return status;
}

Status SqliteStore::ExpireSessions(double now,
                                   const releases::TrackerOptions& options,
                                   size_t max_items,
                                   std::vector<SessionCount>* counts,
                                   size_t* handled) {
  std::vector<SessionCount> applied;
  size_t done = 0;
  if (max_items == 0) max_items = 1;
  Status status = Write("expire sessions", [&](SqliteDb* db) {
    applied.clear();
    done = 0;
    ReleaseTally tally;
    Status st;
    std::vector<SessionRecord> expired;
    SqliteStmt select;
    if (!db->Prepare(kExpiredOpen, &select, &st)) return st;
    select.Bind(1, now).Bind(2, static_cast<int64_t>(max_items));
    int rc;
    if (!ReadRecords(&select, &expired, &rc)) {
      return db->LastStatus("find expired sessions");
    }
    SqliteSessionRecords records(db, options);
    st = CloseAbnormally(&expired, SessionCount::Reason::kTimedOut, options,
                         now, &records, &tally, &applied);
    if (!st.ok()) return st;
    done = expired.size();
    st = AddOpen(db, -static_cast<int64_t>(expired.size()));
    if (!st.ok()) return st;
    if (done < max_items) {
      SqliteStmt forget;
      if (!db->Prepare(kForgetClosed, &forget, &st)) return st;
      forget.Bind(1, now).Bind(2, static_cast<int64_t>(max_items - done));
      if (forget.Run() != SQLITE_DONE) {
        return db->LastStatus("forget closed sessions");
      }
      done += static_cast<size_t>(db->Changes());
    }
    return WriteTally(db, tally);
  });
  HandOverCounts(status, &applied, counts);
  if (handled != nullptr) *handled = status.ok() ? done : 0;
  return status;
}

Status SqliteStore::ListReleases(const ReleaseQuery& query,
                                 model::Page<model::ReleaseSummary>* out) {
  double cursor_first_seen = 0;
  int64_t cursor_project = 0;
  std::string cursor_release;
  const bool has_cursor = !query.cursor.empty();
  if (has_cursor && !DecodeReleaseCursor(query.cursor, &cursor_first_seen,
                                         &cursor_project, &cursor_release)) {
    return MakeStatus(Status::Code::kInvalid,
                      "invalid cursor (want the next_cursor of a previous "
                      "page of releases)");
  }
  const int limit = ClampLimit(query.limit);
  const bool by_env = !query.environment.empty();
  std::string sql =
      "SELECT project_id, release, min(first_seen) AS fs, max(last_seen), "
      "sum(errors) FROM releases WHERE 1 = 1";
  if (query.project.has_value()) sql += " AND project_id = ?1";
  if (by_env) sql += " AND environment = ?2";
  sql += " GROUP BY project_id, release";
  if (has_cursor) sql += " HAVING (fs, project_id, release) < (?3, ?4, ?5)";
  sql += " ORDER BY fs DESC, project_id DESC, release DESC LIMIT ?6";
  std::string env_filter = by_env ? " AND environment = ?3" : "";
  const std::string sessions_sql =
      "SELECT status, sum(count) FROM release_sessions "
      "WHERE project_id = ?1 AND release = ?2" +
      env_filter + " GROUP BY status";
  const std::string users_sql =
      "SELECT count(DISTINCT distinct_id_hash), count(DISTINCT CASE WHEN "
      "crashed != 0 THEN distinct_id_hash END) FROM release_users "
      "WHERE project_id = ?1 AND release = ?2" +
      env_filter;
  FoldBeforeRead();
  model::Page<model::ReleaseSummary> page;
  Status status = Read("list releases", [&](SqliteDb* db) {
    page = model::Page<model::ReleaseSummary>();
    Status st;
    SqliteStmt stmt;
    if (!db->Prepare(sql, &stmt, &st)) return st;
    if (query.project.has_value()) stmt.Bind(1, *query.project);
    if (by_env) stmt.Bind(2, query.environment);
    if (has_cursor) {
      stmt.Bind(3, cursor_first_seen)
          .Bind(4, cursor_project)
          .Bind(5, cursor_release);
    }
    stmt.Bind(6, limit + 1);
    int rc;
    bool more = false;
    while ((rc = stmt.Step()) == SQLITE_ROW) {
      if (static_cast<int>(page.items.size()) == limit) {
        more = true;
        break;
      }
      model::ReleaseSummary summary;
      summary.project_id = stmt.Int(0);
      summary.release = stmt.Text(1);
      summary.first_seen = stmt.Double(2);
      summary.last_seen = stmt.Double(3);
      summary.errors = static_cast<uint64_t>(std::max<int64_t>(stmt.Int(4), 0));
      page.items.push_back(std::move(summary));
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
      return db->LastStatus("list releases");
    }
    for (model::ReleaseSummary& summary : page.items) {
      const std::string context = "release " + summary.release;
      SqliteStmt sessions;
      if (!db->Prepare(sessions_sql, &sessions, &st)) return st;
      sessions.Bind(1, summary.project_id).Bind(2, summary.release);
      if (by_env) sessions.Bind(3, query.environment);
      while ((rc = sessions.Step()) == SQLITE_ROW) {
        const std::string name = sessions.Text(0);
        const uint64_t n =
            static_cast<uint64_t>(std::max<int64_t>(sessions.Int(1), 0));
        if (name == "exited") summary.exited += n;
        if (name == "errored") summary.errored += n;
        if (name == "crashed") summary.crashed += n;
        if (name == "abnormal") summary.abnormal += n;
      }
      if (rc != SQLITE_DONE) return db->LastStatus(context + ": sessions");
      SqliteStmt users;
      if (!db->Prepare(users_sql, &users, &st)) return st;
      users.Bind(1, summary.project_id).Bind(2, summary.release);
      if (by_env) users.Bind(3, query.environment);
      if (users.Step() != SQLITE_ROW) {
        return db->LastStatus(context + ": users");
      }
      summary.users = static_cast<uint64_t>(users.Int(0));
      summary.crashed_users = static_cast<uint64_t>(users.Int(1));
      SqliteStmt envs;
      if (!db->Prepare("SELECT environment FROM releases WHERE project_id = "
                       "?1 AND release = ?2 ORDER BY environment",
                       &envs, &st)) {
        return st;
      }
      envs.Bind(1, summary.project_id).Bind(2, summary.release);
      while ((rc = envs.Step()) == SQLITE_ROW) {
        summary.environments.push_back(envs.Text(0));
      }
      if (rc != SQLITE_DONE) return db->LastStatus(context + ": environments");
      // Groups have no index on first_release (the folds rewrite it): this
      // reads the project's groups, once per listed release.
      SqliteStmt groups;
      if (!db->Prepare("SELECT count(*) FROM groups WHERE project_id = ?1 "
                       "AND first_release = ?2",
                       &groups, &st)) {
        return st;
      }
      groups.Bind(1, summary.project_id).Bind(2, summary.release);
      if (groups.Step() != SQLITE_ROW) {
        return db->LastStatus(context + ": new groups");
      }
      summary.new_groups = groups.Int(0);
    }
    if (more && !page.items.empty()) {
      const model::ReleaseSummary& last = page.items.back();
      page.next_cursor =
          EncodeReleaseCursor(last.first_seen, last.project_id, last.release);
    }
    return Status::Ok();
  });
  if (status.ok()) *out = std::move(page);
  return status;
}

Status SqliteStore::RecentReleases(
    size_t per_project, std::vector<std::pair<int64_t, std::string>>* out) {
  std::vector<std::pair<int64_t, std::string>> result;
  Status status = Read("recent releases", [&](SqliteDb* db) {
    result.clear();
    Status st;
    SqliteStmt stmt;
    if (!db->Prepare("SELECT project_id, release, min(first_seen) AS fs "
                     "FROM releases GROUP BY project_id, release "
                     "ORDER BY project_id, fs DESC, release DESC LIMIT ?1",
                     &stmt, &st)) {
      return st;
    }
    stmt.Bind(1, kMaxRecentRows);
    int64_t project = 0;
    size_t taken = 0;
    int rc;
    while ((rc = stmt.Step()) == SQLITE_ROW) {
      const int64_t id = stmt.Int(0);
      if (result.empty() || id != project) {
        project = id;
        taken = 0;
      }
      if (taken >= per_project) continue;
      result.emplace_back(id, stmt.Text(1));
      ++taken;
    }
    if (rc != SQLITE_DONE) return db->LastStatus("recent releases");
    return Status::Ok();
  });
  if (status.ok()) *out = std::move(result);
  return status;
}

}  // namespace store
}  // namespace crashctl
