// Release health on both store backends (issue 18; PostgreSQL: issue 21):
// WriteSessions merges updates by
// (project, sid) and counts each session once at its end; ExpireSessions
// closes silent sessions as abnormal and forgets old closed records;
// max_open evicts the earliest deadline; ListReleases sums the counters,
// users, errors and new groups; RecentReleases gives the label budget.
// Two replicas (two stores on one database) sending the same sessions at
// once count each one once.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "crashctl/releases/sessions.h"
#include "tests/store/backend_fixture.h"
#include "tests/store/store_test_util.h"

namespace crashctl {
namespace store {
namespace {

using releases::CountedStatus;
using releases::SessionCount;
using releases::SessionStatus;
using releases::SessionUpdate;
using testing_util::BackendStoreTest;
using testing_util::MakeItem;

constexpr double kT0 = 1700000000;

std::string Sid(int n) {
  char buf[33];
  std::snprintf(buf, sizeof(buf), "%032x", n);
  return buf;
}

SessionUpdate Update(int sid, SessionStatus status, double at,
                     const std::string& release = "app@1.0",
                     const std::string& did = "", uint64_t errors = 0) {
  SessionUpdate u;
  u.sid = sid > 0 ? Sid(sid) : "";
  u.distinct_id = did;
  u.init = true;  // some SDKs send it on every update
  u.started = kT0;
  u.timestamp = at;
  u.status = status;
  u.errors = status == SessionStatus::kCrashed ? std::max<uint64_t>(errors, 1)
                                               : errors;
  u.attrs.release = release;
  u.attrs.environment = "production";
  return u;
}

class StoreSessionsTest : public BackendStoreTest {
 protected:
  std::vector<SessionCount> Send(std::vector<SessionUpdate> updates, double now,
                                 std::vector<SessionCount> aggregates = {}) {
    return SendTo(store_.get(), std::move(updates), now, std::move(aggregates));
  }
  std::vector<SessionCount> SendTo(Store* store,
                                   std::vector<SessionUpdate> updates,
                                   double now,
                                   std::vector<SessionCount> aggregates = {}) {
    SessionWrite write;
    write.project_id = project_.id;
    write.now = now;
    write.updates = std::move(updates);
    write.aggregate_counts = std::move(aggregates);
    write.options = tracker_;
    std::vector<SessionCount> counts;
    const Status status = store->WriteSessions(write, &counts);
    EXPECT_TRUE(status.ok()) << status.message();
    return counts;
  }

  model::ReleaseSummary Release(const std::string& release,
                                const std::string& environment = "") {
    ReleaseQuery query;
    query.project = project_.id;
    query.environment = environment;
    query.limit = 1000;
    model::Page<model::ReleaseSummary> page;
    const Status status = store_->ListReleases(query, &page);
    EXPECT_TRUE(status.ok()) << status.message();
    for (const auto& r : page.items) {
      if (r.release == release) return r;
    }
    ADD_FAILURE() << "release " << release << " not listed";
    return {};
  }

  releases::TrackerOptions tracker_;
};
CRASHCTL_STORE_BACKENDS(StoreSessionsTest);

TEST_P(StoreSessionsTest, MergesBySidAndCountsOnceAtTheEnd) {
  // init: true on every update, then an exit, then a duplicate exit.
  EXPECT_TRUE(Send({Update(1, SessionStatus::kOk, kT0)}, kT0).empty());
  EXPECT_TRUE(
      Send({Update(1, SessionStatus::kOk, kT0 + 10)}, kT0 + 10).empty());
  std::vector<SessionCount> counts =
      Send({Update(1, SessionStatus::kExited, kT0 + 20)}, kT0 + 20);
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts[0].status, CountedStatus::kExited);
  EXPECT_TRUE(
      Send({Update(1, SessionStatus::kExited, kT0 + 30)}, kT0 + 30).empty());
  const model::ReleaseSummary r = Release("app@1.0");
  EXPECT_EQ(r.exited, 1u);
  EXPECT_EQ(r.errored + r.crashed + r.abnormal, 0u);
  EXPECT_EQ(r.first_seen, kT0);
  EXPECT_EQ(r.last_seen, kT0 + 20);
  EXPECT_EQ(r.environments, std::vector<std::string>{"production"});
}

TEST_P(StoreSessionsTest, CrashedErroredAndDuplicatesInOneWrite) {
  // The crash update twice (as @sentry/node sends it), an errored exit
  // (ok with errors, then exited), a sid-less exited update.
  std::vector<SessionCount> counts =
      Send({Update(1, SessionStatus::kCrashed, kT0, "app@1.0", "u1"),
            Update(1, SessionStatus::kCrashed, kT0, "app@1.0", "u1"),
            Update(2, SessionStatus::kOk, kT0, "app@1.0", "u2", 2),
            Update(2, SessionStatus::kExited, kT0 + 1, "app@1.0", "u2"),
            Update(0, SessionStatus::kOk, kT0, "app@1.0", "u3")},
           kT0 + 1);
  ASSERT_EQ(counts.size(), 3u);
  EXPECT_EQ(counts[0].status, CountedStatus::kCrashed);
  EXPECT_EQ(counts[1].status, CountedStatus::kErrored);
  EXPECT_EQ(counts[2].status, CountedStatus::kExited);
  const model::ReleaseSummary r = Release("app@1.0");
  EXPECT_EQ(r.crashed, 1u);
  EXPECT_EQ(r.errored, 1u);
  EXPECT_EQ(r.exited, 1u);
  EXPECT_EQ(r.users, 3u);
  EXPECT_EQ(r.crashed_users, 1u);
  // The sid-less update was not stored.
  EXPECT_EQ(QueryCount("SELECT count(*) FROM session_records"), 2);
}

TEST_P(StoreSessionsTest, AggregatesAndUsersPerEnvironment) {
  releases::SessionAggregates item;
  item.attrs.release = "web@2";
  item.attrs.environment = "staging";
  releases::SessionAggregate entry;
  entry.started = kT0;
  entry.distinct_id = "alice";
  entry.exited = 5;
  entry.crashed = 1;
  item.aggregates.push_back(entry);
  entry.distinct_id = "bob";
  entry.exited = 3;
  entry.crashed = 0;
  item.aggregates.push_back(entry);
  std::vector<SessionCount> counts =
      Send({}, kT0 + 5, releases::CountAggregates(project_.id, item));
  EXPECT_EQ(counts.size(), 3u);
  Send({Update(9, SessionStatus::kExited, kT0, "web@2", "carol")}, kT0 + 6);
  const model::ReleaseSummary all = Release("web@2");
  EXPECT_EQ(all.exited, 9u);
  EXPECT_EQ(all.crashed, 1u);
  EXPECT_EQ(all.users, 3u);
  EXPECT_EQ(all.crashed_users, 1u);
  EXPECT_EQ(all.environments,
            (std::vector<std::string>{"production", "staging"}));
  const model::ReleaseSummary staging = Release("web@2", "staging");
  EXPECT_EQ(staging.exited, 8u);
  EXPECT_EQ(staging.users, 2u);
}

TEST_P(StoreSessionsTest, RetentionDeletesReleasesNotSeenSinceTheCutoff) {
  Send({Update(1, SessionStatus::kCrashed, kT0, "old@1", "u1")}, kT0);
  Send({Update(2, SessionStatus::kExited, kT0 + 1000, "new@2", "u2")},
       kT0 + 1000);
  int64_t deleted = 0;
  ASSERT_TRUE(store_->DeleteOlderThan(kT0 + 500, &deleted).ok());
  ReleaseQuery query;
  query.project = project_.id;
  model::Page<model::ReleaseSummary> page;
  ASSERT_TRUE(store_->ListReleases(query, &page).ok());
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].release, "new@2");
  EXPECT_EQ(page.items[0].exited, 1u);
  // The old release's counters and users went with it: seen again, it
  // starts from nothing.
  Send({Update(3, SessionStatus::kExited, kT0 + 1001, "old@1", "u3")},
       kT0 + 1001);
  const model::ReleaseSummary again = Release("old@1");
  EXPECT_EQ(again.crashed, 0u);
  EXPECT_EQ(again.exited, 1u);
  EXPECT_EQ(again.users, 1u);
  EXPECT_EQ(again.crashed_users, 0u);
}

TEST_P(StoreSessionsTest, ExpireClosesSilentSessionsAsAbnormal) {
  tracker_.idle_timeout_seconds = 100;
  Send({Update(1, SessionStatus::kOk, kT0), Update(2, SessionStatus::kOk, kT0),
        Update(3, SessionStatus::kOk, kT0)},
       kT0);
  Send({Update(3, SessionStatus::kOk, kT0 + 90)}, kT0 + 90);
  std::vector<SessionCount> counts;
  size_t handled = 0;
  // Before the deadline: nothing.
  ASSERT_TRUE(
      store_->ExpireSessions(kT0 + 50, tracker_, 10, &counts, &handled).ok());
  EXPECT_TRUE(counts.empty());
  // Bounded: one at a time.
  ASSERT_TRUE(
      store_->ExpireSessions(kT0 + 150, tracker_, 1, &counts, &handled).ok());
  EXPECT_EQ(handled, 1u);
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts[0].status, CountedStatus::kAbnormal);
  EXPECT_EQ(counts[0].reason, SessionCount::Reason::kTimedOut);
  ASSERT_TRUE(
      store_->ExpireSessions(kT0 + 150, tracker_, 10, &counts, &handled).ok());
  EXPECT_EQ(counts.size(), 1u);  // sid 3 was refreshed at +90
  EXPECT_EQ(Release("app@1.0").abnormal, 2u);
  // A late end of an expired session is not counted again.
  EXPECT_TRUE(
      Send({Update(1, SessionStatus::kExited, kT0 + 160)}, kT0 + 160).empty());
  // Closed records are forgotten after max_age + 120 s.
  EXPECT_EQ(QueryCount("SELECT count(*) FROM session_records WHERE closed"), 2);
  const double later = kT0 + tracker_.max_age_seconds + 200;
  ASSERT_TRUE(
      store_->ExpireSessions(later, tracker_, 100, &counts, &handled).ok());
  EXPECT_EQ(counts.size(), 1u);  // sid 3, past the max age
  ASSERT_TRUE(
      store_->ExpireSessions(later, tracker_, 100, &counts, &handled).ok());
  EXPECT_EQ(QueryCount("SELECT count(*) FROM session_records"), 0);
  EXPECT_EQ(Release("app@1.0").abnormal, 3u);
}

TEST_P(StoreSessionsTest, EvictsTheEarliestDeadlineBeyondMaxOpen) {
  tracker_.max_open = 2;
  Send({Update(1, SessionStatus::kOk, kT0)}, kT0);
  Send({Update(2, SessionStatus::kOk, kT0 + 10)}, kT0 + 10);
  std::vector<SessionCount> counts =
      Send({Update(3, SessionStatus::kOk, kT0 + 20)}, kT0 + 20);
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts[0].reason, SessionCount::Reason::kEvicted);
  EXPECT_EQ(counts[0].status, CountedStatus::kAbnormal);
  EXPECT_EQ(QueryCount("SELECT count(*) FROM session_records WHERE NOT closed"),
            2);
  EXPECT_EQ(QueryCount("SELECT count(*) FROM session_records WHERE closed "
                       "AND sid = '" +
                       Sid(1) + "'"),
            1);
  // Ending an open one makes room: no eviction.
  Send({Update(2, SessionStatus::kExited, kT0 + 30)}, kT0 + 30);
  EXPECT_TRUE(
      Send({Update(4, SessionStatus::kOk, kT0 + 40)}, kT0 + 40).empty());
  const model::ReleaseSummary r = Release("app@1.0");
  EXPECT_EQ(r.abnormal, 1u);
  EXPECT_EQ(r.exited, 1u);
  // The kept count of open records matches the records.
  EXPECT_EQ(QueryCount("SELECT open FROM session_open_count"), 2);
  std::vector<SessionCount> expired;
  size_t handled = 0;
  ASSERT_TRUE(store_
                  ->ExpireSessions(kT0 + tracker_.idle_timeout_seconds + 100,
                                   tracker_, 10, &expired, &handled)
                  .ok());
  EXPECT_EQ(expired.size(), 2u);
  EXPECT_EQ(QueryCount("SELECT open FROM session_open_count"), 0);
}

TEST_P(StoreSessionsTest, ErrorsNewGroupsPagesAndRecentReleases) {
  // Events: two of r1 (one group), one of r2; a duplicate is not counted.
  std::vector<model::WriteItem> items = {MakeItem(project_.id, 1, "fp1", kT0),
                                         MakeItem(project_.id, 2, "fp1", kT0),
                                         MakeItem(project_.id, 3, "fp2", kT0)};
  items[0].event.release = items[1].event.release = "r1";
  items[2].event.release = "r2";
  items[0].event.environment = items[1].event.environment = "production";
  Write(items);
  Write({items[0]});
  Send({Update(1, SessionStatus::kExited, kT0 + 100, "r3")}, kT0 + 100);
  const model::ReleaseSummary r1 = Release("r1");
  EXPECT_EQ(r1.errors, 2u);
  EXPECT_EQ(r1.new_groups, 1);
  EXPECT_EQ(Release("r2").errors, 1u);
  EXPECT_EQ(Release("r2").new_groups, 1);
  EXPECT_EQ(Release("r3").errors, 0u);

  // Newest first, one per page, through cursors.
  ReleaseQuery query;
  query.project = project_.id;
  query.limit = 1;
  std::vector<std::string> seen;
  for (int i = 0; i < 5; ++i) {
    model::Page<model::ReleaseSummary> page;
    ASSERT_TRUE(store_->ListReleases(query, &page).ok());
    for (const auto& r : page.items) seen.push_back(r.release);
    if (page.next_cursor.empty()) break;
    query.cursor = page.next_cursor;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"r3", "r2", "r1"}));
  query.cursor = "not-a-cursor";
  model::Page<model::ReleaseSummary> page;
  EXPECT_EQ(store_->ListReleases(query, &page).code(), Status::Code::kInvalid);

  std::vector<std::pair<int64_t, std::string>> recent;
  ASSERT_TRUE(store_->RecentReleases(2, &recent).ok());
  EXPECT_EQ(recent, (std::vector<std::pair<int64_t, std::string>>{
                        {project_.id, "r3"}, {project_.id, "r2"}}));
}

TEST_P(StoreSessionsTest, SurvivesReopen) {
  Send({Update(1, SessionStatus::kOk, kT0)}, kT0);
  Reopen();
  std::vector<SessionCount> counts =
      Send({Update(1, SessionStatus::kCrashed, kT0 + 5)}, kT0 + 5);
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(Release("app@1.0").crashed, 1u);
}

TEST_P(StoreSessionsTest, DeleteProjectTakesItsSessionsAndReleases) {
  model::Project other;
  ASSERT_TRUE(store_->CreateProject("other", &other).ok());
  Send({Update(1, SessionStatus::kOk, kT0),
        Update(2, SessionStatus::kExited, kT0, "app@1.0", "u1")},
       kT0);
  SessionWrite theirs;
  theirs.project_id = other.id;
  theirs.now = kT0;
  theirs.updates = {Update(3, SessionStatus::kOk, kT0, "other@1")};
  theirs.options = tracker_;
  ASSERT_TRUE(store_->WriteSessions(theirs, nullptr).ok());
  EXPECT_EQ(QueryCount("SELECT open FROM session_open_count"), 2);
  ASSERT_TRUE(store_->DeleteProject(project_.id).ok());
  for (const char* table :
       {"session_records", "releases", "release_sessions", "release_users"}) {
    EXPECT_EQ(QueryCount(std::string("SELECT count(*) FROM ") + table +
                         " WHERE project_id = " + std::to_string(project_.id)),
              0)
        << table;
  }
  // The other project's open session is still counted, and listed.
  EXPECT_EQ(QueryCount("SELECT open FROM session_open_count"), 1);
  EXPECT_EQ(QueryCount("SELECT count(*) FROM releases"), 1);
}

// Two replicas get every session's updates (as when an SDK retries against
// another one): four threads, two per store, each opening and ending the
// same 60 sessions. Each is counted once, and the open count ends at 0.
TEST_P(StoreSessionsTest, ReplicasSendingTheSameSessionsCountEachOnce) {
  std::unique_ptr<Store> replica = OpenReplica();
  ASSERT_NE(replica, nullptr);
  constexpr int kSessions = 60;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    Store* store = t % 2 == 0 ? store_.get() : replica.get();
    threads.emplace_back([this, store, t] {
      for (int i = 0; i < kSessions; ++i) {
        // Different orders, so that the threads meet on every sid.
        const int sid = 1 + (t < 2 ? i : kSessions - 1 - i);
        SendTo(store,
               {Update(sid, SessionStatus::kOk, kT0 + i, "app@1.0",
                       "user" + std::to_string(sid % 7)),
                Update(sid, SessionStatus::kExited, kT0 + 100 + i, "app@1.0",
                       "user" + std::to_string(sid % 7))},
               kT0 + 100 + i);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  const model::ReleaseSummary r = Release("app@1.0");
  EXPECT_EQ(r.exited, static_cast<uint64_t>(kSessions));
  EXPECT_EQ(r.abnormal + r.crashed + r.errored, 0u);
  EXPECT_EQ(r.users, 7u);
  EXPECT_EQ(QueryCount("SELECT open FROM session_open_count"), 0);
  EXPECT_EQ(QueryCount("SELECT count(*) FROM session_records WHERE closed"),
            kSessions);
}

}  // namespace
}  // namespace store
}  // namespace crashctl
