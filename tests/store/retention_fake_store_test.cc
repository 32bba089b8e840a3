// Retention's size limit against the backend-neutral Store interface, on the
// in-memory FakeStore (tests/rest/fake_store.h): no SQLite involved.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "crashctl/store/retention.h"
#include "crashctl/util/time.h"
#include "tests/rest/fake_store.h"

namespace crashctl {
namespace store {
namespace {

using crashctl::testing::FakeStore;

// `n` events, event i (1-based) `seconds` ago minus i, in group 1 + i % 5.
void Fill(FakeStore* fake, int n) {
  const double now = util::NowSeconds();
  for (int g = 1; g <= 5; ++g) {
    model::Group group;
    group.id = g;
    fake->groups.push_back(group);
  }
  for (int i = 1; i <= n; ++i) {
    model::StoredEvent event;
    event.event_id = "e" + std::to_string(i);
    event.group_id = 1 + i % 5;
    event.timestamp = now - 1000 + i;  // recent: age retention keeps all
    fake->events.push_back(event);
  }
}

TEST(RetentionFakeStoreTest, DeletesTheOldestUntilUnderTheLimit) {
  FakeStore fake;
  Fill(&fake, 50);  // 50,000 bytes at 1000 an event
  Retention::Options options;
  options.max_size_bytes = 10000;
  std::vector<int64_t> for_size_calls;
  Retention retention(&fake, options, [&](Retention::Reason reason, int64_t n) {
    EXPECT_EQ(reason, Retention::Reason::kMaxSize);
    for_size_calls.push_back(n);
  });
  int64_t deleted = 0, for_size = 0;
  ASSERT_TRUE(retention.RunOnce(&deleted, &for_size).ok());
  // Exactly what the limit needs: the estimate is exact for equal events.
  EXPECT_EQ(for_size, 40);
  EXPECT_EQ(deleted, 40);
  EXPECT_EQ(for_size_calls, std::vector<int64_t>{40});
  ASSERT_EQ(fake.events.size(), 10u);
  EXPECT_EQ(fake.events.front().event_id, "e41");
  EXPECT_EQ(fake.events.back().event_id, "e50");
  EXPECT_EQ(fake.groups.size(), 5u);  // every group still has events
}

TEST(RetentionFakeStoreTest, KeepsTheNewestAndDropsEmptiedGroups) {
  FakeStore fake;
  Fill(&fake, 6);
  Retention::Options options;
  options.max_size_bytes = 1;  // cannot be met
  Retention retention(&fake, options, nullptr);
  int64_t deleted = 0, for_size = 0;
  ASSERT_TRUE(retention.RunOnce(&deleted, &for_size).ok());
  EXPECT_EQ(for_size, 5);
  ASSERT_EQ(fake.events.size(), 1u);
  EXPECT_EQ(fake.events[0].event_id, "e6");
  ASSERT_EQ(fake.groups.size(), 1u);
  EXPECT_EQ(fake.groups[0].id, 1 + 6 % 5);
}

TEST(RetentionFakeStoreTest, AStoreFailureIsReturnedAnnotated) {
  FakeStore fake;
  Fill(&fake, 20);
  fake.used_bytes = 1 << 20;
  Retention::Options options;
  options.max_size_bytes = 1000;
  Retention retention(&fake, options, nullptr);
  // DeleteOlderThan takes no failure; the next call (UsedBytes) does.
  fake.fail_next = Status::Unavailable("disk gone");
  int64_t deleted = 0;
  const Status status = retention.RunOnce(&deleted);
  EXPECT_EQ(status.code(), Status::Code::kUnavailable);
  EXPECT_NE(status.message().find("retention (max_size)"), std::string::npos)
      << status.message();
  EXPECT_NE(status.message().find("disk gone"), std::string::npos);
  EXPECT_EQ(fake.events.size(), 20u);
}

}  // namespace
}  // namespace store
}  // namespace crashctl
