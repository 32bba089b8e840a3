// Helpers shared by the monitors tests: times written as RFC 3339, and
// schedules parsed with a test failure (not a crash) when they do not parse.
#ifndef CRASHCTL_TESTS_MONITORS_SCHEDULE_HELPERS_H_
#define CRASHCTL_TESTS_MONITORS_SCHEDULE_HELPERS_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>

#include "crashctl/monitors/schedule.h"
#include "crashctl/util/time.h"

namespace crashctl::monitors::testing {

// "2026-03-29T03:00:00+02:00" -> epoch seconds.
inline int64_t T(const char* rfc3339) {
  double t = 0;
  EXPECT_TRUE(util::ParseRfc3339(rfc3339, &t)) << rfc3339;
  return static_cast<int64_t>(t);
}

// Epoch seconds -> RFC 3339 in UTC; "none" for no time.
inline std::string Utc(std::optional<int64_t> t) {
  if (!t) return "none";
  return util::FormatRfc3339Millis(static_cast<double>(*t));
}

inline Schedule Cron(const std::string& expr, const std::string& tz = "") {
  Schedule s;
  std::string error;
  EXPECT_TRUE(Schedule::ParseCrontab(expr, tz, &s, &error))
      << expr << " (" << tz << "): " << error;
  return s;
}

}  // namespace crashctl::monitors::testing

#endif  // CRASHCTL_TESTS_MONITORS_SCHEDULE_HELPERS_H_
