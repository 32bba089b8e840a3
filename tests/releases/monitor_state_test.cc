// The monitor state machine with a controllable clock: missed runs, timeouts,
// failure/recovery thresholds, check-in ids, interval re-anchoring, schedule
// changes, bounds, order independence, the state's JSON form.
#include <gtest/gtest.h>

#include <string>

#include "crashctl/releases/check_in.h"

namespace crashctl::releases {
namespace {

constexpr int64_t k10h = 1767607200;  // 2026-01-05T10:00:00Z (a Monday)
constexpr int64_t kMin = 60;
constexpr int64_t kHour = 3600;

std::string Id(int n) {
  char buf[33];
  snprintf(buf, sizeof(buf), "%032x", n);
  return buf;
}

MonitorConfig Hourly(int64_t margin_minutes = 5,
                     std::optional<int64_t> failure = std::nullopt,
                     std::optional<int64_t> recovery = std::nullopt) {
  MonitorConfig c;
  c.schedule.type = ScheduleConfig::Type::kCrontab;
  c.schedule.crontab = "0 * * * *";
  c.checkin_margin_minutes = margin_minutes;
  c.max_runtime_minutes = 30;
  c.failure_issue_threshold = failure;
  c.recovery_threshold = recovery;
  return c;
}

CheckIn Make(CheckInStatus status, const std::string& id = kNilCheckInId,
             std::optional<MonitorConfig> config = std::nullopt) {
  CheckIn c;
  c.check_in_id = id;
  c.monitor_slug = "job";
  c.status = status;
  c.environment = "production";
  c.monitor_config = std::move(config);
  return c;
}

int64_t Count(const MonitorTransition& t, const char* status) {
  int64_t n = 0;
  for (const auto& r : t.records) {
    if (r.status == status)
      n += r.kind == CheckInRecord::Kind::kMissed ? r.missed_count : 1;
  }
  return n;
}

TEST(MonitorStateTest, HourlyJobMissesARunAndRecovers) {
  MonitorState st;
  // 10:00:05 the job starts, with its config; 10:01 it ends.
  MonitorTransition t = ApplyCheckIn(
      st, Make(CheckInStatus::kInProgress, Id(1), Hourly()), k10h + 5);
  ASSERT_EQ(t.records.size(), 1u);
  EXPECT_EQ(t.records[0].kind, CheckInRecord::Kind::kCheckIn);
  EXPECT_EQ(t.records[0].status, "in_progress");
  EXPECT_EQ(t.state.next_expected, k10h + kHour);
  EXPECT_EQ(t.last_checkin_timestamp, k10h + 5);
  st = t.state;
  t = ApplyCheckIn(st, Make(CheckInStatus::kOk, Id(1)), k10h + kMin);
  ASSERT_EQ(t.records.size(), 1u);
  EXPECT_EQ(t.records[0].kind, CheckInRecord::Kind::kRunFinished);
  EXPECT_EQ(t.records[0].run_started, k10h + 5);
  EXPECT_EQ(t.records[0].duration_seconds, 55.0);  // computed: none sent
  EXPECT_TRUE(t.alerts.empty());
  st = t.state;
  EXPECT_EQ(NextMonitorDeadline(st), k10h + kHour + 5 * kMin + 1);

  // 11:05 (the margin) passes without a check-in: nothing yet at 11:05.
  t = TickMonitor(st, k10h + kHour + 5 * kMin);
  EXPECT_TRUE(t.records.empty());
  t = TickMonitor(st, k10h + kHour + 5 * kMin + 1);
  ASSERT_EQ(t.records.size(), 1u);
  EXPECT_EQ(t.records[0].kind, CheckInRecord::Kind::kMissed);
  EXPECT_EQ(t.records[0].run_started, k10h + kHour);
  EXPECT_EQ(t.missed_total, 1);
  ASSERT_EQ(t.alerts.size(), 1u);
  EXPECT_EQ(t.alerts[0].kind, MonitorAlert::Kind::kRaise);
  EXPECT_EQ(t.alerts[0].reason, "missed");
  EXPECT_EQ(t.state.next_expected, k10h + 2 * kHour);
  st = t.state;
  // The same tick again reports nothing (once each).
  EXPECT_TRUE(TickMonitor(st, k10h + kHour + 5 * kMin + 1).records.empty());

  // 12:00 the job runs and succeeds: the incident is resolved.
  t = ApplyCheckIn(st, Make(CheckInStatus::kOk), k10h + 2 * kHour + 10);
  ASSERT_EQ(t.alerts.size(), 1u);
  EXPECT_EQ(t.alerts[0].kind, MonitorAlert::Kind::kResolve);
  EXPECT_FALSE(t.state.incident_open);
  EXPECT_EQ(t.state.next_expected, k10h + 3 * kHour);
}

TEST(MonitorStateTest, FailureAndRecoveryThresholds) {
  MonitorState st;
  auto apply = [&](CheckInStatus s, int64_t at) {
    MonitorTransition t =
        ApplyCheckIn(st, Make(s, kNilCheckInId, Hourly(5, 2, 2)), at);
    st = t.state;
    return t;
  };
  EXPECT_TRUE(apply(CheckInStatus::kError, k10h).alerts.empty());
  MonitorTransition t = apply(CheckInStatus::kError, k10h + kHour);
  ASSERT_EQ(t.alerts.size(), 1u);
  EXPECT_EQ(t.alerts[0].kind, MonitorAlert::Kind::kRaise);
  EXPECT_EQ(t.alerts[0].reason, "error");
  EXPECT_EQ(t.alerts[0].consecutive, 2);
  // A third failure raises nothing new; one ok does not resolve yet.
  EXPECT_TRUE(apply(CheckInStatus::kError, k10h + 2 * kHour).alerts.empty());
  EXPECT_TRUE(apply(CheckInStatus::kOk, k10h + 3 * kHour).alerts.empty());
  t = apply(CheckInStatus::kOk, k10h + 4 * kHour);
  ASSERT_EQ(t.alerts.size(), 1u);
  EXPECT_EQ(t.alerts[0].kind, MonitorAlert::Kind::kResolve);
  // An error between two oks starts the count again.
  EXPECT_TRUE(apply(CheckInStatus::kError, k10h + 5 * kHour).alerts.empty());
  EXPECT_TRUE(apply(CheckInStatus::kOk, k10h + 6 * kHour).alerts.empty());
  EXPECT_TRUE(apply(CheckInStatus::kError, k10h + 7 * kHour).alerts.empty());
  EXPECT_EQ(st.consecutive_failures, 1);
  // in_progress changes nothing.
  EXPECT_TRUE(
      apply(CheckInStatus::kInProgress, k10h + 8 * kHour).alerts.empty());
  EXPECT_EQ(st.consecutive_failures, 1);
}

TEST(MonitorStateTest, TimeoutThenLateOkIsIgnored) {
  MonitorState st;
  MonitorTransition t =
      ApplyCheckIn(st, Make(CheckInStatus::kInProgress, Id(2), Hourly()), k10h);
  st = t.state;
  EXPECT_EQ(NextMonitorDeadline(st), k10h + 30 * kMin + 1);
  EXPECT_TRUE(TickMonitor(st, k10h + 30 * kMin).records.empty());
  t = TickMonitor(st, k10h + 30 * kMin + 1);
  ASSERT_EQ(t.records.size(), 1u);
  EXPECT_EQ(t.records[0].kind, CheckInRecord::Kind::kTimeout);
  EXPECT_EQ(t.records[0].status, "timeout");
  EXPECT_EQ(t.records[0].check_in_id, Id(2));
  ASSERT_EQ(t.alerts.size(), 1u);
  EXPECT_EQ(t.alerts[0].reason, "timeout");
  EXPECT_TRUE(t.state.open_runs.empty());
  st = t.state;
  t = ApplyCheckIn(st, Make(CheckInStatus::kOk, Id(2)), k10h + 40 * kMin);
  EXPECT_TRUE(t.ignored);
  EXPECT_TRUE(t.records.empty());
  EXPECT_FALSE(t.last_checkin_timestamp);

  // A terminal check-in arriving after the deadline, before any tick: the
  // run times out first (as if the tick had come), and the ok is ignored.
  st = MonitorState();
  st = ApplyCheckIn(st, Make(CheckInStatus::kInProgress, Id(3), Hourly()), k10h)
           .state;
  t = ApplyCheckIn(st, Make(CheckInStatus::kOk, Id(3)), k10h + 45 * kMin);
  EXPECT_TRUE(t.ignored);
  EXPECT_EQ(Count(t, "timeout"), 1);
}

TEST(MonitorStateTest, CheckInIds) {
  MonitorState st;
  st = ApplyCheckIn(st, Make(CheckInStatus::kInProgress, Id(1), Hourly()), k10h)
           .state;
  // A retried in_progress is a duplicate.
  MonitorTransition t =
      ApplyCheckIn(st, Make(CheckInStatus::kInProgress, Id(1)), k10h + 1);
  EXPECT_TRUE(t.ignored);
  st =
      ApplyCheckIn(st, Make(CheckInStatus::kInProgress, Id(2)), k10h + 2).state;
  ASSERT_EQ(st.open_runs.size(), 2u);
  // The nil id ends the most recent run in progress.
  t = ApplyCheckIn(st, Make(CheckInStatus::kOk), k10h + 10);
  ASSERT_EQ(t.records.size(), 1u);
  EXPECT_EQ(t.records[0].kind, CheckInRecord::Kind::kRunFinished);
  EXPECT_EQ(t.records[0].check_in_id, Id(2));
  st = t.state;
  // An id without a run: a standalone check-in; its duration dates the run.
  CheckIn done = Make(CheckInStatus::kOk, Id(9));
  done.duration_seconds = 120;
  t = ApplyCheckIn(st, done, k10h + 20);
  EXPECT_EQ(t.records[0].kind, CheckInRecord::Kind::kCheckIn);
  EXPECT_EQ(t.records[0].run_started, k10h + 20 - 120);
  st = t.state;
  // Run 1 still open; ending it by id.
  t = ApplyCheckIn(st, Make(CheckInStatus::kError, Id(1)), k10h + 30);
  EXPECT_EQ(t.records[0].kind, CheckInRecord::Kind::kRunFinished);
  EXPECT_TRUE(t.state.open_runs.empty());
  // ... twice: the second is ignored.
  EXPECT_TRUE(
      ApplyCheckIn(t.state, Make(CheckInStatus::kError, Id(1)), k10h + 31)
          .ignored);
}

TEST(MonitorStateTest, OpenRunsAreBounded) {
  MonitorState st;
  MonitorTransition t;
  for (int i = 0; i < static_cast<int>(kMaxOpenRuns) + 3; ++i) {
    t = ApplyCheckIn(
        st, Make(CheckInStatus::kInProgress, Id(100 + i), Hourly()), k10h + i);
    st = t.state;
    EXPECT_LE(st.open_runs.size(), kMaxOpenRuns);
  }
  EXPECT_EQ(st.open_runs.size(), kMaxOpenRuns);
  EXPECT_EQ(st.open_runs.front().check_in_id, Id(103));
  EXPECT_EQ(Count(t, "timeout"), 1);
  EXPECT_LE(st.finished_ids.size(), kMaxFinishedIds);
}

TEST(MonitorStateTest, IntervalCountsFromTheLatestRun) {
  MonitorConfig every2h;
  every2h.schedule.type = ScheduleConfig::Type::kInterval;
  every2h.schedule.interval_value = 2;
  every2h.schedule.interval_unit = "hour";
  MonitorState st;
  MonitorTransition t = ApplyCheckIn(
      st, Make(CheckInStatus::kOk, kNilCheckInId, every2h), k10h + 30);
  EXPECT_EQ(t.state.schedule_anchor, k10h);  // truncated to the minute
  EXPECT_EQ(t.state.next_expected, k10h + 2 * kHour);
  st = t.state;
  // A run at 11:10 (early): Sentry expects the next one at 13:10.
  t = ApplyCheckIn(st, Make(CheckInStatus::kOk), k10h + kHour + 10 * kMin);
  EXPECT_EQ(t.state.next_expected, k10h + 3 * kHour + 10 * kMin);
  st = t.state;
  // Missed at 13:10 + 1 minute (default margin) and again at 15:10.
  t = TickMonitor(st, k10h + 5 * kHour + 12 * kMin);
  EXPECT_EQ(t.missed_total, 2);
  EXPECT_EQ(t.state.next_expected, k10h + 7 * kHour + 10 * kMin);
}

TEST(MonitorStateTest, MonitorWithoutScheduleNeverMisses) {
  MonitorState st;
  MonitorTransition t = ApplyCheckIn(st, Make(CheckInStatus::kOk), k10h);
  EXPECT_FALSE(t.state.next_expected);
  st = t.state;
  t = TickMonitor(st, k10h + 100 * kHour);
  EXPECT_TRUE(t.records.empty());
  EXPECT_FALSE(NextMonitorDeadline(st));
  t = ApplyCheckIn(st, Make(CheckInStatus::kError), k10h + 101 * kHour);
  ASSERT_EQ(t.alerts.size(), 1u);
  EXPECT_EQ(t.alerts[0].kind, MonitorAlert::Kind::kRaise);
}

TEST(MonitorStateTest, ScheduleChangeStartsFromNow) {
  MonitorState st;
  st = ApplyCheckIn(st, Make(CheckInStatus::kOk, kNilCheckInId, Hourly()),
                    k10h + 10)
           .state;
  EXPECT_EQ(st.next_expected, k10h + kHour);
  MonitorConfig daily = Hourly();
  daily.schedule.crontab = "30 18 * * *";
  MonitorTransition t = ApplyCheckIn(
      st, Make(CheckInStatus::kInProgress, Id(5), daily), k10h + 20 * kMin);
  EXPECT_EQ(t.state.config->schedule.crontab, "30 18 * * *");
  EXPECT_EQ(t.state.next_expected, k10h + 8 * kHour + 30 * kMin);
  EXPECT_EQ(t.missed_total, 0);
  // The same config again changes nothing.
  MonitorTransition same = ApplyCheckIn(
      t.state, Make(CheckInStatus::kOk, Id(5), daily), k10h + 25 * kMin);
  EXPECT_EQ(same.state.next_expected, k10h + 8 * kHour + 30 * kMin);
}

TEST(MonitorStateTest, TickAndCheckInInEitherOrder) {
  MonitorState st;
  st = ApplyCheckIn(st, Make(CheckInStatus::kOk, kNilCheckInId, Hourly()), k10h)
           .state;
  // Two hours later a check-in arrives; the scheduler may or may not have
  // ticked in between.
  const int64_t at = k10h + 2 * kHour + 7 * kMin;
  MonitorTransition direct = ApplyCheckIn(st, Make(CheckInStatus::kOk), at);
  MonitorTransition tick = TickMonitor(st, at);
  MonitorTransition after =
      ApplyCheckIn(tick.state, Make(CheckInStatus::kOk), at);
  EXPECT_EQ(direct.missed_total, tick.missed_total + after.missed_total);
  EXPECT_EQ(direct.missed_total, 2);  // 11:00 and 12:00 (12:05 passed)
  EXPECT_EQ(MonitorStateToJson(direct.state), MonitorStateToJson(after.state));
  EXPECT_EQ(direct.state.next_expected, k10h + 3 * kHour);
}

TEST(MonitorStateTest, JsonRoundTrip) {
  MonitorState st;
  MonitorConfig c = Hourly(7, 3, 2);
  c.timezone = "Europe/Vienna";
  st = ApplyCheckIn(st, Make(CheckInStatus::kInProgress, Id(1), c), k10h).state;
  st = ApplyCheckIn(st, Make(CheckInStatus::kError, Id(1)), k10h + 5).state;
  st =
      ApplyCheckIn(st, Make(CheckInStatus::kInProgress, Id(2)), k10h + 9).state;
  const std::string json = MonitorStateToJson(st);
  MonitorState back;
  ASSERT_TRUE(MonitorStateFromJson(json, &back).ok()) << json;
  EXPECT_EQ(MonitorStateToJson(back), json);
  EXPECT_EQ(back.config->timezone, "Europe/Vienna");
  EXPECT_EQ(back.config->failure_issue_threshold, 3);
  EXPECT_EQ(back.open_runs.size(), 1u);
  EXPECT_EQ(back.finished_ids.size(), 1u);
  EXPECT_EQ(back.consecutive_failures, 1);
  EXPECT_EQ(back.last_status, CheckInStatus::kInProgress);
  // An empty state too.
  ASSERT_TRUE(
      MonitorStateFromJson(MonitorStateToJson(MonitorState()), &back).ok());
  EXPECT_FALSE(back.config);
  EXPECT_FALSE(back.next_expected);

  const char* bad[] = {
      "[]",
      R"({"next_expected":"soon"})",
      R"({"consecutive_failures":-1})",
      R"({"open_runs":[{"check_in_id":"XYZ","started":1}]})",
      R"({"finished_ids":[1]})",
      R"({"config":{"schedule":{"type":"crontab","value":"nope"}}})",
      R"({"last_status":"missed"})",
  };
  for (const char* j : bad) {
    EXPECT_TRUE(MonitorStateFromJson(j, &back).IsInvalid()) << j;
  }
}

}  // namespace
}  // namespace crashctl::releases
