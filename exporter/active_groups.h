// ActiveGroups: which groups received the most events in the last hour, for
// crashctl_group_events_total. Counts events per group in one-minute
// buckets, in memory; the store is not scanned on every scrape.
//
// Thread-safety: all methods may be called concurrently (one mutex).
#ifndef CRASHCTL_EXPORTER_ACTIVE_GROUPS_H_
#define CRASHCTL_EXPORTER_ACTIVE_GROUPS_H_

#include <array>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace crashctl {
namespace exporter {

class ActiveGroups {
 public:
  // At most `max_groups` groups are tracked; beyond that the least recently
  // seen is forgotten.
  explicit ActiveGroups(size_t max_groups = 100000) : max_groups_(max_groups) {}
  ActiveGroups(const ActiveGroups&) = delete;
  ActiveGroups& operator=(const ActiveGroups&) = delete;

  // Counts one event of `group_id` at `now` (epoch seconds).
  void Record(int64_t group_id, double now);
  // Group `from`'s events count as `into`'s from now on (a merge: the
  // store moved them). No-op when `from` == `into` or `from` is unknown.
  void Merge(int64_t into, int64_t from);
  // Forgets the groups (deleted: a later group may get an id again).
  void Forget(const std::vector<int64_t>& group_ids);
  // Up to `n` group ids with the most events in the hour before `now`, most
  // active first (ties: higher id first). Forgets groups idle for an hour.
  std::vector<int64_t> Top(size_t n, double now);

 private:
  static constexpr int kBuckets = 60;  // one per minute
  struct Activity {
    std::array<uint32_t, kBuckets> counts{};
    int64_t last_minute = 0;
  };
  // Clears the buckets of minutes after `activity.last_minute` up to
  // `minute` (they had no events).
  static void Advance(Activity* activity, int64_t minute);

  std::mutex mu_;
  size_t max_groups_;
  std::unordered_map<int64_t, Activity> groups_;
};

}  // namespace exporter
}  // namespace crashctl

#endif  // CRASHCTL_EXPORTER_ACTIVE_GROUPS_H_
