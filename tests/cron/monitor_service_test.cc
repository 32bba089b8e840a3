// MonitorService scenarios: a controllable clock, a real SQLite store in a
// temporary directory (reopened to simulate a restart of crashctl), the
// Prometheus registry read back, and alerts delivered to a fake
// Alertmanager.
#include "crashctl/cron/monitor_service.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "crashctl/alertmanager/pusher.h"
#include "crashctl/releases/check_in.h"
#include "store/sqlite_store.h"
#include "tests/alertmanager/fake_alertmanager.h"
#include "tests/testing/temp_dir.h"

namespace crashctl {
namespace cron {
namespace {

// 2026-03-02T10:00:00Z (a Monday).
constexpr int64_t kT0 = 1772445600;

releases::CheckIn Parse(const std::string& json) {
  releases::CheckIn c;
  Status st = releases::ParseCheckIn(json, &c);
  EXPECT_TRUE(st.ok()) << st.message() << " in " << json;
  return c;
}

std::string Config(const std::string& schedule, int margin, int max_runtime,
                   const std::string& tz = "") {
  return "\"monitor_config\":{\"schedule\":" + schedule +
         ",\"checkin_margin\":" + std::to_string(margin) +
         ",\"max_runtime\":" + std::to_string(max_runtime) +
         ",\"timezone\":\"" + tz + "\"}";
}

const char kHourly[] = "{\"type\":\"crontab\",\"value\":\"0 * * * *\"}";

releases::CheckIn CheckInOf(const std::string& slug, const std::string& status,
                            const std::string& config,
                            const std::string& id = "") {
  std::string json =
      "{\"monitor_slug\":\"" + slug + "\",\"status\":\"" + status + "\"";
  if (!id.empty()) json += ",\"check_in_id\":\"" + id + "\"";
  if (!config.empty()) json += "," + config;
  return Parse(json + "}");
}

// Value of the series of `name` with all of `labels`; -1 when absent.
double Value(prometheus::Registry* registry, const std::string& name,
             const std::map<std::string, std::string>& labels) {
  for (const auto& family : registry->Collect()) {
    if (family.name != name) continue;
    for (const auto& metric : family.metric) {
      size_t matched = 0;
      for (const auto& l : metric.label) {
        auto it = labels.find(l.name);
        if (it != labels.end() && it->second == l.value) ++matched;
      }
      if (matched != labels.size()) continue;
      if (family.type == prometheus::MetricType::Counter) {
        return metric.counter.value;
      }
      return metric.gauge.value;
    }
  }
  return -1;
}

// One crashctl "process": store, registry, pusher and service.
struct Instance {
  Instance(const std::string& db, std::atomic<int64_t>* clock,
           const std::string& am_url, size_t max_monitors = 100) {
    std::string error;
    store = store::SqliteStore::Open(db, store::SqliteStore::Options(), &error);
    EXPECT_NE(store, nullptr) << error;
    registry = std::make_shared<prometheus::Registry>();
    alertmanager::AlertPusher::Options po;
    if (!am_url.empty()) po.urls = {am_url};
    po.cooldown = 300;
    po.initial_backoff = 0.01;
    po.build.base_url = "http://crashctl.test";
    pusher = std::make_unique<alertmanager::AlertPusher>(po, nullptr);
    pusher->Start();
    MonitorService::Options o;
    o.max_monitors_per_project = max_monitors;
    o.now = [clock] { return clock->load(); };
    service = std::make_unique<MonitorService>(store.get(), registry.get(),
                                               pusher.get(), o);
  }
  ~Instance() {
    service.reset();
    pusher->Stop();
  }
  int64_t Project() {
    std::vector<model::Project> projects;
    EXPECT_TRUE(store->ListProjects(&projects).ok());
    if (!projects.empty()) return projects[0].id;
    model::Project p;
    EXPECT_TRUE(store->CreateProject("default", &p).ok());
    return p.id;
  }
  double Metric(const std::string& name,
                const std::map<std::string, std::string>& labels) {
    return Value(registry.get(), name, labels);
  }

  std::unique_ptr<store::SqliteStore> store;
  std::shared_ptr<prometheus::Registry> registry;
  std::unique_ptr<alertmanager::AlertPusher> pusher;
  std::unique_ptr<MonitorService> service;
};

class MonitorServiceTest : public ::testing::Test {
 protected:
  std::unique_ptr<Instance> Make(const std::string& am_url = "") {
    return std::make_unique<Instance>(dir_.File("data/crashctl.db"), &clock_,
                                      am_url);
  }
  testing::TempDir dir_{"cron-test"};
  std::atomic<int64_t> clock_{kT0};
};

TEST_F(MonitorServiceTest, CrontabMissedRunAfterMarginOnce) {
  auto c = Make();
  const int64_t project = c->Project();
  const std::string p = std::to_string(project);
  ASSERT_TRUE(
      c->service
          ->CheckIn(project, CheckInOf("backup", "ok", Config(kHourly, 5, 30)))
          .ok());
  EXPECT_EQ(
      c->Metric("crashctl_monitor_checkins_total",
                {{"project", p}, {"monitor", "backup"}, {"status", "ok"}}),
      1);
  EXPECT_EQ(c->Metric("crashctl_monitor_last_checkin_timestamp_seconds",
                      {{"project", p}, {"monitor", "backup"}}),
            kT0);
  EXPECT_EQ(c->Metric("crashctl_monitors", {{"project", p}}), 1);
  // 11:00 is expected; the margin runs until 11:05.
  ASSERT_TRUE(c->service->TickOnce(kT0 + 3600 + 299).ok());
  EXPECT_EQ(c->Metric("crashctl_monitor_missed_total",
                      {{"project", p}, {"monitor", "backup"}}),
            0);
  ASSERT_TRUE(c->service->TickOnce(kT0 + 3600 + 302).ok());
  EXPECT_EQ(c->Metric("crashctl_monitor_missed_total",
                      {{"project", p}, {"monitor", "backup"}}),
            1);
  EXPECT_EQ(c->Metric("crashctl_monitor_incident_open",
                      {{"project", p}, {"monitor", "backup"}}),
            1);
  ASSERT_TRUE(c->service->TickOnce(kT0 + 3600 + 302).ok());
  ASSERT_TRUE(c->service->TickOnce(kT0 + 3600 + 900).ok());
  EXPECT_EQ(c->Metric("crashctl_monitor_missed_total",
                      {{"project", p}, {"monitor", "backup"}}),
            1);
  // A check-in at 12:00 covers that run and closes the incident.
  clock_ = kT0 + 7200;
  ASSERT_TRUE(
      c->service
          ->CheckIn(project, CheckInOf("backup", "ok", Config(kHourly, 5, 30)))
          .ok());
  EXPECT_EQ(c->Metric("crashctl_monitor_incident_open",
                      {{"project", p}, {"monitor", "backup"}}),
            0);
  EXPECT_EQ(
      c->Metric("crashctl_monitor_checkins_total",
                {{"project", p}, {"monitor", "backup"}, {"status", "ok"}}),
      2);
}

TEST_F(MonitorServiceTest, InProgressBeyondMaxRuntimeTimesOutOnce) {
  auto c = Make();
  const int64_t project = c->Project();
  const std::string p = std::to_string(project);
  const std::string id = "83a7c03ed0a04e1b97e2e3b18d38f244";
  ASSERT_TRUE(c->service
                  ->CheckIn(project, CheckInOf("etl", "in_progress",
                                               Config(kHourly, 5, 10), id))
                  .ok());
  ASSERT_TRUE(c->service->TickOnce(kT0 + 599).ok());
  EXPECT_EQ(
      c->Metric("crashctl_monitor_checkins_total",
                {{"project", p}, {"monitor", "etl"}, {"status", "timeout"}}),
      0);
  ASSERT_TRUE(c->service->TickOnce(kT0 + 602).ok());
  ASSERT_TRUE(c->service->TickOnce(kT0 + 700).ok());
  EXPECT_EQ(
      c->Metric("crashctl_monitor_checkins_total",
                {{"project", p}, {"monitor", "etl"}, {"status", "timeout"}}),
      1);
  EXPECT_EQ(
      c->Metric(
          "crashctl_monitor_checkins_total",
          {{"project", p}, {"monitor", "etl"}, {"status", "in_progress"}}),
      1);
  // The late ok of the timed-out run is ignored, not counted.
  clock_ = kT0 + 800;
  ASSERT_TRUE(
      c->service->CheckIn(project, CheckInOf("etl", "ok", "", id)).ok());
  EXPECT_EQ(c->Metric("crashctl_monitor_checkins_total",
                      {{"project", p}, {"monitor", "etl"}, {"status", "ok"}}),
            0);
}

TEST_F(MonitorServiceTest, IntervalSchedule) {
  auto c = Make();
  const int64_t project = c->Project();
  const std::string p = std::to_string(project);
  const std::string every2h =
      Config("{\"type\":\"interval\",\"value\":2,\"unit\":\"hour\"}", 1, 30);
  ASSERT_TRUE(
      c->service->CheckIn(project, CheckInOf("sync", "ok", every2h)).ok());
  // Expected at 12:00, margin 1 minute.
  ASSERT_TRUE(c->service->TickOnce(kT0 + 7200 + 59).ok());
  EXPECT_EQ(c->Metric("crashctl_monitor_missed_total",
                      {{"project", p}, {"monitor", "sync"}}),
            0);
  // A check-in at 12:00:30 is on time; the next one is due at 14:00.
  clock_ = kT0 + 7230;
  ASSERT_TRUE(
      c->service->CheckIn(project, CheckInOf("sync", "ok", every2h)).ok());
  ASSERT_TRUE(c->service->TickOnce(kT0 + 4 * 3600 + 30).ok());
  EXPECT_EQ(c->Metric("crashctl_monitor_missed_total",
                      {{"project", p}, {"monitor", "sync"}}),
            0);
  ASSERT_TRUE(c->service->TickOnce(kT0 + 4 * 3600 + 62).ok());
  EXPECT_EQ(c->Metric("crashctl_monitor_missed_total",
                      {{"project", p}, {"monitor", "sync"}}),
            1);
}

TEST_F(MonitorServiceTest, TimeZoneWithDstChange) {
  // 30 2 * * * in New York: 2026-03-08 02:30 does not exist (02:00 -> 03:00
  // EDT), so that day's run is at 03:00 EDT = 07:00Z.
  const int64_t sat_0230_est = 1772868600;  // 2026-03-07T07:30:00Z
  const int64_t sun_0300_edt = 1772953200;  // 2026-03-08T07:00:00Z
  clock_ = sat_0230_est;
  auto c = Make();
  const int64_t project = c->Project();
  const std::string p = std::to_string(project);
  const std::string cfg =
      Config("{\"type\":\"crontab\",\"value\":\"30 2 * * *\"}", 5, 30,
             "America/New_York");
  ASSERT_TRUE(
      c->service->CheckIn(project, CheckInOf("nightly", "ok", cfg)).ok());
  std::optional<int64_t> deadline;
  ASSERT_TRUE(c->store->NextMonitorDeadline(&deadline).ok());
  ASSERT_TRUE(deadline.has_value());
  EXPECT_EQ(*deadline, sun_0300_edt + 300 + 1);
  ASSERT_TRUE(c->service->TickOnce(sun_0300_edt + 300).ok());
  EXPECT_EQ(c->Metric("crashctl_monitor_missed_total",
                      {{"project", p}, {"monitor", "nightly"}}),
            0);
  ASSERT_TRUE(c->service->TickOnce(sun_0300_edt + 301).ok());
  EXPECT_EQ(c->Metric("crashctl_monitor_missed_total",
                      {{"project", p}, {"monitor", "nightly"}}),
            1);
  model::Page<model::Monitor> monitors;
  ASSERT_TRUE(c->store->ListMonitors(store::MonitorQuery(), &monitors).ok());
  ASSERT_EQ(monitors.items.size(), 1u);
  model::Page<model::MonitorCheckIn> rows;
  ASSERT_TRUE(
      c->store->ListMonitorCheckIns(monitors.items[0].id, 5, "", &rows).ok());
  ASSERT_FALSE(rows.items.empty());
  EXPECT_EQ(rows.items[0].status, "missed");
  EXPECT_EQ(rows.items[0].run_started, sun_0300_edt);
  // The next run is Monday 02:30 EDT = 06:30Z.
  ASSERT_TRUE(c->store->NextMonitorDeadline(&deadline).ok());
  EXPECT_EQ(*deadline, sun_0300_edt + 86400 - 1800 + 300 + 1);
}

TEST_F(MonitorServiceTest, RestartInTheMiddleReportsMissedRunOnce) {
  int64_t project = 0;
  {
    auto c = Make();
    project = c->Project();
    ASSERT_TRUE(c->service
                    ->CheckIn(project,
                              CheckInOf("backup", "ok", Config(kHourly, 5, 30)))
                    .ok());
  }  // crashctl stops before 11:00
  const std::string p = std::to_string(project);
  clock_ = kT0 + 3600 + 600;  // it comes back at 11:10
  {
    auto c = Make();
    c->service->Start();  // the series exist at once, at 0
    EXPECT_EQ(
        c->Metric("crashctl_monitor_checkins_total",
                  {{"project", p}, {"monitor", "backup"}, {"status", "error"}}),
        0);
    EXPECT_EQ(c->Metric("crashctl_monitors", {{"project", p}}), 1);
    // The scheduler thread ticks at once (the deadline has passed).
    const auto until =
        std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (c->Metric("crashctl_monitor_missed_total",
                     {{"project", p}, {"monitor", "backup"}}) < 1 &&
           std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(c->Metric("crashctl_monitor_missed_total",
                        {{"project", p}, {"monitor", "backup"}}),
              1);
    const auto t = std::chrono::steady_clock::now();
    c->service->Stop();  // wakes the sleeping thread at once
    EXPECT_LT(std::chrono::steady_clock::now() - t, std::chrono::seconds(2));
  }
  {
    // Another restart at the same time: nothing is reported again.
    auto c = Make();
    ASSERT_TRUE(c->service->TickOnce(clock_).ok());
    EXPECT_EQ(c->Metric("crashctl_monitor_missed_total",
                        {{"project", p}, {"monitor", "backup"}}),
              -1);  // never counted in this process
    model::Page<model::Monitor> monitors;
    ASSERT_TRUE(c->store->ListMonitors(store::MonitorQuery(), &monitors).ok());
    ASSERT_EQ(monitors.items.size(), 1u);
    EXPECT_EQ(monitors.items[0].missed_total, 1);
  }
}

TEST_F(MonitorServiceTest, AnotherReplicasChangesReachTheGaugesOnRefresh) {
  // Two replicas on one database: `a` takes the check-ins and runs the
  // scheduler, `b` only refreshes its gauges from the store.
  auto a = Make();
  auto b = Make();
  const int64_t project = a->Project();
  const std::string p = std::to_string(project);
  const std::map<std::string, std::string> backup = {{"project", p},
                                                     {"monitor", "backup"}};
  ASSERT_TRUE(
      a->service
          ->CheckIn(project, CheckInOf("backup", "ok", Config(kHourly, 5, 30)))
          .ok());
  ASSERT_TRUE(a->service->TickOnce(kT0 + 3600 + 302).ok());  // missed
  ASSERT_EQ(a->Metric("crashctl_monitor_incident_open", backup), 1);
  EXPECT_EQ(b->Metric("crashctl_monitors", {{"project", p}}), -1);
  b->service->RefreshMetrics();
  EXPECT_EQ(b->Metric("crashctl_monitors", {{"project", p}}), 1);
  EXPECT_EQ(b->Metric("crashctl_monitor_incident_open", backup), 1);
  EXPECT_EQ(
      b->Metric("crashctl_monitor_last_checkin_timestamp_seconds", backup),
      kT0);
  // `a` closes the incident with a later check-in; `b` follows.
  clock_ = kT0 + 7200;
  ASSERT_TRUE(
      a->service
          ->CheckIn(project, CheckInOf("backup", "ok", Config(kHourly, 5, 30)))
          .ok());
  b->service->RefreshMetrics();
  EXPECT_EQ(b->Metric("crashctl_monitor_incident_open", backup), 0);
  EXPECT_EQ(
      b->Metric("crashctl_monitor_last_checkin_timestamp_seconds", backup),
      kT0 + 7200);
  // Only `a` counted the check-ins and the missed run: counters stay per
  // replica (they sum in PromQL).
  EXPECT_EQ(b->Metric("crashctl_monitor_missed_total", backup), 0);
  EXPECT_EQ(a->Metric("crashctl_monitor_missed_total", backup), 1);
}

TEST_F(MonitorServiceTest, TooManyMonitors) {
  auto c =
      std::make_unique<Instance>(dir_.File("data/crashctl.db"), &clock_, "", 1);
  const int64_t project = c->Project();
  ASSERT_TRUE(c->service->CheckIn(project, CheckInOf("a", "ok", "")).ok());
  EXPECT_EQ(c->service->CheckIn(project, CheckInOf("b", "ok", "")).code(),
            Status::Code::kTooLarge);
}

TEST_F(MonitorServiceTest, AlertsRaisedAndResolved) {
  alertmanager::FakeAlertmanager am;
  auto c = Make(am.url());
  const int64_t project = c->Project();
  ASSERT_TRUE(
      c->service
          ->CheckIn(project, CheckInOf("backup", "ok", Config(kHourly, 5, 30)))
          .ok());
  ASSERT_TRUE(c->service->TickOnce(kT0 + 3600 + 302).ok());  // missed
  ASSERT_TRUE(am.WaitForRequests(1, 10));
  std::string body = am.requests()[0].body;
  EXPECT_NE(body.find("\"alertname\":\"CrashctlMonitorFailed\""),
            std::string::npos)
      << body;
  EXPECT_NE(body.find("\"reason\":\"missed\""), std::string::npos) << body;
  EXPECT_NE(body.find("\"monitor\":\"backup\""), std::string::npos) << body;
  EXPECT_NE(body.find("\"environment\":\"production\""), std::string::npos);
  EXPECT_NE(body.find("\"severity\":\"warning\""), std::string::npos);
  EXPECT_NE(body.find("http://crashctl.test/api/v1/monitors/"),
            std::string::npos);
  // Recovery: the same labels, endsAt = now.
  clock_ = kT0 + 7200;
  ASSERT_TRUE(
      c->service
          ->CheckIn(project, CheckInOf("backup", "ok", Config(kHourly, 5, 30)))
          .ok());
  ASSERT_TRUE(am.WaitForRequests(2, 10));
  body = am.requests()[1].body;
  EXPECT_NE(body.find("\"reason\":\"missed\""), std::string::npos) << body;
  EXPECT_NE(body.find("\"endsAt\":\"2026-03-02T12:00:00.000Z\""),
            std::string::npos)
      << body;
  // An error opens a new incident with reason error.
  clock_ = kT0 + 10800;
  ASSERT_TRUE(c->service
                  ->CheckIn(project, CheckInOf("backup", "error",
                                               Config(kHourly, 5, 30)))
                  .ok());
  // The cooldown (300 s of the pusher's own clock) holds the new incident
  // back; only the first two were sent.
  EXPECT_FALSE(am.WaitForRequests(3, 0.3));
}

}  // namespace
}  // namespace cron
}  // namespace crashctl
