// SqliteStore: events and groups (writing batches with BatchWriter, listing,
// lookups).
#include <string>
#include <utility>
#include <vector>

#include "batch_writer.h"
#include "crashctl/util/time.h"
#include "cursor.h"
#include "payload_codec.h"
#include "query_sql.h"
#include "rows.h"
#include "sqlite_store.h"

namespace crashctl {
namespace store {

Status LoadGroup(SqliteDb* db, int64_t id, model::Group* out) {
  Status st;
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

void SqliteStore::PrepareWrite(model::WriteItem* item) const {
  EncodePayload(item->event.raw_json, &item->stored_payload);
}

Status SqliteStore::WriteEvents(const std::vector<model::WriteItem>& items,
                                std::vector<model::WriteOutcome>* outcomes) {
  std::vector<model::WriteOutcome> results;
  if (items.empty()) {
    if (outcomes != nullptr) outcomes->clear();
    return Status::Ok();
  }
  const GroupFolds::Clock::time_point now = GroupFolds::Clock::now();
  Status status = Write(
      "write events",
      [&](SqliteDb* db) {
        results.assign(items.size(),
                       model::WriteOutcome());  // fresh on every retry
        BatchWriter batch(db);
        for (size_t i = 0; i < items.size(); ++i) {
          Status st = batch.Add(items[i], &results[i]);
          if (!st.ok()) return st;
        }
        Status st = batch.Finish();
        if (!st.ok()) return st;
        st = CountReleaseEvents(db, items, results);
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

Status SqliteStore::ListGroups(const GroupQuery& query,
                               model::Page<model::Group>* out) {
  const std::string& sort = query.sort.empty() ? "last_seen" : query.sort;
  if (sort != "last_seen" && sort != "count" && sort != "first_seen") {
    return MakeStatus(
        Status::Code::kInvalid,
        "unknown sort '" + sort + "' (want last_seen, count or first_seen)");
  }
  Status st = CheckTagFilters(query.tags);
  if (!st.ok()) return st;
  Cursor cursor;
  bool has_cursor = !query.cursor.empty();
  if (has_cursor) {
    std::string error;
    if (!DecodeCursor(query.cursor, sort, &cursor, &error)) {
      return MakeStatus(Status::Code::kInvalid, error);
    }
  }
  const int limit = ClampLimit(query.limit);
  std::string match;
  if (query.query) {
    match = MatchExpression(*query.query);
    if (match.empty()) {  // nothing can match (ParseQuery never gives this)
      *out = model::Page<model::Group>();
      return Status::Ok();
    }
  }
  FoldBeforeRead();

  const SqlBuilder sql =
      GroupListSql(query, match, sort, has_cursor ? &cursor : nullptr, limit);

  model::Page<model::Group> page;
  Status status = Read("list groups", [&](SqliteDb* db) {
    page = model::Page<model::Group>();
    Status st;
    SqliteStmt stmt;
    if (!db->Prepare(sql.sql(), &stmt, &st)) return st;
    sql.BindAll(&stmt);
    int rc;
    const bool more = ReadPageRows(&stmt, limit, ReadGroup, &page.items, &rc);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
      return db->LastStatus("list groups");
    }
    stmt = SqliteStmt();
    for (model::Group& group : page.items) {
      st = LoadLinkedCrashes(db, &group);
      if (!st.ok()) return st;
    }
    if (more) {
      const model::Group& last = page.items.back();
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
    return Status::Ok();
  });
  if (status.ok()) *out = std::move(page);
  return status;
}

Status SqliteStore::GetGroup(int64_t id, model::Group* out) {
  FoldBeforeRead();
  return Read("get group",
              [&](SqliteDb* db) { return LoadGroup(db, id, out); });
}

Status SqliteStore::SetGroupStatus(int64_t id, model::GroupStatus status,
                                   model::Group* out) {
  // One group of a bulk change (sqlite_store_admin.cc).
  std::vector<model::Group> groups;
  Status result = SetGroupsStatus({id}, status, &groups);
  if (result.ok() && out != nullptr) *out = std::move(groups.front());
  return result;
}

Status SqliteStore::ListGroupEvents(int64_t group_id, int limit,
                                    const std::string& cursor_text,
                                    model::Page<model::StoredEvent>* out) {
  Cursor cursor;
  bool has_cursor = !cursor_text.empty();
  if (has_cursor) {
    std::string error;
    if (!DecodeCursor(cursor_text, "timestamp", &cursor, &error)) {
      return MakeStatus(Status::Code::kInvalid, error);
    }
  }
  limit = ClampLimit(limit);
  std::string sql = std::string("SELECT ") + kEventColumns +
                    ", id FROM events WHERE group_id = ?1";
  if (has_cursor) sql += " AND (timestamp, id) < (?2, ?3)";
  sql += " ORDER BY timestamp DESC, id DESC LIMIT ?4";

  model::Page<model::StoredEvent> page;
  Status status = Read("list group events", [&](SqliteDb* db) {
    page = model::Page<model::StoredEvent>();
    Status st;
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
    return ReadEventPage(db, &stmt, limit, "list group events", &page);
  });
  if (status.ok()) *out = std::move(page);
  return status;
}

Status SqliteStore::GetEvent(const std::string& event_id,
                             model::StoredEvent* out) {
  return Read("get event", [&](SqliteDb* db) {
    Status st;
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
    if (!stmt.IsBlob(kEventColumnCount)) {
      // stored before payloads were compressed
      out->payload = stmt.Text(kEventColumnCount);
    } else if (!DecodePayload(stmt.Text(kEventColumnCount), &out->payload)) {
      return MakeStatus(Status::Code::kInternal,
                        "event " + event_id + ": stored payload is corrupt");
    }
    return Status::Ok();
  });
}

Status SqliteStore::CountGroups(std::vector<model::GroupCount>* out) {
  std::vector<model::GroupCount> counts;
  Status status = Read("count groups", [&](SqliteDb* db) {
    counts.clear();
    Status st;
    SqliteStmt stmt;
    if (!db->Prepare("SELECT project_id, status, count(*) FROM groups "
                     "GROUP BY project_id, status ORDER BY project_id, status",
                     &stmt, &st)) {
      return st;
    }
    int rc;
    while ((rc = stmt.Step()) == SQLITE_ROW) {
      model::GroupCount count;
      count.project_id = stmt.Int(0);
      count.status = GroupStatusFrom(stmt.Text(1));
      count.count = stmt.Int(2);
      counts.push_back(std::move(count));
    }
    if (rc != SQLITE_DONE) return db->LastStatus("count groups");
    return Status::Ok();
  });
  if (status.ok()) *out = std::move(counts);
  return status;
}

Status SqliteStore::FindGroupsForPod(const std::string& pod, double from,
                                     double to,
                                     std::vector<int64_t>* group_ids) {
  group_ids->clear();
  if (pod.empty()) return Status::Ok();  // never match pod-less events
  std::vector<int64_t> ids;
  Status status = Read("find groups for pod", [&](SqliteDb* db) {
    ids.clear();
    Status st;
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
    return Status::Ok();
  });
  if (status.ok()) *group_ids = std::move(ids);
  return status;
}

}  // namespace store
}  // namespace crashctl
