// Cron monitor check-ins: Sentry `check_in` envelope items and the HTTP form
// POST|GET /api/{project_id}/cron/{monitor_slug}/{sentry_key}/?status=...,
// parsed into one CheckIn value, and the monitor state machine that turns a
// stored MonitorState + a check-in (or a scheduler tick) + now into what to
// store, what to count and which alerts to raise. docs/release-health.md,
// "Cron check-ins"; schedules and missed runs: docs/monitors.md.
//
// Contract:
// - Parsers never throw; bad input returns Status::Invalid (or TooLarge)
//   naming the field, fit for a 400 answer. A monitor_config that passes
//   has a schedule crashctl::monitors::Schedule accepts, in a known zone.
// - The state machine is pure: no clock, no I/O. Time is a parameter
//   (`now`: when crashctl received the check-in; check-ins carry no time of
//   their own). Its output depends only on its arguments, so a scheduler
//   tick and a check-in arriving in either order give the same result.
// - Memory is bounded: strings are capped, a MonitorState keeps at most
//   kMaxOpenRuns runs in progress and kMaxFinishedIds recent ids.
//
// Thread-safety: pure functions, reentrant; values are plain data.
#ifndef CRASHCTL_RELEASES_CHECK_IN_H_
#define CRASHCTL_RELEASES_CHECK_IN_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crashctl/util/status.h"

namespace crashctl::releases {

inline constexpr size_t kMaxMonitorSlugBytes = 50;  // Sentry's slug limit
inline constexpr size_t kMaxCheckInEnvironmentBytes = 64;
inline constexpr size_t kMaxCheckInReleaseBytes = 200;
inline constexpr size_t kMaxCheckInPayloadBytes = 64 * 1024;
inline constexpr size_t kMaxCrontabBytes = 1024;
// Sentry's bounds for monitor_config (minutes / counts).
inline constexpr int64_t kMaxCheckinMarginMinutes = 40320;  // 28 days
inline constexpr int64_t kMaxMaxRuntimeMinutes = 40320;
inline constexpr int64_t kMaxThreshold = 720;
// A duration above this (seconds, ~10 years) is refused.
inline constexpr double kMaxCheckInDurationSeconds = 315576000.0;

enum class CheckInStatus { kInProgress, kOk, kError };
// "in_progress", "ok", "error".
const char* CheckInStatusName(CheckInStatus status);

struct ScheduleConfig {
  enum class Type { kCrontab, kInterval };
  Type type = Type::kCrontab;
  std::string crontab;         // kCrontab: the expression, blanks collapsed
  int64_t interval_value = 0;  // kInterval: >= 1
  std::string interval_unit;   // kInterval: minute|hour|day|week|month|year
  bool operator==(const ScheduleConfig& o) const {
    return type == o.type && crontab == o.crontab &&
           interval_value == o.interval_value &&
           interval_unit == o.interval_unit;
  }
  bool operator!=(const ScheduleConfig& o) const { return !(*this == o); }
};

struct MonitorConfig {
  ScheduleConfig schedule;
  // Minutes, as Sentry sends them. 0 margin reads as 1 (Sentry's rule).
  std::optional<int64_t> checkin_margin_minutes;
  std::optional<int64_t> max_runtime_minutes;
  std::string timezone;  // "" = UTC; validated against the tz database
  std::optional<int64_t> failure_issue_threshold;  // 1..720
  std::optional<int64_t> recovery_threshold;       // 1..720

  int64_t margin_seconds() const;                 // default 1 minute
  int64_t max_runtime_seconds() const;            // default 30 minutes
  int64_t failure_threshold() const;              // default 1
  int64_t recovery_threshold_or_default() const;  // default 1
};

struct CheckIn {
  // 32 lower-case hex digits. All zeros ("the nil UUID", also used when the
  // check-in has none) means: the most recent run in progress.
  std::string check_in_id;
  // Sentry's slug: [a-z0-9_-], 1..50 characters. Other input is slugified as
  // Sentry's check-in consumer does (see ParseCheckIn); slug_changed says so.
  std::string monitor_slug;
  bool slug_changed = false;
  CheckInStatus status = CheckInStatus::kOk;
  std::optional<double> duration_seconds;  // only for ok / error
  std::string environment;                 // "production" when absent/empty
  std::string release;                     // "" when absent
  std::string trace_id;                    // 32 hex, "" when absent
  std::optional<MonitorConfig> monitor_config;
};

inline constexpr char kNilCheckInId[] = "00000000000000000000000000000000";

// A `check_in` item. Fields: check_in_id (UUID, optional), monitor_slug
// (required), status (required: in_progress | ok | error; "missed" and
// "timeout" are the server's to decide and are refused), duration (number,
// seconds, >= 0), environment (<= 64 bytes, no '/', '\\' or control
// characters, not "." / ".." / "none"), release, contexts.trace.trace_id,
// monitor_config {schedule {type crontab, value "..."} | {type interval,
// value N (number or digits), unit}, checkin_margin, max_runtime, timezone,
// failure_issue_threshold, recovery_threshold} (integers; null = absent).
Status ParseCheckIn(std::string_view json, CheckIn* out);

// Sentry's slug rule for monitors: `slug` as is when it already is one, else
// lower-cased, characters other than [a-z0-9_ -] removed, runs of blanks and
// '-' made one '-', cut to 50 bytes, '-' stripped at both ends. Non-ASCII
// input and an empty result are errors.
Status NormalizeMonitorSlug(std::string_view slug, std::string* out,
                            bool* changed);

// The HTTP check-in: `path` as requested (without the query), e.g.
// "/api/42/cron/nightly-backup/0123456789abcdef0123456789abcdef/" (the key
// segment may be left out: "/api/42/cron/nightly-backup/"; the trailing '/'
// is optional); `query` without '?'. With a `content_type` of
// application/json the body is a check-in JSON (ParseCheckIn; its
// monitor_slug is replaced by the path's, as Relay does) and the query is not
// read; otherwise the query gives status (required), check_in_id,
// environment, duration (seconds); other parameters are ignored, a known one
// given twice is an error. Path segments and values are percent-decoded.
struct CronRequest {
  int64_t project_id = 0;
  std::string sentry_key;  // "" when the path has none (check the query or
                           // X-Sentry-Auth then)
  CheckIn check_in;
};
Status ParseCronRequest(std::string_view path, std::string_view query,
                        std::string_view content_type, std::string_view body,
                        CronRequest* out);

// ---------------------------------------------------------------------------
// Monitor state machine. One MonitorState per (project, monitor slug,
// environment); the integrator persists it (MonitorStateToJson) and replaces
// it with each transition's `state` in the same transaction as the records.

inline constexpr size_t kMaxOpenRuns = 16;
inline constexpr size_t kMaxFinishedIds = 16;

struct OpenRun {
  std::string check_in_id;
  int64_t started = 0;
  int64_t max_runtime_seconds = 30 * 60;
};

struct MonitorState {
  std::optional<MonitorConfig> config;  // the last one upserted
  // Interval schedules: the run the schedule counts from (the latest run's
  // start, truncated to the minute, as Sentry does). 0 = none yet.
  int64_t schedule_anchor = 0;
  // The earliest scheduled run neither checked in nor reported missed
  // (monitors/missed_runs.h); std::nullopt before the first check-in, for a
  // monitor without a schedule, or when the schedule has no further time.
  std::optional<int64_t> next_expected;
  int64_t last_checkin = 0;  // 0 = never
  std::optional<CheckInStatus> last_status;
  int64_t consecutive_failures = 0;   // error, missed, timeout in a row
  int64_t consecutive_successes = 0;  // ok in a row
  bool incident_open = false;
  int64_t incident_started = 0;
  std::vector<OpenRun> open_runs;  // oldest first, <= kMaxOpenRuns
  // Ids of runs that ended (terminal check-in or timeout), newest last,
  // <= kMaxFinishedIds: a later check-in with one of them is ignored.
  std::vector<std::string> finished_ids;
};

// What to store: one row per check-in (kept, missed or timed out).
struct CheckInRecord {
  enum class Kind {
    kCheckIn,      // the check-in received (new run or standalone)
    kRunFinished,  // the check-in received, ending the run `check_in_id`
    kMissed,       // a scheduled run that got no check-in
    kTimeout,      // the in-progress run `check_in_id` exceeded max_runtime
  };
  Kind kind = Kind::kCheckIn;
  // "in_progress", "ok", "error", "missed", "timeout": the status to store
  // and the `status` label of crashctl_monitor_checkins_total.
  std::string status;
  std::string check_in_id;  // "" for missed runs
  int64_t run_started = 0;  // missed: the (first) scheduled time
  std::optional<double> duration_seconds;
  int64_t received = 0;        // `now` of the call
  int64_t missed_count = 0;    // kMissed: runs this row stands for (>= 1)
  int64_t last_scheduled = 0;  // kMissed: the last of them
  bool missed_count_is_lower_bound = false;
};

struct MonitorAlert {
  enum class Kind { kRaise, kResolve };
  Kind kind = Kind::kRaise;
  // kRaise: "error", "missed" or "timeout" (the failure that reached
  // failure_issue_threshold); kResolve: "ok".
  std::string reason;
  int64_t at = 0;
  int64_t consecutive = 0;  // the failures (successes) in a row
};

struct MonitorTransition {
  MonitorState state;                  // persist this
  std::vector<CheckInRecord> records;  // store these, in order
  std::vector<MonitorAlert> alerts;    // raise / resolve these, in order
  // crashctl_monitor_checkins_total{status}: add 1 per record of kind
  // kCheckIn / kRunFinished / kTimeout, under its status.
  // crashctl_monitor_missed_total: add missed_total.
  int64_t missed_total = 0;
  // crashctl_monitor_last_checkin_timestamp_seconds: set when present.
  std::optional<int64_t> last_checkin_timestamp;
  // The check-in was not applied (a duplicate in_progress, or a check-in for
  // a run that already ended): nothing to store for it, answer 202 anyway.
  bool ignored = false;
  std::string ignored_reason;
};

// Applies a check-in received at `now`: upserts its monitor_config, times out
// runs past max_runtime, reports runs whose margin passed (FindMissedRuns),
// then records the check-in and moves next_expected. A monitor without any
// schedule (no monitor_config ever) records check-ins and alerts on errors
// but never reports missed runs.
MonitorTransition ApplyCheckIn(const MonitorState& state,
                               const CheckIn& check_in, int64_t now);

// The scheduler's tick: timeouts and missed runs up to `now`, nothing else.
MonitorTransition TickMonitor(const MonitorState& state, int64_t now);

// When TickMonitor next has something to do: the earliest missed-run or
// timeout deadline (+1 s); std::nullopt when nothing is pending.
std::optional<int64_t> NextMonitorDeadline(const MonitorState& state);

// The state as compact JSON text (one column), and back. FromJson validates
// (bounds, ids, the config's schedule) and returns Invalid naming the field.
std::string MonitorStateToJson(const MonitorState& state);
Status MonitorStateFromJson(std::string_view json, MonitorState* out);

}  // namespace crashctl::releases

#endif  // CRASHCTL_RELEASES_CHECK_IN_H_
