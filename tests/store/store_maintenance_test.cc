// Retention, size, integrity, error mapping and recovery, busy retries,
// durability across kill -9, concurrency and write throughput.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store_test_util.h"
#include "tests/testing/events.h"

namespace crashctl {
namespace store {
namespace {

using testing_util::EventId;
using testing_util::MakeItem;
using testing_util::StoreTest;
using testing_util::TempDir;

using ::crashctl::testing::IncompressibleText;

class MaintenanceTest : public StoreTest {
 protected:
  void SetUp() override {
    options_.delete_batch = 3;  // exercise the batch loop
    StoreTest::SetUp();
  }
};

TEST_F(MaintenanceTest, RetentionDeletesOldEventsEmptyGroupsAndOldCrashes) {
  std::vector<model::WriteItem> items;
  int64_t n = 0;
  for (int i = 0; i < 10; ++i)
    items.push_back(MakeItem(project_.id, ++n, "old", 100 + i));
  items.push_back(MakeItem(project_.id, ++n, "mixed", 150));
  items.push_back(MakeItem(project_.id, ++n, "mixed", 900));
  items.push_back(MakeItem(project_.id, ++n, "new", 950));
  auto outcomes = Write(items);
  const int64_t old_group = outcomes[0].group_id;
  const int64_t mixed_group = outcomes[10].group_id;
  const int64_t new_group = outcomes[12].group_id;

  model::Crash old_crash;
  old_crash.dedup_key = "old";
  old_crash.updated_at = 200;
  model::Crash new_crash;
  new_crash.dedup_key = "new";
  new_crash.updated_at = 800;
  int64_t old_crash_id = 0, new_crash_id = 0;
  ASSERT_TRUE(store_->UpsertCrash(old_crash, &old_crash_id, nullptr).ok());
  ASSERT_TRUE(store_->UpsertCrash(new_crash, &new_crash_id, nullptr).ok());
  ASSERT_TRUE(store_->LinkCrashGroup(new_crash_id, old_group).ok());
  ASSERT_TRUE(store_->LinkCrashGroup(new_crash_id, mixed_group).ok());

  int64_t deleted = -1;
  ASSERT_TRUE(store_->DeleteOlderThan(500, &deleted).ok());
  EXPECT_EQ(deleted, 11);

  model::Group group;
  EXPECT_EQ(store_->GetGroup(old_group, &group).code(),
            Status::Code::kNotFound);
  ASSERT_TRUE(store_->GetGroup(mixed_group, &group).ok());
  EXPECT_EQ(group.count, 2);  // count is the lifetime total
  ASSERT_TRUE(store_->GetGroup(new_group, &group).ok());
  model::StoredEvent event;
  EXPECT_EQ(store_->GetEvent(EventId(1), &event).code(),
            Status::Code::kNotFound);
  EXPECT_EQ(store_->GetEvent(EventId(11), &event).code(),
            Status::Code::kNotFound);
  EXPECT_TRUE(store_->GetEvent(EventId(12), &event).ok());

  model::Crash crash;
  EXPECT_EQ(store_->GetCrash(old_crash_id, &crash).code(),
            Status::Code::kNotFound);
  ASSERT_TRUE(store_->GetCrash(new_crash_id, &crash).ok());
  // The link to the deleted group went with it.
  EXPECT_EQ(crash.linked_groups, std::vector<int64_t>{mixed_group});

  // Nothing left to delete: a second run deletes nothing.
  ASSERT_TRUE(store_->DeleteOlderThan(500, &deleted).ok());
  EXPECT_EQ(deleted, 0);
  EXPECT_TRUE(store_->IntegrityCheck().ok());
}

TEST_F(MaintenanceTest, SizeBytesGrowsWithData) {
  int64_t before = store_->GetStats().size_bytes;
  EXPECT_GT(before, 0);
  // Payloads are stored compressed: these still need at least 3000 bytes.
  std::vector<model::WriteItem> items;
  for (int i = 0; i < 200; ++i) {
    model::WriteItem item = MakeItem(project_.id, i + 1, "fp", 100);
    item.event.raw_json = IncompressibleText(4000, i);
    items.push_back(item);
  }
  Write(items);
  EXPECT_GT(store_->GetStats().size_bytes, before + 200 * 3000);
}

TEST_F(StoreTest, IntegrityCheckPasses) {
  Write({MakeItem(project_.id, 1, "fp", 100)});
  Status status = store_->IntegrityCheck();
  EXPECT_TRUE(status.ok()) << status.message();
}

std::vector<model::WriteItem> BigBatch(int64_t project, int64_t first,
                                       int count) {
  std::vector<model::WriteItem> items;
  for (int i = 0; i < count; ++i) {
    model::WriteItem item = MakeItem(project, first + i, "fp", 100 + i);
    item.event.raw_json = IncompressibleText(8000, first + i);
    items.push_back(item);
  }
  return items;
}

int64_t PageCount(const std::string& path) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA page_count", -1, &stmt, nullptr);
  int64_t pages =
      sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : -1;
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return pages;
}

// Disk full: max_page_count stops the database from growing, which SQLite
// reports exactly like a full disk (SQLITE_FULL). Works as root, unlike
// chmod.
TEST_F(StoreTest, DiskFullIsUnavailableAndRecovers) {
  int64_t pages = PageCount(store_->path());
  ASSERT_GT(pages, 0);
  ASSERT_TRUE(
      store_->ExecOnWriter("PRAGMA max_page_count=" + std::to_string(pages))
          .ok());
  std::vector<model::WriteOutcome> outcomes;
  Status status = store_->WriteEvents(BigBatch(project_.id, 1, 50), &outcomes);
  EXPECT_EQ(status.code(), Status::Code::kUnavailable) << status.message();
  EXPECT_NE(status.message().find("full"), std::string::npos)
      << status.message();
  // Every write fails the same way while the condition lasts, and nothing
  // of the failed batches is visible.
  model::Project p;
  EXPECT_EQ(store_->WriteEvents(BigBatch(project_.id, 1, 50), &outcomes).code(),
            Status::Code::kUnavailable);
  model::StoredEvent event;
  EXPECT_EQ(store_->GetEvent(EventId(1), &event).code(),
            Status::Code::kNotFound);
  // Reads keep working.
  model::Page<model::Group> page;
  EXPECT_TRUE(store_->ListGroups(GroupQuery(), &page).ok());

  ASSERT_TRUE(store_->ExecOnWriter("PRAGMA max_page_count=1073741823").ok());
  status = store_->WriteEvents(BigBatch(project_.id, 1, 50), &outcomes);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(outcomes.size(), 50u);
  EXPECT_TRUE(store_->GetEvent(EventId(1), &event).ok());
  EXPECT_TRUE(store_->IntegrityCheck().ok());
}

// Read-only database (as a read-only mount would give): query_only makes
// every write fail with SQLITE_READONLY.
TEST_F(StoreTest, ReadOnlyIsUnavailableAndRecovers) {
  ASSERT_TRUE(store_->ExecOnWriter("PRAGMA query_only=ON").ok());
  struct Case {
    std::string name;
    std::function<Status()> write;
  };
  const Case cases[] = {
      {"events",
       [&] {
         std::vector<model::WriteOutcome> o;
         return store_->WriteEvents({MakeItem(project_.id, 1, "fp", 1)}, &o);
       }},
      {"project", [&] { return store_->CreateProject("p2", nullptr); }},
      {"crash",
       [&] {
         model::Crash c;
         c.dedup_key = "k";
         return store_->UpsertCrash(c, nullptr, nullptr);
       }},
  };
  for (const Case& c : cases) {
    Status status = c.write();
    EXPECT_EQ(status.code(), Status::Code::kUnavailable)
        << c.name << ": " << status.message();
  }
  ASSERT_TRUE(store_->ExecOnWriter("PRAGMA query_only=OFF").ok());
  for (const Case& c : cases) {
    Status status = c.write();
    EXPECT_TRUE(status.ok()) << c.name << ": " << status.message();
  }
}

// Another process holding the write lock: writes wait, retry, count the
// retries, and succeed once the lock is released.
TEST(StoreBusyTest, RetriesWhileAnotherConnectionWrites) {
  TempDir dir;
  SqliteStore::Options options;
  options.busy_timeout_ms = 20;
  options.max_busy_retries = 50;
  std::string error;
  auto store = SqliteStore::Open(dir.File("crashctl.db"), options, &error);
  ASSERT_NE(store, nullptr) << error;

  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(dir.File("crashctl.db").c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr),
            SQLITE_OK);
  std::atomic<bool> done{false};
  Status status;
  std::thread writer([&] {
    status = store->CreateProject("waits", nullptr);
    done = true;
  });
  // Hold the lock until the store has retried at least twice.
  for (int i = 0; i < 500 && store->GetStats().write_retries < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_FALSE(done.load());
  ASSERT_EQ(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr),
            SQLITE_OK);
  writer.join();
  EXPECT_TRUE(status.ok()) << status.message();
  EXPECT_GE(store->GetStats().write_retries, 2);
  sqlite3_close(other);
}

TEST(StoreBusyTest, GivesUpAfterBoundedRetries) {
  TempDir dir;
  SqliteStore::Options options;
  options.busy_timeout_ms = 10;
  options.max_busy_retries = 2;
  std::string error;
  auto store = SqliteStore::Open(dir.File("crashctl.db"), options, &error);
  ASSERT_NE(store, nullptr) << error;
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(dir.File("crashctl.db").c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr),
            SQLITE_OK);
  Status status = store->CreateProject("never", nullptr);
  EXPECT_EQ(status.code(), Status::Code::kUnavailable) << status.message();
  EXPECT_EQ(store->GetStats().write_retries, 2);
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  EXPECT_TRUE(store->CreateProject("now", nullptr).ok());
}

// An acknowledged write survives the process being killed with SIGKILL
// right after the call returns (no close, no checkpoint).
TEST(StoreDurabilityTest, AcknowledgedEventsSurviveKill9) {
  TempDir dir;
  const std::string path = dir.File("crashctl.db");
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::string error;
    auto store = OpenSqlite(path, &error);
    model::Project project;
    if (!store || !store->CreateProject("p", &project).ok()) _exit(3);
    std::vector<model::WriteOutcome> outcomes;
    if (!store->WriteEvents({MakeItem(project.id, 42, "fp", 100)}, &outcomes)
             .ok()) {
      _exit(4);
    }
    raise(SIGKILL);
    _exit(5);
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFSIGNALED(wstatus)) << "child exit " << WEXITSTATUS(wstatus);
  EXPECT_EQ(WTERMSIG(wstatus), SIGKILL);
  std::string error;
  auto store = OpenSqlite(path, &error);
  ASSERT_NE(store, nullptr) << error;
  model::StoredEvent event;
  EXPECT_TRUE(store->GetEvent(EventId(42), &event).ok());
  EXPECT_TRUE(store->IntegrityCheck().ok());
}

// One writer and more readers than pooled connections, all at once.
TEST_F(StoreTest, WriterAndReadersConcurrently) {
  constexpr int kBatches = 40;
  constexpr int kPerBatch = 25;
  std::atomic<bool> writing{true};
  std::atomic<int> read_errors{0};
  std::atomic<int> reads{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 6; ++r) {
    readers.emplace_back([&, r] {
      int64_t last_total = 0;
      // Bounded: stops when the writer is done (or after many rounds).
      for (int i = 0; i < 100000 && writing.load(); ++i) {
        Status status;
        if (r % 3 == 0) {
          model::Page<model::Group> page;
          status = store_->ListGroups(GroupQuery(), &page);
        } else if (r % 3 == 1) {
          std::vector<model::GroupCount> counts;
          status = store_->CountGroups(&counts);
          int64_t total = 0;
          for (const auto& c : counts) total += c.count;
          if (total < last_total) read_errors++;  // snapshots move forward
          last_total = total;
        } else {
          model::StoredEvent event;
          status = store_->GetEvent(EventId(1), &event);
          if (status.code() == Status::Code::kNotFound) status = Status::Ok();
        }
        if (!status.ok()) read_errors++;
        reads++;
      }
    });
  }
  int64_t n = 0;
  for (int b = 0; b < kBatches; ++b) {
    std::vector<model::WriteItem> items;
    for (int i = 0; i < kPerBatch; ++i) {
      ++n;
      items.push_back(
          MakeItem(project_.id, n, "fp" + std::to_string(n % 37), n));
    }
    Write(items);
  }
  writing = false;
  for (auto& t : readers) t.join();
  EXPECT_EQ(read_errors.load(), 0);
  EXPECT_GT(reads.load(), 0);
  int64_t total = 0;
  GroupQuery query;
  query.limit = 1000;
  model::Page<model::Group> page;
  ASSERT_TRUE(store_->ListGroups(query, &page).ok());
  for (const model::Group& g : page.items) total += g.count;
  EXPECT_EQ(page.items.size(), 37u);
  EXPECT_EQ(total, kBatches * kPerBatch);
}

// Batches of 512 like the ingest pipeline: every event is stored. The rate
// is printed for the record only (a shared CI machine under a sanitizer
// measured 490 events/s, an idle one 3,200); speed targets are bench/'s
// (micro_bench, the load generator), not a unit test's.
TEST_F(StoreTest, WriteThroughput) {
  constexpr int kBatch = 512;
  constexpr int kBatches = 20;
  int64_t n = 0;
  auto start = std::chrono::steady_clock::now();
  for (int b = 0; b < kBatches; ++b) {
    std::vector<model::WriteItem> items;
    items.reserve(kBatch);
    for (int i = 0; i < kBatch; ++i) {
      ++n;
      model::WriteItem item = MakeItem(
          project_.id, n, "fp" + std::to_string(n % 200), 1700000000.0 + n);
      item.event.raw_json = std::string(600, 'j');
      items.push_back(std::move(item));
    }
    Write(items);
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  double rate = n / seconds;
  std::printf("store write throughput: %.0f events/s (%lld events, %.2fs)\n",
              rate, static_cast<long long>(n), seconds);
  GroupQuery query;
  query.limit = 1000;
  model::Page<model::Group> page;
  ASSERT_TRUE(store_->ListGroups(query, &page).ok());
  int64_t total = 0;
  for (const model::Group& g : page.items) total += g.count;
  EXPECT_EQ(page.items.size(), 200u);
  EXPECT_EQ(total, n);
}

}  // namespace
}  // namespace store
}  // namespace crashctl
