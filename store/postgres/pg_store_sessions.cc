// PostgresStore: release health (docs/release-health.md, docs/postgres.md
// "Sessions and releases"), with the SQLite store's semantics
// (store/sqlite_store_sessions.cc; the merge and the tally are shared in
// store/session_writes.h).
//
// Several replicas write sessions at once:
// - a write takes a transaction-scoped advisory lock per sid of the
//   envelope, in sid order, and then their rows FOR UPDATE, before it
//   merges anything: two updates of one sid at two replicas merge one after
//   the other, and a session is counted once;
// - the open sessions evicted beyond sessions.max_open, and those the
//   expiry pass closes, are taken FOR UPDATE SKIP LOCKED: a record another
//   writer holds is left to it. The number open (session_open_count) is
//   read without a lock, so with several writers the bound may be passed
//   by their number for a moment;
// - what a write adds to the release tables is summed per row and written
//   last, releases first and then the counters, each in key order, so that
//   writers (and WriteEvents, which upserts releases) lock rows in one
//   order; session_open_count is updated last of all.
#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "crashctl/store/pg/batch.h"
#include "crashctl/util/strings.h"
#include "pg_rows.h"
#include "pg_store.h"
#include "rows.h"
#include "session_writes.h"

namespace crashctl {
namespace store {
namespace pg {
namespace {

using releases::SessionCount;
using releases::SessionRecord;

constexpr char kRecordColumns[] =
    "project_id, sid, distinct_id_hash, release, environment, started, "
    "last_seen, order_key, errors, duration, closed, forget_at";

// Releases listed at most per call of RecentReleases (all projects).
constexpr int64_t kMaxRecentRows = 1000000;

void ReadRecord(const Result& r, int row, SessionRecord* out) {
  out->project_id = r.IntOr(row, 0, 0);
  out->sid = r.Text(row, 1);
  out->distinct_id_hash = r.Text(row, 2);
  out->release = r.Text(row, 3);
  out->environment = r.Text(row, 4);
  out->started = r.DoubleOr(row, 5, 0);
  out->last_seen = r.DoubleOr(row, 6, 0);
  out->order_key = static_cast<uint64_t>(r.IntOr(row, 7, 0));
  out->errors = static_cast<uint64_t>(r.IntOr(row, 8, 0));
  out->duration.reset();
  if (!r.IsNull(row, 9)) out->duration = r.DoubleOr(row, 9, 0);
  out->closed = r.TextView(row, 10) == "t";
  out->forget_at = r.DoubleOr(row, 11, 0);
}

void ReadRecords(const Result& r, std::vector<SessionRecord>* out) {
  for (int i = 0; i < r.rows(); ++i) {
    SessionRecord record;
    ReadRecord(r, i, &record);
    out->push_back(std::move(record));
  }
}

Status StoreRecord(Connection* conn, const SessionRecord& record,
                   const releases::TrackerOptions& options) {
  Params params;
  params.Int(record.project_id)
      .Text(Utf8(record.sid))
      .Text(Utf8(record.distinct_id_hash))
      .Text(Utf8(record.release))
      .Text(Utf8(record.environment))
      .Double(FiniteOr(record.started, 0))
      .Double(FiniteOr(record.last_seen, 0))
      .Int(static_cast<int64_t>(record.order_key))
      .Int(static_cast<int64_t>(
          std::min<uint64_t>(record.errors, uint64_t{INT64_MAX})));
  if (record.duration.has_value() && std::isfinite(*record.duration)) {
    params.Double(*record.duration);
  } else {
    params.Null();
  }
  params.Bool(record.closed)
      .Double(FiniteOr(record.forget_at, 0))
      .Double(FiniteOr(releases::RecordDeadline(record, options), 0));
  Status st = conn->ExecPrepared(
      "INSERT INTO session_records (project_id, sid, distinct_id_hash, "
      "release, environment, started, last_seen, order_key, errors, "
      "duration, closed, forget_at, deadline) VALUES ($1, $2, $3, $4, $5, "
      "$6, $7, $8, $9, $10::float8, $11, $12, $13) ON CONFLICT (project_id, "
      "sid) DO UPDATE SET distinct_id_hash = EXCLUDED.distinct_id_hash, "
      "release = EXCLUDED.release, environment = EXCLUDED.environment, "
      "started = EXCLUDED.started, last_seen = EXCLUDED.last_seen, "
      "order_key = EXCLUDED.order_key, errors = EXCLUDED.errors, "
      "duration = EXCLUDED.duration, closed = EXCLUDED.closed, "
      "forget_at = EXCLUDED.forget_at, deadline = EXCLUDED.deadline",
      params);
  if (!st.ok()) {
    return Status(st.code(), "store session " + record.sid + " (project " +
                                 std::to_string(record.project_id) +
                                 "): " + st.message());
  }
  return Status::Ok();
}

// `tally` with its text made what PostgreSQL's text takes (two keys may
// become one: they are summed), so that no statement names a row twice.
ReleaseTally ForPostgres(const ReleaseTally& tally) {
  ReleaseTally out;
  for (const auto& [key, n] : tally.sessions) {
    int64_t& sum =
        out.sessions[{std::get<0>(key), Utf8(std::get<1>(key)),
                      Utf8(std::get<2>(key)), Utf8(std::get<3>(key))}];
    sum = n > INT64_MAX - sum ? INT64_MAX : sum + n;
  }
  for (const auto& [key, crashed] : tally.users) {
    bool& any = out.users[{std::get<0>(key), Utf8(std::get<1>(key)),
                           Utf8(std::get<2>(key)), Utf8(std::get<3>(key))}];
    any = any || crashed;
  }
  for (const auto& [key, touch] : tally.touches) {
    ReleaseTally::Touch& t = out.touches[{
        std::get<0>(key), Utf8(std::get<1>(key)), Utf8(std::get<2>(key))}];
    t.Add(touch.first_seen, touch.last_seen, touch.errors);
  }
  return out;
}

Status AddOpen(Connection* conn, int64_t delta) {
  if (delta == 0) return Status::Ok();
  return conn->ExecPrepared(
      "UPDATE session_open_count SET open = greatest(open + $1, 0) WHERE id "
      "= 1",
      Params().Int(delta));
}

// The records of one write: its own sids locked and read up front (in sid
// order), so that the merge waits on no row after it has evicted one.
class PgSessionRecords : public SessionRecords {
 public:
  PgSessionRecords(Connection* conn, const releases::TrackerOptions& options)
      : conn_(conn), options_(options) {}

  Status LockAll(int64_t project_id,
                 const std::vector<releases::SessionUpdate>& updates) {
    std::set<std::string> sids;
    for (const releases::SessionUpdate& update : updates) {
      if (!update.sid.empty()) sids.insert(Utf8(update.sid));
    }
    for (const std::string& sid : sids) {
      Status st = conn_->ExecPrepared(
          "SELECT pg_advisory_xact_lock(hashtextextended('crashctl.session.' "
          "|| $1::text || '.' || $2::text, 0))",
          Params().Int(project_id).Text(sid));
      if (!st.ok()) return st;
    }
    for (const std::string& sid : sids) {
      Result r;
      Status st = conn_->ExecPrepared(
          std::string("SELECT ") + kRecordColumns +
              " FROM session_records WHERE project_id = $1 AND sid = $2 FOR "
              "UPDATE",
          Params().Int(project_id).Text(sid), &r);
      if (!st.ok()) return st;
      std::optional<SessionRecord>& slot = known_[{project_id, sid}];
      if (r.rows() > 0) {
        SessionRecord record;
        ReadRecord(r, 0, &record);
        slot = std::move(record);
      }
    }
    return Status::Ok();
  }

  Status Load(int64_t project_id, const std::string& sid,
              std::optional<SessionRecord>* out) override {
    auto it = known_.find({project_id, Utf8(sid)});
    if (it == known_.end()) {
      return Status::Internal("session " + sid + " was not locked first");
    }
    *out = it->second;
    return Status::Ok();
  }
  Status CountOpen(int64_t* out) override {
    Result r;
    Status st = conn_->ExecPrepared(
        "SELECT open FROM session_open_count WHERE id = 1", Params(), &r);
    if (!st.ok()) return st;
    *out = r.IntOr(0, 0, 0);
    return Status::Ok();
  }
  Status EarliestOpen(int64_t limit, std::vector<SessionRecord>* out) override {
    Result r;
    Status st = conn_->ExecPrepared(
        std::string("SELECT ") + kRecordColumns +
            " FROM session_records WHERE closed = false ORDER BY deadline "
            "LIMIT $1 FOR UPDATE SKIP LOCKED",
        Params().Int(limit), &r);
    if (!st.ok()) return st;
    ReadRecords(r, out);
    return Status::Ok();
  }
  Status Store(const SessionRecord& record) override {
    Status st = StoreRecord(conn_, record, options_);
    if (!st.ok()) return st;
    auto it = known_.find({record.project_id, Utf8(record.sid)});
    if (it != known_.end()) it->second = record;
    return Status::Ok();
  }

 private:
  Connection* const conn_;
  const releases::TrackerOptions& options_;
  std::map<std::pair<int64_t, std::string>, std::optional<SessionRecord>>
      known_;
};

}  // namespace

Status WriteReleaseTally(Connection* conn, const ReleaseTally& raw) {
  if (raw.empty()) return Status::Ok();
  const ReleaseTally tally = ForPostgres(raw);
  std::vector<Params> rows;
  for (const auto& [key, touch] : tally.touches) {
    rows.push_back(Params()
                       .Int(std::get<0>(key))
                       .Text(std::get<1>(key))
                       .Text(std::get<2>(key))
                       .Double(touch.first_seen)
                       .Double(touch.last_seen)
                       .Int(touch.errors));
  }
  Status st = InsertRows(
      conn, "releases",
      {"project_id", "release", "environment", "first_seen", "last_seen",
       "errors"},
      rows,
      "ON CONFLICT (project_id, release, environment) DO UPDATE SET "
      "first_seen = least(releases.first_seen, EXCLUDED.first_seen), "
      "last_seen = greatest(releases.last_seen, EXCLUDED.last_seen), "
      "errors = releases.errors + EXCLUDED.errors",
      nullptr);
  if (!st.ok()) return st;
  rows.clear();
  for (const auto& [key, n] : tally.sessions) {
    rows.push_back(Params()
                       .Int(std::get<0>(key))
                       .Text(std::get<1>(key))
                       .Text(std::get<2>(key))
                       .Text(std::get<3>(key))
                       .Int(n));
  }
  st = InsertRows(conn, "release_sessions",
                  {"project_id", "release", "environment", "status", "count"},
                  rows,
                  "ON CONFLICT (project_id, release, environment, status) DO "
                  "UPDATE SET count = release_sessions.count + EXCLUDED.count",
                  nullptr);
  if (!st.ok()) return st;
  rows.clear();
  for (const auto& [key, crashed] : tally.users) {
    rows.push_back(Params()
                       .Int(std::get<0>(key))
                       .Text(std::get<1>(key))
                       .Text(std::get<2>(key))
                       .Text(std::get<3>(key))
                       .Bool(crashed));
  }
  return InsertRows(
      conn, "release_users",
      {"project_id", "release", "environment", "distinct_id_hash", "crashed"},
      rows,
      "ON CONFLICT (project_id, release, environment, distinct_id_hash) DO "
      "UPDATE SET crashed = true WHERE EXCLUDED.crashed AND NOT "
      "release_users.crashed",
      nullptr);
}

Status PostgresStore::WriteSessions(const SessionWrite& write,
                                    std::vector<SessionCount>* counts) {
  std::vector<SessionCount> applied;
  if (write.updates.empty() && write.aggregate_counts.empty()) {
    if (counts != nullptr) counts->clear();
    return Status::Ok();
  }
  Status status = InTransaction("write sessions", [&](Connection* conn) {
    applied.clear();  // fresh on every attempt
    PgSessionRecords records(conn, write.options);
    Status st = records.LockAll(write.project_id, write.updates);
    if (!st.ok()) return st;
    ReleaseTally tally;
    int64_t open_delta = 0;
    st = MergeSessionWrite(write, &records, &tally, &applied, &open_delta);
    if (!st.ok()) return st;
    st = WriteReleaseTally(conn, tally);
    if (!st.ok()) return st;
    return AddOpen(conn, open_delta);
  });
  HandOverCounts(status, &applied, counts);
  return status;
}

Status PostgresStore::ExpireSessions(double now,
                                     const releases::TrackerOptions& options,
                                     size_t max_items,
                                     std::vector<SessionCount>* counts,
                                     size_t* handled) {
  std::vector<SessionCount> applied;
  size_t done = 0;
  if (max_items == 0) max_items = 1;
  const double at = FiniteOr(now, 0);
  Status status = InTransaction("expire sessions", [&](Connection* conn) {
    applied.clear();
    done = 0;
    Result r;
    Status st = conn->ExecPrepared(
        std::string("SELECT ") + kRecordColumns +
            " FROM session_records WHERE closed = false AND deadline < $1 "
            "ORDER BY deadline LIMIT $2 FOR UPDATE SKIP LOCKED",
        Params().Double(at).Int(static_cast<int64_t>(max_items)), &r);
    if (!st.ok()) return st;
    std::vector<SessionRecord> expired;
    ReadRecords(r, &expired);
    ReleaseTally tally;
    PgSessionRecords records(conn, options);
    st = CloseAbnormally(&expired, SessionCount::Reason::kTimedOut, options, at,
                         &records, &tally, &applied);
    if (!st.ok()) return st;
    done = expired.size();
    if (done < max_items) {
      Result forgot;
      st = conn->ExecPrepared(
          "DELETE FROM session_records WHERE (project_id, sid) IN (SELECT "
          "project_id, sid FROM session_records WHERE closed AND deadline < "
          "$1 ORDER BY deadline LIMIT $2 FOR UPDATE SKIP LOCKED)",
          Params().Double(at).Int(static_cast<int64_t>(max_items - done)),
          &forgot);
      if (!st.ok()) return st;
      done += static_cast<size_t>(forgot.affected_rows());
    }
    st = WriteReleaseTally(conn, tally);
    if (!st.ok()) return st;
    return AddOpen(conn, -static_cast<int64_t>(expired.size()));
  });
  HandOverCounts(status, &applied, counts);
  if (handled != nullptr) *handled = status.ok() ? done : 0;
  return status;
}

Status PostgresStore::ListReleases(const ReleaseQuery& query,
                                   model::Page<model::ReleaseSummary>* out) {
  double cursor_first_seen = 0;
  int64_t cursor_project = 0;
  std::string cursor_release;
  const bool has_cursor = !query.cursor.empty();
  if (has_cursor && !DecodeReleaseCursor(query.cursor, &cursor_first_seen,
                                         &cursor_project, &cursor_release)) {
    return Status::Invalid(
        "invalid cursor (want the next_cursor of a previous page of "
        "releases)");
  }
  const int limit = ClampLimit(query.limit);
  const bool by_env = !query.environment.empty();
  PgSql list(
      "SELECT project_id, release, min(first_seen) AS fs, max(last_seen), "
      "sum(errors) FROM releases WHERE true");
  if (query.project.has_value()) {
    list.Add(" AND project_id = " + list.Int(*query.project));
  }
  if (by_env) {
    list.Add(" AND environment = " + list.Text(Utf8(query.environment)));
  }
  list.Add(" GROUP BY project_id, release");
  if (has_cursor) {
    const std::string fs = list.Double(cursor_first_seen);
    const std::string project = list.Int(cursor_project);
    list.Add(" HAVING (min(first_seen), project_id, release) < (" + fs + ", " +
             project + ", " + list.Text(Utf8(cursor_release)) + "::text)");
  }
  list.Add(" ORDER BY fs DESC, project_id DESC, release DESC LIMIT " +
           list.Int(limit + 1));
  const std::string env_filter = by_env ? " AND environment = $3" : "";
  const std::string sessions_sql =
      "SELECT status, sum(count)::bigint FROM release_sessions WHERE "
      "project_id = $1 AND release = $2" +
      env_filter + " GROUP BY status";
  const std::string users_sql =
      "SELECT count(DISTINCT distinct_id_hash), count(DISTINCT CASE WHEN "
      "crashed THEN distinct_id_hash END) FROM release_users WHERE "
      "project_id = $1 AND release = $2" +
      env_filter;
  model::Page<model::ReleaseSummary> page;
  Status status = WithConnection("list releases", [&](Connection* conn) {
    page = model::Page<model::ReleaseSummary>();
    Result r;
    Status st = conn->ExecPrepared(list.text(), list.params(), &r);
    if (!st.ok()) return st;
    const bool more = r.rows() > limit;
    for (int i = 0; i < r.rows() && i < limit; ++i) {
      model::ReleaseSummary summary;
      summary.project_id = r.IntOr(i, 0, 0);
      summary.release = r.Text(i, 1);
      summary.first_seen = r.DoubleOr(i, 2, 0);
      summary.last_seen = r.DoubleOr(i, 3, 0);
      summary.errors =
          static_cast<uint64_t>(std::max<int64_t>(r.IntOr(i, 4, 0), 0));
      page.items.push_back(std::move(summary));
    }
    for (model::ReleaseSummary& summary : page.items) {
      Params params;
      params.Int(summary.project_id).Text(summary.release);
      if (by_env) params.Text(Utf8(query.environment));
      Result sessions;
      st = conn->ExecPrepared(sessions_sql, params, &sessions);
      if (!st.ok()) return st;
      for (int i = 0; i < sessions.rows(); ++i) {
        const std::string name = sessions.Text(i, 0);
        const uint64_t n = static_cast<uint64_t>(
            std::max<int64_t>(sessions.IntOr(i, 1, 0), 0));
        if (name == "exited") summary.exited += n;
        if (name == "errored") summary.errored += n;
        if (name == "crashed") summary.crashed += n;
        if (name == "abnormal") summary.abnormal += n;
      }
      Result users;
      st = conn->ExecPrepared(users_sql, params, &users);
      if (!st.ok()) return st;
      summary.users = static_cast<uint64_t>(users.IntOr(0, 0, 0));
      summary.crashed_users = static_cast<uint64_t>(users.IntOr(0, 1, 0));
      Result envs;
      st = conn->ExecPrepared(
          "SELECT environment FROM releases WHERE project_id = $1 AND "
          "release = $2 ORDER BY environment COLLATE \"C\"",
          Params().Int(summary.project_id).Text(summary.release), &envs);
      if (!st.ok()) return st;
      for (int i = 0; i < envs.rows(); ++i) {
        summary.environments.push_back(envs.Text(i, 0));
      }
      Result groups;
      st = conn->ExecPrepared(
          "SELECT count(*) FROM groups WHERE project_id = $1 AND "
          "first_release = $2",
          Params().Int(summary.project_id).Text(summary.release), &groups);
      if (!st.ok()) return st;
      summary.new_groups = groups.IntOr(0, 0, 0);
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

Status PostgresStore::RecentReleases(
    size_t per_project, std::vector<std::pair<int64_t, std::string>>* out) {
  std::vector<std::pair<int64_t, std::string>> result;
  Status status = WithConnection("recent releases", [&](Connection* conn) {
    Result r;
    Status st = conn->ExecPrepared(
        "SELECT project_id, release FROM (SELECT project_id, release, "
        "row_number() OVER (PARTITION BY project_id ORDER BY "
        "min(first_seen) DESC, release DESC) AS n FROM releases GROUP BY "
        "project_id, release) r WHERE n <= $1 ORDER BY project_id, n LIMIT $2",
        Params()
            .Int(static_cast<int64_t>(
                std::min<size_t>(per_project, size_t{INT64_MAX})))
            .Int(kMaxRecentRows),
        &r);
    if (!st.ok()) return st;
    for (int i = 0; i < r.rows(); ++i) {
      result.emplace_back(r.IntOr(i, 0, 0), r.Text(i, 1));
    }
    return Status::Ok();
  });
  if (status.ok()) *out = std::move(result);
  return status;
}

}  // namespace pg
}  // namespace store
}  // namespace crashctl
