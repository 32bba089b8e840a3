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
    "pod, title, payload, trace_id, span_id, sdk) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
    "?16, ?17, ?18)";

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
  st = InsertEvent(item, delta->id, timestamp, received);
  if (!st.ok()) return st;
  delta->last_event_id = db_->LastInsertRowid();
  if (delta->events == 0) delta->first_event_id = delta->last_event_id;
  ++delta->events;
  return Status::Ok();
}

Status BatchWriter::InsertEvent(const model::WriteItem& item, int64_t group_id,
                                double timestamp, double received) {
  const model::Event& event = item.event;
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
      .Bind(18, SdkColumn(event.sdk_name, event.sdk_version));
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
