// SqliteStore: events and groups (writing batches with BatchWriter, listing,
// lookups).
#include <string>
#include <utility>
#include <vector>

#include "store/batch_writer.h"
#include "store/cursor.h"
#include "store/payload_codec.h"
#include "store/rows.h"
#include "store/sqlite_store.h"

namespace crashctl {
namespace {

bool ValidStatus(const std::string& status) {
  return status == "unresolved" || status == "resolved" || status == "ignored";
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
  const GroupFolds::Clock::time_point now = GroupFolds::Clock::now();
  StoreStatus status = Write(
      "write events",
      [&](SqliteDb* db) {
        results.assign(items.size(), WriteOutcome());  // fresh on every retry
        BatchWriter batch(db);
        for (size_t i = 0; i < items.size(); ++i) {
          StoreStatus st = batch.Add(items[i], &results[i]);
          if (!st.ok()) return st;
        }
        StoreStatus st = batch.Finish();
        if (!st.ok()) return st;
        return folds_.Write(db, batch.TakeCounters(), /*all=*/false, now);
      },
      [this] { CommitFolds(); });
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
  FoldBeforeRead();

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
  FoldBeforeRead();
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
  FoldBeforeRead();
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
