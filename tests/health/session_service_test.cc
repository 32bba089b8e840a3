// SessionService (issue 18) on a real SqliteStore with a fake clock: what
// ends is counted in crashctl_sessions_total, duplicates are not, the
// expiry pass counts abnormal sessions and crashctl_sessions_expired_total,
// the release/environment label budget folds into "other" (removing the
// oldest release's series), a restart keeps the labels, and a store failure
// answers kUnavailable without counting.
#include "crashctl/health/session_service.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "crashctl/store/sqlite.h"
#include "store/sqlite_store.h"
#include "tests/testing/temp_dir.h"

namespace crashctl {
namespace health {
namespace {

using releases::SessionStatus;
using releases::SessionUpdate;

constexpr double kT0 = 1700000000;

std::string Sid(int n) {
  char buf[33];
  std::snprintf(buf, sizeof(buf), "%032x", n);
  return buf;
}

SessionUpdate Update(int sid, SessionStatus status, const std::string& release,
                     const std::string& env = "production") {
  SessionUpdate u;
  u.sid = Sid(sid);
  u.init = true;
  u.started = kT0;
  u.timestamp = kT0;
  u.status = status;
  if (status == SessionStatus::kCrashed) u.errors = 1;
  u.attrs.release = release;
  u.attrs.environment = env;
  return u;
}

// The value of the series of `family` with exactly `labels`; -1 if absent.
double Value(prometheus::Registry& registry, const std::string& family,
             const std::map<std::string, std::string>& labels) {
  for (const prometheus::MetricFamily& f : registry.Collect()) {
    if (f.name != family) continue;
    for (const prometheus::ClientMetric& m : f.metric) {
      std::map<std::string, std::string> got;
      for (const auto& l : m.label) got[l.name] = l.value;
      if (got == labels) return m.counter.value;
    }
  }
  return -1;
}

// Label values of `name` among the series of `family` for `project`.
std::vector<std::string> LabelValues(prometheus::Registry& registry,
                                     const std::string& family,
                                     const std::string& name) {
  std::vector<std::string> out;
  for (const prometheus::MetricFamily& f : registry.Collect()) {
    if (f.name != family) continue;
    for (const prometheus::ClientMetric& m : f.metric) {
      for (const auto& l : m.label) {
        if (l.name == name &&
            std::find(out.begin(), out.end(), l.value) == out.end()) {
          out.push_back(l.value);
        }
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

class SessionServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open() {
    std::string error;
    store_ =
        store::SqliteStore::Open(dir_.File("data/crashctl.db"), {}, &error);
    ASSERT_NE(store_, nullptr) << error;
    std::vector<model::Project> projects;
    ASSERT_TRUE(store_->ListProjects(&projects).ok());
    if (projects.empty()) {
      ASSERT_TRUE(store_->CreateProject("default", &project_).ok());
    } else {
      project_ = projects[0];
    }
    registry_ = std::make_unique<prometheus::Registry>();
    SessionService::Options options;
    options.max_releases = 2;
    options.max_environments = 1;
    options.tracker.idle_timeout_seconds = 100;
    options.expire_interval_seconds = 3600;  // the test drives ExpireOnce
    options.now = [this] { return now_; };
    service_ = std::make_unique<SessionService>(store_.get(), registry_.get(),
                                                options);
    service_->Start();
  }

  double Sessions(const std::string& release, const std::string& status,
                  const std::string& env = "production") {
    return Value(*registry_, "crashctl_sessions_total",
                 {{"project", std::to_string(project_.id)},
                  {"release", release},
                  {"environment", env},
                  {"status", status}});
  }

  Status Record(std::vector<SessionUpdate> updates) {
    return service_->Record(project_.id, updates, {}, now_);
  }

  crashctl::testing::TempDir dir_{"health-test"};
  std::unique_ptr<store::SqliteStore> store_;
  model::Project project_;
  std::unique_ptr<prometheus::Registry> registry_;
  std::unique_ptr<SessionService> service_;
  double now_ = kT0 + 1;
};

TEST_F(SessionServiceTest, CountsEndsOnceAndExpiresSilentSessions) {
  ASSERT_TRUE(Record({Update(1, SessionStatus::kOk, "a@1"),
                      Update(2, SessionStatus::kOk, "a@1")})
                  .ok());
  EXPECT_EQ(Sessions("a@1", "exited"), -1);  // nothing ended yet
  ASSERT_TRUE(Record({Update(1, SessionStatus::kExited, "a@1"),
                      Update(1, SessionStatus::kExited, "a@1")})
                  .ok());
  EXPECT_EQ(Sessions("a@1", "exited"), 1);
  ASSERT_TRUE(Record({Update(3, SessionStatus::kCrashed, "a@1"),
                      Update(3, SessionStatus::kCrashed, "a@1")})
                  .ok());
  EXPECT_EQ(Sessions("a@1", "crashed"), 1);

  now_ = kT0 + 500;
  ASSERT_TRUE(service_->ExpireOnce(now_).ok());
  EXPECT_EQ(Sessions("a@1", "abnormal"), 1);
  EXPECT_EQ(Value(*registry_, "crashctl_sessions_expired_total",
                  {{"reason", "timed_out"}}),
            1);
  EXPECT_EQ(Value(*registry_, "crashctl_sessions_expired_total",
                  {{"reason", "evicted"}}),
            0);
}

TEST_F(SessionServiceTest, AggregatesCountTheirQuantity) {
  releases::SessionAggregates item;
  item.attrs.release = "a@1";
  item.attrs.environment = "production";
  releases::SessionAggregate entry;
  entry.started = kT0;
  entry.exited = 4;
  entry.errored = 2;
  item.aggregates.push_back(entry);
  ASSERT_TRUE(service_->Record(project_.id, {}, {item}, now_).ok());
  EXPECT_EQ(Sessions("a@1", "exited"), 4);
  EXPECT_EQ(Sessions("a@1", "errored"), 2);
}

TEST_F(SessionServiceTest, LabelBudgetFoldsIntoOther) {
  ASSERT_TRUE(Record({Update(1, SessionStatus::kExited, "r1")}).ok());
  ASSERT_TRUE(Record({Update(2, SessionStatus::kExited, "r2")}).ok());
  EXPECT_EQ(Sessions("r1", "exited"), 1);
  // A third release pushes r1 out: its series go, its later sessions are
  // "other".
  ASSERT_TRUE(Record({Update(3, SessionStatus::kExited, "r3")}).ok());
  EXPECT_EQ(Sessions("r1", "exited"), -1);
  EXPECT_EQ(Sessions("r3", "exited"), 1);
  ASSERT_TRUE(Record({Update(4, SessionStatus::kCrashed, "r1")}).ok());
  EXPECT_EQ(Sessions("other", "crashed"), 1);
  EXPECT_EQ(LabelValues(*registry_, "crashctl_sessions_total", "release"),
            (std::vector<std::string>{"other", "r2", "r3"}));
  // One environment admitted: the second is "other".
  ASSERT_TRUE(
      Record({Update(5, SessionStatus::kExited, "r3", "staging")}).ok());
  EXPECT_EQ(Sessions("r3", "exited", "other"), 1);

  // New groups, same budget.
  model::WriteItem item;
  item.event.project_id = project_.id;
  item.event.release = "r3";
  model::WriteOutcome outcome;
  outcome.new_group = true;
  service_->OnEventStored(item, outcome);
  item.event.release = "r1";
  service_->OnEventStored(item, outcome);
  outcome.new_group = false;
  service_->OnEventStored(item, outcome);
  const std::string project = std::to_string(project_.id);
  EXPECT_EQ(Value(*registry_, "crashctl_release_new_groups_total",
                  {{"project", project}, {"release", "r3"}}),
            1);
  EXPECT_EQ(Value(*registry_, "crashctl_release_new_groups_total",
                  {{"project", project}, {"release", "other"}}),
            1);
}

TEST_F(SessionServiceTest, RestartKeepsTheNewestReleasesAsLabels) {
  ASSERT_TRUE(Record({Update(1, SessionStatus::kExited, "r1")}).ok());
  now_ += 10;
  ASSERT_TRUE(Record({Update(2, SessionStatus::kExited, "r2")}).ok());
  now_ += 10;
  ASSERT_TRUE(Record({Update(3, SessionStatus::kExited, "r3")}).ok());
  service_.reset();
  store_.reset();
  Open();  // a new process: fresh registry, state from the store
  service_->ProjectKnown(project_.id);
  // The two newest have their series at 0 before any session.
  EXPECT_EQ(Sessions("r3", "exited"), 0);
  EXPECT_EQ(Sessions("r2", "crashed"), 0);
  EXPECT_EQ(Sessions("r1", "exited"), -1);
  ASSERT_TRUE(Record({Update(4, SessionStatus::kExited, "r1")}).ok());
  EXPECT_EQ(Sessions("other", "exited"), 1);
  ASSERT_TRUE(Record({Update(5, SessionStatus::kExited, "r3")}).ok());
  EXPECT_EQ(Sessions("r3", "exited"), 1);
}

TEST_F(SessionServiceTest, StoreFailureIsUnavailableAndCountsNothing) {
  ASSERT_TRUE(store_->ExecOnWriter("PRAGMA query_only=ON").ok());
  const Status status = Record({Update(1, SessionStatus::kExited, "r1")});
  EXPECT_EQ(status.code(), Status::Code::kUnavailable) << status.message();
  EXPECT_EQ(Sessions("r1", "exited"), -1);
  ASSERT_TRUE(store_->ExecOnWriter("PRAGMA query_only=OFF").ok());
  EXPECT_TRUE(Record({Update(1, SessionStatus::kExited, "r1")}).ok());
  EXPECT_EQ(Sessions("r1", "exited"), 1);
}

TEST_F(SessionServiceTest, StopEndsTheExpiryThreadAtOnce) {
  const auto start = std::chrono::steady_clock::now();
  service_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

}  // namespace
}  // namespace health
}  // namespace crashctl
