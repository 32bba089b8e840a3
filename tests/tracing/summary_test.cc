// Nearest-rank percentiles and the error ratio on known data.
#include "crashctl/tracing/summary.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace crashctl {
namespace tracing {
namespace {

std::vector<DurationSample> Samples(const std::vector<double>& durations,
                                    const std::string& status = "ok") {
  std::vector<DurationSample> out;
  for (double d : durations) out.push_back(DurationSample{d, status});
  return out;
}

TEST(DurationSummaryTest, NearestRankOnOneToTen) {
  const Summary s = Summarize(Samples({7, 3, 10, 1, 9, 2, 8, 4, 6, 5}));
  EXPECT_EQ(s.count, 10u);
  EXPECT_DOUBLE_EQ(s.p50, 5);   // ceil(0.50 * 10) = 5th
  EXPECT_DOUBLE_EQ(s.p95, 10);  // ceil(9.5) = 10th
  EXPECT_DOUBLE_EQ(s.p99, 10);
  EXPECT_DOUBLE_EQ(s.error_ratio, 0);
}

TEST(DurationSummaryTest, NearestRankTable) {
  std::vector<double> hundred;
  for (int i = 1; i <= 100; ++i) hundred.push_back(i / 100.0);
  std::vector<double> twenty;
  for (int i = 1; i <= 20; ++i) twenty.push_back(i);
  struct Case {
    std::vector<double> sorted;
    double q, want;
  };
  const std::vector<Case> cases = {
      {{4.2}, 50, 4.2},      {{4.2}, 99, 4.2},      {{1, 2}, 50, 1},
      {{1, 2}, 51, 2},       {{1, 2, 3}, 50, 2},    {{1, 2, 3, 4}, 50, 2},
      {{1, 2, 3, 4}, 75, 3}, {{1, 2, 3, 4}, 76, 4}, {hundred, 50, 0.50},
      {hundred, 95, 0.95},   {hundred, 99, 0.99},   {hundred, 99.5, 1.00},
      {twenty, 95, 19},  // exactly 19: not pushed to the 20th by rounding
      {twenty, 5, 1},        {twenty, 0, 1},        {twenty, 100, 20},
      {twenty, 150, 20},     {{}, 50, 0},
  };
  for (const Case& c : cases) {
    EXPECT_DOUBLE_EQ(NearestRankPercentile(c.sorted, c.q), c.want)
        << "q=" << c.q << " n=" << c.sorted.size();
  }
}

TEST(DurationSummaryTest, ErrorRatioAsSentryFailureRate) {
  std::vector<DurationSample> s = {
      {0.1, "ok"},
      {0.2, "cancelled"},
      {0.3, "unknown"},
      {0.4, ""},
      {0.5, "internal_error"},
      {0.6, "not_found"},
      {0.7, "deadline_exceeded"},
      {0.8, "teapot"},
  };
  const Summary sum = Summarize(s);
  EXPECT_EQ(sum.count, 8u);
  EXPECT_DOUBLE_EQ(sum.error_ratio, 3.0 / 8);
  EXPECT_FALSE(IsFailureStatus("ok"));
  EXPECT_FALSE(IsFailureStatus("cancelled"));
  EXPECT_FALSE(IsFailureStatus("unknown"));
  EXPECT_FALSE(IsFailureStatus("unknown_error"));
  EXPECT_TRUE(IsFailureStatus("unauthenticated"));
  EXPECT_TRUE(IsFailureStatus("failure"));
}

TEST(DurationSummaryTest, BadDurationsAreSkippedAndEmptyIsZero) {
  std::vector<DurationSample> s = {
      {std::nan(""), "internal_error"},
      {-1, "internal_error"},
      {std::numeric_limits<double>::infinity(), "ok"},
      {2, "ok"},
  };
  const Summary sum = Summarize(s);
  EXPECT_EQ(sum.count, 1u);
  EXPECT_DOUBLE_EQ(sum.p99, 2);
  EXPECT_DOUBLE_EQ(sum.error_ratio, 0);
  const Summary empty = Summarize({});
  EXPECT_EQ(empty.count, 0u);
  EXPECT_DOUBLE_EQ(empty.p50, 0);
  EXPECT_DOUBLE_EQ(empty.error_ratio, 0);
}

TEST(DurationSummaryTest, ByTransaction) {
  std::vector<NamedSample> samples;
  for (int i = 1; i <= 4; ++i) samples.push_back({"b", i * 0.1, "ok"});
  samples.push_back({"a", 1.0, "internal_error"});
  samples.push_back({"a", 3.0, "ok"});
  samples.push_back({"a", 2.0, "ok"});
  samples.push_back({"c", 5.0, "ok"});
  samples.push_back({"d", 5.0, "ok"});
  samples.push_back({"d", 6.0, "ok"});
  samples.push_back({"d", 7.0, "ok"});
  samples.push_back({"e", -1, "ok"});  // skipped: no item
  const auto items = SummarizeByTransaction(samples);
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(items[0].transaction, "b");
  EXPECT_EQ(items[0].summary.count, 4u);
  EXPECT_DOUBLE_EQ(items[0].summary.p50, 0.2);
  EXPECT_EQ(items[1].transaction, "a");  // count 3, before d by name
  EXPECT_DOUBLE_EQ(items[1].summary.error_ratio, 1.0 / 3);
  EXPECT_DOUBLE_EQ(items[1].summary.p50, 2.0);
  EXPECT_DOUBLE_EQ(items[1].summary.p95, 3.0);
  EXPECT_EQ(items[2].transaction, "d");
  EXPECT_EQ(items[3].transaction, "c");
  EXPECT_EQ(SummarizeByTransaction(samples, 2).size(), 2u);
}

}  // namespace
}  // namespace tracing
}  // namespace crashctl
