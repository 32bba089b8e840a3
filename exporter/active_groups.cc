#include "active_groups.h"

#include <algorithm>
#include <cmath>

namespace crashctl {
namespace exporter {

void ActiveGroups::Advance(Activity* activity, int64_t minute) {
  if (minute <= activity->last_minute) return;
  const int64_t gap =
      std::min<int64_t>(minute - activity->last_minute, kBuckets);
  for (int64_t m = minute - gap + 1; m <= minute; ++m) {
    activity->counts[static_cast<size_t>(m % kBuckets)] = 0;
  }
  activity->last_minute = minute;
}

void ActiveGroups::Record(int64_t group_id, double now) {
  const int64_t minute = static_cast<int64_t>(std::floor(now / 60));
  std::lock_guard<std::mutex> lock(mu_);
  auto it = groups_.find(group_id);
  if (it == groups_.end()) {
    if (groups_.size() >= max_groups_) {
      // Forget the group seen longest ago (rare: only past max_groups_).
      auto oldest = std::min_element(
          groups_.begin(), groups_.end(), [](const auto& a, const auto& b) {
            return a.second.last_minute < b.second.last_minute;
          });
      groups_.erase(oldest);
    }
    it = groups_.emplace(group_id, Activity{}).first;
    it->second.last_minute = minute;
  }
  Advance(&it->second, minute);
  if (minute == it->second.last_minute) {
    ++it->second.counts[static_cast<size_t>(minute % kBuckets)];
  }
}

void ActiveGroups::Merge(int64_t into, int64_t from) {
  if (into == from) return;
  std::lock_guard<std::mutex> lock(mu_);
  auto source = groups_.find(from);
  if (source == groups_.end()) return;
  Activity moved = source->second;
  groups_.erase(source);
  auto target = groups_.find(into);
  if (target == groups_.end()) {  // takes `from`'s place: the bound holds
    groups_.emplace(into, moved);
    return;
  }
  // Both windows end at the later minute, then add bucket by bucket.
  const int64_t minute =
      std::max(target->second.last_minute, moved.last_minute);
  Advance(&target->second, minute);
  Advance(&moved, minute);
  for (size_t i = 0; i < kBuckets; ++i) {
    target->second.counts[i] += moved.counts[i];
  }
}

void ActiveGroups::Forget(const std::vector<int64_t>& group_ids) {
  std::lock_guard<std::mutex> lock(mu_);
  for (int64_t id : group_ids) groups_.erase(id);
}

std::vector<int64_t> ActiveGroups::Top(size_t n, double now) {
  const int64_t minute = static_cast<int64_t>(std::floor(now / 60));
  std::vector<std::pair<uint64_t, int64_t>> ranked;  // (events, group id)
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = groups_.begin(); it != groups_.end();) {
      Advance(&it->second, minute);
      uint64_t total = 0;
      for (uint32_t c : it->second.counts) total += c;
      if (total == 0) {
        it = groups_.erase(it);
        continue;
      }
      ranked.emplace_back(total, it->first);
      ++it;
    }
  }
  const size_t keep = std::min(n, ranked.size());
  std::partial_sort(ranked.begin(), ranked.begin() + keep, ranked.end(),
                    [](const auto& a, const auto& b) { return a > b; });
  std::vector<int64_t> top;
  for (size_t i = 0; i < keep; ++i) top.push_back(ranked[i].second);
  return top;
}

}  // namespace exporter
}  // namespace crashctl
