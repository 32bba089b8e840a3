// Group counters written about once a second (GroupFolds in SqliteStore):
// readers see exact counters, a crash loses none of them, and a rolled-back
// batch leaves them as they were.
#include "store/group_folds.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "store/migrations.h"
#include "store_test_util.h"

namespace crashctl {
namespace store {
namespace {

using testing_util::MakeItem;
using testing_util::QueryInt;
using testing_util::TempDir;

constexpr std::chrono::hours kNever{1};

int64_t StoredCount(const std::string& path, const std::string& fingerprint) {
  return QueryInt(path, "SELECT count FROM groups WHERE fingerprint = '" +
                            fingerprint + "'");
}

std::unique_ptr<SqliteStore> OpenStore(const std::string& path,
                                       std::chrono::milliseconds interval) {
  SqliteStore::Options options;
  options.group_fold_interval = interval;
  std::string error;
  std::unique_ptr<SqliteStore> store = SqliteStore::Open(path, options, &error);
  EXPECT_NE(store, nullptr) << error;
  return store;
}

// Each test's database file, in a directory of its own.
class DeferredGroupCountersTest : public ::testing::Test {
 protected:
  TempDir dir_;
  const std::string path_ = dir_.File("crashctl.db");
};

// The store's groups, most events first.
std::vector<model::Group> GroupsByCount(SqliteStore* store) {
  model::Page<model::Group> page;
  GroupQuery query;
  query.sort = "count";
  EXPECT_TRUE(store->ListGroups(query, &page).ok());
  return page.items;
}

TEST_F(DeferredGroupCountersTest, ReadsFoldPendingCountersFirst) {
  std::unique_ptr<SqliteStore> store = OpenStore(path_, kNever);
  ASSERT_NE(store, nullptr);
  model::Project project;
  ASSERT_TRUE(store->CreateProject("p", &project).ok());
  std::vector<model::WriteOutcome> outcomes;
  ASSERT_TRUE(store
                  ->WriteEvents({MakeItem(project.id, 1, "a", 100),
                                 MakeItem(project.id, 2, "a", 300)},
                                &outcomes)
                  .ok());
  const int64_t group_id = outcomes[0].group_id;
  model::WriteItem newest = MakeItem(project.id, 4, "a", 400);
  newest.event.level = model::Level::kFatal;
  newest.grouping.title = "Error: the newest";
  ASSERT_TRUE(
      store
          ->WriteEvents({MakeItem(project.id, 3, "a", 200), std::move(newest),
                         MakeItem(project.id, 5, "b", 150)},
                        &outcomes)
          .ok());
  // Not written yet: the group row holds what its creation wrote.
  EXPECT_EQ(StoredCount(path_, "a"), 0);
  EXPECT_EQ(store->GetStats().deferred_updates, 2u);

  model::Group group;
  ASSERT_TRUE(store->GetGroup(group_id, &group).ok());
  EXPECT_EQ(group.count, 4);
  EXPECT_DOUBLE_EQ(group.first_seen, 100);
  EXPECT_DOUBLE_EQ(group.last_seen, 400);
  EXPECT_EQ(group.level, model::Level::kFatal);
  EXPECT_EQ(group.title, "Error: the newest");
  EXPECT_EQ(StoredCount(path_, "a"), 4);
  EXPECT_EQ(StoredCount(path_, "b"), 1);
  EXPECT_EQ(store->GetStats().deferred_updates, 0u);

  // Listing folds as well.
  ASSERT_TRUE(
      store->WriteEvents({MakeItem(project.id, 6, "b", 160)}, &outcomes).ok());
  const std::vector<model::Group> groups = GroupsByCount(store.get());
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].count, 4);
  EXPECT_EQ(groups[1].count, 2);
}

TEST_F(DeferredGroupCountersTest, FoldsEachGroupOnceItIsDue) {
  // GroupFolds on its own, with the clock in the test's hands.
  {
    std::unique_ptr<SqliteStore> store = OpenStore(path_, kNever);
    ASSERT_NE(store, nullptr);
    model::Project project;
    ASSERT_TRUE(store->CreateProject("p", &project).ok());
    std::vector<model::WriteOutcome> outcomes;
    ASSERT_TRUE(store
                    ->WriteEvents({MakeItem(project.id, 1, "a", 100),
                                   MakeItem(project.id, 2, "b", 100),
                                   MakeItem(project.id, 3, "c", 100)},
                                  &outcomes)
                    .ok());
  }  // closing folds: each count is 1
  Status status;
  std::unique_ptr<SqliteDb> db =
      SqliteDb::Open(path_, SqliteDb::Options{5000, false}, &status);
  ASSERT_NE(db, nullptr) << status.message();
  GroupFolds::Options options;
  options.interval = std::chrono::seconds(1);
  options.max_groups = 2;
  GroupFolds folds(options);
  auto one = [](int64_t event_id) {
    GroupCounters counters;
    counters.events = 1;
    counters.first_event_id = counters.last_event_id = event_id;
    counters.last_seen = 500;
    counters.title = "t";
    counters.level = "error";
    return counters;
  };
  auto write = [&](GroupFolds::Batch batch, GroupFolds::Clock::time_point now,
                   bool commit) {
    ASSERT_TRUE(db->Exec("BEGIN IMMEDIATE", "begin").ok());
    ASSERT_TRUE(folds.Write(db.get(), std::move(batch), false, now).ok());
    if (commit) {
      ASSERT_TRUE(db->Exec("COMMIT", "commit").ok());
      folds.Commit();
    } else {
      ASSERT_TRUE(db->Exec("ROLLBACK", "rollback").ok());
    }
  };
  const GroupFolds::Clock::time_point t0 = GroupFolds::Clock::now();
  const int64_t a = 1, b = 2, c = 3;  // group ids, in creation order

  write({{a, one(10)}}, t0, true);
  EXPECT_EQ(folds.size(), 1u);
  EXPECT_EQ(StoredCount(path_, "a"), 1);
  // The watermark: every event below the oldest pending one is folded.
  EXPECT_EQ(QueryInt(path_,
                     "SELECT value FROM store_state "
                     "WHERE name = 'groups_folded_below'"),
            10);

  write({{a, one(11)}, {b, one(12)}}, t0 + std::chrono::milliseconds(500),
        true);
  EXPECT_EQ(folds.size(), 2u);
  EXPECT_EQ(StoredCount(path_, "a"), 1);

  // A rolled-back batch in which `a` was due changes nothing in memory.
  write({{b, one(13)}}, t0 + std::chrono::milliseconds(1100), false);
  EXPECT_EQ(folds.size(), 2u);
  EXPECT_EQ(StoredCount(path_, "a"), 1);

  // `a` is due (1 s after its first pending event); `b` is not.
  write({}, t0 + std::chrono::milliseconds(1200), true);
  EXPECT_EQ(folds.size(), 1u);
  EXPECT_EQ(StoredCount(path_, "a"), 3);
  EXPECT_EQ(StoredCount(path_, "b"), 1);

  // A third pending group would exceed max_groups: the oldest goes now.
  write({{a, one(14)}, {c, one(15)}}, t0 + std::chrono::milliseconds(1300),
        true);
  EXPECT_EQ(folds.size(), 2u);
  EXPECT_EQ(StoredCount(path_, "b"), 2);
  EXPECT_EQ(QueryInt(path_, "SELECT folded_event_id FROM groups WHERE id = 2"),
            12);
}

// Stores events in a child process that then ends without closing the
// store, as a crash (or kill -9) would.
void WriteThenCrash(const std::string& path, int64_t project_id) {
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::unique_ptr<SqliteStore> store = OpenStore(path, kNever);
    std::vector<model::WriteOutcome> outcomes;
    bool ok = store != nullptr;
    // Folded before the crash: one event of "a".
    ok =
        ok &&
        store->WriteEvents({MakeItem(project_id, 1, "a", 100)}, &outcomes).ok();
    ok = ok && store->FlushGroupCounters().ok();
    // Not folded: two more of "a", one of the new "b".
    model::WriteItem last = MakeItem(project_id, 3, "a", 300);
    last.event.level = model::Level::kFatal;
    ok = ok && store
                   ->WriteEvents({MakeItem(project_id, 2, "a", 200),
                                  MakeItem(project_id, 4, "b", 150)},
                                 &outcomes)
                   .ok();
    ok = ok && store->WriteEvents({std::move(last)}, &outcomes).ok();
    _exit(ok ? 0 : 1);
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFEXITED(wstatus));
  ASSERT_EQ(WEXITSTATUS(wstatus), 0);
}

TEST_F(DeferredGroupCountersTest, NextOpenRecoversWhatACrashLeftUnfolded) {
  model::Project project;
  {
    std::unique_ptr<SqliteStore> store = OpenStore(path_, kNever);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->CreateProject("p", &project).ok());
  }
  WriteThenCrash(path_, project.id);
  // The crash left the counters behind the events.
  EXPECT_EQ(QueryInt(path_, "SELECT count(*) FROM events"), 4);
  EXPECT_EQ(StoredCount(path_, "a"), 1);
  EXPECT_EQ(StoredCount(path_, "b"), 0);

  for (int open = 0; open < 2; ++open) {  // recovering twice adds nothing
    std::unique_ptr<SqliteStore> store = OpenStore(path_, kNever);
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(StoredCount(path_, "a"), 3);
    EXPECT_EQ(StoredCount(path_, "b"), 1);
    const std::vector<model::Group> groups = GroupsByCount(store.get());
    ASSERT_EQ(groups.size(), 2u);
    EXPECT_EQ(groups[0].count, 3);
    EXPECT_DOUBLE_EQ(groups[0].last_seen, 300);
    EXPECT_EQ(groups[0].level, model::Level::kFatal);
    EXPECT_EQ(groups[0].culprit, "app.js in handler");
    EXPECT_EQ(groups[1].count, 1);
  }
  // Stored again (duplicates, skipped), the events add nothing.
  WriteThenCrash(path_, project.id);
  EXPECT_EQ(StoredCount(path_, "a"), 3);
}

TEST_F(DeferredGroupCountersTest, OneProcessAtATimeDefersCounters) {
  // A second deferring store would recover (count) the first one's pending
  // events, which the first then writes again.
  std::unique_ptr<SqliteStore> first = OpenStore(path_, kNever);
  ASSERT_NE(first, nullptr);
  SqliteStore::Options options;
  options.group_fold_interval = kNever;
  std::string error;
  EXPECT_EQ(SqliteStore::Open(path_, options, &error), nullptr);
  EXPECT_NE(error.find("another process ingests into"), std::string::npos)
      << error;
  // The CLI's store does not defer, so it opens beside the server.
  error.clear();
  EXPECT_NE(SqliteStore::Open(path_, SqliteStore::Options(), &error), nullptr)
      << error;
  first.reset();
  EXPECT_NE(OpenStore(path_, kNever), nullptr);
}

TEST_F(DeferredGroupCountersTest, RetentionKeepsTheNewestEvent) {
  // Event ids must only grow (the watermark counts on it), so retention
  // never deletes the event with the highest id, however old it is.
  std::unique_ptr<SqliteStore> store =
      OpenStore(path_, std::chrono::milliseconds(0));
  ASSERT_NE(store, nullptr);
  model::Project project;
  ASSERT_TRUE(store->CreateProject("p", &project).ok());
  std::vector<model::WriteOutcome> outcomes;
  ASSERT_TRUE(store
                  ->WriteEvents({MakeItem(project.id, 1, "a", 100),
                                 MakeItem(project.id, 2, "a", 50)},
                                &outcomes)
                  .ok());
  int64_t deleted = 0;
  ASSERT_TRUE(store->DeleteOlderThan(1000, &deleted).ok());
  EXPECT_EQ(deleted, 1);
  model::StoredEvent event;
  EXPECT_TRUE(store->GetEvent(testing_util::EventId(2), &event).ok());
  ASSERT_TRUE(
      store->WriteEvents({MakeItem(project.id, 3, "a", 2000)}, &outcomes).ok());
  EXPECT_EQ(QueryInt(path_, "SELECT max(id) FROM events"), 3);
}

}  // namespace
}  // namespace store
}  // namespace crashctl
