// Missed runs and timeouts of cron monitors: pure functions of a Schedule,
// the monitor's persisted state and the current time, for the missed-run
// scheduler and the ingestion of check_in items. docs/monitors.md.
//
// The state a caller persists per monitor (and environment) is one instant,
// `next_expected`: the earliest scheduled run that has neither been checked
// in nor reported missed. Every function here returns the new value, which
// is never earlier than the one passed in, and a run is reported missed
// only when it is >= the next_expected passed in and < the one returned. So
// a caller that stores the returned next_expected in the same transaction
// as what it records for the reported runs never reports a run twice, also
// across restarts; one that was down for a day reports the runs it missed
// once, collapsed into one entry when there are many.
//
// Times are Unix epoch seconds; margins and runtimes are seconds (Sentry's
// monitor_config gives minutes: multiply by 60). Negative margins and
// runtimes count as 0.
//
// Thread-safety: every function is pure and reentrant.
#ifndef CRASHCTL_MONITORS_MISSED_RUNS_H_
#define CRASHCTL_MONITORS_MISSED_RUNS_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "crashctl/monitors/schedule.h"

namespace crashctl::monitors {

// Sentry's defaults when monitor_config leaves them out (minutes).
inline constexpr int64_t kDefaultCheckinMarginMinutes = 1;
inline constexpr int64_t kDefaultMaxRuntimeMinutes = 30;

// A check-in whose run started this much before the next expected run
// still counts for it (clocks of the job's host and crashctl's differ).
inline constexpr int64_t kDefaultEarlyToleranceSeconds = 30;

// The next_expected after a check-in whose run started at `run_start`:
// the first scheduled time after run_start + early_tolerance_seconds, but
// never earlier than `next_expected` (a stale or replayed check-in cannot
// move the state back). `next_expected` is std::nullopt for a monitor's
// first check-in. Pass the run's start: the in_progress check-in's time, or
// for a terminal check-in without one, its time minus its duration.
// Returns std::nullopt when the schedule has no further time.
//
// Call FindMissedRuns(..., now) before this when a check-in arrives, so that
// a run whose margin has already passed is reported missed even if the
// scheduler has not looked yet.
std::optional<int64_t> NextExpectedAfterCheckIn(
    const Schedule& schedule, std::optional<int64_t> next_expected,
    int64_t run_start,
    int64_t early_tolerance_seconds = kDefaultEarlyToleranceSeconds);

// The instant after which the run expected at `next_expected` counts as
// missed: next_expected + margin. The scheduler can sleep until then.
int64_t MissedDeadline(int64_t next_expected, int64_t checkin_margin_seconds);

struct MissedRunsOptions {
  // At most this many runs are reported one by one; when more were missed,
  // they are reported as one entry (count > 1). Values < 1 count as 1.
  int max_listed = 10;
  // At most this many scheduled times are stepped through per call (bounds
  // the CPU time of a long outage of a dense schedule). Past it the rest is
  // skipped in one jump and the count becomes a lower bound. Values < 1
  // count as 1.
  int64_t max_scan = 100000;
};

// One missed run, or several collapsed into one entry.
struct MissedRun {
  int64_t scheduled = 0;       // the (first) scheduled time missed
  int64_t last_scheduled = 0;  // the last one; == scheduled when count == 1
  int64_t count = 1;           // scheduled runs this entry stands for
  bool count_is_lower_bound = false;  // max_scan stopped the count
};

struct MissedRunsResult {
  // Oldest first. Either one entry per missed run (at most max_listed), or
  // a single entry covering all of them.
  std::vector<MissedRun> missed;
  int64_t missed_total = 0;  // sum of the entries' counts
  // The state to persist: the first scheduled run whose deadline has not
  // passed at `now`; std::nullopt when the schedule has no further time
  // (stop watching the monitor).
  std::optional<int64_t> next_expected;
};

// The runs due from `next_expected` on whose deadline (MissedDeadline) is
// before `now`: a run is missed when now > scheduled + margin and no
// check-in moved next_expected past it. `next_expected` need not be a
// scheduled time itself (e.g. after a schedule change); it is treated as
// one. Nothing is missed when now <= next_expected + margin.
MissedRunsResult FindMissedRuns(const Schedule& schedule,
                                int64_t checkin_margin_seconds,
                                int64_t next_expected, int64_t now,
                                const MissedRunsOptions& options = {});

// A run that sent an in_progress check-in and no terminal one yet.
struct InProgressRun {
  int64_t started = 0;  // time of the in_progress check-in
  int64_t max_runtime_seconds = kDefaultMaxRuntimeMinutes * 60;
  // Persisted by the caller: set once the timeout has been reported (e.g.
  // the check-in's status changed to "timeout").
  bool timeout_reported = false;
};

// started + max_runtime (saturating).
int64_t TimeoutDeadline(const InProgressRun& run);

// True exactly when the run must be reported timed out now: now is past its
// deadline (now > started + max_runtime) and it has not been reported. The
// caller reports it and persists timeout_reported (or the new status) in
// the same transaction, so each run times out once.
bool ShouldReportTimeout(const InProgressRun& run, int64_t now);

}  // namespace crashctl::monitors

#endif  // CRASHCTL_MONITORS_MISSED_RUNS_H_
