// The same assertions against both Store backends (SQLite and PostgreSQL)
// for what the PostgreSQL store implements (docs/postgres.md "The Store"),
// plus PostgreSQL-only tests of concurrent writers and of a server killed
// mid-batch. The PostgreSQL cases skip when PostgreSQL is not installed
// (tests/testing/postgres_server.h).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "crashctl/store/pg/connection.h"
#include "crashctl/store/pg/errors.h"
#include "crashctl/store/postgres.h"
#include "crashctl/store/sqlite.h"
#include "crashctl/store/store.h"
#include "crashctl/util/time.h"
#include "tests/store/backend_fixture.h"
#include "tests/testing/postgres_server.h"
#include "tests/testing/temp_dir.h"

namespace crashctl {
namespace store {
namespace {

using ::testing::HasSubstr;

std::string EventId(int64_t n) {
  char buf[33];
  std::snprintf(buf, sizeof(buf), "%032llx",
                static_cast<unsigned long long>(n));
  return buf;
}

model::WriteItem MakeItem(int64_t project, int64_t n,
                          const std::string& fingerprint, double timestamp) {
  model::WriteItem item;
  item.event.event_id = EventId(n);
  item.event.project_id = project;
  item.event.timestamp = timestamp;
  item.event.received = timestamp + 0.5;
  item.event.level = model::Level::kError;
  item.event.platform = "node";
  item.event.message = "message " + std::to_string(n);
  item.event.raw_json =
      "{\"event_id\":\"" + EventId(n) + "\",\"n\":" + std::to_string(n) + "}";
  item.grouping.fingerprint = fingerprint;
  item.grouping.title = "Error: " + fingerprint;
  item.grouping.culprit = "app.js in handler";
  item.grouping.method = "fingerprint";
  return item;
}

using testing_util::PostgresSchemaConninfo;
using testing_util::PostgresTestOptions;
using BackendTest = testing_util::BackendStoreTest;
CRASHCTL_STORE_BACKENDS(BackendTest);

TEST_P(BackendTest, Projects) {
  EXPECT_GT(project_.id, 0);
  EXPECT_EQ(project_.name, "default");
  EXPECT_EQ(project_.public_key.size(), 32u);
  model::Project other;
  ASSERT_OK(store_->CreateProject("other", &other));
  EXPECT_EQ(store_->CreateProject("other", nullptr).code(),
            Status::Code::kConflict);
  EXPECT_EQ(store_->CreateProject("", nullptr).code(), Status::Code::kInvalid);

  std::vector<model::Project> projects;
  ASSERT_OK(store_->ListProjects(&projects));
  ASSERT_EQ(projects.size(), 2u);
  EXPECT_EQ(projects[0].id, project_.id);
  EXPECT_EQ(projects[0].public_key, project_.public_key);
  EXPECT_EQ(projects[1].name, "other");

  model::Project got;
  ASSERT_OK(store_->GetProject(other.id, &got));
  EXPECT_EQ(got.name, "other");
  EXPECT_DOUBLE_EQ(got.created_at, other.created_at);
  EXPECT_EQ(store_->GetProject(other.id + 100, &got).code(),
            Status::Code::kNotFound);

  ASSERT_OK(store_->DeleteProject(other.id));
  EXPECT_EQ(store_->GetProject(other.id, &got).code(), Status::Code::kNotFound);
  EXPECT_EQ(store_->DeleteProject(other.id).code(), Status::Code::kNotFound);
}

TEST_P(BackendTest, ProjectKeys) {
  std::vector<model::ProjectKey> keys;
  ASSERT_OK(store_->ListKeys(project_.id, &keys));
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].public_key, project_.public_key);
  EXPECT_EQ(keys[0].label, "Default");
  EXPECT_TRUE(keys[0].active);

  model::ProjectKey key;
  ASSERT_OK(store_->CreateKey(project_.id, "ci", 60, &key));
  EXPECT_EQ(key.public_key.size(), 32u);
  EXPECT_EQ(store_->CreateKey(project_.id + 100, "x", 0, nullptr).code(),
            Status::Code::kNotFound);
  EXPECT_EQ(store_->CreateKey(project_.id, "x", -1, nullptr).code(),
            Status::Code::kInvalid);

  KeyUpdate update;
  update.active = false;
  model::ProjectKey updated;
  ASSERT_OK(store_->UpdateKey(project_.id, key.id, update, &updated));
  EXPECT_FALSE(updated.active);
  EXPECT_EQ(updated.label, "ci");
  EXPECT_EQ(updated.rate_limit_per_minute, 60);
  EXPECT_EQ(
      store_->UpdateKey(project_.id, key.id + 100, update, nullptr).code(),
      Status::Code::kNotFound);

  ASSERT_OK(store_->ListAllKeys(&keys));
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_FALSE(keys[1].active);
  ASSERT_OK(store_->DeleteKey(project_.id, key.id));
  EXPECT_EQ(store_->DeleteKey(project_.id, key.id).code(),
            Status::Code::kNotFound);
  ASSERT_OK(store_->ListKeys(project_.id, &keys));
  EXPECT_EQ(keys.size(), 1u);
}

TEST_P(BackendTest, WriteGroupsAndCounters) {
  std::vector<model::WriteItem> items = {
      MakeItem(project_.id, 1, "a", 1000), MakeItem(project_.id, 2, "a", 990),
      MakeItem(project_.id, 3, "b", 1005), MakeItem(project_.id, 4, "a", 1010)};
  items[0].event.release = "";
  items[1].event.release = "1.0";
  items[3].event.release = "1.1";
  items[3].event.service = "api";
  items[3].event.level = model::Level::kFatal;
  items[3].grouping.title = "Error: a (latest)";
  const std::vector<model::WriteOutcome> outcomes = Write(items);
  ASSERT_EQ(outcomes.size(), 4u);
  EXPECT_TRUE(outcomes[0].new_group);
  EXPECT_FALSE(outcomes[1].new_group);
  EXPECT_TRUE(outcomes[2].new_group);
  EXPECT_FALSE(outcomes[3].new_group);
  EXPECT_EQ(outcomes[0].group_id, outcomes[1].group_id);
  EXPECT_EQ(outcomes[0].group_id, outcomes[3].group_id);
  EXPECT_NE(outcomes[0].group_id, outcomes[2].group_id);
  for (const auto& o : outcomes) {
    EXPECT_FALSE(o.duplicate);
    EXPECT_FALSE(o.regression);
  }

  model::Group a = Group(outcomes[0].group_id);
  EXPECT_EQ(a.project_id, project_.id);
  EXPECT_EQ(a.fingerprint, "a");
  EXPECT_EQ(a.count, 3);
  EXPECT_DOUBLE_EQ(a.first_seen, 990);
  EXPECT_DOUBLE_EQ(a.last_seen, 1010);
  EXPECT_EQ(a.title, "Error: a (latest)");
  EXPECT_EQ(a.culprit, "app.js in handler");
  EXPECT_EQ(a.level, model::Level::kFatal);
  EXPECT_EQ(a.service, "api");
  EXPECT_EQ(a.release, "1.1");
  EXPECT_EQ(a.first_release, "1.0");
  EXPECT_EQ(a.status, model::GroupStatus::kUnresolved);
  EXPECT_EQ(a.regression_count, 0);

  // A later batch adds to the group; an older event does not take over its
  // latest fields.
  std::vector<model::WriteItem> more = {MakeItem(project_.id, 5, "a", 500)};
  more[0].event.release = "0.9";
  const std::vector<model::WriteOutcome> second = Write(more);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_FALSE(second[0].new_group);
  EXPECT_EQ(second[0].group_id, a.id);
  a = Group(a.id);
  EXPECT_EQ(a.count, 4);
  EXPECT_DOUBLE_EQ(a.first_seen, 500);
  EXPECT_DOUBLE_EQ(a.last_seen, 1010);
  EXPECT_EQ(a.release, "1.1");
  EXPECT_EQ(a.first_release, "1.0");
  EXPECT_EQ(store_->GetGroup(a.id + 1000, &a).code(), Status::Code::kNotFound);

  std::vector<model::GroupCount> counts;
  ASSERT_OK(store_->CountGroups(&counts));
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts[0].project_id, project_.id);
  EXPECT_EQ(counts[0].status, model::GroupStatus::kUnresolved);
  EXPECT_EQ(counts[0].count, 2);
}

TEST_P(BackendTest, RetriedBatchIsIdempotent) {
  std::vector<model::WriteItem> items = {MakeItem(project_.id, 1, "a", 1000),
                                         MakeItem(project_.id, 2, "a", 1001),
                                         MakeItem(project_.id, 1, "a", 1000)};
  std::vector<model::WriteOutcome> outcomes = Write(items);
  ASSERT_EQ(outcomes.size(), 3u);
  EXPECT_FALSE(outcomes[0].duplicate);
  EXPECT_FALSE(outcomes[1].duplicate);
  EXPECT_TRUE(outcomes[2].duplicate);  // twice in one batch
  const int64_t group_id = outcomes[0].group_id;
  EXPECT_EQ(Group(group_id).count, 2);

  outcomes = Write(items);  // the whole batch again (a retry)
  for (const auto& o : outcomes) EXPECT_TRUE(o.duplicate);
  EXPECT_EQ(Group(group_id).count, 2);

  // A retry with one new event counts only that one.
  items.push_back(MakeItem(project_.id, 3, "a", 1002));
  outcomes = Write(items);
  ASSERT_EQ(outcomes.size(), 4u);
  EXPECT_FALSE(outcomes[3].duplicate);
  EXPECT_EQ(outcomes[3].group_id, group_id);
  EXPECT_EQ(Group(group_id).count, 3);
}

TEST_P(BackendTest, DistinctUsersOfAGroup) {
  std::vector<model::WriteItem> items;
  const char* users[] = {"alice", "alice", "bob", ""};
  for (int i = 0; i < 4; ++i) {
    items.push_back(MakeItem(project_.id, i + 1, "a", 1000 + i));
    items.back().event.user = users[i];
  }
  const int64_t id = Write(items)[0].group_id;
  EXPECT_EQ(Group(id).users, 2);
  items.clear();
  items.push_back(MakeItem(project_.id, 10, "a", 1010));
  items.back().event.user = "bob";
  items.push_back(MakeItem(project_.id, 11, "a", 1011));
  items.back().event.user = "carol";
  Write(items);
  EXPECT_EQ(Group(id).users, 3);
  Write(items);  // a retry counts nobody twice
  EXPECT_EQ(Group(id).users, 3);

  EventQuery query;
  query.user = "carol";
  model::Page<model::StoredEvent> page;
  ASSERT_OK(store_->ListEvents(query, &page));
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].event_id, EventId(11));
}

TEST_P(BackendTest, ResolvedGroupRegresses) {
  const int64_t id = Write({MakeItem(project_.id, 1, "a", 1000)})[0].group_id;
  model::Group group;
  ASSERT_OK(store_->SetGroupStatus(id, model::GroupStatus::kResolved, &group));
  EXPECT_EQ(group.status, model::GroupStatus::kResolved);
  EXPECT_EQ(Group(id).status, model::GroupStatus::kResolved);
  EXPECT_EQ(
      store_->SetGroupStatus(id + 100, model::GroupStatus::kResolved, nullptr)
          .code(),
      Status::Code::kNotFound);

  std::vector<model::WriteOutcome> outcomes =
      Write({MakeItem(project_.id, 2, "a", 1001),
             MakeItem(project_.id, 3, "a", 1002)});
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_TRUE(outcomes[0].regression);
  EXPECT_FALSE(outcomes[1].regression);
  group = Group(id);
  EXPECT_EQ(group.status, model::GroupStatus::kUnresolved);
  EXPECT_EQ(group.regression_count, 1);
  EXPECT_EQ(group.count, 3);

  // An ignored group stays ignored.
  ASSERT_OK(store_->SetGroupStatus(id, model::GroupStatus::kIgnored, nullptr));
  outcomes = Write({MakeItem(project_.id, 4, "a", 1003)});
  EXPECT_FALSE(outcomes[0].regression);
  group = Group(id);
  EXPECT_EQ(group.status, model::GroupStatus::kIgnored);
  EXPECT_EQ(group.regression_count, 1);
}

TEST_P(BackendTest, ListGroupsSortsFiltersAndPages) {
  std::vector<model::WriteItem> items;
  int64_t n = 0;
  // Group gK has K + 1 events, the last at 2000 + 10 * K.
  for (int k = 0; k < 5; ++k) {
    for (int j = 0; j <= k; ++j) {
      items.push_back(MakeItem(project_.id, ++n, "g" + std::to_string(k),
                               2000 + 10 * k - j));
      items.back().event.release = k % 2 == 0 ? "even" : "odd";
      items.back().event.environment = "prod";
    }
  }
  Write(items);

  GroupQuery query;
  model::Page<model::Group> page;
  ASSERT_OK(store_->ListGroups(query, &page));
  ASSERT_EQ(page.items.size(), 5u);
  EXPECT_TRUE(page.next_cursor.empty());
  for (int k = 0; k < 5; ++k) {
    EXPECT_EQ(page.items[k].fingerprint, "g" + std::to_string(4 - k));
  }

  // Pages of 2 by count, then the same by last_seen.
  for (const std::string sort : {"count", "last_seen", "first_seen"}) {
    SCOPED_TRACE(sort);
    query = GroupQuery();
    query.sort = sort;
    query.limit = 2;
    std::vector<std::string> seen;
    for (int i = 0; i < 10; ++i) {
      ASSERT_OK(store_->ListGroups(query, &page));
      for (const auto& g : page.items) seen.push_back(g.fingerprint);
      if (page.next_cursor.empty()) break;
      query.cursor = page.next_cursor;
    }
    EXPECT_THAT(seen, ::testing::ElementsAre("g4", "g3", "g2", "g1", "g0"));
  }

  query = GroupQuery();
  query.release = "odd";
  ASSERT_OK(store_->ListGroups(query, &page));
  ASSERT_EQ(page.items.size(), 2u);
  EXPECT_EQ(page.items[0].fingerprint, "g3");
  EXPECT_EQ(page.items[1].fingerprint, "g1");

  query = GroupQuery();
  query.project = project_.id + 100;
  ASSERT_OK(store_->ListGroups(query, &page));
  EXPECT_TRUE(page.items.empty());

  query = GroupQuery();
  query.since = 2031;  // last_seen >= since
  ASSERT_OK(store_->ListGroups(query, &page));
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].fingerprint, "g4");

  ASSERT_OK(store_->SetGroupStatus(page.items[0].id,
                                   model::GroupStatus::kResolved, nullptr));
  query = GroupQuery();
  query.status = model::GroupStatus::kResolved;
  ASSERT_OK(store_->ListGroups(query, &page));
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].fingerprint, "g4");

  query = GroupQuery();
  query.sort = "bogus";
  EXPECT_EQ(store_->ListGroups(query, &page).code(), Status::Code::kInvalid);
  query = GroupQuery();
  query.cursor = "not a cursor";
  EXPECT_EQ(store_->ListGroups(query, &page).code(), Status::Code::kInvalid);
}

TEST_P(BackendTest, EventsRoundTrip) {
  model::WriteItem item = MakeItem(project_.id, 1, "a", 1000.25);
  item.event.release = "1.0";
  item.event.environment = "prod";
  item.event.server_name = "web-1";
  item.event.service = "api";
  item.event.trace_id = std::string(32, 'a');
  item.event.span_id = std::string(16, 'b');
  item.event.sdk_name = "sentry.javascript.node";
  item.event.sdk_version = "7.0.0";
  item.event.user = "alice";
  item.event.tags = {{"browser", "firefox"}, {"pod", "web-1-abc"}};
  item.event.raw_json = std::string("{\"big\":\"") + std::string(5000, 'x') +
                        "\",\"nul\":\"\\u0000\"}";
  store_->PrepareWrite(&item);
  std::vector<model::WriteItem> items = {item};
  for (int i = 2; i <= 5; ++i) {
    items.push_back(MakeItem(project_.id, i, "a", 1000 + i));
  }
  const int64_t group_id = Write(items)[0].group_id;

  model::StoredEvent event;
  ASSERT_OK(store_->GetEvent(EventId(1), &event));
  EXPECT_EQ(event.event_id, EventId(1));
  EXPECT_EQ(event.project_id, project_.id);
  EXPECT_EQ(event.group_id, group_id);
  EXPECT_DOUBLE_EQ(event.timestamp, 1000.25);
  EXPECT_DOUBLE_EQ(event.received, 1000.75);
  EXPECT_EQ(event.level, model::Level::kError);
  EXPECT_EQ(event.platform, "node");
  EXPECT_EQ(event.message, "message 1");
  EXPECT_EQ(event.release, "1.0");
  EXPECT_EQ(event.environment, "prod");
  EXPECT_EQ(event.server_name, "web-1");
  EXPECT_EQ(event.service, "api");
  EXPECT_EQ(event.title, "Error: a");
  EXPECT_EQ(event.trace_id, item.event.trace_id);
  EXPECT_EQ(event.span_id, item.event.span_id);
  EXPECT_EQ(event.sdk_name, "sentry.javascript.node");
  EXPECT_EQ(event.sdk_version, "7.0.0");
  EXPECT_EQ(event.user, "alice");
  EXPECT_EQ(event.tags, item.event.tags);
  EXPECT_EQ(event.payload, item.event.raw_json);
  // Without PrepareWrite too.
  ASSERT_OK(store_->GetEvent(EventId(3), &event));
  EXPECT_EQ(event.payload, items[2].event.raw_json);
  EXPECT_EQ(store_->GetEvent(EventId(99), &event).code(),
            Status::Code::kNotFound);

  std::vector<int64_t> pods;
  ASSERT_OK(store_->FindGroupsForPod("web-1-abc", 1000, 1001, &pods));
  EXPECT_THAT(pods, ::testing::ElementsAre(group_id));
  ASSERT_OK(store_->FindGroupsForPod("web-1-abc", 1001, 1002, &pods));
  EXPECT_TRUE(pods.empty());

  // Newest first, in pages of 2.
  std::vector<std::string> seen;
  std::string cursor;
  for (int i = 0; i < 10; ++i) {
    model::Page<model::StoredEvent> page;
    ASSERT_OK(store_->ListGroupEvents(group_id, 2, cursor, &page));
    for (const auto& e : page.items) {
      EXPECT_TRUE(e.payload.empty());
      seen.push_back(e.event_id);
    }
    if (page.next_cursor.empty()) break;
    cursor = page.next_cursor;
  }
  EXPECT_THAT(seen, ::testing::ElementsAre(EventId(5), EventId(4), EventId(3),
                                           EventId(2), EventId(1)));
  model::Page<model::StoredEvent> page;
  EXPECT_EQ(store_->ListGroupEvents(group_id + 100, 2, "", &page).code(),
            Status::Code::kNotFound);

  EventQuery query;
  query.environment = "prod";
  ASSERT_OK(store_->ListEvents(query, &page));
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].event_id, EventId(1));
  query = EventQuery();
  query.tags = {{"browser", "firefox"}};
  ASSERT_OK(store_->ListEvents(query, &page));
  ASSERT_EQ(page.items.size(), 1u);
  query = EventQuery();
  query.tags = {{"browser", "chrome"}};
  ASSERT_OK(store_->ListEvents(query, &page));
  EXPECT_TRUE(page.items.empty());
  query = EventQuery();
  query.since = 1003;
  query.limit = 1;
  ASSERT_OK(store_->ListEvents(query, &page));
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].event_id, EventId(5));
  query.cursor = page.next_cursor;
  ASSERT_OK(store_->ListEvents(query, &page));
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].event_id, EventId(4));
}

TEST_P(BackendTest, DeleteOlderThanDeletesEventsAndEmptyGroups) {
  const double now = util::NowSeconds();
  std::vector<model::WriteItem> items;
  for (int i = 1; i <= 7; ++i) {
    items.push_back(MakeItem(project_.id, i, "old", now - 10000 - i));
  }
  items.push_back(MakeItem(project_.id, 8, "mixed", now - 10000));
  items.push_back(MakeItem(project_.id, 9, "mixed", now - 10));
  items.push_back(MakeItem(project_.id, 10, "new", now - 5));
  const std::vector<model::WriteOutcome> outcomes = Write(items);
  int64_t deleted = 0;
  ASSERT_OK(store_->DeleteOlderThan(now - 1000, &deleted));
  EXPECT_EQ(deleted, 8);
  model::Group group;
  EXPECT_EQ(store_->GetGroup(outcomes[0].group_id, &group).code(),
            Status::Code::kNotFound);
  ASSERT_OK(store_->GetGroup(outcomes[7].group_id, &group));
  ASSERT_OK(store_->GetGroup(outcomes[9].group_id, &group));
  model::StoredEvent event;
  EXPECT_EQ(store_->GetEvent(EventId(1), &event).code(),
            Status::Code::kNotFound);
  EXPECT_OK(store_->GetEvent(EventId(9), &event));

  int64_t bytes = 0;
  ASSERT_OK(store_->UsedBytes(&bytes));
  EXPECT_GT(bytes, 0);
  EXPECT_OK(store_->HealthProbe());
}

// --- PostgreSQL only ----------------------------------------------------

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!testing::PostgresServer::Available(&why)) GTEST_SKIP() << why;
  }
};

TEST_F(PostgresStoreTest, ConcurrentWritersKeepCountsExact) {
  std::string why;
  testing::PostgresServer* server = testing::SharedPostgresServer(&why);
  ASSERT_NE(server, nullptr) << why;
  const std::string conninfo = PostgresSchemaConninfo(server, &why);
  ASSERT_FALSE(conninfo.empty()) << why;
  std::unique_ptr<Store> store;
  ASSERT_OK(OpenPostgres(PostgresTestOptions(conninfo), &store));
  model::Project project;
  ASSERT_OK(store->CreateProject("p", &project));

  constexpr int kThreads = 4;
  constexpr int kBatches = 30;
  constexpr int kPerBatch = 25;
  constexpr int kFingerprints = 9;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int b = 0; b < kBatches; ++b) {
        std::vector<model::WriteItem> items;
        for (int i = 0; i < kPerBatch; ++i) {
          // Overlapping fingerprints in every thread, in different orders;
          // every 5th event is also written by the next thread (a repeat).
          const int64_t n =
              (static_cast<int64_t>(t) * kBatches + b) * kPerBatch + i + 1;
          const int fp = (i * (t + 1) + b) % kFingerprints;
          items.push_back(MakeItem(project.id, n, "fp" + std::to_string(fp),
                                   1000 + b * 10 + i));
          if (i % 5 == 0) {
            const int next = (t + 1) % kThreads;
            const int64_t m =
                (static_cast<int64_t>(next) * kBatches + b) * kPerBatch + i + 1;
            items.push_back(MakeItem(
                project.id, m,
                "fp" + std::to_string((i * (next + 1) + b) % kFingerprints),
                1000 + b * 10 + i));
          }
        }
        std::vector<model::WriteOutcome> outcomes;
        Status status = store->WriteEvents(items, &outcomes);
        if (!status.ok()) {
          ADD_FAILURE() << status.ToString();
          ++failures;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  ASSERT_EQ(failures.load(), 0);

  GroupQuery query;
  query.limit = 1000;
  model::Page<model::Group> groups;
  ASSERT_OK(store->ListGroups(query, &groups));
  ASSERT_EQ(groups.items.size(), static_cast<size_t>(kFingerprints));
  std::set<std::string> fingerprints;
  int64_t total = 0;
  for (const model::Group& group : groups.items) {
    EXPECT_TRUE(fingerprints.insert(group.fingerprint).second)
        << "duplicate group " << group.fingerprint;
    int64_t events = 0;
    std::string cursor;
    for (int i = 0; i < 100; ++i) {
      model::Page<model::StoredEvent> page;
      ASSERT_OK(store->ListGroupEvents(group.id, 1000, cursor, &page));
      events += static_cast<int64_t>(page.items.size());
      if (page.next_cursor.empty()) break;
      cursor = page.next_cursor;
    }
    EXPECT_EQ(group.count, events) << group.fingerprint;
    total += group.count;
  }
  EXPECT_EQ(total, kThreads * kBatches * kPerBatch);
}

TEST_F(PostgresStoreTest, KilledServerNeverAcknowledgesAnUncommittedBatch) {
  std::string error;
  std::unique_ptr<testing::PostgresServer> server =
      testing::PostgresServer::Create(&error);
  ASSERT_NE(server, nullptr) << error;
  PostgresOptions options = PostgresTestOptions(server->ConnectionString());
  options.statement_timeout_ms = 3000;
  options.connect_timeout_ms = 1000;
  options.acquire_timeout_ms = 1000;
  std::unique_ptr<Store> store;
  ASSERT_OK(OpenPostgres(options, &store));
  model::Project project;
  ASSERT_OK(store->CreateProject("p", &project));

  // A writer writes batches as fast as it can; the server is killed under
  // it three times (and restarted). Every batch is recorded with its
  // result.
  struct Batch {
    std::vector<model::WriteItem> items;
    Status status;
  };
  std::vector<Batch> batches;
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::atomic<int> acknowledged{0};
  std::thread writer([&] {
    int64_t n = 0;
    for (int b = 0; b < 100000 && !stop.load(); ++b) {
      Batch batch;
      for (int i = 0; i < 50; ++i) {
        ++n;
        batch.items.push_back(
            MakeItem(project.id, n, "fp" + std::to_string(n % 5), 1000 + n));
        batch.items.back().event.raw_json += std::string(2000, ' ');
      }
      batch.status = store->WriteEvents(batch.items, nullptr);
      const bool ok = batch.status.ok();
      batches.push_back(std::move(batch));
      if (ok) {
        ++acknowledged;
      } else {  // back off, as ingest does
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      ++written;
    }
  });
  // Three kills, each after the writer acknowledged some batches since
  // the restart before.
  for (int round = 0; round < 3; ++round) {
    const int before = acknowledged.load();
    for (int i = 0; i < 2000 && acknowledged.load() < before + 10; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_TRUE(server->Kill(&error)) << error;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    ASSERT_TRUE(server->Start(&error)) << error;
  }
  stop = true;
  writer.join();

  int ok = 0, failed = 0, unknown = 0;
  for (const Batch& batch : batches) {
    if (batch.status.ok()) {
      ++ok;
    } else {
      ++failed;
      EXPECT_EQ(batch.status.code(), Status::Code::kUnavailable)
          << batch.status.ToString();
      if (pg::IsUnknownOutcome(batch.status)) ++unknown;
    }
  }
  EXPECT_GT(ok, 0);
  EXPECT_GT(failed, 0) << "the kill hit no batch";
  std::printf("batches: %d acknowledged, %d failed (%d outcome unknown)\n", ok,
              failed, unknown);

  // Every acknowledged batch survived the kill, whole; the pool recovers
  // by itself (a stale connection fails once).
  for (int attempt = 0; attempt < 20; ++attempt) {
    if (store->HealthProbe().ok()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (const Batch& batch : batches) {
    if (!batch.status.ok()) continue;
    for (const model::WriteItem& item : batch.items) {
      model::StoredEvent event;
      Status status = store->GetEvent(item.event.event_id, &event);
      ASSERT_TRUE(status.ok())
          << item.event.event_id << ": " << status.ToString();
    }
  }
  // Retrying the failed batches (as ingest does) stores each event once.
  int64_t expected = 0;
  for (const Batch& batch : batches) {
    expected += static_cast<int64_t>(batch.items.size());
    if (batch.status.ok()) continue;
    Status status;
    for (int attempt = 0; attempt < 5; ++attempt) {
      status = store->WriteEvents(batch.items, nullptr);
      if (status.ok()) break;
    }
    ASSERT_OK(status);
  }
  GroupQuery query;
  model::Page<model::Group> groups;
  ASSERT_OK(store->ListGroups(query, &groups));
  int64_t total = 0;
  for (const model::Group& group : groups.items) total += group.count;
  EXPECT_EQ(total, expected);
}

// Two replicas' retention passes do not contend for the same rows: the
// one that finds the schema's retention lock held skips its pass.
TEST_F(PostgresStoreTest, RetentionRunsOnOneReplicaAtATime) {
  std::string why;
  testing::PostgresServer* server = testing::SharedPostgresServer(&why);
  ASSERT_NE(server, nullptr) << why;
  const std::string conninfo = PostgresSchemaConninfo(server, &why);
  ASSERT_FALSE(conninfo.empty()) << why;
  std::unique_ptr<Store> store;
  ASSERT_OK(OpenPostgres(PostgresTestOptions(conninfo), &store));
  model::Project project;
  ASSERT_OK(store->CreateProject("p", &project));
  ASSERT_OK(store->WriteEvents({MakeItem(project.id, 1, "fp", 1000)}, nullptr));
  // Another replica in the middle of its pass.
  pg::ConnectOptions connect;
  connect.conninfo = conninfo;
  std::unique_ptr<pg::Connection> other;
  ASSERT_OK(pg::Connection::Open(connect, &other));
  const std::string key =
      "hashtextextended('crashctl.retention.' || current_schema(), 0)";
  ASSERT_OK(other->Exec("SELECT pg_advisory_lock(" + key + ")"));
  int64_t deleted = -1;
  ASSERT_OK(store->DeleteOlderThan(2000, &deleted));
  EXPECT_EQ(deleted, 0);
  ASSERT_OK(store->DeleteTransactionsOlderThan(2000, &deleted));
  EXPECT_EQ(deleted, 0);
  model::StoredEvent event;
  EXPECT_OK(store->GetEvent(EventId(1), &event));
  ASSERT_OK(other->Exec("SELECT pg_advisory_unlock(" + key + ")"));
  ASSERT_OK(store->DeleteOlderThan(2000, &deleted));
  EXPECT_EQ(deleted, 1);
  EXPECT_EQ(store->GetEvent(EventId(1), &event).code(),
            Status::Code::kNotFound);
  // The lock was given back: the other replica takes it at once.
  pg::Result taken;
  ASSERT_OK(other->Exec("SELECT pg_try_advisory_lock(" + key + ")", &taken));
  EXPECT_EQ(taken.TextView(0, 0), "t");
}

TEST_F(PostgresStoreTest, UnimplementedMethodsSaySo) {
  std::string why;
  testing::PostgresServer* server = testing::SharedPostgresServer(&why);
  ASSERT_NE(server, nullptr) << why;
  const std::string conninfo = PostgresSchemaConninfo(server, &why);
  std::unique_ptr<Store> store;
  ASSERT_OK(OpenPostgres(PostgresTestOptions(conninfo), &store));
  Status status;
  GroupQuery searching;
  searching.query = search::Query();
  model::Page<model::Group> found;
  EXPECT_EQ(store->ListGroups(searching, &found).code(),
            Status::Code::kInternal);
  EXPECT_EQ(store->IntegrityCheck().code(), Status::Code::kInternal);
  int64_t deleted = -1;
  status = store->DeleteOldestEvents(10, &deleted);
  EXPECT_EQ(status.code(), Status::Code::kInternal);
  EXPECT_THAT(status.message(),
              HasSubstr("not supported by the postgres driver yet: "
                        "DeleteOldestEvents"));
  EXPECT_EQ(deleted, 0);

  PostgresOptions bad = PostgresTestOptions("host=127.0.0.1 port=1 dbname=x");
  bad.connect_timeout_ms = 1000;
  std::unique_ptr<Store> none;
  status = OpenPostgres(bad, &none);
  EXPECT_EQ(status.code(), Status::Code::kUnavailable) << status.ToString();
  EXPECT_EQ(none, nullptr);
  EXPECT_EQ(OpenPostgres(PostgresTestOptions(""), &none).code(),
            Status::Code::kInvalid);
}

}  // namespace
}  // namespace store
}  // namespace crashctl
