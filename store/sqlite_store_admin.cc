// SqliteStore: bulk status changes, merges and deletes of groups, and
// erasing a user's events (issue 19, docs/storage.md "Merging and
// deleting").
//
// A merge is one write transaction (it moves rows, it deletes no events).
// Deletes of events go in batches of options_.delete_batch events, each its
// own write transaction, so that a huge delete never holds the write lock
// (and ingestion) for more than one batch at a time. Every transaction here
// first folds the group counters GroupFolds holds in memory, so the
// counters it reads and rewrites are complete and nothing pending refers to
// a moved or deleted event afterwards.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "batch_writer.h"
#include "crashctl/util/time.h"
#include "rows.h"
#include "sqlite_store.h"

namespace crashctl {
namespace store {
namespace {

// Tag values kept per (group, key) when tag counts of merged groups come
// together, as at ingest (batch_writer.h): the events of values past it
// count in group_tag_keys.other_count.
int64_t TagValuesKept(const std::string& key) {
  return key == "user" ? kMaxGroupUsers : kMaxGroupTagValues;
}
// At most this many event batches per call (with 5000 a batch, 500 million
// events).
constexpr int kMaxEventDeleteBatches = 100000;

// `ids` as a JSON array, for `IN (SELECT value FROM json_each(?))`: one
// statement text whatever the number of ids.
std::string JsonIds(const std::vector<int64_t>& ids) {
  std::string json = "[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) json += ',';
    json += std::to_string(ids[i]);
  }
  return json + "]";
}

// `ids` without repeats, in their first order.
std::vector<int64_t> Distinct(const std::vector<int64_t>& ids) {
  std::vector<int64_t> out;
  std::set<int64_t> seen;
  for (int64_t id : ids) {
    if (seen.insert(id).second) out.push_back(id);
  }
  return out;
}

Status CheckGroupIds(const std::vector<int64_t>& ids, const char* what) {
  if (ids.empty() || ids.size() > kMaxBulkGroups) {
    return MakeStatus(Status::Code::kInvalid,
                      std::string(what) + ": want 1 to " +
                          std::to_string(kMaxBulkGroups) + " group ids, got " +
                          std::to_string(ids.size()));
  }
  return Status::Ok();
}

void BindAll(SqliteStmt*, int) {}
template <typename First, typename... Rest>
void BindAll(SqliteStmt* stmt, int index, const First& first,
             const Rest&... rest) {
  stmt->Bind(index, first);
  BindAll(stmt, index + 1, rest...);
}

// Runs one statement that returns no rows, binding `args` as ?1, ?2, ...
// `*changes` (if set) gets the rows it changed.
template <typename... Args>
Status Run(SqliteDb* db, const std::string& what, const char* sql, int* changes,
           const Args&... args) {
  Status st;
  SqliteStmt stmt;
  if (!db->Prepare(sql, &stmt, &st)) return st;
  BindAll(&stmt, 1, args...);
  if (stmt.Run() != SQLITE_DONE) return db->LastStatus(what);
  if (changes != nullptr) *changes = db->Changes();
  return Status::Ok();
}

// Runs a query and hands every row to `row`.
template <typename RowFn, typename... Args>
Status Query(SqliteDb* db, const std::string& what, const char* sql, RowFn row,
             const Args&... args) {
  Status st;
  SqliteStmt stmt;
  if (!db->Prepare(sql, &stmt, &st)) return st;
  BindAll(&stmt, 1, args...);
  int rc;
  while ((rc = stmt.Step()) == SQLITE_ROW) row(stmt);
  if (rc != SQLITE_DONE) return db->LastStatus(what);
  return Status::Ok();
}

Status NewestEventId(SqliteDb* db, int64_t* id) {
  *id = 0;
  return Query(db, "newest event", "SELECT coalesce(max(id), 0) FROM events",
               [&](const SqliteStmt& s) { *id = s.Int(0); });
}

// SQLite gives a new row max(rowid) + 1: once the newest events are
// deleted, their ids are handed out again. GroupFolds' crash recovery
// (store_state.groups_folded_below, groups.folded_event_id) assumes ids
// that only grow, so both come down to the newest id left.
Status LowerFoldMarks(SqliteDb* db, int64_t newest) {
  Status st = Run(db, "lower fold watermark",
                  "UPDATE store_state SET value = min(value, ?1 + 1) "
                  "WHERE name = 'groups_folded_below'",
                  nullptr, newest);
  if (!st.ok()) return st;
  return Run(db, "lower folded event ids",
             "UPDATE groups SET folded_event_id = ?1 "
             "WHERE folded_event_id > ?1",
             nullptr, newest);
}

// --- merging ----------------------------------------------------------------

// Adds the tag counts of the groups `from_json` to `into`'s: a value `into`
// has adds its count, a new one is kept while `into` keeps fewer than
// kMergeTagValuesKept values of the key (most frequent first), the rest (and
// the other_count of the `from` groups) adds to the key's other_count.
// Bounded: the `from` groups hold at most kMaxBulkGroups * keys *
// kMergeTagValuesKept rows.
Status MergeTags(SqliteDb* db, int64_t into, const std::string& from_json) {
  static const char kValuesKept[] =
      "SELECT values_kept FROM group_tag_keys WHERE group_id = ?1 AND key = ?2";
  struct Value {
    std::string key, value;
    int64_t count = 0;
    double first_seen = 0, last_seen = 0;
  };
  std::vector<Value> values;
  Status st = Query(
      db, "merge tags: read",
      "SELECT key, value, sum(count), min(first_seen), max(last_seen) "
      "FROM group_tags WHERE group_id IN (SELECT value FROM json_each(?1)) "
      "GROUP BY key, value ORDER BY key, sum(count) DESC, value",
      [&](const SqliteStmt& s) {
        values.push_back(
            Value{s.Text(0), s.Text(1), s.Int(2), s.Double(3), s.Double(4)});
      },
      from_json);
  if (!st.ok()) return st;
  struct Key {
    int64_t kept = 0;   // values `into` keeps after the merge
    int64_t other = 0;  // added to its other_count
  };
  std::map<std::string, Key> keys;
  st = Query(
      db, "merge tags: other counts",
      "SELECT key, sum(other_count) FROM group_tag_keys "
      "WHERE group_id IN (SELECT value FROM json_each(?1)) GROUP BY key",
      [&](const SqliteStmt& s) { keys[s.Text(0)].other = s.Int(1); },
      from_json);
  if (!st.ok()) return st;
  std::set<std::string> counted;  // keys whose `kept` is read
  for (const Value& v : values) {
    Key& key = keys[v.key];
    if (counted.insert(v.key).second) {
      st = Query(
          db, "merge tags: values kept", kValuesKept,
          [&](const SqliteStmt& s) { key.kept = s.Int(0); }, into, v.key);
      if (!st.ok()) return st;
    }
    int changes = 0;
    st =
        Run(db, "merge tags: add",
            "UPDATE group_tags SET count = count + ?4, "
            "first_seen = min(first_seen, ?5), last_seen = max(last_seen, ?6) "
            "WHERE group_id = ?1 AND key = ?2 AND value = ?3",
            &changes, into, v.key, v.value, v.count, v.first_seen, v.last_seen);
    if (!st.ok()) return st;
    if (changes > 0) continue;
    if (key.kept >= TagValuesKept(v.key)) {
      key.other += v.count;
      continue;
    }
    st = Run(db, "merge tags: insert",
             "INSERT INTO group_tags (group_id, key, value, count, "
             "first_seen, last_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
             nullptr, into, v.key, v.value, v.count, v.first_seen, v.last_seen);
    if (!st.ok()) return st;
    ++key.kept;
  }
  for (const auto& entry : keys) {
    int64_t kept = entry.second.kept;
    if (counted.count(entry.first) == 0) {
      // A key of other_count only: `into`'s values of it stay as they are.
      st = Query(
          db, "merge tags: values kept", kValuesKept,
          [&](const SqliteStmt& s) { kept = s.Int(0); }, into, entry.first);
      if (!st.ok()) return st;
    }
    st = Run(db, "merge tags: keys",
             "INSERT INTO group_tag_keys (group_id, key, values_kept, "
             "other_count) VALUES (?1, ?2, ?3, ?4) "
             "ON CONFLICT (group_id, key) DO UPDATE SET "
             "values_kept = excluded.values_kept, "
             "other_count = other_count + excluded.other_count",
             nullptr, into, entry.first, kept, entry.second.other);
    if (!st.ok()) return st;
  }
  return Status::Ok();
}

// `into`'s row from the rows of all the merged groups (`into` and
// `from_json`, all still there): counts add up, first/last seen widen, the
// latest event's fields come from the group seen last, first_release from
// the group seen first that has one, users from the merged user tags, and
// folded_event_id is the newest of them (every counter is folded: its
// events must not be folded again by a crash recovery).
constexpr char kMergedCounters[] =
    "WITH m AS (SELECT * FROM groups WHERE id = ?1 "
    "  OR id IN (SELECT value FROM json_each(?2))) "
    "UPDATE groups SET "
    "count = (SELECT sum(count) FROM m), "
    "first_seen = (SELECT min(first_seen) FROM m), "
    "last_seen = (SELECT max(last_seen) FROM m), "
    "regression_count = (SELECT sum(regression_count) FROM m), "
    "folded_event_id = (SELECT max(folded_event_id) FROM m), "
    "(title, culprit, level, service, release) = (SELECT title, culprit, "
    "  level, service, release FROM m "
    "  ORDER BY last_seen DESC, id = ?1 DESC, id DESC LIMIT 1), "
    "first_release = coalesce((SELECT first_release FROM m "
    "  WHERE first_release != '' ORDER BY first_seen, id LIMIT 1), ''), "
    "users = (SELECT count(*) FROM group_tags "
    "  WHERE group_id = ?1 AND key = 'user') "
    "WHERE id = ?1";

// --- erasing events ---------------------------------------------------------

// What a batch of deleted events took from their groups.
struct Removed {
  struct Group {
    int64_t events = 0;
    double first = 0, last = 0;  // their oldest and newest timestamps
  };
  std::map<int64_t, Group> groups;
  std::map<std::pair<int64_t, int64_t>, int64_t> hours;  // (group, hour)
  struct Tag {
    int64_t group_id;
    std::string key, value;
    int64_t count;
  };
  std::vector<Tag> tags;
};

Status ReadRemoved(SqliteDb* db, const std::string& json_ids, Removed* out) {
  *out = Removed();
  Status st = Query(
      db, "delete events: groups",
      "SELECT group_id, count(*), min(timestamp), max(timestamp), "
      "CAST(timestamp / 3600 AS INTEGER) AS hour FROM events "
      "WHERE id IN (SELECT value FROM json_each(?1)) GROUP BY group_id, hour",
      [&](const SqliteStmt& s) {
        Removed::Group& g = out->groups[s.Int(0)];
        const bool first = g.events == 0;
        g.events += s.Int(1);
        g.first = first ? s.Double(2) : std::min(g.first, s.Double(2));
        g.last = first ? s.Double(3) : std::max(g.last, s.Double(3));
        out->hours[{s.Int(0), s.Int(4)}] += s.Int(1);
      },
      json_ids);
  if (!st.ok()) return st;
  return Query(
      db, "delete events: tags",
      "SELECT e.group_id, t.key, t.value, count(*) FROM event_tags t "
      "JOIN events e ON e.id = t.event_row "
      "WHERE t.event_row IN (SELECT value FROM json_each(?1)) "
      "GROUP BY e.group_id, t.key, t.value",
      [&](const SqliteStmt& s) {
        out->tags.push_back(
            Removed::Tag{s.Int(0), s.Text(1), s.Text(2), s.Int(3)});
      },
      json_ids);
}

// Takes one tag value's events off a group's counts: the row goes when its
// count reaches 0; a value the group did not keep was in other_count.
Status RemoveTagCount(SqliteDb* db, int64_t group_id, const std::string& key,
                      const std::string& value, int64_t count) {
  int changes = 0;
  Status st = Run(db, "delete events: tag counts",
                  "UPDATE group_tags SET count = count - ?4 "
                  "WHERE group_id = ?1 AND key = ?2 AND value = ?3",
                  &changes, group_id, key, value, count);
  if (!st.ok()) return st;
  if (changes == 0) {
    return Run(db, "delete events: other tag counts",
               "UPDATE group_tag_keys SET other_count = "
               "max(0, other_count - ?3) WHERE group_id = ?1 AND key = ?2",
               nullptr, group_id, key, count);
  }
  return Run(db, "delete events: drop tag value",
             "DELETE FROM group_tags WHERE group_id = ?1 AND key = ?2 "
             "AND value = ?3 AND count <= 0",
             nullptr, group_id, key, value);
}

// After its events in `removed` were deleted: a group's count goes down by
// them; first/last seen (and the latest event's fields, first_release) are
// read again from the events left when the deleted ones reached them; users
// and values_kept follow its tag rows; a group left without events goes.
Status ApplyRemoved(SqliteDb* db, const Removed& removed) {
  Status st;
  for (const auto& hour : removed.hours) {
    st = Run(db, "delete events: hours",
             "UPDATE group_hours SET count = count - ?3 "
             "WHERE group_id = ?1 AND hour = ?2",
             nullptr, hour.first.first, hour.first.second, hour.second);
    if (!st.ok()) return st;
    st = Run(db, "delete events: empty hours",
             "DELETE FROM group_hours WHERE group_id = ?1 AND hour = ?2 "
             "AND count <= 0",
             nullptr, hour.first.first, hour.first.second);
    if (!st.ok()) return st;
  }
  for (const Removed::Tag& tag : removed.tags) {
    st = RemoveTagCount(db, tag.group_id, tag.key, tag.value, tag.count);
    if (!st.ok()) return st;
  }
  for (const auto& entry : removed.groups) {
    const int64_t id = entry.first;
    const Removed::Group& g = entry.second;
    st = Run(db, "delete events: group counters",
             "UPDATE groups SET count = max(0, count - ?2), "
             "users = (SELECT count(*) FROM group_tags "
             "  WHERE group_id = ?1 AND key = 'user') WHERE id = ?1",
             nullptr, id, g.events);
    if (!st.ok()) return st;
    st = Run(db, "delete events: tag keys",
             "UPDATE group_tag_keys SET values_kept = (SELECT count(*) FROM "
             "group_tags t WHERE t.group_id = group_tag_keys.group_id AND "
             "t.key = group_tag_keys.key) WHERE group_id = ?1",
             nullptr, id);
    if (!st.ok()) return st;
    // The newest event left (events.title; the culprit is not kept per
    // event and stays).
    st = Run(db, "delete events: last seen",
             "UPDATE groups SET (last_seen, title, level, service, release) = "
             "(SELECT timestamp, title, level, service, release FROM events "
             " WHERE group_id = ?1 ORDER BY timestamp DESC, id DESC LIMIT 1) "
             "WHERE id = ?1 AND last_seen <= ?2 "
             "AND EXISTS (SELECT 1 FROM events WHERE group_id = ?1)",
             nullptr, id, g.last);
    if (!st.ok()) return st;
    st = Run(db, "delete events: first seen",
             "UPDATE groups SET first_seen = (SELECT min(timestamp) FROM "
             "events WHERE group_id = ?1), first_release = coalesce((SELECT "
             "release FROM events WHERE group_id = ?1 AND release != '' "
             "ORDER BY timestamp, id LIMIT 1), first_release) "
             "WHERE id = ?1 AND first_seen >= ?2 "
             "AND EXISTS (SELECT 1 FROM events WHERE group_id = ?1)",
             nullptr, id, g.first);
    if (!st.ok()) return st;
    // Emptied: the group goes (its tags, hours, links and aliases by
    // cascade, its search row by trigger), with feedback that named it.
    int gone = 0;
    st = Run(db, "delete events: empty group",
             "DELETE FROM groups WHERE id = ?1 "
             "AND NOT EXISTS (SELECT 1 FROM events WHERE group_id = ?1)",
             &gone, id);
    if (!st.ok()) return st;
    if (gone > 0) {
      st = Run(db, "delete events: feedback of the group",
               "DELETE FROM feedback WHERE group_id = ?1", nullptr, id);
      if (!st.ok()) return st;
    }
  }
  return Status::Ok();
}

// The rows of `user`'s tag value left after its events went (counts of
// events retention deleted earlier): erased too, with the users of their
// groups. At most one row per group.
Status EraseUserTags(SqliteDb* db, const EventDeletion& which) {
  std::vector<int64_t> groups;
  Status st = Query(
      db, "delete events: user tags",
      "SELECT t.group_id FROM group_tags t JOIN groups g ON g.id = t.group_id "
      "WHERE t.key = 'user' AND t.value = ?1 AND (?2 = 0 OR g.project_id = ?2)",
      [&](const SqliteStmt& s) { groups.push_back(s.Int(0)); }, which.user,
      which.project.value_or(0));
  if (!st.ok()) return st;
  for (int64_t id : groups) {
    st = Run(db, "delete events: user tag",
             "DELETE FROM group_tags WHERE group_id = ?1 AND key = 'user' "
             "AND value = ?2",
             nullptr, id, which.user);
    if (!st.ok()) return st;
    st = Run(db, "delete events: users",
             "UPDATE groups SET users = (SELECT count(*) FROM group_tags "
             "WHERE group_id = ?1 AND key = 'user') WHERE id = ?1",
             nullptr, id);
    if (!st.ok()) return st;
    st = Run(db, "delete events: user tag key",
             "UPDATE group_tag_keys SET values_kept = max(0, values_kept - 1) "
             "WHERE group_id = ?1 AND key = 'user'",
             nullptr, id);
    if (!st.ok()) return st;
  }
  return Status::Ok();
}

}  // namespace

Status SqliteStore::SetGroupsStatus(const std::vector<int64_t>& ids,
                                    model::GroupStatus status,
                                    std::vector<model::Group>* out) {
  const std::vector<int64_t> distinct = Distinct(ids);
  Status result = CheckGroupIds(distinct, "set groups status");
  if (!result.ok()) return result;
  std::vector<model::Group> groups;
  const double now = util::NowSeconds();
  result = Write(
      "set groups status",
      [&](SqliteDb* db) {
        groups.clear();
        // Folded first: the groups read back carry their current counters.
        Status st =
            folds_.Write(db, {}, /*all=*/true, GroupFolds::Clock::now());
        if (!st.ok()) return st;
        for (int64_t id : distinct) {
          int changes = 0;
          st = Run(db, "set group status",
                   "UPDATE groups SET status = ?2, resolved_at = "
                   "CASE WHEN ?2 = 'resolved' THEN ?3 ELSE NULL END "
                   "WHERE id = ?1",
                   &changes, id, status, now);
          if (!st.ok()) return st;
          if (changes == 0) {  // rolls back the ones before
            return MakeStatus(Status::Code::kNotFound,
                              "group " + std::to_string(id) + " not found");
          }
        }
        for (int64_t id : ids) {  // in `ids`' order, repeats included
          groups.emplace_back();
          st = LoadGroup(db, id, &groups.back());
          if (!st.ok()) return st;
        }
        return Status::Ok();
      },
      [this] { CommitFolds(); });
  if (result.ok() && out != nullptr) *out = std::move(groups);
  return result;
}

Status SqliteStore::MergeGroups(int64_t into, const std::vector<int64_t>& from,
                                model::Group* out) {
  const std::vector<int64_t> sources = Distinct(from);
  Status result = CheckGroupIds(sources, "merge groups");
  if (!result.ok()) return result;
  if (std::find(sources.begin(), sources.end(), into) != sources.end()) {
    return MakeStatus(Status::Code::kInvalid,
                      "merge groups: group " + std::to_string(into) +
                          " cannot be merged into itself");
  }
  const std::string json = JsonIds(sources);
  model::Group merged;
  result = Write(
      "merge groups",
      [&](SqliteDb* db) {
        Status st =
            folds_.Write(db, {}, /*all=*/true, GroupFolds::Clock::now());
        if (!st.ok()) return st;
        model::Group target;
        st = LoadGroup(db, into, &target);
        if (!st.ok()) return st;
        for (int64_t id : sources) {
          model::Group source;
          st = LoadGroup(db, id, &source);
          if (!st.ok()) return st;
          if (source.project_id != target.project_id) {
            return MakeStatus(
                Status::Code::kInvalid,
                "merge groups: group " + std::to_string(id) +
                    " is in project " + std::to_string(source.project_id) +
                    ", group " + std::to_string(into) + " in project " +
                    std::to_string(target.project_id));
          }
        }
        // Aliases first (deleting the `from` groups would cascade them
        // away): those that pointed at a `from` group, then the `from`
        // groups' own fingerprints.
        st = Run(db, "merge groups: aliases",
                 "UPDATE group_aliases SET group_id = ?1 "
                 "WHERE group_id IN (SELECT value FROM json_each(?2))",
                 nullptr, into, json);
        if (!st.ok()) return st;
        st = Run(db, "merge groups: fingerprints",
                 "INSERT INTO group_aliases (project_id, fingerprint, "
                 "group_id) SELECT project_id, fingerprint, ?1 FROM groups "
                 "WHERE id IN (SELECT value FROM json_each(?2)) "
                 "ON CONFLICT (project_id, fingerprint) DO UPDATE SET "
                 "group_id = excluded.group_id",
                 nullptr, into, json);
        if (!st.ok()) return st;
        // Rows keyed by group. Attachments, event tags and event search
        // rows hang off the events and move with them.
        static const char* const kMoves[][2] = {
            {"merge groups: events",
             "UPDATE events SET group_id = ?1 "
             "WHERE group_id IN (SELECT value FROM json_each(?2))"},
            {"merge groups: feedback",
             "UPDATE feedback SET group_id = ?1 "
             "WHERE group_id IN (SELECT value FROM json_each(?2))"},
            {"merge groups: crash links",
             "INSERT OR IGNORE INTO crash_groups (crash_id, group_id) "
             "SELECT crash_id, ?1 FROM crash_groups "
             "WHERE group_id IN (SELECT value FROM json_each(?2))"},
            {"merge groups: hourly counts",
             "INSERT INTO group_hours (group_id, hour, count) "
             "SELECT ?1, hour, sum(count) FROM group_hours "
             "WHERE group_id IN (SELECT value FROM json_each(?2)) "
             "GROUP BY hour ON CONFLICT (group_id, hour) DO UPDATE SET "
             "count = count + excluded.count"},
            {"merge groups: search rows",
             "UPDATE group_search SET group_id = ?1 "
             "WHERE group_id IN (SELECT value FROM json_each(?2))"},
        };
        for (const auto& move : kMoves) {
          st = Run(db, move[0], move[1], nullptr, into, json);
          if (!st.ok()) return st;
        }
        st = MergeTags(db, into, json);
        if (!st.ok()) return st;
        st = Run(db, "merge groups: counters", kMergedCounters, nullptr, into,
                 json);
        if (!st.ok()) return st;
        // Their links, tags, hours and what is left go by cascade.
        st = Run(db, "merge groups: delete merged",
                 "DELETE FROM groups "
                 "WHERE id IN (SELECT value FROM json_each(?1))",
                 nullptr, json);
        if (!st.ok()) return st;
        return LoadGroup(db, into, &merged);
      },
      [this] { CommitFolds(); });
  if (result.ok()) {
    spdlog::info("store: merged groups {} into {}", json, into);
    if (out != nullptr) *out = std::move(merged);
  }
  return result;
}

Status SqliteStore::DeleteEventBatches(const std::string& what,
                                       const SelectEvents& select,
                                       const BeforeDelete& before,
                                       const AfterDelete& after,
                                       int64_t* count) {
  const int batch = options_.delete_batch > 0 ? options_.delete_batch : 5000;
  for (int i = 0; i < kMaxEventDeleteBatches; ++i) {
    bool last = false;
    int deleted = 0;
    int64_t newest = -1;  // the newest event id left, when it came down
    Status status = Write(
        what,
        [&](SqliteDb* db) {
          deleted = 0;
          newest = -1;
          Status st =
              folds_.Write(db, {}, /*all=*/true, GroupFolds::Clock::now());
          if (!st.ok()) return st;
          std::vector<int64_t> ids;
          st = select(db, batch, &ids);
          if (!st.ok()) return st;
          last = static_cast<int>(ids.size()) < batch;
          if (!ids.empty()) {
            const std::string json = JsonIds(ids);
            if (before) st = before(db, json);
            if (!st.ok()) return st;
            int64_t newest_before = 0;
            st = NewestEventId(db, &newest_before);
            if (!st.ok()) return st;
            // Attachments, feedback, event tags and search rows go by
            // trigger.
            st = Run(db, what,
                     "DELETE FROM events "
                     "WHERE id IN (SELECT value FROM json_each(?1))",
                     &deleted, json);
            if (!st.ok()) return st;
            int64_t newest_after = 0;
            st = NewestEventId(db, &newest_after);
            if (!st.ok()) return st;
            if (newest_after < newest_before) {
              newest = newest_after;
              st = LowerFoldMarks(db, newest);
              if (!st.ok()) return st;
            }
          }
          if (after) st = after(db, last);
          return st;
        },
        [&] {
          CommitFolds();
          if (newest >= 0) folds_.EventsDeleted(newest);
        });
    if (!status.ok()) return status;
    *count += deleted;
    if (last) return Status::Ok();
  }
  spdlog::warn("store: {}: stopped after {} batches", what,
               kMaxEventDeleteBatches);
  return Status::Ok();
}

Status SqliteStore::DeleteGroup(int64_t id) {
  bool exists = false;
  Status status = Read("delete group", [&](SqliteDb* db) {
    return Query(
        db, "delete group", "SELECT 1 FROM groups WHERE id = ?1",
        [&](const SqliteStmt&) { exists = true; }, id);
  });
  if (!status.ok()) return status;
  if (!exists) {
    return MakeStatus(Status::Code::kNotFound,
                      "group " + std::to_string(id) + " not found");
  }
  int64_t events = 0;
  bool gone = false;
  // Its events a batch at a time; the group row in the last batch's
  // transaction, which saw none left (an event that arrived meanwhile went
  // with a batch).
  status = DeleteEventBatches(
      "delete group " + std::to_string(id),
      [id](SqliteDb* db, int limit, std::vector<int64_t>* ids) {
        return Query(
            db, "delete group: events",
            "SELECT id FROM events WHERE group_id = ?1 LIMIT ?2",
            [&](const SqliteStmt& s) { ids->push_back(s.Int(0)); }, id, limit);
      },
      nullptr,
      [&](SqliteDb* db, bool last) {
        if (!last) return Status::Ok();
        // Feedback whose event never came; crash links, aliases, tags and
        // hours by cascade; the search row by trigger.
        Status st =
            Run(db, "delete group: feedback",
                "DELETE FROM feedback WHERE group_id = ?1", nullptr, id);
        if (!st.ok()) return st;
        int changes = 0;
        st = Run(db, "delete group", "DELETE FROM groups WHERE id = ?1",
                 &changes, id);
        gone = changes > 0;
        return st;
      },
      &events);
  if (!status.ok()) return status;
  if (!gone) {  // merged or deleted by another call meanwhile
    return MakeStatus(Status::Code::kNotFound,
                      "group " + std::to_string(id) + " not found");
  }
  spdlog::info("store: deleted group {} with {} events", id, events);
  return Status::Ok();
}

Status SqliteStore::DeleteEvents(const EventDeletion& which, int64_t* deleted) {
  if (deleted != nullptr) *deleted = 0;
  if (which.user.empty()) {
    return MakeStatus(Status::Code::kInvalid, "delete events: user is empty");
  }
  const int64_t project = which.project.value_or(0);
  Removed removed;
  int64_t count = 0;
  // A user's events are found by their `user` tag (event_tags, indexed by
  // key and value): the writer tags every event that has a user key.
  Status status = DeleteEventBatches(
      "delete events of a user",
      [&](SqliteDb* db, int limit, std::vector<int64_t>* ids) {
        return Query(
            db, "delete events: select",
            "SELECT t.event_row FROM event_tags t "
            "JOIN events e ON e.id = t.event_row "
            "WHERE t.key = 'user' AND t.value = ?1 "
            "AND (?2 = 0 OR e.project_id = ?2) LIMIT ?3",
            [&](const SqliteStmt& s) { ids->push_back(s.Int(0)); }, which.user,
            project, limit);
      },
      [&](SqliteDb* db, const std::string& json) {
        return ReadRemoved(db, json, &removed);
      },
      [&](SqliteDb* db, bool last) {
        Status st = ApplyRemoved(db, removed);
        removed = Removed();
        if (st.ok() && last) st = EraseUserTags(db, which);
        return st;
      },
      &count);
  if (deleted != nullptr) *deleted = count;
  if (!status.ok()) return status;
  spdlog::info("store: deleted {} events of a user (project {})", count,
               project == 0 ? std::string("any") : std::to_string(project));
  return Status::Ok();
}

}  // namespace store
}  // namespace crashctl
