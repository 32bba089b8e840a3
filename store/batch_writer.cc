#include "batch_writer.h"

#include <cmath>

#include "crashctl/util/time.h"
#include "payload_codec.h"
#include "rows.h"

namespace crashctl {
namespace store {
namespace {

constexpr char kEventExists[] = "SELECT 1 FROM events WHERE event_id = ?1";

constexpr char kFindGroup[] =
    "SELECT id, status, first_seen FROM groups "
    "WHERE project_id = ?1 AND fingerprint = ?2";

// A fingerprint merged into another group (MergeGroups) leads to it.
constexpr char kFindAlias[] =
    "SELECT g.id, g.status, g.first_seen FROM group_aliases a "
    "JOIN groups g ON g.id = a.group_id "
    "WHERE a.project_id = ?1 AND a.fingerprint = ?2";

constexpr char kInsertGroupSearch[] =
    "INSERT INTO group_search (group_id, title, culprit, message, exception) "
    "VALUES (?1, ?2, ?3, ?4, ?5)";

constexpr char kInsertGroup[] =
    "INSERT INTO groups (project_id, fingerprint, title, culprit, level, "
    "status, count, first_seen, last_seen, service, release, first_release, "
    "regression_count) "
    "VALUES (?1, ?2, ?3, ?4, ?5, 'unresolved', 0, ?6, ?6, ?7, ?8, ?8, 0)";

// The group updates of a batch, one of each per group at most, for the
// events of the batch after the group was found or created. The counters
// (count, last_seen, the latest event's fields) go through GroupFolds.
// SQLite rewrites an index whenever an UPDATE sets one of its columns,
// whatever the value, so the columns that rarely change (first_seen; status
// on a regression) are set by statements of their own, run only when they
// do change.

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
    "pod, title, payload, trace_id, span_id, sdk, user_id, tags) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
    "?16, ?17, ?18, ?19, ?20)";

// An event's tags repeat no key, so (key, value, timestamp, event_row) is
// unique.
constexpr char kInsertEventTag[] =
    "INSERT INTO event_tags (key, value, timestamp, event_row) "
    "VALUES (?1, ?2, ?3, ?4)";

constexpr char kInsertEventSearch[] =
    "INSERT INTO event_search (rowid, title, message, exception) "
    "VALUES (?1, ?2, ?3, ?4)";

// A batch's tag values and hours of one group. A known value is counted in
// its row; a new one gets a row while the key has fewer than
// kMaxGroupTagValues (kMaxGroupUsers for `user`), else its events are
// counted in group_tag_keys.other_count.
constexpr char kBumpGroupTag[] =
    "UPDATE group_tags SET count = count + ?4, "
    "first_seen = min(first_seen, ?5), last_seen = max(last_seen, ?6) "
    "WHERE group_id = ?1 AND key = ?2 AND value = ?3";
constexpr char kTagValuesKept[] =
    "SELECT values_kept FROM group_tag_keys WHERE group_id = ?1 AND key = ?2";
constexpr char kInsertGroupTag[] =
    "INSERT INTO group_tags (group_id, key, value, count, first_seen, "
    "last_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
constexpr char kAddTagKeyValue[] =
    "INSERT INTO group_tag_keys (group_id, key, values_kept, other_count) "
    "VALUES (?1, ?2, 1, 0) ON CONFLICT (group_id, key) DO UPDATE SET "
    "values_kept = values_kept + 1";
constexpr char kAddTagKeyOther[] =
    "INSERT INTO group_tag_keys (group_id, key, values_kept, other_count) "
    "VALUES (?1, ?2, 0, ?3) ON CONFLICT (group_id, key) DO UPDATE SET "
    "other_count = other_count + excluded.other_count";
constexpr char kAddGroupUsers[] =
    "UPDATE groups SET users = users + ?2 WHERE id = ?1";
constexpr char kAddGroupHour[] =
    "INSERT INTO group_hours (group_id, hour, count) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (group_id, hour) DO UPDATE SET "
    "count = count + excluded.count";

}  // namespace

Status BatchWriter::Add(const model::WriteItem& item,
                        model::WriteOutcome* outcome) {
  const model::Event& event = item.event;
  const model::GroupingResult& grouping = item.grouping;
  // A non-finite time would be stored as NULL and fail the whole batch on
  // NOT NULL; fall back to when the event was received (or now).
  const double received =
      std::isfinite(event.received) ? event.received : util::NowSeconds();
  const double timestamp =
      std::isfinite(event.timestamp) ? event.timestamp : received;
  Status st;
  *outcome = model::WriteOutcome();

  {
    SqliteStmt exists;
    if (!db_->Prepare(kEventExists, &exists, &st)) return st;
    exists.Bind(1, event.event_id);
    int rc = exists.Step();
    if (rc == SQLITE_ROW) {
      outcome->duplicate = true;
      return Status::Ok();
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
    for (const char* sql : {kFindGroup, kFindAlias}) {
      SqliteStmt find;
      if (!db_->Prepare(sql, &find, &st)) return st;
      find.Bind(1, event.project_id).Bind(2, grouping.fingerprint);
      int rc = find.Step();
      if (rc == SQLITE_ROW) {
        group_id = find.Int(0);
        old_status = find.Text(1);
        stored_first_seen = find.Double(2);
        break;
      }
      if (rc != SQLITE_DONE) return Failed(event, "find group");
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
      SqliteStmt search;
      if (!db_->Prepare(kInsertGroupSearch, &search, &st)) return st;
      search.Bind(1, delta->id)
          .Bind(2, grouping.title)
          .Bind(3, grouping.culprit)
          .Bind(4, MessageSearchText(event))
          .Bind(5, ExceptionSearchText(event));
      if (search.Run() != SQLITE_DONE) {
        return Failed(event, "index group " + std::to_string(delta->id));
      }
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
  outcome->group_id = delta->id;
  st = InsertEvent(item, timestamp, received, delta);
  if (!st.ok()) return st;
  if (delta->events == 0) delta->first_event_id = delta->last_event_id;
  ++delta->events;
  return Status::Ok();
}

Status BatchWriter::InsertEvent(const model::WriteItem& item, double timestamp,
                                double received, GroupDelta* delta) {
  const model::Event& event = item.event;
  const int64_t group_id = delta->id;
  const std::string& pod_tag = event.Tag("pod");
  Status st;
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
      .Bind(14, item.grouping.title)
      .Bind(16, event.trace_id)
      .Bind(17, event.span_id)
      .Bind(18, SdkColumn(event.sdk_name, event.sdk_version))
      .Bind(19, event.user)
      .Bind(20, TagsColumn(CustomTags(event)));
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
  const int64_t row = db_->LastInsertRowid();
  delta->last_event_id = row;
  for (const auto& tag : IndexedTags(event)) {
    SqliteStmt insert_tag;
    if (!db_->Prepare(kInsertEventTag, &insert_tag, &st)) return st;
    insert_tag.Bind(1, tag.first)
        .Bind(2, tag.second)
        .Bind(3, timestamp)
        .Bind(4, row);
    if (insert_tag.Run() != SQLITE_DONE) return Failed(event, "insert tags");
    TagDelta& counted = delta->tags[tag];
    if (counted.events == 0 || timestamp < counted.first_seen) {
      counted.first_seen = timestamp;
    }
    if (counted.events == 0 || timestamp > counted.last_seen) {
      counted.last_seen = timestamp;
    }
    ++counted.events;
  }
  ++delta->hours[static_cast<int64_t>(std::floor(timestamp / 3600))];
  SqliteStmt search;
  if (!db_->Prepare(kInsertEventSearch, &search, &st)) return st;
  search.Bind(1, row)
      .Bind(2, item.grouping.title)
      .Bind(3, MessageSearchText(event))
      .Bind(4, ExceptionSearchText(event));
  if (search.Run() != SQLITE_DONE) return Failed(event, "index event");
  return Status::Ok();
}

Status BatchWriter::AddTagValue(int64_t group_id, const std::string& key,
                                const std::string& value, const TagDelta& tag,
                                bool* new_value) {
  auto failed = [&] {
    return db_->LastStatus("write events: tag " + key + " of group " +
                           std::to_string(group_id));
  };
  Status st;
  *new_value = false;
  SqliteStmt bump;
  if (!db_->Prepare(kBumpGroupTag, &bump, &st)) return st;
  bump.Bind(1, group_id)
      .Bind(2, key)
      .Bind(3, value)
      .Bind(4, tag.events)
      .Bind(5, tag.first_seen)
      .Bind(6, tag.last_seen);
  if (bump.Run() != SQLITE_DONE) return failed();
  if (db_->Changes() > 0) return Status::Ok();
  int64_t kept = 0;
  {
    SqliteStmt find;
    if (!db_->Prepare(kTagValuesKept, &find, &st)) return st;
    find.Bind(1, group_id).Bind(2, key);
    int rc = find.Step();
    if (rc == SQLITE_ROW) {
      kept = find.Int(0);
    } else if (rc != SQLITE_DONE) {
      return failed();
    }
  }
  const int64_t max = key == "user" ? kMaxGroupUsers : kMaxGroupTagValues;
  if (kept >= max) {
    SqliteStmt other;
    if (!db_->Prepare(kAddTagKeyOther, &other, &st)) return st;
    other.Bind(1, group_id).Bind(2, key).Bind(3, tag.events);
    return other.Run() == SQLITE_DONE ? Status::Ok() : failed();
  }
  SqliteStmt insert;
  if (!db_->Prepare(kInsertGroupTag, &insert, &st)) return st;
  insert.Bind(1, group_id)
      .Bind(2, key)
      .Bind(3, value)
      .Bind(4, tag.events)
      .Bind(5, tag.first_seen)
      .Bind(6, tag.last_seen);
  if (insert.Run() != SQLITE_DONE) return failed();
  SqliteStmt count_key;
  if (!db_->Prepare(kAddTagKeyValue, &count_key, &st)) return st;
  count_key.Bind(1, group_id).Bind(2, key);
  if (count_key.Run() != SQLITE_DONE) return failed();
  *new_value = true;
  return Status::Ok();
}

Status BatchWriter::WriteTagsAndHours(const GroupDelta& delta) {
  const std::string context =
      "write events: tags of group " + std::to_string(delta.id);
  Status st;
  int64_t new_users = 0;
  for (const auto& entry : delta.tags) {
    bool new_value = false;
    st = AddTagValue(delta.id, entry.first.first, entry.first.second,
                     entry.second, &new_value);
    if (!st.ok()) return st;
    if (new_value && entry.first.first == "user") ++new_users;
  }
  if (new_users > 0) {
    SqliteStmt users;
    if (!db_->Prepare(kAddGroupUsers, &users, &st)) return st;
    users.Bind(1, delta.id).Bind(2, new_users);
    if (users.Run() != SQLITE_DONE) return db_->LastStatus(context);
  }
  for (const auto& hour : delta.hours) {
    SqliteStmt add;
    if (!db_->Prepare(kAddGroupHour, &add, &st)) return st;
    add.Bind(1, delta.id).Bind(2, hour.first).Bind(3, hour.second);
    if (add.Run() != SQLITE_DONE) return db_->LastStatus(context);
  }
  return Status::Ok();
}

Status BatchWriter::Finish() {
  Status st;
  for (const GroupDelta& delta : deltas_) {
    if (delta.events == 0) continue;
    auto failed = [&] {
      return db_->LastStatus("write events: update group " +
                             std::to_string(delta.id));
    };
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
    st = WriteTagsAndHours(delta);
    if (!st.ok()) return st;
  }
  return Status::Ok();
}

GroupFolds::Batch BatchWriter::TakeCounters() {
  GroupFolds::Batch batch;
  batch.reserve(deltas_.size());
  for (const GroupDelta& delta : deltas_) {
    if (delta.events == 0) continue;
    const model::WriteItem& latest = *delta.latest;
    GroupCounters counters;
    counters.events = delta.events;
    counters.first_event_id = delta.first_event_id;
    counters.last_event_id = delta.last_event_id;
    counters.last_seen = delta.last_seen;
    counters.title = latest.grouping.title;
    counters.culprit = latest.grouping.culprit;
    counters.level = model::ToString(latest.event.level);
    counters.service = latest.event.service;
    counters.release = latest.event.release;
    counters.first_release = delta.first_release;
    batch.emplace_back(delta.id, std::move(counters));
  }
  return batch;
}

}  // namespace store
}  // namespace crashctl
