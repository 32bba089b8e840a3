// GroupFolds: the group counters (count, last_seen and the newest event's
// fields) that stored events add, held in memory by the single writer and
// written into `groups` at most once per group per interval instead of in
// every batch (see docs/storage.md, "Group counters").
//
// A popular group is hit by most batches, and every UPDATE of its row
// rewrites its entries in the `groups` indexes on count and last_seen; once
// a second is enough for counters that readers get folded on demand
// (SqliteStore folds everything pending before it reads a group).
//
// Crash safety: a group row records the newest event folded into it
// (`folded_event_id`), and `store_state.groups_folded_below` is an event id
// below which every event is folded (a lower bound, written at most once
// per interval). Recover() folds the events from there on that their group
// has not folded yet, so the counters are exact again after a crash. This
// relies on event ids that only grow: retention keeps the newest event.
//
// Transactions: Write() runs inside the writer's transaction and changes
// nothing in memory; Commit() applies what it wrote once the transaction has
// committed, so a rolled-back or retried batch leaves the counters as they
// were.
//
// Thread-safety: none; the store's write mutex guards it.
#ifndef CRASHCTL_STORE_GROUP_FOLDS_H_
#define CRASHCTL_STORE_GROUP_FOLDS_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "crashctl/store/store.h"
#include "sqlite_db.h"

namespace crashctl {
namespace store {

// What some events of one group add to its row.
struct GroupCounters {
  int64_t events = 0;
  int64_t first_event_id = 0;  // events.id of the first and last of them
  int64_t last_event_id = 0;
  double last_seen = 0;  // newest timestamp; the fields below are its event's
  std::string title;
  std::string culprit;
  bool has_culprit = true;  // false when rebuilt from events (no culprit kept)
  std::string level;
  std::string service;
  std::string release;
  std::string first_release;  // first non-empty release

  // Adds `later`: events stored after these (a tie in time goes to later).
  void Merge(GroupCounters&& later);
};

class GroupFolds {
 public:
  using Clock = std::chrono::steady_clock;
  // A batch's counters by group id.
  using Batch = std::vector<std::pair<int64_t, GroupCounters>>;

  struct Options {
    // How long a group's counters may wait; zero writes them in every batch
    // (and leaves the watermark alone), as a store that does not ingest
    // (the CLI) wants.
    std::chrono::milliseconds interval{0};
    size_t max_groups = 10000;  // more pending groups are written at once
  };

  explicit GroupFolds(Options options) : options_(options) {}
  GroupFolds(const GroupFolds&) = delete;
  GroupFolds& operator=(const GroupFolds&) = delete;

  // Inside the caller's write transaction: writes `batch` (the counters of
  // the events it just inserted) merged into the pending ones of groups that
  // are due at `now` (every pending group if `all`, every group if the
  // interval is zero), and the watermark when it is time. Nothing in memory
  // changes until Commit().
  Status Write(SqliteDb* db, Batch batch, bool all, Clock::time_point now);
  // The transaction of the last Write() committed: pending counters follow.
  void Commit();

  // Inside the caller's write transaction, before the first Write(): folds
  // the events a previous run stored but did not fold (it crashed) and sets
  // the watermark past the newest event. `*folded` gets their number.
  Status Recover(SqliteDb* db, int64_t* folded);

  // After a committed delete of events whose transaction folded every
  // pending group first (Write with `all`): `newest_event_id` is the newest
  // event id left. SQLite hands the ids above it out again, so the
  // watermark must not stay above them.
  void EventsDeleted(int64_t newest_event_id) {
    if (pending_.empty()) newest_event_id_ = newest_event_id;
  }

  bool empty() const { return pending_.empty(); }
  size_t size() const { return pending_.size(); }

 private:
  struct Pending {
    GroupCounters counters;
    Clock::time_point since;  // when the first of them arrived
  };

  Status Fold(SqliteDb* db, int64_t group_id,
              const GroupCounters& counters) const;
  Status WriteWatermark(SqliteDb* db, int64_t below) const;

  const Options options_;
  std::unordered_map<int64_t, Pending> pending_;
  // Pending group ids in the order they became pending (oldest first), so
  // the due ones are at the front.
  std::deque<int64_t> order_;
  int64_t newest_event_id_ = 0;  // of all events written so far
  Clock::time_point watermark_written_{};

  // The last Write(), applied by Commit().
  struct Plan {
    Batch batch;              // counters of groups not folded now
    size_t folded_front = 0;  // due groups folded, from order_'s front
    bool folded_all = false;  // every pending group folded
    int64_t newest_event_id = 0;
    bool watermark = false;  // written
    Clock::time_point now{};
  };
  Plan plan_;
};

}  // namespace store
}  // namespace crashctl

#endif  // CRASHCTL_STORE_GROUP_FOLDS_H_
