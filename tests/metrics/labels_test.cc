#include "crashctl/metrics/labels.h"

#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace crashctl {
namespace metrics {
namespace {

TEST(LabelLimiterTest, FoldsBeyondMax) {
  LabelLimiter limiter(2);
  EXPECT_EQ(limiter.Fold("a"), "a");
  EXPECT_EQ(limiter.Fold("b"), "b");
  EXPECT_EQ(limiter.Fold("c"), "other");
  EXPECT_EQ(limiter.Fold("a"), "a");  // already admitted values stay
  EXPECT_EQ(limiter.Fold("b"), "b");
  EXPECT_EQ(limiter.Fold("d"), "other");
  EXPECT_EQ(limiter.Fold(""), "unknown");
}

TEST(LabelLimiterTest, ConcurrentFoldKeepsTheBound) {
  LabelLimiter limiter(5);
  std::vector<std::thread> threads;
  std::mutex mu;
  std::set<std::string> results;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        std::string folded =
            limiter.Fold("s" + std::to_string((i * 7 + t) % 50));
        std::lock_guard<std::mutex> lock(mu);
        results.insert(folded);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(results.size(), 6u);  // 5 admitted values + "other"
  EXPECT_TRUE(results.count("other"));
}

TEST(LabelLimiterTest, ValuesAreMadeSafeBeforeTheyAreKept) {
  EXPECT_EQ(SafeLabelValue(std::string("a\0b\tc\nd", 7)), "a_b_c_d");
  EXPECT_EQ(SafeLabelValue("caf\xC3\xA9"), "caf\xC3\xA9");
  EXPECT_EQ(SafeLabelValue("bad\xFF"), "bad\xEF\xBF\xBD");
  EXPECT_EQ(SafeLabelValue("\xC3"), "\xEF\xBF\xBD");  // truncated sequence
  EXPECT_EQ(SafeLabelValue(std::string(500, 'x')).size(), 128u);
  LabelLimiter limiter(10);
  EXPECT_EQ(limiter.Fold(std::string("svc\0", 4)), "svc_");
  EXPECT_EQ(limiter.Fold(std::string("\0", 1)), "_");
}

TEST(LabelLimiterTest, ZeroMaxFoldsEverything) {
  LabelLimiter limiter(0);
  EXPECT_EQ(limiter.Fold("a"), "other");
}

TEST(LabelsTest, BoundedAndNonEmpty) {
  const std::vector<std::string> known = {"a", "b", "other"};
  EXPECT_EQ(Bounded("a", known), "a");
  EXPECT_EQ(Bounded("zzz", known), "other");
  EXPECT_EQ(Bounded("", known), "other");
  EXPECT_EQ(NonEmpty(""), "unknown");
  EXPECT_EQ(NonEmpty("x"), "x");
}

TEST(LabelsTest, SeriesKeyJoinsWithTheUnitSeparator) {
  EXPECT_EQ(std::string(SeriesKey({"a", "bc"})),
            "a\x1f"
            "bc\x1f");
  EXPECT_EQ(std::string(SeriesKey({})), "");
}

}  // namespace
}  // namespace metrics
}  // namespace crashctl
