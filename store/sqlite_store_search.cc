// SqliteStore: events across groups with filters and full-text search,
// group stats over time and tag counts (issue 19, docs/storage.md
// "Filters, search, stats and tags").
#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "cursor.h"
#include "query_sql.h"
#include "rows.h"
#include "sqlite_store.h"

namespace crashctl {
namespace store {
namespace {

// A query matching fewer events than this drives ListEvents from its
// matches (sorted afterwards); a commoner one is checked row by row while
// the events are read newest first.
constexpr int64_t kSearchDriveLimit = 10000;

Status GroupExists(SqliteDb* db, int64_t group_id, const std::string& what) {
  Status st;
  SqliteStmt exists;
  if (!db->Prepare("SELECT 1 FROM groups WHERE id = ?1", &exists, &st)) {
    return st;
  }
  exists.Bind(1, group_id);
  return StepToRow(db, &exists, what,
                   "group " + std::to_string(group_id) + " not found");
}

// Counts the event_search matches of `match`, up to kSearchDriveLimit.
Status CountMatches(SqliteDb* db, const std::string& match, int64_t* count) {
  Status st;
  SqliteStmt stmt;
  if (!db->Prepare("SELECT count(*) FROM (SELECT rowid FROM event_search "
                   "WHERE event_search MATCH ?1 LIMIT ?2)",
                   &stmt, &st)) {
    return st;
  }
  stmt.Bind(1, match).Bind(2, kSearchDriveLimit);
  if (stmt.Step() != SQLITE_ROW) return db->LastStatus("list events");
  *count = stmt.Int(0);
  return Status::Ok();
}

Status CheckStatsQuery(const StatsQuery& query, int64_t* start,
                       int64_t* buckets) {
  if (query.interval != 60 && query.interval != 3600 &&
      query.interval != 86400) {
    return MakeStatus(Status::Code::kInvalid,
                      "interval must be 60, 3600 or 86400 seconds, not " +
                          std::to_string(query.interval));
  }
  if (!(query.since < query.until) || !std::isfinite(query.since) ||
      !std::isfinite(query.until)) {
    return MakeStatus(Status::Code::kInvalid, "since must be before until");
  }
  const double iv = static_cast<double>(query.interval);
  const double first = std::floor(query.since / iv) * iv;
  const double n = std::ceil((query.until - first) / iv);
  if (n > static_cast<double>(kMaxStatBuckets)) {
    return MakeStatus(Status::Code::kInvalid,
                      "since..until spans " + std::to_string(int64_t(n)) +
                          " intervals; at most " +
                          std::to_string(kMaxStatBuckets) + " are allowed");
  }
  *start = static_cast<int64_t>(first);
  *buckets = static_cast<int64_t>(n);
  return Status::Ok();
}

// The `top` most frequent values of summary->key in the group.
Status LoadTopValues(SqliteDb* db, int64_t group_id, size_t top,
                     model::TagSummary* summary) {
  Status st;
  SqliteStmt values;
  if (!db->Prepare("SELECT value, count, first_seen, last_seen FROM "
                   "group_tags WHERE group_id = ?1 AND key = ?2 "
                   "ORDER BY count DESC, value LIMIT ?3",
                   &values, &st)) {
    return st;
  }
  values.Bind(1, group_id)
      .Bind(2, summary->key)
      .Bind(3, static_cast<int64_t>(std::min<size_t>(top, 1000000)));
  int rc;
  while ((rc = values.Step()) == SQLITE_ROW) {
    model::TagValueCount value;
    value.value = values.Text(0);
    value.count = values.Int(1);
    value.first_seen = values.Double(2);
    value.last_seen = values.Double(3);
    summary->top.push_back(std::move(value));
  }
  if (rc != SQLITE_DONE) return db->LastStatus("group tags");
  return Status::Ok();
}

}  // namespace

Status SqliteStore::ListEvents(const EventQuery& query,
                               model::Page<model::StoredEvent>* out) {
  Status st = CheckTagFilters(query.tags);
  if (!st.ok()) return st;
  Cursor cursor;
  const bool has_cursor = !query.cursor.empty();
  if (has_cursor) {
    std::string error;
    if (!DecodeCursor(query.cursor, "timestamp", &cursor, &error)) {
      return MakeStatus(Status::Code::kInvalid, error);
    }
  }
  const int limit = ClampLimit(query.limit);
  std::string match;
  if (query.query) {
    match = MatchExpression(*query.query);
    if (match.empty()) {  // nothing can match (ParseQuery never gives this)
      *out = model::Page<model::StoredEvent>();
      return Status::Ok();
    }
  }
  const TagPairs pairs = EventTagPairs(query);

  model::Page<model::StoredEvent> page;
  Status status = Read("list events", [&](SqliteDb* db) {
    page = model::Page<model::StoredEvent>();
    EventDriver driver = EventDriver::kTimestamp;
    if (query.group) {
      driver = EventDriver::kGroup;
    } else {
      int64_t matches = kSearchDriveLimit;
      if (!match.empty()) {
        Status st = CountMatches(db, match, &matches);
        if (!st.ok()) return st;
      }
      if (matches < kSearchDriveLimit) {
        driver = EventDriver::kSearch;
      } else if (!pairs.empty()) {
        driver = EventDriver::kTag;
      }
    }
    const SqlBuilder sql = EventSql(query, pairs, match, driver,
                                    has_cursor ? &cursor : nullptr, limit);
    Status st;
    SqliteStmt stmt;
    if (!db->Prepare(sql.sql(), &stmt, &st)) return st;
    sql.BindAll(&stmt);
    return ReadEventPage(db, &stmt, limit, "list events", &page);
  });
  if (status.ok()) *out = std::move(page);
  return status;
}

Status SqliteStore::GroupStats(const StatsQuery& query,
                               std::vector<model::StatBucket>* out) {
  int64_t start = 0;
  int64_t buckets = 0;
  Status st = CheckStatsQuery(query, &start, &buckets);
  if (!st.ok()) return st;
  const int64_t iv = query.interval;
  const int64_t end = start + buckets * iv;
  std::vector<model::StatBucket> result;
  Status status = Read("group stats", [&](SqliteDb* db) {
    result.assign(static_cast<size_t>(buckets), model::StatBucket());
    for (int64_t i = 0; i < buckets; ++i) {
      result[static_cast<size_t>(i)].start =
          static_cast<double>(start + i * iv);
    }
    Status st = GroupExists(db, query.group_id, "group stats");
    if (!st.ok()) return st;
    SqliteStmt stmt;
    // Minutes count the events; hours and days add up group_hours (kept at
    // ingest), a day being 24 UTC hours.
    const char* sql =
        iv == 60
            ? "SELECT CAST((timestamp - ?2) / 60 AS INTEGER), count(*) "
              "FROM events WHERE group_id = ?1 AND timestamp >= ?2 AND "
              "timestamp < ?3 GROUP BY 1"
            : "SELECT (hour * 3600 - ?2) / ?4, sum(count) FROM group_hours "
              "WHERE group_id = ?1 AND hour >= ?2 / 3600 AND hour < ?3 / 3600 "
              "GROUP BY 1";
    if (!db->Prepare(sql, &stmt, &st)) return st;
    stmt.Bind(1, query.group_id).Bind(2, start).Bind(3, end);
    if (iv != 60) stmt.Bind(4, iv);
    int rc;
    while ((rc = stmt.Step()) == SQLITE_ROW) {
      const int64_t bucket = stmt.Int(0);
      if (bucket < 0 || bucket >= buckets) continue;  // cannot happen
      result[static_cast<size_t>(bucket)].count += stmt.Int(1);
    }
    if (rc != SQLITE_DONE) return db->LastStatus("group stats");
    return Status::Ok();
  });
  if (status.ok()) *out = std::move(result);
  return status;
}

Status SqliteStore::GroupTags(int64_t group_id, size_t top,
                              std::vector<model::TagSummary>* out) {
  std::vector<model::TagSummary> result;
  Status status = Read("group tags", [&](SqliteDb* db) {
    result.clear();
    Status st = GroupExists(db, group_id, "group tags");
    if (!st.ok()) return st;
    // Every key: its kept values and their events, plus the events of the
    // values past the per-key bound (group_tag_keys.other_count).
    SqliteStmt keys;
    if (!db->Prepare(
            "SELECT key, sum(n), sum(events), sum(other) FROM ("
            " SELECT key, count(*) AS n, sum(count) AS events, 0 AS other"
            " FROM group_tags WHERE group_id = ?1 GROUP BY key"
            " UNION ALL"
            " SELECT key, 0, 0, other_count FROM group_tag_keys"
            " WHERE group_id = ?1)"
            " GROUP BY key ORDER BY sum(events) + sum(other) DESC, key",
            &keys, &st)) {
      return st;
    }
    keys.Bind(1, group_id);
    int rc;
    // Bounded: a group has at most the per-key bound of values per key and
    // the tag keys its events carried.
    while ((rc = keys.Step()) == SQLITE_ROW) {
      model::TagSummary summary;
      summary.key = keys.Text(0);
      summary.values = keys.Int(1);
      summary.other_count = keys.Int(3);
      summary.events = keys.Int(2) + summary.other_count;
      result.push_back(std::move(summary));
    }
    if (rc != SQLITE_DONE) return db->LastStatus("group tags");
    keys = SqliteStmt();
    if (top == 0) return Status::Ok();
    for (model::TagSummary& summary : result) {
      st = LoadTopValues(db, group_id, top, &summary);
      if (!st.ok()) return st;
    }
    return Status::Ok();
  });
  if (status.ok()) *out = std::move(result);
  return status;
}

}  // namespace store
}  // namespace crashctl
