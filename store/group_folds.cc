#include "group_folds.h"

#include <algorithm>

namespace crashctl {
namespace store {
namespace {

// Adds counters to a group row. The fields that describe "the latest event"
// follow the counters' newest event (?3: its timestamp) so that a
// late-delivered old event does not overwrite them; all right-hand sides
// see the row as it was. ?5 (culprit) is NULL when unknown. Sets neither
// first_seen nor status: the batch writer does, when they change.
constexpr char kFoldGroup[] =
    "UPDATE groups SET "
    "count = count + ?2, "
    "last_seen = max(last_seen, ?3), "
    "title = CASE WHEN ?3 >= last_seen THEN ?4 ELSE title END, "
    "culprit = CASE WHEN ?3 >= last_seen THEN coalesce(?5, culprit) "
    "ELSE culprit END, "
    "level = CASE WHEN ?3 >= last_seen THEN ?6 ELSE level END, "
    "service = CASE WHEN ?3 >= last_seen THEN ?7 ELSE service END, "
    "release = CASE WHEN ?3 >= last_seen THEN ?8 ELSE release END, "
    "first_release = CASE WHEN first_release = '' THEN ?9 "
    "ELSE first_release END, "
    "folded_event_id = max(folded_event_id, ?10) "
    "WHERE id = ?1";

constexpr char kWatermarkName[] = "groups_folded_below";

constexpr char kReadWatermark[] =
    "SELECT value FROM store_state WHERE name = ?1";

constexpr char kWriteWatermark[] =
    "INSERT INTO store_state (name, value) VALUES (?1, ?2) "
    "ON CONFLICT (name) DO UPDATE SET value = excluded.value";

// Events stored from the watermark on that their group has not folded.
constexpr char kUnfoldedEvents[] =
    "SELECT e.id, e.group_id, e.timestamp, e.title, e.level, e.service, "
    "e.release FROM events e JOIN groups g ON g.id = e.group_id "
    "WHERE e.id >= ?1 AND e.id > g.folded_event_id ORDER BY e.id";

constexpr char kNewestEvent[] = "SELECT coalesce(max(id), 0) FROM events";

}  // namespace

void GroupCounters::Merge(GroupCounters&& later) {
  if (later.events == 0) return;
  if (events == 0) {
    *this = std::move(later);
    return;
  }
  events += later.events;
  last_event_id = std::max(last_event_id, later.last_event_id);
  if (later.last_seen >= last_seen) {
    last_seen = later.last_seen;
    title = std::move(later.title);
    if (later.has_culprit) culprit = std::move(later.culprit);
    level = std::move(later.level);
    service = std::move(later.service);
    release = std::move(later.release);
  }
  if (first_release.empty()) first_release = std::move(later.first_release);
}

Status GroupFolds::Write(SqliteDb* db, Batch batch, bool all,
                         Clock::time_point now) {
  plan_ = Plan();
  plan_.now = now;
  plan_.newest_event_id = newest_event_id_;
  for (const auto& entry : batch) {
    plan_.newest_event_id =
        std::max(plan_.newest_event_id, entry.second.last_event_id);
  }
  const bool every_batch = options_.interval.count() == 0;

  // The pending groups to fold now: a prefix of order_ (oldest first), the
  // due ones and enough to stay within max_groups.
  size_t new_groups = 0;
  for (const auto& entry : batch) {
    if (pending_.count(entry.first) == 0) ++new_groups;
  }
  size_t due = 0;
  if (all || every_batch) {
    due = order_.size();
  } else {
    while (due < order_.size() &&
           (pending_.at(order_[due]).since + options_.interval <= now ||
            order_.size() - due + new_groups > options_.max_groups)) {
      ++due;
    }
  }

  std::unordered_map<int64_t, size_t> in_batch;
  if (due > 0) {
    in_batch.reserve(batch.size());
    for (size_t i = 0; i < batch.size(); ++i) in_batch[batch[i].first] = i;
  }
  std::vector<bool> folded(batch.size(), false);
  for (size_t i = 0; i < due; ++i) {
    const int64_t id = order_[i];
    GroupCounters counters = pending_.at(id).counters;
    auto hit = in_batch.find(id);
    if (hit != in_batch.end()) {
      counters.Merge(std::move(batch[hit->second].second));
      folded[hit->second] = true;
    }
    Status status = Fold(db, id, counters);
    if (!status.ok()) return status;
  }
  plan_.folded_front = due;
  for (size_t i = 0; i < batch.size(); ++i) {
    if (folded[i]) continue;
    if (all || every_batch) {
      Status status = Fold(db, batch[i].first, batch[i].second);
      if (!status.ok()) return status;
    } else {
      plan_.batch.push_back(std::move(batch[i]));
    }
  }
  if (every_batch) return Status::Ok();

  // Every event below the oldest pending one is folded. order_ is in the
  // order groups became pending, which is the order of their first events.
  int64_t below = plan_.newest_event_id + 1;
  if (due < order_.size()) {
    below = pending_.at(order_[due]).counters.first_event_id;
  } else {
    for (const auto& entry : plan_.batch) {
      below = std::min(below, entry.second.first_event_id);
    }
  }
  if (all || now - watermark_written_ >= options_.interval) {
    Status status = WriteWatermark(db, below);
    if (!status.ok()) return status;
    plan_.watermark = true;
  }
  return Status::Ok();
}

void GroupFolds::Commit() {
  for (size_t i = 0; i < plan_.folded_front; ++i) {
    pending_.erase(order_.front());
    order_.pop_front();
  }
  for (auto& entry : plan_.batch) {
    auto it = pending_.find(entry.first);
    if (it != pending_.end()) {
      it->second.counters.Merge(std::move(entry.second));
    } else {
      pending_.emplace(entry.first,
                       Pending{std::move(entry.second), plan_.now});
      order_.push_back(entry.first);
    }
  }
  newest_event_id_ = plan_.newest_event_id;
  if (plan_.watermark) watermark_written_ = plan_.now;
  plan_ = Plan();
}

Status GroupFolds::Recover(SqliteDb* db, int64_t* folded) {
  *folded = 0;
  Status st;
  int64_t below = 0;
  {
    SqliteStmt stmt;
    if (!db->Prepare(kReadWatermark, &stmt, &st)) return st;
    stmt.Bind(1, std::string(kWatermarkName));
    const int rc = stmt.Step();
    if (rc == SQLITE_ROW) {
      below = stmt.Int(0);
    } else if (rc != SQLITE_DONE) {
      return db->LastStatus("recover group counters: read watermark");
    }
  }
  std::unordered_map<int64_t, GroupCounters> groups;
  {
    SqliteStmt stmt;
    if (!db->Prepare(kUnfoldedEvents, &stmt, &st)) return st;
    stmt.Bind(1, below);
    int rc;
    while ((rc = stmt.Step()) == SQLITE_ROW) {
      GroupCounters event;
      event.events = 1;
      event.first_event_id = event.last_event_id = stmt.Int(0);
      event.last_seen = stmt.Double(2);
      event.title = stmt.Text(3);
      event.has_culprit = false;
      event.level = stmt.Text(4);
      event.service = stmt.Text(5);
      event.release = stmt.Text(6);
      event.first_release = event.release;
      groups[stmt.Int(1)].Merge(std::move(event));
      ++*folded;
    }
    if (rc != SQLITE_DONE) {
      return db->LastStatus("recover group counters: read events");
    }
  }
  for (const auto& group : groups) {
    st = Fold(db, group.first, group.second);
    if (!st.ok()) return st;
  }
  {
    SqliteStmt stmt;
    if (!db->Prepare(kNewestEvent, &stmt, &st)) return st;
    if (stmt.Step() != SQLITE_ROW) {
      return db->LastStatus("recover group counters: newest event");
    }
    newest_event_id_ = stmt.Int(0);
  }
  return WriteWatermark(db, newest_event_id_ + 1);
}

Status GroupFolds::Fold(SqliteDb* db, int64_t group_id,
                        const GroupCounters& counters) const {
  Status st;
  SqliteStmt update;
  if (!db->Prepare(kFoldGroup, &update, &st)) return st;
  update.Bind(1, group_id)
      .Bind(2, counters.events)
      .Bind(3, counters.last_seen)
      .Bind(4, counters.title);
  if (counters.has_culprit) {
    update.Bind(5, counters.culprit);
  } else {
    update.BindNull(5);
  }
  update.Bind(6, counters.level)
      .Bind(7, counters.service)
      .Bind(8, counters.release)
      .Bind(9, counters.first_release)
      .Bind(10, counters.last_event_id);
  if (update.Run() != SQLITE_DONE) {
    return db->LastStatus("update counters of group " +
                          std::to_string(group_id));
  }
  return Status::Ok();
}

Status GroupFolds::WriteWatermark(SqliteDb* db, int64_t below) const {
  Status st;
  SqliteStmt stmt;
  if (!db->Prepare(kWriteWatermark, &stmt, &st)) return st;
  stmt.Bind(1, std::string(kWatermarkName)).Bind(2, below);
  if (stmt.Run() != SQLITE_DONE) {
    return db->LastStatus("write group counter watermark");
  }
  return Status::Ok();
}

}  // namespace store
}  // namespace crashctl
