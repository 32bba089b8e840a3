// Crashes: upsert by dedup key, lookups, listing with filters and cursor,
// links to groups in both directions; on both backends.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "crashctl/util/strings.h"
#include "store_test_util.h"
#include "tests/store/backend_fixture.h"

namespace crashctl {
namespace store {
namespace {

using testing_util::MakeItem;

model::Crash MakeCrash(const std::string& key, const std::string& ns,
                       const std::string& type, const std::string& pod,
                       double updated_at) {
  model::Crash crash;
  crash.dedup_key = key;
  crash.namespace_ = ns;
  crash.pod = pod;
  crash.pod_uid = "uid-" + pod;
  crash.container = "app";
  crash.node = "node-1";
  crash.workload_kind = "Deployment";
  crash.workload = "api";
  crash.image = "registry/api:1.2";
  model::ParseCrashType(type, &crash.crash_type);
  crash.reason = type == "oom_killed" ? "OOMKilled" : "Error";
  crash.exit_code = 137;
  crash.signal = "SIGKILL";
  crash.restart_count = 3;
  crash.memory_request = "64Mi";
  crash.memory_limit = "128Mi";
  crash.started_at = updated_at - 60;
  crash.finished_at = updated_at - 1;
  crash.created_at = updated_at;
  crash.updated_at = updated_at;
  crash.message = "container killed";
  crash.logs = "line 1\nline 2\n";
  return crash;
}

using CrashTest = testing_util::BackendStoreTest;
CRASHCTL_STORE_BACKENDS(CrashTest);

TEST_P(CrashTest, UpsertDeduplicatesAndKeepsIdAndCreatedAt) {
  model::Crash crash =
      MakeCrash("ns/pod/uid/app/1", "prod", "crash_loop", "pod-1", 1000);
  int64_t id = 0;
  bool inserted = false;
  ASSERT_TRUE(store_->UpsertCrash(crash, &id, &inserted).ok());
  EXPECT_TRUE(inserted);
  EXPECT_GT(id, 0);

  model::Crash update = crash;
  update.restart_count = 9;
  update.created_at = 5000;  // ignored on update
  update.updated_at = 2000;
  update.logs = "new logs";
  update.exit_code = 1;
  update.signal = "";
  int64_t id2 = 0;
  ASSERT_TRUE(store_->UpsertCrash(update, &id2, &inserted).ok());
  EXPECT_FALSE(inserted);
  EXPECT_EQ(id2, id);

  model::Crash got;
  ASSERT_TRUE(store_->GetCrashByKey(crash.dedup_key, &got).ok());
  EXPECT_EQ(got.id, id);
  EXPECT_EQ(got.restart_count, 9);
  EXPECT_EQ(got.created_at, 1000);
  EXPECT_EQ(got.updated_at, 2000);
  EXPECT_EQ(got.logs, "new logs");
  EXPECT_EQ(got.exit_code, 1);
  EXPECT_EQ(got.signal, "");
  EXPECT_EQ(got.namespace_, "prod");
  EXPECT_EQ(got.pod, "pod-1");
  EXPECT_EQ(got.pod_uid, "uid-pod-1");
  EXPECT_EQ(got.container, "app");
  EXPECT_EQ(got.node, "node-1");
  EXPECT_EQ(got.workload_kind, "Deployment");
  EXPECT_EQ(got.workload, "api");
  EXPECT_EQ(got.image, "registry/api:1.2");
  EXPECT_EQ(got.crash_type, model::CrashType::kCrashLoop);
  EXPECT_EQ(got.reason, "Error");
  EXPECT_EQ(got.memory_request, "64Mi");
  EXPECT_EQ(got.memory_limit, "128Mi");
  EXPECT_EQ(got.started_at, 940);
  EXPECT_EQ(got.finished_at, 999);
  EXPECT_EQ(got.message, "container killed");

  model::Crash by_id;
  ASSERT_TRUE(store_->GetCrash(id, &by_id).ok());
  EXPECT_EQ(by_id.dedup_key, crash.dedup_key);
  EXPECT_EQ(store_->GetCrash(id + 100, &by_id).code(), Status::Code::kNotFound);
  EXPECT_EQ(store_->GetCrashByKey("nope", &by_id).code(),
            Status::Code::kNotFound);
  EXPECT_EQ(store_->UpsertCrash(model::Crash(), &id, &inserted).code(),
            Status::Code::kInvalid);
}

// Pod logs may hold any bytes: SQLite keeps them, PostgreSQL's text takes
// well-formed UTF-8 only, so that store replaces what is not (with U+FFFD).
TEST_P(CrashTest, LogsWithBytesThatAreNotUtf8AreStored) {
  model::Crash crash = MakeCrash("bytes", "prod", "oom_killed", "p", 100);
  crash.logs = std::string("ok \xFF\0 end", 8);
  int64_t id = 0;
  Status status = store_->UpsertCrash(crash, &id, nullptr);
  ASSERT_TRUE(status.ok()) << status.ToString();
  model::Crash got;
  ASSERT_TRUE(store_->GetCrash(id, &got).ok());
  EXPECT_EQ(got.logs, postgres() ? util::ToValidUtf8(crash.logs) : crash.logs);
  EXPECT_EQ(got.logs.substr(0, 3), "ok ");
}

TEST_P(CrashTest, TimestampsDefaultToNow) {
  model::Crash crash = MakeCrash("k", "prod", "evicted", "p", 0);
  crash.created_at = 0;
  crash.updated_at = 0;
  int64_t id = 0;
  ASSERT_TRUE(store_->UpsertCrash(crash, &id, nullptr).ok());
  model::Crash got;
  ASSERT_TRUE(store_->GetCrash(id, &got).ok());
  EXPECT_GT(got.created_at, 1.6e9);
  EXPECT_GT(got.updated_at, 1.6e9);
}

TEST_P(CrashTest, LinksShowOnBothSidesAndAreIdempotent) {
  auto outcomes = Write(
      {MakeItem(project_.id, 1, "a", 100), MakeItem(project_.id, 2, "b", 100)});
  int64_t c1 = 0, c2 = 0;
  ASSERT_TRUE(store_
                  ->UpsertCrash(MakeCrash("k1", "ns", "oom_killed", "p", 10),
                                &c1, nullptr)
                  .ok());
  ASSERT_TRUE(store_
                  ->UpsertCrash(MakeCrash("k2", "ns", "oom_killed", "p", 20),
                                &c2, nullptr)
                  .ok());
  const int64_t ga = outcomes[0].group_id, gb = outcomes[1].group_id;
  for (int i = 0; i < 2; ++i) {  // twice: idempotent
    ASSERT_TRUE(store_->LinkCrashGroup(c1, ga).ok());
    ASSERT_TRUE(store_->LinkCrashGroup(c1, gb).ok());
    ASSERT_TRUE(store_->LinkCrashGroup(c2, ga).ok());
  }
  model::Crash crash;
  ASSERT_TRUE(store_->GetCrash(c1, &crash).ok());
  EXPECT_EQ(crash.linked_groups, (std::vector<int64_t>{gb, ga}));
  model::Group group;
  ASSERT_TRUE(store_->GetGroup(ga, &group).ok());
  EXPECT_EQ(group.linked_crashes,
            (std::vector<int64_t>{c2, c1}));  // newest first
  ASSERT_TRUE(store_->GetGroup(gb, &group).ok());
  EXPECT_EQ(group.linked_crashes, (std::vector<int64_t>{c1}));

  EXPECT_EQ(store_->LinkCrashGroup(c1, 9999).code(), Status::Code::kNotFound);
  EXPECT_EQ(store_->LinkCrashGroup(9999, ga).code(), Status::Code::kNotFound);
  // The upsert keeps the links.
  ASSERT_TRUE(store_
                  ->UpsertCrash(MakeCrash("k1", "ns", "oom_killed", "p", 30),
                                nullptr, nullptr)
                  .ok());
  ASSERT_TRUE(store_->GetCrashByKey("k1", &crash).ok());
  EXPECT_EQ(crash.linked_groups.size(), 2u);
}

TEST_P(CrashTest, ListFiltersAndPages) {
  struct Row {
    const char* key;
    const char* ns;
    const char* type;
    const char* pod;
    double updated;
  };
  const Row rows[] = {
      {"k1", "prod", "oom_killed", "api-1", 100},
      {"k2", "prod", "crash_loop", "api-2", 200},
      {"k3", "dev", "oom_killed", "api-1", 300},
      {"k4", "prod", "oom_killed", "web-1", 300},  // tie on updated_at
      {"k5", "dev", "evicted", "job-1", 50},
  };
  for (const Row& r : rows) {
    ASSERT_TRUE(
        store_
            ->UpsertCrash(MakeCrash(r.key, r.ns, r.type, r.pod, r.updated),
                          nullptr, nullptr)
            .ok());
  }
  struct Case {
    std::string name;
    CrashQuery query;
    std::vector<std::string> want;
  };
  auto q = [](std::string ns, std::string type, std::string pod, double since) {
    CrashQuery query;
    query.namespace_ = ns;
    model::CrashType crash_type;
    if (model::ParseCrashType(type, &crash_type)) query.crash_type = crash_type;
    query.pod = pod;
    query.since = since;
    query.limit = 2;
    return query;
  };
  const Case cases[] = {
      {"all", q("", "", "", 0), {"k4", "k3", "k2", "k1", "k5"}},
      {"namespace", q("prod", "", "", 0), {"k4", "k2", "k1"}},
      {"type", q("", "oom_killed", "", 0), {"k4", "k3", "k1"}},
      {"pod", q("", "", "api-1", 0), {"k3", "k1"}},
      {"since", q("", "", "", 200), {"k4", "k3", "k2"}},
      {"combined", q("prod", "oom_killed", "", 150), {"k4"}},
  };
  for (const Case& c : cases) {
    std::vector<std::string> got;
    CrashQuery query = c.query;
    for (int i = 0; i < 20; ++i) {
      model::Page<model::Crash> page;
      Status status = store_->ListCrashes(query, &page);
      ASSERT_TRUE(status.ok()) << status.message();
      EXPECT_LE(page.items.size(), 2u);
      for (const model::Crash& crash : page.items)
        got.push_back(crash.dedup_key);
      if (page.next_cursor.empty()) break;
      query.cursor = page.next_cursor;
    }
    EXPECT_EQ(got, c.want) << c.name;
  }
  CrashQuery bad;
  bad.cursor = "xyz!";
  model::Page<model::Crash> page;
  EXPECT_EQ(store_->ListCrashes(bad, &page).code(), Status::Code::kInvalid);
}

}  // namespace
}  // namespace store
}  // namespace crashctl
