// Size-based retention: Store::DeleteOldestEvents, Store::UsedBytes and
// Retention with retention.max_size.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "crashctl/store/retention.h"
#include "crashctl/util/time.h"
#include "store_test_util.h"
#include "tests/testing/events.h"

namespace crashctl {
namespace store {
namespace {

using testing_util::EventId;
using testing_util::MakeItem;
using testing_util::QueryInt;
using testing_util::StoreTest;

using ::crashctl::testing::IncompressibleText;

class SizeRetentionTest : public StoreTest {
 protected:
  void SetUp() override {
    options_.delete_batch = 7;  // exercise the batch loop
    StoreTest::SetUp();
  }
};

TEST_F(SizeRetentionTest, DeletesOldestByTimestampKeepsNewestAndCleansUp) {
  // Ids follow the write order, timestamps do not: event 6 (written last,
  // the newest id) has the oldest timestamp.
  std::vector<model::WriteItem> items = {
      MakeItem(project_.id, 1, "a", 300), MakeItem(project_.id, 2, "b", 100),
      MakeItem(project_.id, 3, "a", 400), MakeItem(project_.id, 4, "c", 200),
      MakeItem(project_.id, 5, "c", 500), MakeItem(project_.id, 6, "d", 50),
  };
  const auto outcomes = Write(items);
  const int64_t group_b = outcomes[1].group_id;
  const int64_t group_c = outcomes[3].group_id;
  model::Crash old_crash;
  old_crash.dedup_key = "old";
  old_crash.updated_at = 150;
  model::Crash new_crash;
  new_crash.dedup_key = "new";
  new_crash.updated_at = 450;
  int64_t old_id = 0, new_id = 0;
  ASSERT_TRUE(store_->UpsertCrash(old_crash, &old_id, nullptr).ok());
  ASSERT_TRUE(store_->UpsertCrash(new_crash, &new_id, nullptr).ok());

  int64_t deleted = -1;
  ASSERT_TRUE(store_->DeleteOldestEvents(3, &deleted).ok());
  EXPECT_EQ(deleted, 3);
  // Oldest by timestamp: 6 (50) is the newest by id, so kept; then 2 (100),
  // 4 (200), 1 (300) go.
  model::StoredEvent event;
  for (int64_t gone : {2, 4, 1}) {
    EXPECT_EQ(store_->GetEvent(EventId(gone), &event).code(),
              Status::Code::kNotFound)
        << gone;
  }
  for (int64_t kept : {3, 5, 6}) {
    EXPECT_TRUE(store_->GetEvent(EventId(kept), &event).ok()) << kept;
  }
  model::Group group;
  EXPECT_EQ(store_->GetGroup(group_b, &group).code(), Status::Code::kNotFound);
  EXPECT_TRUE(store_->GetGroup(group_c, &group).ok());  // event 5 left
  // The oldest event left is 6 (50): both crashes are newer.
  model::Crash crash;
  EXPECT_TRUE(store_->GetCrash(old_id, &crash).ok());

  ASSERT_TRUE(store_->DeleteOldestEvents(2, &deleted).ok());
  EXPECT_EQ(deleted, 2);  // 3 (400) and 5 (500); 6 stays
  // Only 6 (50) is left, and the crash of 150 is newer than it.
  EXPECT_TRUE(store_->GetCrash(old_id, &crash).ok());
  ASSERT_TRUE(store_->DeleteOldestEvents(100, &deleted).ok());
  EXPECT_EQ(deleted, 0);  // the newest event is never deleted
  EXPECT_TRUE(store_->GetEvent(EventId(6), &event).ok());
  EXPECT_EQ(QueryInt(store_->path(), "SELECT count(*) FROM events"), 1);
  EXPECT_TRUE(store_->IntegrityCheck().ok());
}

TEST_F(SizeRetentionTest, CrashesOlderThanEveryEventLeftGo) {
  Write({MakeItem(project_.id, 1, "a", 100), MakeItem(project_.id, 2, "a", 300),
         MakeItem(project_.id, 3, "a", 400)});
  model::Crash crash;
  crash.dedup_key = "mid";
  crash.updated_at = 200;
  int64_t id = 0;
  ASSERT_TRUE(store_->UpsertCrash(crash, &id, nullptr).ok());
  int64_t deleted = 0;
  ASSERT_TRUE(store_->DeleteOldestEvents(1, &deleted).ok());
  EXPECT_EQ(deleted, 1);
  EXPECT_EQ(store_->GetCrash(id, &crash).code(), Status::Code::kNotFound);
}

TEST_F(SizeRetentionTest, UsedBytesCountsLivePagesNotFreeOnes) {
  int64_t empty = 0;
  ASSERT_TRUE(store_->UsedBytes(&empty).ok());
  EXPECT_GT(empty, 0);
  std::vector<model::WriteItem> items;
  for (int i = 0; i < 100; ++i) {
    model::WriteItem item = MakeItem(project_.id, i + 1, "fp", 100 + i);
    item.event.raw_json = IncompressibleText(4000, i);
    items.push_back(item);
  }
  Write(items);
  int64_t full = 0;
  ASSERT_TRUE(store_->UsedBytes(&full).ok());
  EXPECT_GT(full, empty + 100 * 2500);
  int64_t deleted = 0;
  ASSERT_TRUE(store_->DeleteOldestEvents(90, &deleted).ok());
  EXPECT_EQ(deleted, 90);
  int64_t after = 0;
  ASSERT_TRUE(store_->UsedBytes(&after).ok());
  EXPECT_LT(after, full - 80 * 2500);
  // What UsedBytes says is what SQLite says.
  const std::string path = store_->path();
  EXPECT_EQ(after, (QueryInt(path, "PRAGMA page_count") -
                    QueryInt(path, "PRAGMA freelist_count")) *
                       QueryInt(path, "PRAGMA page_size"));
}

TEST_F(SizeRetentionTest, RetentionDeletesOldestUntilUnderTheLimit) {
  const double now = util::NowSeconds();
  constexpr int kEvents = 600;
  for (int batch = 0; batch < kEvents / 100; ++batch) {
    std::vector<model::WriteItem> items;
    for (int i = 0; i < 100; ++i) {
      const int n = batch * 100 + i + 1;
      // Recent enough for the age limit; event 1 is the oldest.
      model::WriteItem item = MakeItem(
          project_.id, n, "fp" + std::to_string(n % 7), now - 3600 + n);
      item.event.raw_json = IncompressibleText(3000, n);
      items.push_back(item);
    }
    Write(items);
  }
  int64_t before = 0;
  ASSERT_TRUE(store_->UsedBytes(&before).ok());
  const int64_t limit = before / 3;

  std::vector<std::pair<Retention::Reason, int64_t>> calls;
  Retention::Options options;
  options.max_size_bytes = limit;
  Retention retention(store_.get(), options,
                      [&](Retention::Reason reason, int64_t n) {
                        calls.emplace_back(reason, n);
                      });
  int64_t deleted = 0, for_size = 0;
  ASSERT_TRUE(retention.RunOnce(&deleted, &for_size).ok());
  int64_t after = 0;
  ASSERT_TRUE(store_->UsedBytes(&after).ok());
  EXPECT_LE(after, limit);
  EXPECT_GT(after, limit / 2) << "deleted far more than needed";
  EXPECT_GT(for_size, kEvents / 2);
  EXPECT_LT(for_size, kEvents);
  EXPECT_EQ(deleted, for_size);  // none for their age
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].first, Retention::Reason::kMaxSize);
  EXPECT_EQ(calls[0].second, for_size);

  // The oldest are gone, the newest kept, and exactly those deleted.
  model::StoredEvent event;
  for (int n = 1; n <= for_size; ++n) {
    ASSERT_EQ(store_->GetEvent(EventId(n), &event).code(),
              Status::Code::kNotFound)
        << n;
  }
  for (int n = static_cast<int>(for_size) + 1; n <= kEvents; ++n) {
    ASSERT_TRUE(store_->GetEvent(EventId(n), &event).ok()) << n;
  }
  // The freed pages went back to the file system (incremental vacuum): the
  // database is that much smaller once the WAL is checkpointed.
  EXPECT_EQ(QueryInt(store_->path(), "PRAGMA freelist_count"), 0);
  EXPECT_LT(QueryInt(store_->path(), "PRAGMA page_count") *
                QueryInt(store_->path(), "PRAGMA page_size"),
            before);

  // Under the limit: a second pass deletes nothing.
  calls.clear();
  ASSERT_TRUE(retention.RunOnce(&deleted, &for_size).ok());
  EXPECT_EQ(deleted, 0);
  EXPECT_TRUE(calls.empty());
  EXPECT_TRUE(store_->IntegrityCheck().ok());
}

TEST_F(SizeRetentionTest, UnreachableLimitStopsAtTheNewestEvent) {
  Write({MakeItem(project_.id, 1, "a", util::NowSeconds() - 10),
         MakeItem(project_.id, 2, "a", util::NowSeconds())});
  Retention::Options options;
  options.max_size_bytes = 1;  // below any database
  Retention retention(store_.get(), options, nullptr);
  int64_t deleted = 0, for_size = 0;
  ASSERT_TRUE(retention.RunOnce(&deleted, &for_size).ok());
  EXPECT_EQ(for_size, 1);
  model::StoredEvent event;
  EXPECT_TRUE(store_->GetEvent(EventId(2), &event).ok());
}

TEST_F(SizeRetentionTest, NoLimitDeletesNothingForSize) {
  Write({MakeItem(project_.id, 1, "a", util::NowSeconds() - 10),
         MakeItem(project_.id, 2, "a", util::NowSeconds())});
  Retention retention(store_.get(), Retention::Options(), nullptr);
  int64_t deleted = -1, for_size = -1;
  ASSERT_TRUE(retention.RunOnce(&deleted, &for_size).ok());
  EXPECT_EQ(deleted, 0);
  EXPECT_EQ(for_size, 0);
}

}  // namespace
}  // namespace store
}  // namespace crashctl
