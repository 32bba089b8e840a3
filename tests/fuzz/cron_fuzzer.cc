// libFuzzer target: monitors/schedule.h and monitors/missed_runs.h.
// The input is text, one item a line:
//   1. a crontab expression, or "interval VALUE UNIT" for an interval
//   2. a time zone name (empty: UTC)
//   3. a time in epoch seconds (decimal; folded into the supported range)
//   4. a check-in margin in seconds (decimal, optional)
// Checks: a refused schedule has an error message; for several times t
// around line 3, NextAfter(t) > t, PreviousAtOrBefore(t) <= t, both within
// [kMinTime, kMaxTime], and they agree (NextAfter(prev) == next,
// PreviousAtOrBefore(next - 1) == prev); FindMissedRuns and
// NextExpectedAfterCheckIn never move the state back and report runs in
// order, inside [next_expected, new next_expected).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crashctl/monitors/missed_runs.h"
#include "crashctl/monitors/schedule.h"

namespace {

using crashctl::monitors::FindMissedRuns;
using crashctl::monitors::IntervalUnit;
using crashctl::monitors::kMaxTime;
using crashctl::monitors::kMinTime;
using crashctl::monitors::MissedRunsOptions;
using crashctl::monitors::MissedRunsResult;
using crashctl::monitors::NextExpectedAfterCheckIn;
using crashctl::monitors::Schedule;

void Check(bool ok) {
  if (!ok) std::abort();
}

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (lines.size() < 4) {
    const size_t nl = text.find('\n');
    lines.push_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  while (lines.size() < 4) lines.emplace_back();
  return lines;
}

// Decimal digits (optional '-') -> int64, saturating; anything else stops.
int64_t Number(std::string_view text) {
  bool negative = !text.empty() && text[0] == '-';
  if (negative) text.remove_prefix(1);
  int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') break;
    if (v > (INT64_MAX - 9) / 10) return negative ? INT64_MIN : INT64_MAX;
    v = v * 10 + (c - '0');
  }
  return negative ? -v : v;
}

int64_t Fold(int64_t t) {
  if (t >= kMinTime && t <= kMaxTime) return t;
  const uint64_t span = static_cast<uint64_t>(kMaxTime) + 1;
  return static_cast<int64_t>(static_cast<uint64_t>(t) % span);
}

bool MakeSchedule(std::string_view spec, std::string_view tz, int64_t anchor,
                  Schedule* out) {
  std::string error;
  bool ok = false;
  if (spec.substr(0, 9) == "interval ") {
    spec.remove_prefix(9);
    const size_t space = spec.find(' ');
    IntervalUnit unit = IntervalUnit::kMinute;
    if (space == std::string_view::npos ||
        !crashctl::monitors::ParseIntervalUnit(spec.substr(space + 1), &unit)) {
      return false;
    }
    ok = Schedule::MakeInterval(Number(spec.substr(0, space)), unit, anchor, tz,
                                out, &error);
  } else {
    ok = Schedule::ParseCrontab(spec, tz, out, &error);
  }
  Check(ok || !error.empty());
  Check(ok == (out->type() != Schedule::Type::kNone));
  return ok;
}

void CheckAround(const Schedule& s, int64_t t) {
  if (t < kMinTime || t > kMaxTime) {
    Check(!s.NextAfter(t) && !s.PreviousAtOrBefore(t));
    return;
  }
  const std::optional<int64_t> next = s.NextAfter(t);
  const std::optional<int64_t> prev = s.PreviousAtOrBefore(t);
  if (next) Check(*next > t && *next <= kMaxTime);
  if (prev) Check(*prev <= t && *prev >= kMinTime);
  if (next && prev) {
    Check(s.NextAfter(*prev) == next);
    Check(s.PreviousAtOrBefore(*next - 1) == prev);
  }
}

void CheckMissedRuns(const Schedule& s, int64_t margin, int64_t expected,
                     int64_t now) {
  MissedRunsOptions options;
  options.max_listed = 3;
  options.max_scan = 50;
  const MissedRunsResult r = FindMissedRuns(s, margin, expected, now, options);
  if (r.next_expected) Check(*r.next_expected >= expected);
  int64_t total = 0;
  int64_t previous = INT64_MIN;
  for (const auto& run : r.missed) {
    Check(run.count >= 1 && run.scheduled <= run.last_scheduled);
    Check(run.count > 1 || run.last_scheduled == run.scheduled);
    Check(run.scheduled > previous && run.scheduled >= expected);
    if (r.next_expected) Check(run.last_scheduled < *r.next_expected);
    previous = run.last_scheduled;
    total += run.count;
  }
  Check(total == r.missed_total);
  Check(r.missed.size() <= 3);
  if (r.next_expected) {
    const std::optional<int64_t> after =
        NextExpectedAfterCheckIn(s, r.next_expected, now);
    if (after) Check(*after >= *r.next_expected);
    // Replaying the persisted state reports nothing new.
    Check(FindMissedRuns(s, margin, *r.next_expected, now, options)
              .missed.empty());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::vector<std::string_view> lines = Lines(text);
  const int64_t t = Fold(Number(lines[2]));
  Schedule s;
  if (!MakeSchedule(lines[0], lines[1], t, &s)) return 0;
  (void)s.Describe();
  for (int64_t dt : {int64_t{0}, int64_t{1}, int64_t{59}, int64_t{-3600},
                     int64_t{86400} * 200, int64_t{-86400} * 400}) {
    CheckAround(s, t + dt);
  }
  CheckAround(s, kMaxTime);
  CheckAround(s, kMinTime);
  const int64_t margin = Number(lines[3]) % (86400 * 7);
  const std::optional<int64_t> first = s.NextAfter(t);
  if (first) {
    CheckMissedRuns(s, margin, *first, *first + 3 * 86400);
    CheckMissedRuns(s, margin, *first, *first + margin / 2);
  }
  return 0;
}
