#include "crashctl/util/time.h"

#include <gtest/gtest.h>

namespace crashctl {
namespace {

TEST(TimeFormatLenientTest, AcceptsWhatSdksSend) {
  struct Case {
    const char* text;
    double want;
  };
  const Case cases[] = {
      {"2026-11-22T10:00:00Z", 1795341600},
      {"2026-11-22T10:00:00", 1795341600},         // no zone: UTC
      {"2026-11-22T10:00:00.5", 1795341600.5},     // no zone, fraction
      {"2026-11-22T10:00:00,25Z", 1795341600.25},  // comma fraction
      {"2026-11-22T12:30:00+0230", 1795341600},    // +HHMM
      {"2026-11-22T12:00:00+02", 1795341600},      // +HH
      {"2026-11-22T08:00:00-02:00", 1795341600},   // -HH:MM
  };
  for (const Case& c : cases) {
    double t = 0;
    ASSERT_TRUE(util::ParseRfc3339Lenient(c.text, &t)) << c.text;
    EXPECT_NEAR(t, c.want, 1e-6) << c.text;
  }
}

TEST(TimeFormatLenientTest, StillRefusesNonsense) {
  for (const char* bad :
       {"", "2026-11-22", "2026-13-01T00:00:00Z", "2026-11-22T10:00:00+1",
        "2026-11-22T10:00:00Zjunk", "2026-11-22T10:00:00+02:0", "yesterday"}) {
    double t = 0;
    EXPECT_FALSE(util::ParseRfc3339Lenient(bad, &t)) << bad;
  }
}

TEST(TimeFormatStrictTest, RefusesTheLenientForms) {
  for (const char* text : {"2026-11-22T10:00:00", "2026-11-22T12:30:00+0230",
                           "2026-11-22T10:00:00,25Z"}) {
    double t = 0;
    EXPECT_FALSE(util::ParseRfc3339(text, &t)) << text;
  }
}

}  // namespace
}  // namespace crashctl
