// BatchWriter: writes one batch of events inside the caller's write
// transaction (see docs/storage.md, "Writing events").
//
// Every event gets its own INSERT (a duplicate event_id is skipped and
// reported); every group the batch touches is created (with a count of 0)
// on its first event. What the batch adds to each group's counters comes
// out of TakeCounters() for GroupFolds to write; Finish() sets only what
// must change at once, and only in the columns that change (SQLite rewrites
// a row's entry in every index one of whose columns an UPDATE sets,
// whatever the value): an older first_seen, and the reopening of a resolved
// group (a regression). The group's tag counts (group_tags, at most
// kMaxGroupTagValues values per key, the others' events counted in
// group_tag_keys.other_count), distinct users and hourly counts are written
// by Finish() with the batch, not deferred: readers see them with the
// events. A fingerprint merged into another group (group_aliases) finds
// that group.
//
// Thread-safety: none; used by the single writer on the write connection.
#ifndef CRASHCTL_STORE_BATCH_WRITER_H_
#define CRASHCTL_STORE_BATCH_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "crashctl/store/store.h"
#include "group_folds.h"
#include "sqlite_db.h"

namespace crashctl {
namespace store {

// The most values kept per (group, tag key); the `user` key keeps up to
// kMaxGroupUsers (groups.users is exact up to that many, a lower bound
// beyond).
constexpr int64_t kMaxGroupTagValues = 1000;
constexpr int64_t kMaxGroupUsers = 10000;

class BatchWriter {
 public:
  // `db` must be inside a write transaction for the writer's lifetime.
  explicit BatchWriter(SqliteDb* db) : db_(db) {}
  BatchWriter(const BatchWriter&) = delete;
  BatchWriter& operator=(const BatchWriter&) = delete;

  // Inserts the event of `item` (which must outlive TakeCounters()),
  // creating its group if needed.
  Status Add(const model::WriteItem& item, model::WriteOutcome* outcome);
  // Applies the first_seen and status changes of the batch's groups.
  Status Finish();
  // What the batch's events add to their groups' counters, in the order
  // the groups first appear in the batch.
  GroupFolds::Batch TakeCounters();

 private:
  // What the batch adds to one value of a group's tag.
  struct TagDelta {
    int64_t events = 0;
    double first_seen = 0;
    double last_seen = 0;
  };

  // What the batch adds to one group (found, or created by its first
  // event of the batch).
  struct GroupDelta {
    int64_t id = 0;
    int64_t events = 0;
    int64_t first_event_id = 0;  // events.id of the batch's first and last
    int64_t last_event_id = 0;
    double stored_first_seen = 0;  // the group's, before the batch
    bool reopen = false;           // the group was resolved
    double first_seen = 0;         // of the batch's events
    double last_seen = 0;
    const model::WriteItem* latest = nullptr;  // newest; the later one on a tie
    std::string first_release;  // first non-empty, in batch order
    // What the batch's events add to the group's tag values and hours.
    std::map<std::pair<std::string, std::string>, TagDelta> tags;
    std::map<int64_t, int64_t> hours;  // UTC hour (seconds / 3600) -> events
  };

  // Inserts the event, its event_tags and event_search rows, and adds its
  // tags and hour to `delta`.
  Status InsertEvent(const model::WriteItem& item, double timestamp,
                     double received, GroupDelta* delta);
  // Adds the batch's tag values and hours to the group's rows (group_tags,
  // group_tag_keys, groups.users, group_hours).
  Status WriteTagsAndHours(const GroupDelta& delta);
  Status AddTagValue(int64_t group_id, const std::string& key,
                     const std::string& value, const TagDelta& tag,
                     bool* new_value);
  // The connection's last error, naming the event and the failed `step`
  // (built only on failure: this is the single writer's hot path).
  Status Failed(const model::Event& event, const std::string& step) const {
    return db_->LastStatus("write event " + event.event_id + ": " + step);
  }

  SqliteDb* const db_;
  std::map<std::pair<int64_t, std::string>, size_t> by_fingerprint_;
  std::vector<GroupDelta> deltas_;
};

}  // namespace store
}  // namespace crashctl

#endif  // CRASHCTL_STORE_BATCH_WRITER_H_
