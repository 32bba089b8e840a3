// Cron monitors on both backends (tests/store/backend_fixture.h):
// ApplyCheckIn (create, update, limits), TickMonitors (missed runs and
// timeouts once), deadlines, lists and cursors, retention of check-in rows,
// and replicas checking in and ticking at once (each missed run recorded
// once, one monitor per first check-in, the per-project limit kept).
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "crashctl/releases/check_in.h"
#include "tests/store/backend_fixture.h"

namespace crashctl {
namespace store {
namespace {

using MonitorStoreTest = testing_util::BackendStoreTest;
CRASHCTL_STORE_BACKENDS(MonitorStoreTest);

// 2026-03-02T10:00:00Z (a Monday).
constexpr int64_t kT0 = 1772445600;

releases::CheckIn Parse(const std::string& json) {
  releases::CheckIn c;
  Status st = releases::ParseCheckIn(json, &c);
  EXPECT_TRUE(st.ok()) << st.message() << " in " << json;
  return c;
}

releases::CheckIn Hourly(const std::string& slug, const std::string& status,
                         const std::string& id = "") {
  std::string json =
      "{\"monitor_slug\":\"" + slug + "\",\"status\":\"" + status + "\",";
  if (!id.empty()) json += "\"check_in_id\":\"" + id + "\",";
  json +=
      "\"monitor_config\":{\"schedule\":{\"type\":\"crontab\",\"value\":"
      "\"0 * * * *\"},\"checkin_margin\":5,\"max_runtime\":10}}";
  return Parse(json);
}

TEST_P(MonitorStoreTest, CheckInCreatesThenUpdatesMonitor) {
  MonitorUpdate u;
  ASSERT_TRUE(
      store_->ApplyCheckIn(project_.id, Hourly("backup", "ok"), kT0, 100, &u)
          .ok());
  EXPECT_TRUE(u.created);
  EXPECT_GT(u.monitor.id, 0);
  EXPECT_EQ(u.monitor.slug, "backup");
  EXPECT_EQ(u.monitor.environment, "production");
  EXPECT_EQ(u.monitor.checkins_total, 1);
  EXPECT_EQ(u.monitor.last_status, "ok");
  ASSERT_TRUE(u.monitor.next_deadline.has_value());
  // Next run 11:00, margin 5 min: the deadline is just after 11:05.
  EXPECT_GT(*u.monitor.next_deadline, kT0 + 3600 + 300);
  EXPECT_LE(*u.monitor.next_deadline, kT0 + 3600 + 302);

  MonitorUpdate u2;
  ASSERT_TRUE(store_
                  ->ApplyCheckIn(project_.id, Hourly("backup", "error"),
                                 kT0 + 3600, 100, &u2)
                  .ok());
  EXPECT_FALSE(u2.created);
  EXPECT_EQ(u2.monitor.id, u.monitor.id);
  EXPECT_EQ(u2.monitor.checkins_total, 2);
  EXPECT_EQ(u2.monitor.last_status, "error");
  ASSERT_EQ(u2.transition.alerts.size(), 1u);
  ASSERT_EQ(u2.alert_incidents.size(), 1u);
  EXPECT_EQ(u2.alert_incidents[0].reason, "error");
  EXPECT_EQ(u2.open_incident.reason, "error");

  model::Monitor got;
  ASSERT_TRUE(store_->GetMonitor(u.monitor.id, &got).ok());
  EXPECT_EQ(got.checkins_total, 2);
  EXPECT_EQ(got.state_json, u2.monitor.state_json);
  EXPECT_EQ(got.created_at, static_cast<double>(kT0));
  EXPECT_EQ(got.updated_at, static_cast<double>(kT0 + 3600));

  // A resolve carries the incident's reason, read back from the database.
  MonitorUpdate u3;
  ASSERT_TRUE(store_
                  ->ApplyCheckIn(project_.id, Hourly("backup", "ok"),
                                 kT0 + 7200, 100, &u3)
                  .ok());
  ASSERT_EQ(u3.transition.alerts.size(), 1u);
  EXPECT_EQ(u3.transition.alerts[0].kind,
            releases::MonitorAlert::Kind::kResolve);
  ASSERT_EQ(u3.alert_incidents.size(), 1u);
  EXPECT_EQ(u3.alert_incidents[0].reason, "error");
  EXPECT_EQ(u3.alert_incidents[0].started, u2.alert_incidents[0].started);
  EXPECT_EQ(u3.open_incident.started, 0);

  EXPECT_TRUE(store_->GetMonitor(u.monitor.id + 100, &got).IsNotFound());
}

TEST_P(MonitorStoreTest, EnvironmentsAreSeparateMonitors) {
  MonitorUpdate a, b;
  releases::CheckIn staging = Hourly("backup", "ok");
  staging.environment = "staging";
  ASSERT_TRUE(
      store_->ApplyCheckIn(project_.id, Hourly("backup", "ok"), kT0, 10, &a)
          .ok());
  ASSERT_TRUE(store_->ApplyCheckIn(project_.id, staging, kT0, 10, &b).ok());
  EXPECT_NE(a.monitor.id, b.monitor.id);
  MonitorQuery q;
  q.environment = "staging";
  model::Page<model::Monitor> page;
  ASSERT_TRUE(store_->ListMonitors(q, &page).ok());
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].id, b.monitor.id);
}

TEST_P(MonitorStoreTest, MaxMonitorsPerProjectRefusesNewOnesOnly) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(store_
                    ->ApplyCheckIn(project_.id,
                                   Hourly("job-" + std::to_string(i), "ok"),
                                   kT0, 3, nullptr)
                    .ok());
  }
  MonitorUpdate u;
  Status st =
      store_->ApplyCheckIn(project_.id, Hourly("job-3", "ok"), kT0, 3, &u);
  EXPECT_EQ(st.code(), Status::Code::kTooLarge) << st.message();
  // An existing one is still updated.
  EXPECT_TRUE(
      store_->ApplyCheckIn(project_.id, Hourly("job-1", "ok"), kT0 + 60, 3, &u)
          .ok());
  // Another project has its own budget.
  model::Project other;
  ASSERT_TRUE(store_->CreateProject("other", &other).ok());
  EXPECT_TRUE(
      store_->ApplyCheckIn(other.id, Hourly("job-3", "ok"), kT0, 3, &u).ok());
  model::Page<model::Monitor> page;
  MonitorQuery q;
  q.project = project_.id;
  ASSERT_TRUE(store_->ListMonitors(q, &page).ok());
  EXPECT_EQ(page.items.size(), 3u);
}

TEST_P(MonitorStoreTest, TickReportsMissedRunsOnceAndAcrossReopen) {
  MonitorUpdate u;
  ASSERT_TRUE(
      store_->ApplyCheckIn(project_.id, Hourly("backup", "ok"), kT0, 10, &u)
          .ok());
  std::optional<int64_t> next;
  ASSERT_TRUE(store_->NextMonitorDeadline(&next).ok());
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next, u.monitor.next_deadline);

  std::vector<MonitorUpdate> updates;
  // Before the deadline: nothing due.
  ASSERT_TRUE(store_->TickMonitors(*next - 1, 100, &updates).ok());
  EXPECT_TRUE(updates.empty());
  ASSERT_TRUE(store_->TickMonitors(*next, 100, &updates).ok());
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].transition.missed_total, 1);
  EXPECT_EQ(updates[0].monitor.missed_total, 1);
  EXPECT_EQ(updates[0].monitor.last_status, "missed");

  // The same tick again reports nothing, also after reopening the database.
  updates.clear();
  ASSERT_TRUE(store_->TickMonitors(*next, 100, &updates).ok());
  EXPECT_TRUE(updates.empty());
  Reopen();
  ASSERT_TRUE(store_->TickMonitors(*next, 100, &updates).ok());
  EXPECT_TRUE(updates.empty());

  model::Page<model::MonitorCheckIn> rows;
  ASSERT_TRUE(store_->ListMonitorCheckIns(u.monitor.id, 10, "", &rows).ok());
  ASSERT_EQ(rows.items.size(), 2u);
  EXPECT_EQ(rows.items[0].status, "missed");
  EXPECT_EQ(rows.items[0].kind, "missed");
  EXPECT_EQ(rows.items[0].run_started, kT0 + 3600);
  EXPECT_EQ(rows.items[0].missed_count, 1);
  EXPECT_EQ(rows.items[1].status, "ok");
  EXPECT_EQ(rows.items[1].kind, "check_in");
}

TEST_P(MonitorStoreTest, TickTimesOutRunInProgressOnce) {
  const std::string id = "83a7c03ed0a04e1b97e2e3b18d38f244";
  MonitorUpdate u;
  ASSERT_TRUE(store_
                  ->ApplyCheckIn(project_.id,
                                 Hourly("backup", "in_progress", id), kT0, 10,
                                 &u)
                  .ok());
  ASSERT_TRUE(u.monitor.next_deadline.has_value());
  // max_runtime 10 min: the timeout comes before the next run's deadline.
  EXPECT_LE(*u.monitor.next_deadline, kT0 + 601);
  std::vector<MonitorUpdate> updates;
  ASSERT_TRUE(store_->TickMonitors(kT0 + 601, 100, &updates).ok());
  ASSERT_EQ(updates.size(), 1u);
  ASSERT_EQ(updates[0].transition.records.size(), 1u);
  EXPECT_EQ(updates[0].transition.records[0].status, "timeout");
  EXPECT_EQ(updates[0].monitor.timeouts_total, 1);
  updates.clear();
  ASSERT_TRUE(store_->TickMonitors(kT0 + 1200, 100, &updates).ok());
  EXPECT_TRUE(updates.empty());
  // A late ok for the timed-out run is ignored.
  MonitorUpdate late;
  ASSERT_TRUE(store_
                  ->ApplyCheckIn(project_.id, Hourly("backup", "ok", id),
                                 kT0 + 1300, 10, &late)
                  .ok());
  EXPECT_TRUE(late.transition.ignored);
  EXPECT_EQ(late.monitor.checkins_total, 1);
}

TEST_P(MonitorStoreTest, TickIsBoundedAndInDeadlineOrder) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(store_
                    ->ApplyCheckIn(project_.id,
                                   Hourly("job-" + std::to_string(i), "ok"),
                                   kT0 + i, 10, nullptr)
                    .ok());
  }
  std::vector<MonitorUpdate> updates;
  ASSERT_TRUE(store_->TickMonitors(kT0 + 86400, 2, &updates).ok());
  ASSERT_EQ(updates.size(), 2u);
  ASSERT_TRUE(store_->TickMonitors(kT0 + 86400, 10, &updates).ok());
  EXPECT_EQ(updates.size(), 5u);
  std::set<int64_t> ids;
  for (const MonitorUpdate& up : updates) ids.insert(up.monitor.id);
  EXPECT_EQ(ids.size(), 5u);
  std::optional<int64_t> next;
  ASSERT_TRUE(store_->NextMonitorDeadline(&next).ok());
  ASSERT_TRUE(next.has_value());
  EXPECT_GT(*next, kT0 + 86400);
}

TEST_P(MonitorStoreTest, ListsPageWithCursors) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(store_
                    ->ApplyCheckIn(project_.id,
                                   Hourly("job-" + std::to_string(4 - i), "ok"),
                                   kT0 + i * 60, 10, nullptr)
                    .ok());
  }
  MonitorQuery q;
  q.limit = 2;
  std::vector<std::string> slugs;
  for (int page_no = 0; page_no < 5; ++page_no) {
    model::Page<model::Monitor> page;
    ASSERT_TRUE(store_->ListMonitors(q, &page).ok());
    for (const auto& m : page.items) slugs.push_back(m.slug);
    if (page.next_cursor.empty()) break;
    q.cursor = page.next_cursor;
  }
  EXPECT_EQ(slugs, (std::vector<std::string>{"job-0", "job-1", "job-2", "job-3",
                                             "job-4"}));
  q.cursor = "garbage!";
  model::Page<model::Monitor> bad;
  EXPECT_TRUE(store_->ListMonitors(q, &bad).IsInvalid());

  // Check-ins newest first, paged.
  MonitorUpdate u;
  for (int i = 1; i <= 5; ++i) {
    ASSERT_TRUE(store_
                    ->ApplyCheckIn(project_.id, Hourly("job-0", "ok"),
                                   kT0 + i * 3600, 10, &u)
                    .ok());
  }
  std::vector<int64_t> received;
  std::string cursor;
  for (int page_no = 0; page_no < 10; ++page_no) {
    model::Page<model::MonitorCheckIn> page;
    ASSERT_TRUE(
        store_->ListMonitorCheckIns(u.monitor.id, 2, cursor, &page).ok());
    for (const auto& c : page.items) received.push_back(c.received);
    if (page.next_cursor.empty()) break;
    cursor = page.next_cursor;
  }
  ASSERT_EQ(received.size(), 6u);
  for (size_t i = 1; i < received.size(); ++i) {
    EXPECT_GE(received[i - 1], received[i]);
  }
}

TEST_P(MonitorStoreTest, RetentionDeletesOldCheckInRows) {
  MonitorUpdate u;
  ASSERT_TRUE(
      store_->ApplyCheckIn(project_.id, Hourly("backup", "ok"), kT0, 10, &u)
          .ok());
  ASSERT_TRUE(store_
                  ->ApplyCheckIn(project_.id, Hourly("backup", "ok"),
                                 kT0 + 3600, 10, &u)
                  .ok());
  int64_t deleted = 0;
  ASSERT_TRUE(store_->DeleteOlderThan(kT0 + 10, &deleted).ok());
  model::Page<model::MonitorCheckIn> rows;
  ASSERT_TRUE(store_->ListMonitorCheckIns(u.monitor.id, 10, "", &rows).ok());
  ASSERT_EQ(rows.items.size(), 1u);
  EXPECT_EQ(rows.items[0].received, kT0 + 3600);
  // The monitor itself stays.
  model::Monitor m;
  EXPECT_TRUE(store_->GetMonitor(u.monitor.id, &m).ok());
}

// Two stores (replicas) with two threads each tick 40 overdue monitors at
// once: every missed run is recorded, and reported, exactly once.
TEST_P(MonitorStoreTest, ReplicasTickingAtOnceRecordEachMissedRunOnce) {
  constexpr int kMonitors = 40;
  for (int i = 0; i < kMonitors; ++i) {
    ASSERT_TRUE(store_
                    ->ApplyCheckIn(project_.id,
                                   Hourly("job-" + std::to_string(i), "ok"),
                                   kT0, 100, nullptr)
                    .ok());
  }
  std::unique_ptr<Store> replica = OpenReplica();
  ASSERT_NE(replica, nullptr);
  // 11:06: every monitor missed its 11:00 run.
  const int64_t now = kT0 + 3600 + 360;
  std::atomic<int64_t> reported{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    Store* store = t % 2 == 0 ? store_.get() : replica.get();
    threads.emplace_back([store, now, &reported, &failures] {
      for (int round = 0; round < 20; ++round) {
        std::vector<MonitorUpdate> updates;
        if (!store->TickMonitors(now, 3, &updates).ok()) {
          failures.fetch_add(1);
          continue;
        }
        for (const MonitorUpdate& u : updates) {
          reported.fetch_add(u.transition.missed_total);
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  // Whatever the threads left (a round may find everything locked).
  std::vector<MonitorUpdate> rest;
  ASSERT_TRUE(store_->TickMonitors(now, 1000, &rest).ok());
  for (const MonitorUpdate& u : rest) reported += u.transition.missed_total;
  EXPECT_EQ(reported.load(), kMonitors);
  EXPECT_EQ(QueryCount("SELECT count(*) FROM monitor_checkins WHERE kind = "
                       "'missed'"),
            kMonitors);
  EXPECT_EQ(QueryCount("SELECT count(*) FROM monitors WHERE missed_total = 1"),
            kMonitors);
}

// The first check-in of one monitor arriving at several replicas at once
// creates one monitor; new monitors past the project's limit are refused on
// every replica.
TEST_P(MonitorStoreTest, ReplicasCreatingAtOnceMakeOneMonitorWithinTheLimit) {
  std::unique_ptr<Store> replica = OpenReplica();
  ASSERT_NE(replica, nullptr);
  std::atomic<int> created{0}, refused{0}, failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    Store* store = t % 2 == 0 ? store_.get() : replica.get();
    threads.emplace_back([this, t, store, &created, &refused, &failures] {
      // Every thread checks in "shared", then two monitors of its own.
      for (int i = 0; i < 3; ++i) {
        const std::string slug =
            i == 0 ? "shared"
                   : "own-" + std::to_string(t) + "-" + std::to_string(i);
        MonitorUpdate u;
        Status st =
            store->ApplyCheckIn(project_.id, Hourly(slug, "ok"), kT0, 5, &u);
        if (st.code() == Status::Code::kTooLarge) {
          refused.fetch_add(1);
        } else if (!st.ok()) {
          failures.fetch_add(1);
        } else if (u.created) {
          created.fetch_add(1);
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(created.load(), 5);
  EXPECT_EQ(refused.load(), 6 * 3 - 6 - 4);  // all but "shared" and 4 own
  EXPECT_EQ(QueryCount("SELECT count(*) FROM monitors"), 5);
  EXPECT_EQ(QueryCount("SELECT checkins_total FROM monitors WHERE slug = "
                       "'shared'"),
            6);
}

}  // namespace
}  // namespace store
}  // namespace crashctl
