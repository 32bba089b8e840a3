#include "exporter/active_groups.h"

#include <gtest/gtest.h>

namespace crashctl {
namespace exporter {
namespace {

constexpr double kT0 = 1700000000;

TEST(ActiveGroupsTest, RanksByEventsInTheLastHour) {
  ActiveGroups active;
  for (int i = 0; i < 5; ++i) active.Record(1, kT0 + i);
  for (int i = 0; i < 3; ++i) active.Record(2, kT0 + 120 + i);
  active.Record(3, kT0 + 600);
  EXPECT_EQ(active.Top(10, kT0 + 700), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(active.Top(2, kT0 + 700), (std::vector<int64_t>{1, 2}));
}

TEST(ActiveGroupsTest, EventsOlderThanAnHourDropOut) {
  ActiveGroups active;
  for (int i = 0; i < 10; ++i) active.Record(1, kT0);
  for (int i = 0; i < 2; ++i) active.Record(2, kT0 + 3000);
  // 61 minutes later group 1's burst has left the window, group 2's not.
  EXPECT_EQ(active.Top(10, kT0 + 61 * 60), (std::vector<int64_t>{2}));
  // Two hours later nothing is active.
  EXPECT_TRUE(active.Top(10, kT0 + 2 * 3600 + 3000).empty());
}

TEST(ActiveGroupsTest, ReusedBucketsStartFromZero) {
  ActiveGroups active;
  for (int i = 0; i < 7; ++i) active.Record(1, kT0);  // minute m
  active.Record(1, kT0 + 60 * 60);                    // minute m+60
  active.Record(2, kT0 + 60 * 60);
  active.Record(2, kT0 + 60 * 60 + 1);
  // Group 1's bucket for minute m was reused by minute m+60: 1 event left.
  EXPECT_EQ(active.Top(10, kT0 + 60 * 60 + 2), (std::vector<int64_t>{2, 1}));
}

TEST(ActiveGroupsTest, TrackedGroupsAreBounded) {
  ActiveGroups active(3);
  active.Record(1, kT0);
  active.Record(2, kT0 + 60);
  active.Record(3, kT0 + 120);
  active.Record(4, kT0 + 180);  // forgets group 1, seen longest ago
  const std::vector<int64_t> top = active.Top(10, kT0 + 200);
  EXPECT_EQ(top.size(), 3u);
  EXPECT_EQ(std::count(top.begin(), top.end(), 1), 0);
}

TEST(ActiveGroupsTest, MergeAddsTheWindowsMinuteByMinute) {
  ActiveGroups active;
  for (int i = 0; i < 3; ++i) active.Record(1, kT0);
  for (int i = 0; i < 4; ++i) active.Record(2, kT0 + 120);
  for (int i = 0; i < 2; ++i) active.Record(3, kT0 + 30 * 60);
  // 3 takes 1's and 2's events: 3 + 4 + 2, in their own minutes.
  active.Merge(3, 1);
  active.Merge(3, 2);
  active.Merge(3, 3);   // itself: nothing
  active.Merge(3, 99);  // unknown: nothing
  EXPECT_EQ(active.Top(10, kT0 + 30 * 60), (std::vector<int64_t>{3}));
  for (int i = 0; i < 8; ++i) active.Record(4, kT0 + 30 * 60);
  EXPECT_EQ(active.Top(10, kT0 + 30 * 60), (std::vector<int64_t>{3, 4}));
  // 61 minutes after the first burst only the later events of 3 are in
  // the window (4 + 2 = 6 < 8): the minutes were kept apart.
  EXPECT_EQ(active.Top(10, kT0 + 61 * 60), (std::vector<int64_t>{4, 3}));
  // Into a group not tracked: it takes the merged one's activity.
  active.Merge(5, 4);
  EXPECT_EQ(active.Top(10, kT0 + 61 * 60), (std::vector<int64_t>{5, 3}));
}

TEST(ActiveGroupsTest, ForgottenGroupsStartAfresh) {
  ActiveGroups active;
  for (int i = 0; i < 5; ++i) active.Record(1, kT0);
  active.Record(2, kT0);
  active.Forget({1, 7});
  EXPECT_EQ(active.Top(10, kT0 + 1), (std::vector<int64_t>{2}));
  active.Record(1, kT0 + 2);  // an id handed out again
  active.Record(2, kT0 + 2);
  EXPECT_EQ(active.Top(10, kT0 + 3), (std::vector<int64_t>{2, 1}));
}

}  // namespace
}  // namespace exporter
}  // namespace crashctl
