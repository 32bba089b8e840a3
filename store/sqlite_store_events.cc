// SqliteStore: events and groups (writing batches, listing, lookups).
#include <cmath>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "store/cursor.h"
#include "store/payload_codec.h"
#include "store/rows.h"
#include "store/sqlite_store.h"

namespace crashctl {
namespace {

constexpr char kEventExists[] = "SELECT 1 FROM events WHERE event_id = ?1";

constexpr char kFindGroup[] =
    "SELECT id, status, first_seen FROM groups "
    "WHERE project_id = ?1 AND fingerprint = ?2";

constexpr char kInsertGroup[] =
    "INSERT INTO groups (project_id, fingerprint, title, culprit, level, "
    "status, count, first_seen, last_seen, service, release, first_release, "
    "regression_count) "
    "VALUES (?1, ?2, ?3, ?4, ?5, 'unresolved', 1, ?6, ?6, ?7, ?8, ?8, 0)";

// The group updates of a batch, one of each per group at most, for the `?2`
// events of the batch after the group was found or created. SQLite rewrites
// an index whenever an UPDATE sets one of its columns, whatever the value,
// so the columns that rarely change (first_seen; status on a regression)
// are set by statements of their own, run only when they do change.
//
// Every group of the batch: the counter, and the fields that describe "the
// latest event", which follow the batch's newest event (?3: its timestamp)
// so that a late-delivered old event does not overwrite them. All
// right-hand sides see the row as it was before the update. ?9 is the
// first non-empty release of the batch.
constexpr char kUpdateGroup[] =
    "UPDATE groups SET "
    "count = count + ?2, "
    "last_seen = max(last_seen, ?3), "
    "title = CASE WHEN ?3 >= last_seen THEN ?4 ELSE title END, "
    "culprit = CASE WHEN ?3 >= last_seen THEN ?5 ELSE culprit END, "
    "level = CASE WHEN ?3 >= last_seen THEN ?6 ELSE level END, "
    "service = CASE WHEN ?3 >= last_seen THEN ?7 ELSE service END, "
    "release = CASE WHEN ?3 >= last_seen THEN ?8 ELSE release END, "
    "first_release = CASE WHEN first_release = '' THEN ?9 "
    "ELSE first_release END "
    "WHERE id = ?1";

// Only when the batch holds an event older than the group's first_seen.
constexpr char kUpdateGroupFirstSeen[] =
    "UPDATE groups SET first_seen = ?2 WHERE id = ?1 AND first_seen > ?2";

// Only when the group was resolved: it is reopened once (a regression).
constexpr char kReopenGroup[] =
    "UPDATE groups SET "
    "regression_count = regression_count + 1, resolved_at = NULL, "
    "status = 'unresolved' "
    "WHERE id = ?1 AND status = 'resolved'";

constexpr char kInsertEvent[] =
    "INSERT INTO events (event_id, project_id, group_id, timestamp, received, "
    "level, platform, message, release, environment, server_name, service, "
    "pod, title, payload) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)";

bool ValidStatus(const std::string& status) {
  return status == "unresolved" || status == "resolved" || status == "ignored";
}

// Writes one batch inside the caller's transaction: every event with its
// own INSERT, every group it touches with one UPDATE for all of the batch's
// events of that group (a batch of 20 events often hits one group several
// times, and each group update rewrites entries in its indexes).
class BatchWriter {
 public:
  explicit BatchWriter(SqliteDb* db) : db_(db) {}

  // Inserts the event of `item` (which must outlive Finish()), creating its
  // group if needed; the group's counters follow in Finish().
  StoreStatus Add(const WriteItem& item, WriteOutcome* outcome);
  // Applies the group updates.
  StoreStatus Finish();

 private:
  // What the batch adds to one group that existed before its event.
  struct GroupDelta {
    int64_t id = 0;
    int64_t events = 0;
    double stored_first_seen = 0;  // the group's, before the batch
    bool reopen = false;           // the group was resolved
    double first_seen = 0;         // of the batch's events
    double last_seen = 0;
    const WriteItem* latest = nullptr;  // newest; the later one on a tie
    std::string first_release;          // first non-empty, in batch order
  };

  StoreStatus InsertEvent(const WriteItem& item, int64_t group_id,
                          double timestamp, double received);
  // The connection's last error, naming the event and the failed `step`
  // (built only on failure: this is the single writer's hot path).
  StoreStatus Failed(const Event& event, const std::string& step) const {
    return db_->LastStatus("write event " + event.event_id + ": " + step);
  }

  SqliteDb* const db_;
  std::map<std::pair<int64_t, std::string>, size_t> by_fingerprint_;
  std::vector<GroupDelta> deltas_;
};

StoreStatus BatchWriter::Add(const WriteItem& item, WriteOutcome* outcome) {
  const Event& event = item.event;
  const GroupingResult& grouping = item.grouping;
  // A non-finite time would be stored as NULL and fail the whole batch on
  // NOT NULL; fall back to when the event was received (or now).
  const double received =
      std::isfinite(event.received) ? event.received : NowSeconds();
  const double timestamp =
      std::isfinite(event.timestamp) ? event.timestamp : received;
  StoreStatus st;
  *outcome = WriteOutcome();

  {
    SqliteStmt exists;
    if (!db_->Prepare(kEventExists, &exists, &st)) return st;
    exists.Bind(1, event.event_id);
    int rc = exists.Step();
    if (rc == SQLITE_ROW) {
      outcome->duplicate = true;
      return StoreStatus::Ok();
    }
    if (rc != SQLITE_DONE) return Failed(event, "lookup");
  }

  auto key = std::make_pair(event.project_id, grouping.fingerprint);
  auto known = by_fingerprint_.find(key);
  GroupDelta* delta = nullptr;
  if (known != by_fingerprint_.end()) {
    delta = &deltas_[known->second];
  } else {
    int64_t group_id = 0;
    std::string old_status;
    double stored_first_seen = 0;
    {
      SqliteStmt find;
      if (!db_->Prepare(kFindGroup, &find, &st)) return st;
      find.Bind(1, event.project_id).Bind(2, grouping.fingerprint);
      int rc = find.Step();
      if (rc == SQLITE_ROW) {
        group_id = find.Int(0);
        old_status = find.Text(1);
        stored_first_seen = find.Double(2);
      } else if (rc != SQLITE_DONE) {
        return Failed(event, "find group");
      }
    }
    deltas_.emplace_back();
    by_fingerprint_.emplace(std::move(key), deltas_.size() - 1);
    delta = &deltas_.back();
    if (group_id != 0) {
      delta->id = group_id;
      delta->stored_first_seen = stored_first_seen;
      delta->reopen = old_status == "resolved";
      outcome->regression = delta->reopen;
    } else {
      // A new group starts from this event; later ones of the batch add to
      // it in Finish().
      SqliteStmt insert;
      if (!db_->Prepare(kInsertGroup, &insert, &st)) return st;
      insert.Bind(1, event.project_id)
          .Bind(2, grouping.fingerprint)
          .Bind(3, grouping.title)
          .Bind(4, grouping.culprit)
          .Bind(5, event.level)
          .Bind(6, timestamp)
          .Bind(7, event.service)
          .Bind(8, event.release);
      if (insert.Run() != SQLITE_DONE) {
        return Failed(event, "insert group (project " +
                                 std::to_string(event.project_id) + ")");
      }
      delta->id = db_->LastInsertRowid();
      delta->stored_first_seen = timestamp;
      outcome->new_group = true;
      outcome->group_id = delta->id;
      return InsertEvent(item, delta->id, timestamp, received);
    }
  }
  if (delta->events == 0 || timestamp < delta->first_seen) {
    delta->first_seen = timestamp;
  }
  if (delta->events == 0 || timestamp >= delta->last_seen) {
    delta->last_seen = timestamp;
    delta->latest = &item;
  }
  if (delta->first_release.empty()) delta->first_release = event.release;
  ++delta->events;
  outcome->group_id = delta->id;
  return InsertEvent(item, delta->id, timestamp, received);
}

StoreStatus BatchWriter::InsertEvent(const WriteItem& item, int64_t group_id,
                                     double timestamp, double received) {
  const Event& event = item.event;
  const std::string& pod_tag = event.Tag("pod");
  StoreStatus st;
  SqliteStmt insert;
  if (!db_->Prepare(kInsertEvent, &insert, &st)) return st;
  insert.Bind(1, event.event_id)
      .Bind(2, event.project_id)
      .Bind(3, group_id)
      .Bind(4, timestamp)
      .Bind(5, received)
      .Bind(6, event.level)
      .Bind(7, event.platform)
      .Bind(8, event.message)
      .Bind(9, event.release)
      .Bind(10, event.environment)
      .Bind(11, event.server_name)
      .Bind(12, event.service)
      .Bind(13, pod_tag.empty() ? event.server_name : pod_tag)
      .Bind(14, item.grouping.title);
  std::string stored;
  if (!item.stored_payload.empty()) {
    insert.BindBlob(15, item.stored_payload);
  } else if (EncodePayload(event.raw_json, &stored)) {
    insert.BindBlob(15, stored);
  } else {
    insert.Bind(15, event.raw_json);
  }
  if (insert.Run() != SQLITE_DONE) {
    return Failed(event, "insert event (project " +
                             std::to_string(event.project_id) + ")");
  }
  return StoreStatus::Ok();
}

StoreStatus BatchWriter::Finish() {
  StoreStatus st;
  for (const GroupDelta& delta : deltas_) {
    if (delta.events == 0) continue;
    const WriteItem& latest = *delta.latest;
    auto failed = [&] {
      return db_->LastStatus("write events: update group " +
                             std::to_string(delta.id));
    };
    {
      SqliteStmt update;
      if (!db_->Prepare(kUpdateGroup, &update, &st)) return st;
      update.Bind(1, delta.id)
          .Bind(2, delta.events)
          .Bind(3, delta.last_seen)
          .Bind(4, latest.grouping.title)
          .Bind(5, latest.grouping.culprit)
          .Bind(6, latest.event.level)
          .Bind(7, latest.event.service)
          .Bind(8, latest.event.release)
          .Bind(9, delta.first_release);
      if (update.Run() != SQLITE_DONE) return failed();
    }
    if (delta.first_seen < delta.stored_first_seen) {
      SqliteStmt update;
      if (!db_->Prepare(kUpdateGroupFirstSeen, &update, &st)) return st;
      update.Bind(1, delta.id).Bind(2, delta.first_seen);
      if (update.Run() != SQLITE_DONE) return failed();
    }
    if (delta.reopen) {
      SqliteStmt update;
      if (!db_->Prepare(kReopenGroup, &update, &st)) return st;
      update.Bind(1, delta.id);
      if (update.Run() != SQLITE_DONE) return failed();
    }
  }
  return StoreStatus::Ok();
}

StoreStatus LoadGroup(SqliteDb* db, int64_t id, Group* out) {
  StoreStatus st;
  SqliteStmt stmt;
  if (!db->Prepare(
          std::string("SELECT ") + kGroupColumns + " FROM groups WHERE id = ?1",
          &stmt, &st)) {
    return st;
  }
  stmt.Bind(1, id);
  st = StepToRow(db, &stmt, "get group",
                 "group " + std::to_string(id) + " not found");
  if (!st.ok()) return st;
  ReadGroup(stmt, out);
  stmt = SqliteStmt();
  return LoadLinkedCrashes(db, out);
}

}  // namespace

void SqliteStore::PrepareWrite(WriteItem* item) const {
  EncodePayload(item->event.raw_json, &item->stored_payload);
}

StoreStatus SqliteStore::WriteEvents(const std::vector<WriteItem>& items,
                                     std::vector<WriteOutcome>* outcomes) {
  std::vector<WriteOutcome> results;
  if (items.empty()) {
    if (outcomes != nullptr) outcomes->clear();
    return StoreStatus::Ok();
  }
  StoreStatus status = Write("write events", [&](SqliteDb* db) {
    results.assign(items.size(), WriteOutcome());  // fresh on every retry
    BatchWriter batch(db);
    for (size_t i = 0; i < items.size(); ++i) {
      StoreStatus st = batch.Add(items[i], &results[i]);
      if (!st.ok()) return st;
    }
    return batch.Finish();
  });
  if (outcomes != nullptr) {
    if (status.ok()) {
      *outcomes = std::move(results);
    } else {
      outcomes->clear();
    }
  }
  return status;
}

StoreStatus SqliteStore::ListGroups(const GroupQuery& query, Page<Group>* out) {
  const std::string& sort = query.sort.empty() ? "last_seen" : query.sort;
  if (sort != "last_seen" && sort != "count" && sort != "first_seen") {
    return MakeStatus(
        StoreStatus::kInvalid,
        "unknown sort '" + sort + "' (want last_seen, count or first_seen)");
  }
  if (!query.status.empty() && !ValidStatus(query.status)) {
    return MakeStatus(StoreStatus::kInvalid,
                      "unknown status '" + query.status + "'");
  }
  Cursor cursor;
  bool has_cursor = !query.cursor.empty();
  if (has_cursor) {
    std::string error;
    if (!DecodeCursor(query.cursor, sort, &cursor, &error)) {
      return MakeStatus(StoreStatus::kInvalid, error);
    }
  }
  const int limit = ClampLimit(query.limit);

  // The SQL varies only by which filters are present: a bounded set of
  // texts, each prepared once per connection.
  std::string sql =
      std::string("SELECT ") + kGroupColumns + " FROM groups WHERE 1 = 1";
  if (query.project.has_value()) sql += " AND project_id = ?1";
  if (!query.status.empty()) sql += " AND status = ?2";
  if (!query.level.empty()) sql += " AND level = ?3";
  if (!query.service.empty()) sql += " AND service = ?4";
  if (has_cursor) sql += " AND (" + sort + ", id) < (?5, ?6)";
  sql += " ORDER BY " + sort + " DESC, id DESC LIMIT ?7";

  Page<Group> page;
  StoreStatus status = Read("list groups", [&](SqliteDb* db) {
    page = Page<Group>();
    StoreStatus st;
    SqliteStmt stmt;
    if (!db->Prepare(sql, &stmt, &st)) return st;
    if (query.project.has_value()) stmt.Bind(1, *query.project);
    if (!query.status.empty()) stmt.Bind(2, query.status);
    if (!query.level.empty()) stmt.Bind(3, query.level);
    if (!query.service.empty()) stmt.Bind(4, query.service);
    if (has_cursor) stmt.Bind(5, cursor.value).Bind(6, cursor.id);
    stmt.Bind(7, limit + 1);
    int rc;
    const bool more = ReadPageRows(&stmt, limit, ReadGroup, &page.items, &rc);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
      return db->LastStatus("list groups");
    }
    stmt = SqliteStmt();
    for (Group& group : page.items) {
      st = LoadLinkedCrashes(db, &group);
      if (!st.ok()) return st;
    }
    if (more) {
      const Group& last = page.items.back();
      Cursor next;
      next.sort = sort;
      next.id = last.id;
      if (sort == "count") {
        next.value = static_cast<double>(last.count);
      } else if (sort == "first_seen") {
        next.value = last.first_seen;
      } else {
        next.value = last.last_seen;
      }
      page.next_cursor = EncodeCursor(next);
    }
    return StoreStatus::Ok();
  });
  if (status.ok()) *out = std::move(page);
  return status;
}

StoreStatus SqliteStore::GetGroup(int64_t id, Group* out) {
  return Read("get group",
              [&](SqliteDb* db) { return LoadGroup(db, id, out); });
}

StoreStatus SqliteStore::SetGroupStatus(int64_t id, const std::string& status,
                                        Group* out) {
  if (!ValidStatus(status)) {
    return MakeStatus(StoreStatus::kInvalid,
                      "unknown status '" + status +
                          "' (want unresolved, resolved or ignored)");
  }
  Group group;
  StoreStatus result = Write("set group status", [&](SqliteDb* db) {
    StoreStatus st;
    SqliteStmt stmt;
    if (!db->Prepare("UPDATE groups SET status = ?2, resolved_at = "
                     "CASE WHEN ?2 = 'resolved' THEN ?3 ELSE NULL END "
                     "WHERE id = ?1",
                     &stmt, &st)) {
      return st;
    }
    stmt.Bind(1, id).Bind(2, status).Bind(3, NowSeconds());
    if (stmt.Run() != SQLITE_DONE) return db->LastStatus("set group status");
    stmt = SqliteStmt();
    if (db->Changes() == 0) {
      return MakeStatus(StoreStatus::kNotFound,
                        "group " + std::to_string(id) + " not found");
    }
    return LoadGroup(db, id, &group);
  });
  if (result.ok() && out != nullptr) *out = std::move(group);
  return result;
}

StoreStatus SqliteStore::ListGroupEvents(int64_t group_id, int limit,
                                         const std::string& cursor_text,
                                         Page<StoredEvent>* out) {
  Cursor cursor;
  bool has_cursor = !cursor_text.empty();
  if (has_cursor) {
    std::string error;
    if (!DecodeCursor(cursor_text, "timestamp", &cursor, &error)) {
      return MakeStatus(StoreStatus::kInvalid, error);
    }
  }
  limit = ClampLimit(limit);
  std::string sql = std::string("SELECT ") + kEventColumns +
                    ", id FROM events WHERE group_id = ?1";
  if (has_cursor) sql += " AND (timestamp, id) < (?2, ?3)";
  sql += " ORDER BY timestamp DESC, id DESC LIMIT ?4";

  Page<StoredEvent> page;
  StoreStatus status = Read("list group events", [&](SqliteDb* db) {
    page = Page<StoredEvent>();
    StoreStatus st;
    {
      SqliteStmt exists;
      if (!db->Prepare("SELECT 1 FROM groups WHERE id = ?1", &exists, &st)) {
        return st;
      }
      exists.Bind(1, group_id);
      st = StepToRow(db, &exists, "list group events",
                     "group " + std::to_string(group_id) + " not found");
      if (!st.ok()) return st;
    }
    SqliteStmt stmt;
    if (!db->Prepare(sql, &stmt, &st)) return st;
    stmt.Bind(1, group_id);
    if (has_cursor) stmt.Bind(2, cursor.value).Bind(3, cursor.id);
    stmt.Bind(4, limit + 1);
    int rc;
    int64_t last_row_id = 0;
    while ((rc = stmt.Step()) == SQLITE_ROW) {
      if (static_cast<int>(page.items.size()) == limit) {
        Cursor next;
        next.sort = "timestamp";
        next.value = page.items.back().timestamp;
        next.id = last_row_id;
        page.next_cursor = EncodeCursor(next);
        break;
      }
      StoredEvent event;
      ReadEvent(stmt, &event);
      last_row_id = stmt.Int(13);
      page.items.push_back(std::move(event));
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
      return db->LastStatus("list group events");
    }
    return StoreStatus::Ok();
  });
  if (status.ok()) *out = std::move(page);
  return status;
}

StoreStatus SqliteStore::GetEvent(const std::string& event_id,
                                  StoredEvent* out) {
  return Read("get event", [&](SqliteDb* db) {
    StoreStatus st;
    SqliteStmt stmt;
    if (!db->Prepare(std::string("SELECT ") + kEventColumns +
                         ", payload FROM events WHERE event_id = ?1",
                     &stmt, &st)) {
      return st;
    }
    stmt.Bind(1, event_id);
    st = StepToRow(db, &stmt, "get event", "event " + event_id + " not found");
    if (!st.ok()) return st;
    ReadEvent(stmt, out);
    if (!stmt.IsBlob(13)) {
      out->payload = stmt.Text(13);  // stored before payloads were compressed
    } else if (!DecodePayload(stmt.Text(13), &out->payload)) {
      return MakeStatus(StoreStatus::kInternal,
                        "event " + event_id + ": stored payload is corrupt");
    }
    return StoreStatus::Ok();
  });
}

StoreStatus SqliteStore::CountGroups(std::vector<GroupCount>* out) {
  std::vector<GroupCount> counts;
  StoreStatus status = Read("count groups", [&](SqliteDb* db) {
    counts.clear();
    StoreStatus st;
    SqliteStmt stmt;
    if (!db->Prepare("SELECT project_id, status, count(*) FROM groups "
                     "GROUP BY project_id, status ORDER BY project_id, status",
                     &stmt, &st)) {
      return st;
    }
    int rc;
    while ((rc = stmt.Step()) == SQLITE_ROW) {
      GroupCount count;
      count.project_id = stmt.Int(0);
      count.status = stmt.Text(1);
      count.count = stmt.Int(2);
      counts.push_back(std::move(count));
    }
    if (rc != SQLITE_DONE) return db->LastStatus("count groups");
    return StoreStatus::Ok();
  });
  if (status.ok()) *out = std::move(counts);
  return status;
}

StoreStatus SqliteStore::FindGroupsForPod(const std::string& pod, double from,
                                          double to,
                                          std::vector<int64_t>* group_ids) {
  group_ids->clear();
  if (pod.empty()) return StoreStatus::Ok();  // never match pod-less events
  std::vector<int64_t> ids;
  StoreStatus status = Read("find groups for pod", [&](SqliteDb* db) {
    ids.clear();
    StoreStatus st;
    SqliteStmt stmt;
    if (!db->Prepare("SELECT DISTINCT group_id FROM events WHERE pod = ?1 "
                     "AND timestamp >= ?2 AND timestamp <= ?3 "
                     "ORDER BY group_id LIMIT ?4",
                     &stmt, &st)) {
      return st;
    }
    stmt.Bind(1, pod).Bind(2, from).Bind(3, to).Bind(4, 1000);
    int rc;
    while ((rc = stmt.Step()) == SQLITE_ROW) ids.push_back(stmt.Int(0));
    if (rc != SQLITE_DONE) return db->LastStatus("find groups for pod");
    return StoreStatus::Ok();
  });
  if (status.ok()) *group_ids = std::move(ids);
  return status;
}

}  // namespace crashctl
