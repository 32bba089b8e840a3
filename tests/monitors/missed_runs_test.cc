#include "crashctl/monitors/missed_runs.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "crashctl/monitors/schedule.h"
#include "crashctl/util/time.h"
#include "tests/monitors/schedule_helpers.h"

namespace crashctl::monitors {
namespace {

using testing::Cron;
using testing::T;
using testing::Utc;

constexpr int64_t kMargin = 5 * 60;

TEST(MissedRunsTest, MissedOnlyAfterTheMargin) {
  const Schedule hourly = Cron("0 * * * *");
  const int64_t expected = T("2026-05-06T10:00:00Z");
  for (const char* now : {"2026-05-06T09:00:00Z", "2026-05-06T10:00:00Z",
                          "2026-05-06T10:04:59Z", "2026-05-06T10:05:00Z"}) {
    const MissedRunsResult r =
        FindMissedRuns(hourly, kMargin, expected, T(now));
    EXPECT_TRUE(r.missed.empty()) << now;
    EXPECT_EQ(r.missed_total, 0) << now;
    EXPECT_EQ(Utc(r.next_expected), Utc(expected)) << now;
  }
  const MissedRunsResult r =
      FindMissedRuns(hourly, kMargin, expected, T("2026-05-06T10:05:01Z"));
  ASSERT_EQ(r.missed.size(), 1u);
  EXPECT_EQ(Utc(r.missed[0].scheduled), Utc(expected));
  EXPECT_EQ(r.missed[0].last_scheduled, expected);
  EXPECT_EQ(r.missed[0].count, 1);
  EXPECT_FALSE(r.missed[0].count_is_lower_bound);
  EXPECT_EQ(r.missed_total, 1);
  EXPECT_EQ(Utc(r.next_expected), Utc(T("2026-05-06T11:00:00Z")));
  EXPECT_EQ(MissedDeadline(expected, kMargin), T("2026-05-06T10:05:00Z"));
  EXPECT_EQ(MissedDeadline(expected, -10), expected);
}

// Calling again with the persisted result (e.g. after a restart) reports
// nothing new; a later call reports only the later runs.
TEST(MissedRunsTest, PersistedStateNeverReportsARunTwice) {
  const Schedule s = Cron("*/15 * * * *");
  const int64_t now = T("2026-05-06T10:45:30Z");
  const MissedRunsResult first =
      FindMissedRuns(s, 60, T("2026-05-06T10:00:00Z"), now);
  ASSERT_EQ(first.missed.size(), 3u);
  EXPECT_EQ(Utc(first.missed[0].scheduled), Utc(T("2026-05-06T10:00:00Z")));
  EXPECT_EQ(Utc(first.missed[1].scheduled), Utc(T("2026-05-06T10:15:00Z")));
  EXPECT_EQ(Utc(first.missed[2].scheduled), Utc(T("2026-05-06T10:30:00Z")));
  EXPECT_EQ(Utc(first.next_expected), Utc(T("2026-05-06T10:45:00Z")));

  for (int64_t later : {now, now + 1, T("2026-05-06T10:46:00Z")}) {
    const MissedRunsResult again =
        FindMissedRuns(s, 60, *first.next_expected, later);
    EXPECT_TRUE(again.missed.empty()) << Utc(later);
    EXPECT_EQ(again.next_expected, first.next_expected);
  }
  const MissedRunsResult second =
      FindMissedRuns(s, 60, *first.next_expected, T("2026-05-06T11:01:01Z"));
  ASSERT_EQ(second.missed.size(), 2u);
  EXPECT_EQ(Utc(second.missed[0].scheduled), Utc(T("2026-05-06T10:45:00Z")));
  EXPECT_EQ(Utc(second.missed[1].scheduled), Utc(T("2026-05-06T11:00:00Z")));
}

// A crashctl that was down for a day reports the day's runs once, as one
// collapsed entry.
TEST(MissedRunsTest, LongOutageCollapsesIntoOneEntry) {
  const Schedule s = Cron("*/15 * * * *");
  const int64_t down = T("2026-05-06T00:00:00Z");
  const int64_t now = T("2026-05-07T00:10:00Z");
  MissedRunsOptions options;
  options.max_listed = 10;
  const MissedRunsResult r = FindMissedRuns(s, 60, down, now, options);
  ASSERT_EQ(r.missed.size(), 1u);
  EXPECT_EQ(Utc(r.missed[0].scheduled), Utc(down));
  EXPECT_EQ(Utc(r.missed[0].last_scheduled), Utc(T("2026-05-07T00:00:00Z")));
  EXPECT_EQ(r.missed[0].count, 97);  // 96 a day and the next midnight
  EXPECT_FALSE(r.missed[0].count_is_lower_bound);
  EXPECT_EQ(r.missed_total, 97);
  EXPECT_EQ(Utc(r.next_expected), Utc(T("2026-05-07T00:15:00Z")));
  EXPECT_TRUE(FindMissedRuns(s, 60, *r.next_expected, now).missed.empty());

  // Exactly max_listed missed: still one entry each.
  options.max_listed = 97;
  EXPECT_EQ(FindMissedRuns(s, 60, down, now, options).missed.size(), 97u);
  options.max_listed = 0;  // counts as 1
  EXPECT_EQ(FindMissedRuns(s, 60, down, now, options).missed.size(), 1u);
}

// max_scan bounds the work of a long outage of a dense schedule: the rest is
// skipped in one jump and the count is a lower bound.
TEST(MissedRunsTest, ScanLimitJumpsAheadWithALowerBound) {
  const Schedule every_minute = Cron("* * * * *");
  const int64_t down = T("2026-01-01T00:00:00Z");
  const int64_t now = T("2026-02-01T00:00:30Z");
  MissedRunsOptions options;
  options.max_scan = 1000;
  const MissedRunsResult r =
      FindMissedRuns(every_minute, 60, down, now, options);
  ASSERT_EQ(r.missed.size(), 1u);
  EXPECT_EQ(Utc(r.missed[0].scheduled), Utc(down));
  EXPECT_EQ(Utc(r.missed[0].last_scheduled), Utc(T("2026-01-31T23:59:00Z")));
  EXPECT_EQ(r.missed[0].count, 1001);
  EXPECT_TRUE(r.missed[0].count_is_lower_bound);
  EXPECT_EQ(Utc(r.next_expected), Utc(T("2026-02-01T00:00:00Z")));
  EXPECT_TRUE(FindMissedRuns(every_minute, 60, *r.next_expected, now, options)
                  .missed.empty());

  options.max_scan = 1000000;  // enough: the exact count
  const MissedRunsResult exact =
      FindMissedRuns(every_minute, 60, down, now, options);
  ASSERT_EQ(exact.missed.size(), 1u);
  EXPECT_EQ(exact.missed[0].count, 31 * 1440);
  EXPECT_FALSE(exact.missed[0].count_is_lower_bound);
  EXPECT_EQ(exact.missed[0].last_scheduled, r.missed[0].last_scheduled);
  EXPECT_EQ(exact.next_expected, r.next_expected);
}

TEST(MissedRunsTest, CheckInsMoveTheExpectedRun) {
  const Schedule hourly = Cron("0 * * * *");
  const int64_t ten = T("2026-05-06T10:00:00Z");
  const int64_t eleven = T("2026-05-06T11:00:00Z");
  // First check-in of a new monitor.
  EXPECT_EQ(Utc(NextExpectedAfterCheckIn(hourly, std::nullopt, ten + 5)),
            Utc(eleven));
  // On time, late within the margin, a little early (clock skew).
  for (int64_t start : {ten, ten + 5, ten + 299, ten - 30}) {
    EXPECT_EQ(Utc(NextExpectedAfterCheckIn(hourly, ten, start)), Utc(eleven))
        << Utc(start);
  }
  // Too early for the 10:00 run (a manual run), or a stale check-in replayed
  // from long ago: the 10:00 run is still expected.
  for (int64_t start : {ten - 31, ten - 1800, T("2026-05-06T08:00:00Z")}) {
    EXPECT_EQ(Utc(NextExpectedAfterCheckIn(hourly, ten, start)), Utc(ten))
        << Utc(start);
  }
  EXPECT_EQ(Utc(NextExpectedAfterCheckIn(hourly, ten, ten - 1, 0)), Utc(ten));
  EXPECT_EQ(Utc(NextExpectedAfterCheckIn(hourly, ten, ten, 0)), Utc(eleven));

  // A check-in after the margin: FindMissedRuns first (as the ingester is
  // told to) reports 10:00 missed; the check-in then leaves 11:00 expected.
  const int64_t late = T("2026-05-06T10:07:00Z");
  const MissedRunsResult r = FindMissedRuns(hourly, kMargin, ten, late);
  ASSERT_EQ(r.missed_total, 1);
  EXPECT_EQ(r.missed[0].scheduled, ten);
  EXPECT_EQ(Utc(NextExpectedAfterCheckIn(hourly, r.next_expected, late)),
            Utc(eleven));
}

TEST(MissedRunsTest, IntervalSchedule) {
  Schedule s;
  std::string error;
  const int64_t anchor = T("2026-05-06T10:00:00Z");
  ASSERT_TRUE(
      Schedule::MakeInterval(2, IntervalUnit::kHour, anchor, "", &s, &error))
      << error;
  const std::optional<int64_t> next =
      NextExpectedAfterCheckIn(s, std::nullopt, anchor);
  EXPECT_EQ(Utc(next), Utc(T("2026-05-06T12:00:00Z")));
  const MissedRunsResult r =
      FindMissedRuns(s, 60, *next, T("2026-05-06T16:30:00Z"));
  ASSERT_EQ(r.missed.size(), 3u);
  EXPECT_EQ(Utc(r.missed[2].scheduled), Utc(T("2026-05-06T16:00:00Z")));
  EXPECT_EQ(Utc(r.next_expected), Utc(T("2026-05-06T18:00:00Z")));
}

// At the end of the supported range the schedule has no next time: the
// result says so (std::nullopt) instead of looping.
TEST(MissedRunsTest, ScheduleWithoutFurtherTimes) {
  const Schedule s = Cron("59 23 31 12 *");
  const int64_t last = T("9999-12-31T23:59:00Z");
  const MissedRunsResult r = FindMissedRuns(s, 0, last, kMaxTime + 3600);
  EXPECT_EQ(r.missed_total, 1);
  EXPECT_FALSE(r.next_expected.has_value());
  EXPECT_FALSE(NextExpectedAfterCheckIn(s, last, last).has_value());
  const Schedule none;
  EXPECT_FALSE(NextExpectedAfterCheckIn(none, std::nullopt, 0).has_value());
  // Nonsense inputs stay bounded and do not move the state back.
  const MissedRunsResult odd = FindMissedRuns(
      Cron("* * * * *"), INT64_MAX, T("2026-01-01T00:00:00Z"), INT64_MIN);
  EXPECT_EQ(odd.missed_total, 0);
  EXPECT_EQ(Utc(odd.next_expected), Utc(T("2026-01-01T00:00:00Z")));
  const MissedRunsResult odd2 = FindMissedRuns(
      Cron("* * * * *"), -5, T("2026-01-01T00:00:00Z"), INT64_MAX);
  EXPECT_EQ(odd2.missed_total, 100001);  // default max_scan, then one jump
  EXPECT_TRUE(odd2.missed[0].count_is_lower_bound);
  EXPECT_FALSE(odd2.next_expected.has_value());  // past 9999
}

// A day of a */5 job driven by a simulated clock: the scheduler ticks every
// 37 s, the job checks in up to 60 s late or 10 s early, skips every 7th
// run, and crashctl is down from 10:00 to 12:00 (check-ins then are lost;
// only next_expected survives the restart). Every run without a processed
// check-in is reported missed exactly once; no other run is.
TEST(MissedRunsTest, SimulatedDayReportsEachMissedRunOnce) {
  const Schedule s = Cron("*/5 * * * *");
  const int64_t margin = 120;
  const int64_t day = T("2026-05-06T00:00:00Z");
  const int64_t end = day + 86400;
  const int64_t down_from = T("2026-05-06T10:00:00Z");
  const int64_t down_until = T("2026-05-06T12:00:00Z");
  auto up = [&](int64_t t) { return t < down_from || t >= down_until; };

  // Check-in arrival per run; skipped runs have none.
  std::map<int64_t, int64_t> arrivals;  // arrival -> scheduled
  std::set<int64_t> want_missed;
  int i = 0;
  for (int64_t at = day; at < end; at += 300, ++i) {
    const int64_t arrival = at + (i % 5 == 0 ? -10 : (i * 37) % 61);
    const bool skipped = i % 7 == 3 && i != 0;
    if (!skipped) arrivals[arrival] = at;
    if ((skipped || !up(arrival)) && at + margin < end) want_missed.insert(at);
  }

  std::optional<int64_t> next_expected;  // the persisted state
  std::vector<MissedRun> reported;
  auto run_scheduler = [&](int64_t now) {
    if (!next_expected) return;
    const MissedRunsResult r = FindMissedRuns(s, margin, *next_expected, now);
    ASSERT_TRUE(r.next_expected.has_value());
    ASSERT_GE(*r.next_expected, *next_expected);
    reported.insert(reported.end(), r.missed.begin(), r.missed.end());
    next_expected = r.next_expected;
  };
  auto arrival = arrivals.begin();
  for (int64_t now = day - 60; now <= end; now += 37) {
    // Check-ins that arrived since the last tick, in order.
    for (; arrival != arrivals.end() && arrival->first <= now; ++arrival) {
      if (!up(arrival->first)) continue;
      run_scheduler(arrival->first);
      next_expected =
          NextExpectedAfterCheckIn(s, next_expected, arrival->first);
    }
    if (up(now)) run_scheduler(now);
  }
  run_scheduler(end);

  std::multiset<int64_t> got;
  bool collapsed = false;
  for (const MissedRun& run : reported) {
    ASSERT_FALSE(run.count_is_lower_bound);
    int64_t n = 0;
    for (std::optional<int64_t> t = run.scheduled;
         t && *t <= run.last_scheduled; t = s.NextAfter(*t)) {
      got.insert(*t);
      ++n;
    }
    EXPECT_EQ(n, run.count) << Utc(run.scheduled);
    collapsed = collapsed || run.count > 1;
  }
  EXPECT_TRUE(collapsed);  // the outage came back as one entry
  EXPECT_EQ(std::vector<int64_t>(got.begin(), got.end()),
            std::vector<int64_t>(want_missed.begin(), want_missed.end()));
  EXPECT_GT(want_missed.size(), 40u);
}

TEST(TimeoutTest, ReportedOnceAfterMaxRuntime) {
  InProgressRun run;
  run.started = T("2026-05-06T10:00:00Z");
  EXPECT_EQ(run.max_runtime_seconds, 30 * 60);  // Sentry's default
  EXPECT_EQ(TimeoutDeadline(run), T("2026-05-06T10:30:00Z"));
  EXPECT_FALSE(ShouldReportTimeout(run, T("2026-05-06T10:00:00Z")));
  EXPECT_FALSE(ShouldReportTimeout(run, T("2026-05-06T10:30:00Z")));
  EXPECT_TRUE(ShouldReportTimeout(run, T("2026-05-06T10:30:01Z")));
  EXPECT_TRUE(ShouldReportTimeout(run, T("2026-05-07T10:30:01Z")));
  run.timeout_reported = true;  // the caller persisted the report
  EXPECT_FALSE(ShouldReportTimeout(run, T("2026-05-06T10:30:01Z")));
  EXPECT_FALSE(ShouldReportTimeout(run, T("2026-05-08T00:00:00Z")));

  InProgressRun odd;
  odd.started = INT64_MAX;
  odd.max_runtime_seconds = INT64_MAX;
  EXPECT_GT(TimeoutDeadline(odd), kMaxTime);  // saturates, never wraps
  EXPECT_FALSE(ShouldReportTimeout(odd, kMaxTime));
  odd.started = 1000;
  odd.max_runtime_seconds = -60;  // counts as 0
  EXPECT_EQ(TimeoutDeadline(odd), 1000);
  EXPECT_TRUE(ShouldReportTimeout(odd, 1001));
}

}  // namespace
}  // namespace crashctl::monitors
