#include "crashctl/monitors/schedule.h"

#include <gtest/gtest.h>
#include <time.h>

#include <cstdint>
#include <string>
#include <vector>

#include "crashctl/util/time.h"
#include "tests/monitors/schedule_helpers.h"

namespace crashctl::monitors {
namespace {

using testing::Cron;
using testing::T;
using testing::Utc;

struct SequenceCase {
  const char* expr;
  const char* tz;
  const char* start;
  std::vector<const char*> want;  // successive NextAfter results
};

void ExpectSequence(const Schedule& s, const SequenceCase& c) {
  int64_t t = T(c.start);
  for (const char* want : c.want) {
    const std::optional<int64_t> next = s.NextAfter(t);
    ASSERT_TRUE(next.has_value()) << c.expr << " after " << Utc(t);
    EXPECT_EQ(Utc(next), Utc(T(want)))
        << c.expr << " (" << c.tz << ") after " << Utc(t);
    t = *next;
  }
}

TEST(CrontabTest, NextAfterKnownSchedules) {
  const SequenceCase cases[] = {
      {"*/15 * * * *",
       "",
       "2026-05-01T10:07:00Z",
       {"2026-05-01T10:15:00Z", "2026-05-01T10:30:00Z", "2026-05-01T10:45:00Z",
        "2026-05-01T11:00:00Z"}},
      // Strictly after: a scheduled time itself is not returned.
      {"*/15 * * * *", "", "2026-05-01T10:15:00Z", {"2026-05-01T10:30:00Z"}},
      {"*/15 * * * *", "", "2026-05-01T10:14:59Z", {"2026-05-01T10:15:00Z"}},
      // 2026-05-01 is a Friday.
      {"0 9 * * MON-FRI",
       "",
       "2026-05-01T09:00:00Z",
       {"2026-05-04T09:00:00Z", "2026-05-05T09:00:00Z", "2026-05-06T09:00:00Z",
        "2026-05-07T09:00:00Z", "2026-05-08T09:00:00Z",
        "2026-05-11T09:00:00Z"}},
      {"0 9 * * mon-fri", "", "2026-05-02T00:00:00Z", {"2026-05-04T09:00:00Z"}},
      {"0 9 * * 1-5",
       "Europe/Vienna",
       "2026-05-01T07:00:00Z",
       {"2026-05-04T09:00:00+02:00"}},
      {"0 0 1 * *",
       "",
       "2026-01-15T00:00:00Z",
       {"2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z",
        "2026-04-01T00:00:00Z"}},
      {"0 0 1 * *",
       "",
       "2026-12-01T00:00:00Z",
       {"2027-01-01T00:00:00Z", "2027-02-01T00:00:00Z"}},
      {"0 0 31 * *",
       "",
       "2026-01-31T00:00:00Z",
       {"2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z", "2026-07-31T00:00:00Z",
        "2026-08-31T00:00:00Z"}},
      {"0 0 29 2 *",
       "",
       "2026-01-01T00:00:00Z",
       {"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"}},
      // 2026-05-06 is a Wednesday; @weekly is Sunday 00:00.
      {"@weekly",
       "",
       "2026-05-06T12:00:00Z",
       {"2026-05-10T00:00:00Z", "2026-05-17T00:00:00Z"}},
      {"@WEEKLY", "", "2026-05-10T00:00:00Z", {"2026-05-17T00:00:00Z"}},
      {"@hourly", "", "2026-05-06T12:00:00Z", {"2026-05-06T13:00:00Z"}},
      {"@daily", "", "2026-05-06T12:00:00Z", {"2026-05-07T00:00:00Z"}},
      {"@midnight", "", "2026-05-06T12:00:00Z", {"2026-05-07T00:00:00Z"}},
      {"@monthly", "", "2026-05-06T12:00:00Z", {"2026-06-01T00:00:00Z"}},
      {"@yearly", "", "2026-05-06T12:00:00Z", {"2027-01-01T00:00:00Z"}},
      {"@annually", "", "2026-05-06T12:00:00Z", {"2027-01-01T00:00:00Z"}},
      // Both day fields restricted: the 13th OR a Friday (Vixie cron).
      {"0 0 13 * FRI",
       "",
       "2026-02-01T00:00:00Z",
       {"2026-02-06T00:00:00Z", "2026-02-13T00:00:00Z", "2026-02-20T00:00:00Z",
        "2026-02-27T00:00:00Z", "2026-03-06T00:00:00Z", "2026-03-13T00:00:00Z",
        "2026-03-20T00:00:00Z"}},
      {"0 0 1,15 * MON",
       "",
       "2026-06-01T00:00:00Z",  // a Monday, the 1st
       {"2026-06-08T00:00:00Z", "2026-06-15T00:00:00Z", "2026-06-22T00:00:00Z",
        "2026-06-29T00:00:00Z", "2026-07-01T00:00:00Z"}},
      // A day field starting with '*' (here "*/10") counts as unrestricted:
      // then both must match (Vixie's DOM_STAR): days 1, 11, 21, 31 that are
      // Fridays.
      {"0 0 */10 * FRI",
       "",
       "2026-01-01T00:00:00Z",
       {"2026-05-01T00:00:00Z", "2026-07-31T00:00:00Z", "2026-08-21T00:00:00Z",
        "2026-09-11T00:00:00Z"}},
      // 7 and SUN are Sunday; SUN ending a range is 7.
      {"0 12 * * 7", "", "2026-05-06T00:00:00Z", {"2026-05-10T12:00:00Z"}},
      {"0 12 * * 0", "", "2026-05-06T00:00:00Z", {"2026-05-10T12:00:00Z"}},
      {"0 12 * * FRI-SUN",
       "",
       "2026-05-06T00:00:00Z",
       {"2026-05-08T12:00:00Z", "2026-05-09T12:00:00Z", "2026-05-10T12:00:00Z",
        "2026-05-15T12:00:00Z"}},
      {"10-50/10 * * * *",
       "",
       "2026-05-06T10:00:00Z",
       {"2026-05-06T10:10:00Z", "2026-05-06T10:20:00Z", "2026-05-06T10:30:00Z",
        "2026-05-06T10:40:00Z", "2026-05-06T10:50:00Z",
        "2026-05-06T11:10:00Z"}},
      {"0 1,2,5-7 * * *",
       "",
       "2026-05-06T00:30:00Z",
       {"2026-05-06T01:00:00Z", "2026-05-06T02:00:00Z", "2026-05-06T05:00:00Z",
        "2026-05-06T06:00:00Z", "2026-05-06T07:00:00Z",
        "2026-05-07T01:00:00Z"}},
      {"0 0 1 jan,Jul *",
       "",
       "2026-05-06T00:00:00Z",
       {"2026-07-01T00:00:00Z", "2027-01-01T00:00:00Z"}},
      {"0 0 1 JAN-MAR/2 *",
       "",
       "2026-01-01T00:00:00Z",
       {"2026-03-01T00:00:00Z", "2027-01-01T00:00:00Z"}},
      {"  0\t0  1 * *  ", "", "2026-05-06T00:00:00Z", {"2026-06-01T00:00:00Z"}},
  };
  for (const SequenceCase& c : cases) ExpectSequence(Cron(c.expr, c.tz), c);
}

// Europe/Vienna: 2026-03-29 02:00 CET -> 03:00 CEST (last Sunday of March),
// 2026-10-25 03:00 CEST -> 02:00 CET (last Sunday of October).
// America/New_York: 2026-03-08 02:00 EST -> 03:00 EDT, 2026-11-01 02:00 EDT
// -> 01:00 EST.
TEST(CrontabTest, DaylightSavingTime) {
  const SequenceCase cases[] = {
      // 02:30 does not exist on 03-29: it runs once, at 03:00 CEST (the first
      // instant after the gap).
      {"30 2 * * *",
       "Europe/Vienna",
       "2026-03-27T12:00:00Z",
       {"2026-03-28T02:30:00+01:00", "2026-03-29T03:00:00+02:00",
        "2026-03-30T02:30:00+02:00"}},
      // 02:30 occurs twice on 10-25: it runs once, at the first (CEST) one.
      {"30 2 * * *",
       "Europe/Vienna",
       "2026-10-23T12:00:00Z",
       {"2026-10-24T02:30:00+02:00", "2026-10-25T02:30:00+02:00",
        "2026-10-26T02:30:00+01:00"}},
      // Asked during the second 02:30 (CET): the day's run already happened.
      {"30 2 * * *",
       "Europe/Vienna",
       "2026-10-25T02:10:00+01:00",
       {"2026-10-26T02:30:00+01:00"}},
      {"*/15 * * * *",
       "Europe/Vienna",
       "2026-03-29T01:40:00+01:00",
       {"2026-03-29T01:45:00+01:00", "2026-03-29T03:00:00+02:00",
        "2026-03-29T03:15:00+02:00"}},
      // The repeated hour runs once: 02:00-02:45 CEST, not again in CET.
      {"*/15 * * * *",
       "Europe/Vienna",
       "2026-10-25T02:40:00+02:00",
       {"2026-10-25T02:45:00+02:00", "2026-10-25T03:00:00+01:00",
        "2026-10-25T03:15:00+01:00"}},
      {"*/15 * * * *",
       "Europe/Vienna",
       "2026-10-25T02:20:00+01:00",  // inside the second pass
       {"2026-10-25T03:00:00+01:00"}},
      // 02:00 EST does not exist: it collapses with 03:00 EDT into one run.
      {"0 * * * *",
       "America/New_York",
       "2026-03-08T00:30:00-05:00",
       {"2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00",
        "2026-03-08T04:00:00-04:00"}},
      // 01:00 occurs twice: once (EDT), then 02:00 EST two hours later.
      {"0 * * * *",
       "America/New_York",
       "2026-11-01T00:30:00-04:00",
       {"2026-11-01T01:00:00-04:00", "2026-11-01T02:00:00-05:00",
        "2026-11-01T03:00:00-05:00"}},
      {"0 9 * * *",
       "America/New_York",
       "2026-03-07T00:00:00Z",
       {"2026-03-07T09:00:00-05:00", "2026-03-08T09:00:00-04:00"}},
      // Samoa skipped 2011-12-30 entirely (-10:00 -> +14:00 at midnight):
      // that day's 12:00 runs at the first instant after the gap.
      {"0 12 * * *",
       "Pacific/Apia",
       "2011-12-29T00:00:00-10:00",
       {"2011-12-29T12:00:00-10:00", "2011-12-31T00:00:00+14:00",
        "2011-12-31T12:00:00+14:00"}},
      // Lord Howe Island moves its clocks by 30 minutes (2026-04-05 02:00
      // +11:00 -> 01:30 +10:30): 01:45 occurs twice and runs once.
      {"45 1 * * *",
       "Australia/Lord_Howe",
       "2026-04-04T12:00:00+11:00",
       {"2026-04-05T01:45:00+11:00", "2026-04-06T01:45:00+10:30"}},
      {"0 12 * * *",
       "Asia/Kolkata",  // +05:30
       "2026-05-06T00:00:00Z",
       {"2026-05-06T12:00:00+05:30"}},
  };
  for (const SequenceCase& c : cases) ExpectSequence(Cron(c.expr, c.tz), c);
}

TEST(CrontabTest, PreviousAtOrBefore) {
  struct Case {
    const char* expr;
    const char* tz;
    const char* at;
    const char* want;
  };
  const Case cases[] = {
      {"*/15 * * * *", "", "2026-05-01T10:07:00Z", "2026-05-01T10:00:00Z"},
      {"*/15 * * * *", "", "2026-05-01T10:15:00Z", "2026-05-01T10:15:00Z"},
      {"0 9 * * MON-FRI", "", "2026-05-04T08:59:59Z", "2026-05-01T09:00:00Z"},
      {"0 0 1 * *", "", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"},
      {"0 0 1 * *", "", "2025-12-31T23:59:59Z", "2025-12-01T00:00:00Z"},
      {"0 0 29 2 *", "", "2031-01-01T00:00:00Z", "2028-02-29T00:00:00Z"},
      {"30 2 * * *", "Europe/Vienna", "2026-03-29T12:00:00+02:00",
       "2026-03-29T03:00:00+02:00"},
      {"30 2 * * *", "Europe/Vienna", "2026-10-25T02:10:00+01:00",
       "2026-10-25T02:30:00+02:00"},
      {"*/15 * * * *", "Europe/Vienna", "2026-10-25T02:50:00+01:00",
       "2026-10-25T02:45:00+02:00"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Utc(Cron(c.expr, c.tz).PreviousAtOrBefore(T(c.at))),
              Utc(T(c.want)))
        << c.expr << " (" << c.tz << ") at " << c.at;
  }
}

// Next/Previous agree with each other around DST changes: for every t,
// p = Previous(t) <= t < n = Next(t), Next(p) == n and Previous(n - 1) == p.
TEST(CrontabTest, NextAndPreviousAreConsistent) {
  const std::pair<const char*, const char*> schedules[] = {
      {"*/15 * * * *", "Europe/Vienna"},
      {"30 2 * * *", "Europe/Vienna"},
      {"0 * * * *", "America/New_York"},
      {"* * * * *", "Europe/Vienna"},
      {"0 0 13 * FRI", "Australia/Lord_Howe"},  // 30-minute DST shift
      {"59 1 * * *", "America/New_York"},
      {"*/10 * * * *", "Antarctica/Troll"},  // +00:00 <-> +02:00
      {"0 0 * * *", "America/Santiago"},     // changes at midnight
      {"0 12 * * *", "Pacific/Apia"},
  };
  const char* windows[] = {"2026-03-28T20:00:00Z", "2026-10-24T20:00:00Z",
                           "2026-03-07T20:00:00Z", "2026-10-31T20:00:00Z",
                           "2026-04-04T10:00:00Z", "2026-04-04T20:00:00Z",
                           "2026-09-05T20:00:00Z", "2011-12-29T12:00:00Z"};
  for (const auto& [expr, tz] : schedules) {
    const Schedule s = Cron(expr, tz);
    for (const char* window : windows) {
      for (int64_t t = T(window); t < T(window) + 16 * 3600; t += 7 * 60 + 13) {
        const std::optional<int64_t> p = s.PreviousAtOrBefore(t);
        const std::optional<int64_t> n = s.NextAfter(t);
        ASSERT_TRUE(p && n) << expr << " " << tz << " at " << Utc(t);
        ASSERT_LE(*p, t) << expr << " " << tz << " at " << Utc(t);
        ASSERT_GT(*n, t) << expr << " " << tz << " at " << Utc(t);
        ASSERT_EQ(Utc(s.NextAfter(*p)), Utc(n))
            << expr << " " << tz << " at " << Utc(t);
        ASSERT_EQ(Utc(s.PreviousAtOrBefore(*n - 1)), Utc(p))
            << expr << " " << tz << " at " << Utc(t);
      }
    }
  }
}

// In UTC every matching minute is a run: compare with a minute-by-minute
// scan that applies the crontab rules directly.
TEST(CrontabTest, MatchesBruteForceInUtc) {
  struct Case {
    const char* expr;
    // Brute-force predicate on (minute, hour, dom, month, dow).
    bool (*match)(int, int, int, int, int);
  };
  const Case cases[] = {
      {"*/7 3-5 * * *", [](int mi, int h, int, int,
                           int) { return mi % 7 == 0 && h >= 3 && h <= 5; }},
      {"0 0 13 * FRI",
       [](int mi, int h, int d, int, int w) {
         return mi == 0 && h == 0 && (d == 13 || w == 5);
       }},
      {"30 23 * FEB,AUG SAT,SUN",
       [](int mi, int h, int, int mo, int w) {
         return mi == 30 && h == 23 && (mo == 2 || mo == 8) &&
                (w == 6 || w == 0);
       }},
      {"15 10 */5 * *", [](int mi, int h, int d, int,
                           int) { return mi == 15 && h == 10 && d % 5 == 1; }},
      {"0 6 1-7 * MON",  // OR: the first week, or any Monday
       [](int mi, int h, int d, int, int w) {
         return mi == 0 && h == 6 && (d <= 7 || w == 1);
       }},
      {"0 6 */2 * MON",  // AND: odd days that are Mondays
       [](int mi, int h, int d, int, int w) {
         return mi == 0 && h == 6 && d % 2 == 1 && w == 1;
       }},
      {"5 4 31 * *", [](int mi, int h, int d, int,
                        int) { return mi == 5 && h == 4 && d == 31; }},
  };
  const int64_t start = T("2027-12-20T00:00:00Z");
  const int64_t end = start + 100 * 86400;
  for (const Case& c : cases) {
    const Schedule s = Cron(c.expr);
    std::vector<int64_t> want;
    for (int64_t t = start + 60; t <= end; t += 60) {
      const time_t tt = static_cast<time_t>(t);
      struct tm tm;
      gmtime_r(&tt, &tm);
      if (c.match(tm.tm_min, tm.tm_hour, tm.tm_mday, tm.tm_mon + 1,
                  tm.tm_wday)) {
        want.push_back(t);
      }
    }
    std::vector<int64_t> got;
    for (std::optional<int64_t> t = s.NextAfter(start); t && *t <= end;
         t = s.NextAfter(*t)) {
      got.push_back(*t);
    }
    EXPECT_EQ(got, want) << c.expr;
    EXPECT_FALSE(want.empty()) << c.expr;
  }
}

TEST(CrontabTest, ParseErrorsNameTheFieldAndToken) {
  struct Case {
    const char* expr;
    const char* want;  // substring of the error
  };
  const Case cases[] = {
      {"60 * * * *",
       "minute field \"60\": bad token \"60\": \"60\" is out of range 0-59"},
      {"*/0 * * * *",
       "minute field \"*/0\": bad token \"*/0\": step \"0\" is out of range "
       "1-60"},
      {"*/61 * * * *",
       "minute field \"*/61\": bad token \"*/61\": step \"61\" is out of range "
       "1-60"},
      {"5/15 * * * *",
       "minute field \"5/15\": bad token \"5/15\": a step (/N) needs * or a "
       "range"},
      {"*/ * * * *", "minute field \"*/\": bad token \"*/\": missing step"},
      {"1,,2 * * * *",
       "minute field \"1,,2\": bad token \"\": empty list element"},
      {"1, * * * *", "minute field \"1,\": bad token \"\": empty list element"},
      {"5-1 * * * *",
       "minute field \"5-1\": bad token \"5-1\": range start 5 is after its "
       "end 1"},
      {"1-2-3 * * * *",
       "minute field \"1-2-3\": bad token \"1-2-3\": \"2-3\" is not a number"},
      {"-5 * * * *", "minute field \"-5\": bad token \"-5\": missing number"},
      {"? * * * *",
       "minute field \"?\": bad token \"?\": \"?\" is not a number"},
      {"1a * * * *",
       "minute field \"1a\": bad token \"1a\": \"1a\" is not a number"},
      {"99999999999 * * * *",
       "minute field \"99999999999\": bad token \"99999999999\": "
       "\"99999999999\" is out of range 0-59"},
      {"* 24 * * *",
       "hour field \"24\": bad token \"24\": \"24\" is out of range 0-23"},
      {"* 1-25 * * *",
       "hour field \"1-25\": bad token \"1-25\": \"25\" is out of range 0-23"},
      {"* * 0 * *",
       "day-of-month field \"0\": bad token \"0\": \"0\" is out of range 1-31"},
      {"* * 32 * *",
       "day-of-month field \"32\": bad token \"32\": \"32\" is out of range "
       "1-31"},
      {"* * L * *",
       "day-of-month field \"L\": bad token \"L\": \"L\" is not a number"},
      {"* * 15W * *",
       "day-of-month field \"15W\": bad token \"15W\": \"15W\" is not a "
       "number"},
      {"* * * 13 *",
       "month field \"13\": bad token \"13\": \"13\" is out of range 1-12"},
      {"* * * 0 *",
       "month field \"0\": bad token \"0\": \"0\" is out of range 1-12"},
      {"* * * JANUARY *",
       "month field \"JANUARY\": bad token \"JANUARY\": \"JANUARY\" is not a "
       "number or a name (JAN-DEC)"},
      {"* * * MON *",
       "month field \"MON\": bad token \"MON\": \"MON\" is not a number or a "
       "name (JAN-DEC)"},
      {"* * * * 8",
       "day-of-week field \"8\": bad token \"8\": \"8\" is out of range 0-7"},
      {"* * * * MONDAY",
       "day-of-week field \"MONDAY\": bad token \"MONDAY\": \"MONDAY\" is not "
       "a number or a name (SUN-SAT)"},
      {"* * * * FRI-MON",
       "day-of-week field \"FRI-MON\": bad token \"FRI-MON\": range start 5 is "
       "after its end 1"},
      {"* * * * 5#3",
       "day-of-week field \"5#3\": bad token \"5#3\": \"5#3\" is not a number"},
      {"* * * * JAN",
       "day-of-week field \"JAN\": bad token \"JAN\": \"JAN\" is not a number "
       "or a name (SUN-SAT)"},
      {"* * * *",
       "expected 5 fields (minute hour day-of-month month day-of-week), got 4"},
      {"* * * * * *",
       "expected 5 fields (minute hour day-of-month month day-of-week), got "
       "more than 5"},
      {"", "empty crontab expression"},
      {"   \t ", "empty crontab expression"},
      {"@reboot",
       "unknown crontab macro \"@reboot\" (@reboot has no schedule)"},
      {"@every", "unknown crontab macro \"@every\" (expected @yearly"},
      {"@daily 5", "crontab macro \"@daily\" must be the whole expression"},
      {"0 0 30 2 *",
       "never runs: day-of-month field \"30\" names no day that the month "
       "field \"2\" has"},
      {"0 0 31 4,6,9,11 *", "never runs: day-of-month field \"31\""},
      {"0 0 31 2 */7", "never runs"},
      {"0\x01 * * * *", "minute field \"0\\x01\""},
  };
  for (const Case& c : cases) {
    Schedule s;
    std::string error;
    EXPECT_FALSE(Schedule::ParseCrontab(c.expr, "", &s, &error)) << c.expr;
    EXPECT_NE(error.find(c.want), std::string::npos)
        << "expr: " << c.expr << "\nerror: " << error << "\nwant: " << c.want;
    EXPECT_EQ(s.type(), Schedule::Type::kNone) << c.expr;
  }
  std::string error;
  Schedule s;
  EXPECT_FALSE(Schedule::ParseCrontab(std::string(2000, '*'), "", &s, &error));
  EXPECT_NE(error.find("longer than 1024"), std::string::npos) << error;
}

TEST(CrontabTest, AcceptsWhatCanRun) {
  // Feb 30 never exists, but with a restricted day-of-week the OR rule
  // makes every Monday in February match.
  for (const char* expr :
       {"0 0 30 2 MON", "0 0 29 2 *", "0 0 31 1-12 *", "0 0 */31 2 *",
        "59 23 31 12 7", "0-59 0-23 1-31 1-12 0-7"}) {
    Schedule s;
    std::string error;
    EXPECT_TRUE(Schedule::ParseCrontab(expr, "", &s, &error))
        << expr << ": " << error;
    EXPECT_TRUE(s.NextAfter(T("2026-01-01T00:00:00Z")).has_value()) << expr;
  }
  EXPECT_EQ(Utc(Cron("0 0 30 2 MON").NextAfter(T("2026-01-27T00:00:00Z"))),
            Utc(T("2026-02-02T00:00:00Z")));
}

TEST(CrontabTest, DescribeAndAccessors) {
  EXPECT_EQ(Cron("  0  9 * *\tMON-FRI ", "Europe/Vienna").Describe(),
            "0 9 * * MON-FRI (Europe/Vienna)");
  EXPECT_EQ(Cron("@Weekly").Describe(), "@weekly (UTC)");
  EXPECT_EQ(Cron("* * * * *").timezone(), "UTC");
  EXPECT_EQ(Cron("* * * * *").type(), Schedule::Type::kCrontab);
  Schedule none;
  EXPECT_EQ(none.type(), Schedule::Type::kNone);
  EXPECT_EQ(none.Describe(), "none");
  EXPECT_FALSE(none.NextAfter(0).has_value());
  EXPECT_FALSE(none.PreviousAtOrBefore(T("2026-01-01T00:00:00Z")).has_value());
}

TEST(TimeZoneTest, KnownAndUnknownZones) {
  for (const char* tz :
       {"", "UTC", "Etc/UTC", "Europe/Vienna", "America/New_York",
        "Asia/Kolkata", "US/Eastern", "Etc/GMT+5"}) {
    std::string error;
    EXPECT_TRUE(ValidateTimeZone(tz, &error)) << tz << ": " << error;
  }
  struct Case {
    const char* tz;
    const char* want;
  };
  const Case cases[] = {
      {"Mars/Olympus_Mons",
       "unknown time zone \"Mars/Olympus_Mons\" (not in the tz database)"},
      {"europe/vienna", "unknown time zone \"europe/vienna\""},
      {"localtime", "time zone \"localtime\": names the host's zone"},
      {"../../etc/passwd",
       "time zone \"../../etc/passwd\": not a tz database name"},
      {"Europe/Vienna ", "not a tz database name"},
      {"posix/Europe/Vienna", "unknown time zone"},
      {"right/UTC", "unknown time zone"},
  };
  for (const Case& c : cases) {
    std::string error;
    EXPECT_FALSE(ValidateTimeZone(c.tz, &error)) << c.tz;
    EXPECT_NE(error.find(c.want), std::string::npos) << c.tz << ": " << error;
    Schedule s;
    std::string error2;
    EXPECT_FALSE(Schedule::ParseCrontab("* * * * *", c.tz, &s, &error2))
        << c.tz;
    EXPECT_EQ(error2, error);
    EXPECT_FALSE(
        Schedule::MakeInterval(1, IntervalUnit::kDay, 0, c.tz, &s, &error2));
    EXPECT_EQ(error2, error);
  }
  EXPECT_FALSE(ValidateTimeZone(std::string(200, 'A'), nullptr));
}

Schedule Every(int64_t value, IntervalUnit unit, const char* anchor,
               const std::string& tz = "") {
  Schedule s;
  std::string error;
  EXPECT_TRUE(Schedule::MakeInterval(value, unit, T(anchor), tz, &s, &error))
      << value << " " << IntervalUnitName(unit) << ": " << error;
  return s;
}

TEST(IntervalTest, UnitNames) {
  IntervalUnit unit = IntervalUnit::kYear;
  EXPECT_TRUE(ParseIntervalUnit("minute", &unit));
  EXPECT_EQ(unit, IntervalUnit::kMinute);
  EXPECT_TRUE(ParseIntervalUnit("Hour", &unit));
  EXPECT_EQ(unit, IntervalUnit::kHour);
  for (const char* name : {"day", "week", "month", "year"}) {
    ASSERT_TRUE(ParseIntervalUnit(name, &unit)) << name;
    EXPECT_STREQ(IntervalUnitName(unit), name);
  }
  for (const char* bad : {"", "minutes", "sec", "second", "fortnight", "d"}) {
    EXPECT_FALSE(ParseIntervalUnit(bad, &unit)) << bad;
  }
}

TEST(IntervalTest, NextAfterKnownIntervals) {
  struct Case {
    int64_t value;
    IntervalUnit unit;
    const char* anchor;
    const char* tz;
    const char* start;
    std::vector<const char*> want;
  };
  const Case cases[] = {
      // Before the anchor, the anchor is next; the anchor itself is a run.
      {2,
       IntervalUnit::kMinute,
       "2026-05-06T10:00:17Z",
       "",
       "2026-05-06T09:00:00Z",
       {"2026-05-06T10:00:17Z", "2026-05-06T10:02:17Z",
        "2026-05-06T10:04:17Z"}},
      {2,
       IntervalUnit::kMinute,
       "2026-05-06T10:00:17Z",
       "",
       "2026-05-06T10:03:00Z",
       {"2026-05-06T10:04:17Z"}},
      // Hours are elapsed time: DST does not shift them.
      {2,
       IntervalUnit::kHour,
       "2026-03-29T00:00:00+01:00",
       "Europe/Vienna",
       "2026-03-29T00:00:00+01:00",
       {"2026-03-29T03:00:00+02:00", "2026-03-29T05:00:00+02:00"}},
      // Days are calendar days at the anchor's wall-clock time.
      {1,
       IntervalUnit::kDay,
       "2026-03-28T09:00:00+01:00",
       "Europe/Vienna",
       "2026-03-28T09:00:00+01:00",
       {"2026-03-29T09:00:00+02:00", "2026-03-30T09:00:00+02:00"}},
      {1,
       IntervalUnit::kDay,
       "2026-03-28T02:30:00+01:00",
       "Europe/Vienna",
       "2026-03-28T02:30:00+01:00",
       {"2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"}},
      {3,
       IntervalUnit::kDay,
       "2026-05-06T10:00:00Z",
       "",
       "2026-05-20T00:00:00Z",
       {"2026-05-21T10:00:00Z", "2026-05-24T10:00:00Z"}},
      {1,
       IntervalUnit::kWeek,
       "2026-05-04T08:00:00Z",
       "",
       "2026-05-04T08:00:00Z",
       {"2026-05-11T08:00:00Z", "2026-05-18T08:00:00Z"}},
      {2,
       IntervalUnit::kWeek,
       "2026-05-04T08:00:00Z",
       "",
       "2026-05-12T00:00:00Z",
       {"2026-05-18T08:00:00Z", "2026-06-01T08:00:00Z"}},
      // Months from Jan 31: the last day of shorter months, always counted
      // from the anchor (so March is the 31st again). In Vienna the wall-clock
      // time stays 09:00 across DST.
      {1,
       IntervalUnit::kMonth,
       "2026-01-31T09:00:00+01:00",
       "Europe/Vienna",
       "2026-01-31T09:00:00+01:00",
       {"2026-02-28T09:00:00+01:00", "2026-03-31T09:00:00+02:00",
        "2026-04-30T09:00:00+02:00", "2026-05-31T09:00:00+02:00",
        "2026-06-30T09:00:00+02:00", "2026-07-31T09:00:00+02:00",
        "2026-08-31T09:00:00+02:00", "2026-09-30T09:00:00+02:00",
        "2026-10-31T09:00:00+01:00", "2026-11-30T09:00:00+01:00",
        "2026-12-31T09:00:00+01:00", "2027-01-31T09:00:00+01:00",
        "2027-02-28T09:00:00+01:00"}},
      {1,
       IntervalUnit::kMonth,
       "2028-01-31T00:00:00Z",
       "",
       "2028-02-01T00:00:00Z",
       {"2028-02-29T00:00:00Z", "2028-03-31T00:00:00Z"}},
      {5,
       IntervalUnit::kMonth,
       "2026-01-31T00:00:00Z",
       "",
       "2026-03-15T00:00:00Z",
       {"2026-06-30T00:00:00Z", "2026-11-30T00:00:00Z",
        "2027-04-30T00:00:00Z"}},
      {1,
       IntervalUnit::kYear,
       "2024-02-29T12:00:00Z",
       "",
       "2024-02-29T12:00:00Z",
       {"2025-02-28T12:00:00Z", "2026-02-28T12:00:00Z", "2027-02-28T12:00:00Z",
        "2028-02-29T12:00:00Z"}},
      {1,
       IntervalUnit::kYear,
       "2026-07-01T00:00:00+02:00",
       "Europe/Vienna",
       "2030-01-01T00:00:00Z",
       {"2030-07-01T00:00:00+02:00"}},
  };
  for (const Case& c : cases) {
    const Schedule s = Every(c.value, c.unit, c.anchor, c.tz);
    int64_t t = T(c.start);
    for (const char* want : c.want) {
      const std::optional<int64_t> next = s.NextAfter(t);
      ASSERT_TRUE(next.has_value()) << s.Describe() << " after " << Utc(t);
      EXPECT_EQ(Utc(next), Utc(T(want))) << s.Describe() << " after " << Utc(t);
      // Every scheduled time is its own PreviousAtOrBefore, and the one
      // before it is the previous run.
      EXPECT_EQ(Utc(s.PreviousAtOrBefore(*next)), Utc(next)) << s.Describe();
      EXPECT_EQ(Utc(s.PreviousAtOrBefore(*next - 1)),
                Utc(s.PreviousAtOrBefore(t)))
          << s.Describe() << " before " << Utc(next);
      t = *next;
    }
  }
}

TEST(IntervalTest, PreviousBeforeTheAnchorIsNone) {
  const Schedule s = Every(1, IntervalUnit::kMonth, "2026-01-31T00:00:00Z");
  EXPECT_FALSE(s.PreviousAtOrBefore(T("2026-01-30T23:59:59Z")).has_value());
  EXPECT_EQ(Utc(s.PreviousAtOrBefore(T("2026-02-27T00:00:00Z"))),
            Utc(T("2026-01-31T00:00:00Z")));
  EXPECT_EQ(Utc(s.PreviousAtOrBefore(T("2026-03-30T00:00:00Z"))),
            Utc(T("2026-02-28T00:00:00Z")));
}

TEST(IntervalTest, RefusesBadValues) {
  struct Case {
    int64_t value;
    IntervalUnit unit;
    int64_t anchor;
    const char* want;
  };
  const Case cases[] = {
      {0, IntervalUnit::kMinute, 0,
       "interval: value 0 minute is out of range 1-52596000"},
      {-3, IntervalUnit::kHour, 0, "value -3 hour is out of range"},
      {101, IntervalUnit::kYear, 0, "value 101 year is out of range 1-100"},
      {1201, IntervalUnit::kMonth, 0,
       "value 1201 month is out of range 1-1200"},
      {1, IntervalUnit::kDay, -1, "start time -1 is outside 1970-9999"},
      {1, IntervalUnit::kDay, kMaxTime + 1, "is outside 1970-9999"},
      {1, static_cast<IntervalUnit>(42), 0, "interval: unknown unit"},
  };
  for (const Case& c : cases) {
    Schedule s;
    std::string error;
    EXPECT_FALSE(
        Schedule::MakeInterval(c.value, c.unit, c.anchor, "", &s, &error));
    EXPECT_NE(error.find(c.want), std::string::npos) << error;
  }
  EXPECT_EQ(
      Every(2, IntervalUnit::kMonth, "2026-01-31T08:00:00Z", "Europe/Vienna")
          .Describe(),
      "every 2 month from 2026-01-31T08:00:00Z (Europe/Vienna)");
}

// Searches are bounded: nothing past 9999-12-31, inputs outside the range
// give nothing, sparse schedules near the end give nothing quickly.
TEST(BoundsTest, NoNextTimeIsAnAnswer) {
  EXPECT_FALSE(
      Cron("0 0 29 2 *").NextAfter(T("9996-03-01T00:00:00Z")).has_value());
  EXPECT_EQ(
      Utc(Cron("0 0 29 2 *").PreviousAtOrBefore(T("9999-12-31T00:00:00Z"))),
      Utc(T("9996-02-29T00:00:00Z")));
  EXPECT_FALSE(Cron("0 0 29 2 *")
                   .PreviousAtOrBefore(T("1972-02-28T00:00:00Z"))
                   .has_value());
  EXPECT_EQ(Utc(Cron("59 23 31 12 *").NextAfter(T("9999-12-31T23:58:59Z"))),
            Utc(T("9999-12-31T23:59:00Z")));
  EXPECT_FALSE(
      Cron("59 23 31 12 *").NextAfter(T("9999-12-31T23:59:00Z")).has_value());
  EXPECT_FALSE(Cron("* * * * *").NextAfter(kMaxTime).has_value());
  EXPECT_FALSE(Cron("* * * * *").NextAfter(kMaxTime + 1).has_value());
  EXPECT_FALSE(Cron("* * * * *").NextAfter(-1).has_value());
  EXPECT_FALSE(Cron("* * * * *").NextAfter(INT64_MIN).has_value());
  EXPECT_FALSE(Cron("* * * * *").PreviousAtOrBefore(INT64_MAX).has_value());
  EXPECT_FALSE(
      Cron("0 12 * * *", "America/New_York").PreviousAtOrBefore(0).has_value());
  EXPECT_EQ(Cron("* * * * *").PreviousAtOrBefore(0), std::optional<int64_t>(0));
  EXPECT_FALSE(Every(100, IntervalUnit::kYear, "9990-01-01T00:00:00Z")
                   .NextAfter(T("9990-01-01T00:00:00Z"))
                   .has_value());
  EXPECT_FALSE(Every(52596000, IntervalUnit::kMinute, "9990-01-01T00:00:00Z")
                   .NextAfter(T("9990-01-01T00:00:00Z"))
                   .has_value());
  // 40 years between runs (Feb 29 that is a Sunday, across 2100).
  EXPECT_EQ(Utc(Cron("0 0 29 2 */7").NextAfter(T("2089-01-01T00:00:00Z"))),
            Utc(T("2128-02-29T00:00:00Z")));
}

}  // namespace
}  // namespace crashctl::monitors
