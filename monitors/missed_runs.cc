#include "crashctl/monitors/missed_runs.h"

#include <algorithm>
#include <limits>

namespace crashctl::monitors {
namespace {

// Bounds that keep every sum below int64 overflow.
constexpr int64_t kMaxSpan = int64_t{1} << 40;  // ~34,800 years of seconds
constexpr int64_t kMaxAbsTime = int64_t{1} << 61;

int64_t ClampSpan(int64_t seconds) {
  return std::clamp<int64_t>(seconds, 0, kMaxSpan);
}
int64_t ClampTime(int64_t t) {
  return std::clamp<int64_t>(t, -kMaxAbsTime, kMaxAbsTime);
}

}  // namespace

std::optional<int64_t> NextExpectedAfterCheckIn(
    const Schedule& schedule, std::optional<int64_t> next_expected,
    int64_t run_start, int64_t early_tolerance_seconds) {
  const int64_t covered =
      ClampTime(run_start) +
      std::min<int64_t>(ClampSpan(early_tolerance_seconds), 86400);
  // The check-in came before the expected run (early, manual, or replayed
  // from long ago): the expected run is still open.
  if (next_expected && *next_expected > covered) return next_expected;
  return schedule.NextAfter(std::clamp(covered, kMinTime, kMaxTime));
}

int64_t MissedDeadline(int64_t next_expected, int64_t checkin_margin_seconds) {
  return ClampTime(next_expected) + ClampSpan(checkin_margin_seconds);
}

MissedRunsResult FindMissedRuns(const Schedule& schedule,
                                int64_t checkin_margin_seconds,
                                int64_t next_expected, int64_t now,
                                const MissedRunsOptions& options) {
  const int64_t margin = ClampSpan(checkin_margin_seconds);
  const int64_t max_listed = std::max(1, options.max_listed);
  const int64_t max_scan = std::max<int64_t>(1, options.max_scan);
  // A run scheduled at e is missed when now > e + margin, i.e. e < cutoff.
  const int64_t cutoff = ClampTime(now) - margin;

  MissedRunsResult result;
  std::vector<int64_t> listed;
  int64_t total = 0;
  int64_t first = 0;
  int64_t last = 0;
  bool lower_bound = false;
  std::optional<int64_t> expected = next_expected;
  for (int64_t scanned = 0; expected && *expected < cutoff; ++scanned) {
    if (scanned == max_scan) {
      // Too many to step through: count this one, then jump to the first
      // scheduled time at or after the cutoff. The runs in between are
      // missed too but not counted.
      const int64_t end = std::clamp(cutoff - 1, kMinTime, kMaxTime);
      if (total == 0) first = *expected;
      ++total;
      last = std::max(*expected, schedule.PreviousAtOrBefore(end).value_or(0));
      lower_bound = true;
      expected = schedule.NextAfter(end);
      // NextAfter(end) > end >= *expected: the state still moves forward.
      break;
    }
    if (total == 0) first = *expected;
    last = *expected;
    ++total;
    if (static_cast<int64_t>(listed.size()) < max_listed) {
      listed.push_back(*expected);
    }
    expected = schedule.NextAfter(*expected);
  }
  result.next_expected = expected;
  result.missed_total = total;
  if (total == 0) return result;
  if (total <= max_listed && !lower_bound) {
    for (int64_t at : listed) result.missed.push_back({at, at, 1, false});
  } else {
    result.missed.push_back({first, last, total, lower_bound});
  }
  return result;
}

int64_t TimeoutDeadline(const InProgressRun& run) {
  return ClampTime(run.started) + ClampSpan(run.max_runtime_seconds);
}

bool ShouldReportTimeout(const InProgressRun& run, int64_t now) {
  return !run.timeout_reported && now > TimeoutDeadline(run);
}

}  // namespace crashctl::monitors
