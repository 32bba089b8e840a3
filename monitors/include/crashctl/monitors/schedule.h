// The schedule of a cron monitor (Sentry check-ins): a crontab expression or
// a fixed interval, in an IANA time zone, and the scheduled instants it
// produces. docs/monitors.md describes the accepted syntax and the DST rules.
//
// Contract:
// - Instants are Unix epoch seconds (int64_t). Every function takes and
//   returns instants in [kMinTime, kMaxTime] (1970-01-01T00:00:00Z to
//   9999-12-31T23:59:59Z); an argument outside that range gives "no time".
// - Parsing never throws: bad input returns false with a message in *error
//   that names the field and the bad token; *out is left unchanged.
// - NextAfter/PreviousAtOrBefore never throw and never loop unbounded: they
//   look at most about a century ahead (behind); a schedule with no time
//   there gives std::nullopt. The parser already refuses crontabs that can
//   never match (e.g. "0 0 30 2 *"), so every accepted crontab has a time at
//   least every few decades.
// - Crontab times are wall-clock times in the schedule's zone. A wall-clock
//   time that does not exist (spring forward) runs once, at the first
//   instant after the gap; one that occurs twice (fall back) runs once, at
//   its first occurrence. Scheduled instants are therefore non-decreasing in
//   wall-clock order and duplicates collapse into one instant.
// - Time zones come from the system tz database (/usr/share/zoneinfo, via
//   Debian's libdate-tz). "" and "UTC" need no database; unknown names are
//   errors. Limit: libdate-tz reads only the transitions listed in the zone
//   files, which end in 2037, so later instants keep the zone's last offset
//   (no DST after 2037).
//
// Thread-safety: Schedule is an immutable value type (cheap to copy: it
// shares its parsed state); every const member function may be called
// concurrently from any number of threads. The free functions are
// thread-safe.
#ifndef CRASHCTL_MONITORS_SCHEDULE_H_
#define CRASHCTL_MONITORS_SCHEDULE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace crashctl::monitors {

inline constexpr int64_t kMinTime = 0;             // 1970-01-01T00:00:00Z
inline constexpr int64_t kMaxTime = 253402300799;  // 9999-12-31T23:59:59Z

// Interval units, as Sentry names them in monitor_config.schedule.unit.
enum class IntervalUnit { kMinute, kHour, kDay, kWeek, kMonth, kYear };

// "minute", "hour", "day", "week", "month", "year" (ASCII case-insensitive)
// -> unit. Returns false for anything else (plurals included).
bool ParseIntervalUnit(std::string_view text, IntervalUnit* unit);
// The Sentry name of `unit` ("minute", ...).
const char* IntervalUnitName(IntervalUnit unit);

// Returns true when `timezone` is "" (UTC), "UTC", or a zone of the system
// tz database (e.g. "Europe/Vienna"); else false with a message in *error
// (error may be null). "localtime" is refused: it means the host's zone.
bool ValidateTimeZone(std::string_view timezone, std::string* error);

class Schedule {
 public:
  enum class Type { kNone, kCrontab, kInterval };

  // kNone: a schedule that never runs (NextAfter etc. give std::nullopt).
  Schedule();

  // Parses a crontab: five fields "minute hour day-of-month month
  // day-of-week" separated by spaces/tabs, or one of @yearly, @annually,
  // @monthly, @weekly, @daily, @midnight, @hourly. Each field is a
  // comma-separated list of `*`, `N`, `N-M`, `*/S`, `N-M/S`; month and
  // day-of-week also take JAN-DEC / SUN-SAT (case-insensitive); day-of-week
  // 0 and 7 are Sunday. When day-of-month and day-of-week are both
  // restricted (neither field starts with `*`), a day matches if EITHER
  // matches (Vixie cron). `timezone` as for ValidateTimeZone.
  static bool ParseCrontab(std::string_view expression,
                           std::string_view timezone, Schedule* out,
                           std::string* error);

  // Every `value` `unit`s (1 <= value, value * unit <= 100 years) starting
  // at `anchor` (the monitor's first check-in), which is itself a scheduled
  // time. Minutes and hours are elapsed time (anchor + k * value * 60 s or
  // 3600 s, unaffected by DST). Days, weeks, months and years are calendar
  // steps of the anchor's wall-clock date in `timezone`, at the anchor's
  // wall-clock time of day (same DST rules as crontabs); a month or year
  // step landing on a day the month lacks uses the month's last day, always
  // counted from the anchor (Jan 31 + 1 month = Feb 28/29, + 2 = Mar 31).
  static bool MakeInterval(int64_t value, IntervalUnit unit, int64_t anchor,
                           std::string_view timezone, Schedule* out,
                           std::string* error);

  // The first scheduled instant strictly after t; std::nullopt when there is
  // none within the bounded search or the supported range.
  std::optional<int64_t> NextAfter(int64_t t) const;

  // The last scheduled instant at or before t; std::nullopt when there is
  // none (e.g. t before an interval's anchor) within the bounded search.
  std::optional<int64_t> PreviousAtOrBefore(int64_t t) const;

  Type type() const;
  // The zone's name as given ("UTC" when "" was given).
  const std::string& timezone() const;
  // For logs and the REST API: "0 9 * * MON-FRI (Europe/Vienna)",
  // "every 2 month from 2026-01-31T08:00:00Z (UTC)", "none".
  std::string Describe() const;

 private:
  struct Impl;
  explicit Schedule(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

}  // namespace crashctl::monitors

#endif  // CRASHCTL_MONITORS_SCHEDULE_H_
