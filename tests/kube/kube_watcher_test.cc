// KubeWatcher against the fake API server, with a real Store and Metrics.
// Every wait polls a condition with a deadline; nothing sleeps.
#include "crashctl/kube/kube_watcher.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "crashctl/exporter/exporter.h"
#include "crashctl/kube/metrics.h"
#include "crashctl/store/sqlite.h"
#include "crashctl/store/store.h"
#include "crashctl/util/time.h"
#include "fake_apiserver.h"
#include "fake_scenarios.h"
#include "fixture_crashes.h"
#include "kube/kube_api_client.h"
#include "kube/log_fetcher.h"
#include "kube/pod_classifier.h"
#include "tests/testing/raw_http.h"
#include "tests/testing/server_process.h"

namespace crashctl {
namespace kube {
namespace {

using testing::ExpectCrashLoopFixtureEpisode;
using testing::ExpectInitFailedFixtureCrash;
using testing::ExpectOomKilledFixtureCrash;
using testing::FakeApiServer;
using testing::ReadKubeFixture;
using testing::WaitFor;

constexpr double kWait = 10;  // seconds; generous for a loaded CI machine

const char kOomKey[] =
    "shop/3f6c1a52-8d4e-4b7a-9a51-0c2d9e7f1a01/api/exit/2026-11-20T10:05:00Z";
const char kOomPod[] = "api-7d9f8b6c5d-x2k4p";
const char kLoopExitKey[] =
    "jobs/5b2d8e41-7c3a-4f19-8e6d-2a4b6c8d0e02/worker/exit/"
    "2026-11-20T11:00:05Z";
const char kLoopKey[] =
    "jobs/5b2d8e41-7c3a-4f19-8e6d-2a4b6c8d0e02/worker/crashloop/"
    "2026-11-20T11:00:05Z";

class KubeWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    store_ = store::OpenSqlite(dir_.File("crashctl.db"), &error);
    ASSERT_NE(store_, nullptr) << error;
    metrics_ = NewMetrics();
    ASSERT_TRUE(fake_.Start(0, &error)) << error;
    config_.kube_enabled = true;
    config_.kube_api_server = fake_.url();
    config_.kube_restart_threshold = 5;
    options_.backoff_initial_seconds = 0.02;
    options_.backoff_max_seconds = 0.2;
    options_.watch_timeout_seconds = 60;
    // The fake sends a BOOKMARK every second: 3 s of silence means the
    // connection is dead (e.g. accepted by a server that is shutting down).
    options_.stream_idle_seconds = 3;
  }

  void TearDown() override {
    if (watcher_) watcher_->Stop();
    fake_.Stop();
  }

  void StartWatcher() {
    watcher_ = std::make_unique<KubeWatcher>(config_, store_.get(),
                                             metrics_.get(), options_);
    watcher_->AddListener([this](const model::Crash& c, bool inserted) {
      std::lock_guard<std::mutex> lock(mu_);
      if (inserted) inserted_.push_back(c.dedup_key);
    });
    std::string error;
    ASSERT_TRUE(watcher_->Start(&error)) << error;
  }

  void Apply(const std::string& fixture, bool cut = false) {
    std::string json = ReadKubeFixture(fixture);
    ASSERT_FALSE(json.empty()) << fixture;
    ASSERT_FALSE(fake_.ApplyPod(json, cut).empty()) << fixture;
  }

  std::vector<model::Crash> AllCrashes() {
    store::CrashQuery q;
    q.limit = 1000;
    model::Page<model::Crash> page;
    EXPECT_TRUE(store_->ListCrashes(q, &page).ok());
    return page.items;
  }

  bool GetCrash(const std::string& key, model::Crash* out) {
    return store_->GetCrashByKey(key, out).ok();
  }

  // Value of the series `name` with exactly `labels`; -1 when absent. The
  // exposition lists labels sorted by name, as the std::map iterates them.
  double Metric(const std::string& name,
                const std::map<std::string, std::string>& labels) {
    std::string series = name;
    for (const auto& [label, value] : labels) {
      series += (series.size() == name.size() ? "{" : ",") + label + "=\"" +
                value + "\"";
    }
    if (!labels.empty()) series += "}";
    return testing::MetricValue(exporter_->Serialize(), series);
  }

  double Crashes(const std::string& ns, const std::string& type) {
    return Metric("crashctl_pod_crashes_total",
                  {{"namespace", ns}, {"crash_type", type}});
  }

  size_t InsertedCount() {
    std::lock_guard<std::mutex> lock(mu_);
    return inserted_.size();
  }

  testing::TempDir dir_{"kube-watcher-test"};  // outlives store_
  std::unique_ptr<store::Store> store_;
  // Fresh families on a fresh registry.
  std::unique_ptr<Metrics> NewMetrics() {
    metrics_.reset();
    exporter_ =
        std::make_unique<exporter::Exporter>(exporter::Exporter::Options());
    return std::make_unique<Metrics>(exporter_->registry());
  }
  std::unique_ptr<exporter::Exporter> exporter_;
  std::unique_ptr<Metrics> metrics_;
  FakeApiServer fake_;
  core::Config config_;
  KubeWatcher::Options options_;
  std::unique_ptr<KubeWatcher> watcher_;
  std::mutex mu_;
  std::vector<std::string> inserted_;
};

TEST_F(KubeWatcherTest, OomKillIsRecordedWithLogsMetricsAndListener) {
  fake_.SetLogs("shop", kOomPod, "api", true,
                ReadKubeFixture("logs_api_previous.txt"));
  Apply("pod_oomkilled.json");
  Apply("pod_healthy.json");
  StartWatcher();
  model::Crash c;
  ASSERT_TRUE(
      WaitFor([&] { return GetCrash(kOomKey, &c) && !c.logs.empty(); }, kWait));
  EXPECT_TRUE(WaitFor([&] { return watcher_->Synced(); }, kWait));
  ExpectOomKilledFixtureCrash(c);
  EXPECT_EQ(c.pod, kOomPod);
  EXPECT_EQ(c.pod_uid, "3f6c1a52-8d4e-4b7a-9a51-0c2d9e7f1a01");
  EXPECT_EQ(c.workload_kind, "Deployment");
  EXPECT_EQ(c.workload, "api");
  EXPECT_DOUBLE_EQ(c.finished_at, ParseRfc3339("2026-11-20T10:05:00Z"));
  EXPECT_EQ(c.logs, ReadKubeFixture("logs_api_previous.txt"));
  EXPECT_EQ(AllCrashes().size(), 1u);  // the healthy pod gives nothing
  EXPECT_EQ(InsertedCount(), 1u);
  EXPECT_EQ(Crashes("shop", "oom_killed"), 1);
  EXPECT_EQ(Metric("crashctl_kube_watch_up", {{"namespace", "all"}}), 1);
  EXPECT_GT(Metric("crashctl_kube_last_event_timestamp_seconds", {}), 0);
  EXPECT_EQ(Metric("crashctl_pods_crashlooping", {{"namespace", "shop"}}), 0);
}

// Leader election stops the watcher when leadership ends and starts it
// again when it comes back: a crash that happened meanwhile is recorded by
// the new list, one that was recorded before is not recorded twice.
TEST_F(KubeWatcherTest, StopThenStartAgainRelistsAndRecordsOnce) {
  fake_.SetLogs("shop", kOomPod, "api", true,
                ReadKubeFixture("logs_api_previous.txt"));
  Apply("pod_oomkilled.json");
  StartWatcher();
  model::Crash c;
  ASSERT_TRUE(WaitFor([&] { return GetCrash(kOomKey, &c); }, kWait));
  ASSERT_TRUE(WaitFor([&] { return watcher_->Synced(); }, kWait));
  EXPECT_EQ(Metric("crashctl_kube_watch_up", {{"namespace", "all"}}), 1);
  const int lists = fake_.stats().lists;
  watcher_->Stop();
  EXPECT_FALSE(watcher_->Synced());
  std::string reason;
  EXPECT_FALSE(watcher_->Ready(&reason));
  EXPECT_EQ(Metric("crashctl_kube_watch_up", {{"namespace", "all"}}), 0);
  Apply("pod_crashloop_1.json");  // while no watcher runs
  std::string error;
  ASSERT_TRUE(watcher_->Start(&error)) << error;
  EXPECT_FALSE(watcher_->Start(&error));  // already started
  ASSERT_TRUE(WaitFor([&] { return GetCrash(kLoopKey, &c); }, kWait));
  ASSERT_TRUE(WaitFor([&] { return watcher_->Synced(); }, kWait));
  EXPECT_GT(fake_.stats().lists, lists);
  EXPECT_EQ(Metric("crashctl_kube_watch_up", {{"namespace", "all"}}), 1);
  // Stop + Start once more, quickly: still one record per crash.
  watcher_->Stop();
  ASSERT_TRUE(watcher_->Start(&error)) << error;
  ASSERT_TRUE(WaitFor([&] { return watcher_->Synced(); }, kWait));
  std::vector<model::Crash> all = AllCrashes();
  int oom = 0;
  for (const auto& crash : all) oom += crash.dedup_key == kOomKey ? 1 : 0;
  EXPECT_EQ(oom, 1);
}

TEST_F(KubeWatcherTest, CrashLoopIsOneEpisodeUpdatedWhileItLasts) {
  fake_.SetLogs("jobs", "worker-0", "worker", true,
                ReadKubeFixture("logs_worker_previous.txt"));
  StartWatcher();
  ASSERT_TRUE(WaitFor([&] { return watcher_->Synced(); }, kWait));
  Apply("pod_crashloop_1.json");
  model::Crash loop;
  ASSERT_TRUE(WaitFor([&] { return GetCrash(kLoopKey, &loop); }, kWait));
  EXPECT_EQ(loop.restart_count, 1);
  Apply("pod_crashloop_2.json");
  Apply("pod_crashloop_3.json");
  ASSERT_TRUE(WaitFor(
      [&] {
        return GetCrash(kLoopKey, &loop) && loop.restart_count == 3 &&
               !loop.logs.empty();
      },
      kWait));
  ExpectCrashLoopFixtureEpisode(loop);
  EXPECT_EQ(loop.exit_code, 139);
  EXPECT_EQ(loop.signal, "SIGSEGV");
  EXPECT_EQ(loop.workload_kind, "StatefulSet");
  EXPECT_EQ(loop.workload, "worker");
  EXPECT_EQ(loop.memory_request, "256Mi");
  EXPECT_DOUBLE_EQ(loop.started_at, ParseRfc3339("2026-11-20T11:00:00Z"));
  EXPECT_DOUBLE_EQ(loop.finished_at, ParseRfc3339("2026-11-20T11:01:06Z"));
  EXPECT_EQ(loop.logs, ReadKubeFixture("logs_worker_previous.txt"));

  // The termination that started the loop has its own record; the later
  // ones are folded into the episode. It is written once its wait for an
  // explaining Event ends (kubernetes.event_wait), which may be after the
  // episode's record.
  model::Crash first;
  ASSERT_TRUE(WaitFor([&] { return GetCrash(kLoopExitKey, &first); }, kWait));
  EXPECT_EQ(first.crash_type, model::CrashType::kErrorExit);
  EXPECT_EQ(first.exit_code, 2);
  EXPECT_EQ(first.signal, "");
  EXPECT_EQ(first.restart_count, 1);
  EXPECT_EQ(AllCrashes().size(), 2u);
  EXPECT_EQ(Crashes("jobs", "crash_loop"), 1);
  EXPECT_EQ(Crashes("jobs", "error_exit"), 1);
  EXPECT_EQ(Metric("crashctl_pods_crashlooping", {{"namespace", "jobs"}}), 1);

  // The container recovers: the gauge drops, nothing new is recorded.
  Apply("pod_crashloop_4.json");
  ASSERT_TRUE(WaitFor(
      [&] {
        return Metric("crashctl_pods_crashlooping", {{"namespace", "jobs"}}) ==
               0;
      },
      kWait));
  EXPECT_EQ(AllCrashes().size(), 2u);

  // A restarted crashctl (new watcher, same store) relists: no duplicates,
  // nothing counted again.
  watcher_->Stop();
  metrics_ = NewMetrics();
  StartWatcher();
  ASSERT_TRUE(WaitFor([&] { return watcher_->Synced(); }, kWait));
  EXPECT_EQ(AllCrashes().size(), 2u);
  EXPECT_EQ(Crashes("jobs", "crash_loop"), -1);
  EXPECT_EQ(Crashes("jobs", "error_exit"), -1);
}

TEST_F(KubeWatcherTest, EvictionWithNullContainerStatuses) {
  Apply("pod_evicted.json");
  StartWatcher();
  const std::string key = "batch/8e4f2a61-3b5c-4d7e-9f10-2a3b4c5d6e03/evicted";
  model::Crash c;
  ASSERT_TRUE(WaitFor([&] { return GetCrash(key, &c); }, kWait));
  EXPECT_EQ(c.crash_type, model::CrashType::kEvicted);
  EXPECT_EQ(c.reason, "Evicted (memory)");
  EXPECT_EQ(c.container, "report");
  EXPECT_EQ(c.workload_kind, "Job");
  EXPECT_EQ(c.workload, "report-29001");
  EXPECT_EQ(c.memory_request, "512Mi");
  EXPECT_EQ(c.memory_limit, "1Gi");
  EXPECT_EQ(c.node, "node-c");
  EXPECT_NE(c.message.find("low on resource: memory"), std::string::npos);
  EXPECT_DOUBLE_EQ(c.started_at, ParseRfc3339("2026-11-20T12:00:00Z"));
  EXPECT_DOUBLE_EQ(c.finished_at, ParseRfc3339("2026-11-20T12:30:00Z"));
  // The counter moves just after the row is written.
  EXPECT_TRUE(WaitFor([&] { return Crashes("batch", "evicted") == 1; }, kWait));
  EXPECT_EQ(fake_.stats().logs, 0);  // no container left to read logs from
}

TEST_F(KubeWatcherTest, FailedInitContainerWithItsLogs) {
  fake_.SetLogs("monitoring", "log-agent-h7x2q", "setup", false,
                ReadKubeFixture("logs_setup.txt"));
  Apply("pod_init_failed.json");
  StartWatcher();
  const std::string key =
      "monitoring/c7a1e9d3-5f2b-4c8e-a0d6-4b8c2e6f0a04/init:setup/exit/"
      "2026-11-20T13:00:02Z";
  model::Crash c;
  ASSERT_TRUE(
      WaitFor([&] { return GetCrash(key, &c) && !c.logs.empty(); }, kWait));
  ExpectInitFailedFixtureCrash(c);
  EXPECT_EQ(c.workload_kind, "DaemonSet");
  EXPECT_EQ(c.workload, "log-agent");
  EXPECT_EQ(c.logs, ReadKubeFixture("logs_setup.txt"));
  EXPECT_EQ(AllCrashes().size(), 1u);
  EXPECT_EQ(Crashes("monitoring", "init_failed"), 1);
}

TEST_F(KubeWatcherTest, ImagePullFailureIsOneStartFailedRecord) {
  StartWatcher();
  ASSERT_TRUE(WaitFor([&] { return watcher_->Synced(); }, kWait));
  const std::string key =
      "shop/a1b2c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c06/web/start_failed/0";
  Apply("pod_start_failed_1.json");  // ErrImagePull
  model::Crash c;
  ASSERT_TRUE(WaitFor([&] { return GetCrash(key, &c); }, kWait));
  EXPECT_EQ(c.crash_type, model::CrashType::kStartFailed);
  EXPECT_EQ(c.reason, "ErrImagePull");
  EXPECT_NE(c.message.find("failed to pull and unpack image"),
            std::string::npos);
  EXPECT_EQ(c.workload_kind, "Deployment");
  EXPECT_EQ(c.workload, "web");
  EXPECT_EQ(c.memory_limit, "128Mi");
  EXPECT_GT(c.finished_at, 0);
  // The kubelet alternates ErrImagePull and ImagePullBackOff: one episode.
  Apply("pod_start_failed_2.json");
  Apply("pod_start_failed_1.json");
  Apply("pod_oomkilled.json");  // handled after the updates above
  ASSERT_TRUE(WaitFor([&] { return GetCrash(kOomKey, &c); }, kWait));
  EXPECT_EQ(AllCrashes().size(), 2u);
  EXPECT_TRUE(
      WaitFor([&] { return Crashes("shop", "start_failed") == 1; }, kWait));
  EXPECT_EQ(Crashes("shop", "error_exit"), -1);
  // The OOM kill's logs only (the image never ran); they are read after
  // its record is written, so wait for them.
  EXPECT_TRUE(WaitFor([&] { return fake_.stats().logs >= 1; }, kWait));
  EXPECT_EQ(fake_.stats().logs, 1);
  // A restarted crashctl relists: still one record, nothing counted.
  watcher_->Stop();
  metrics_ = NewMetrics();
  StartWatcher();
  ASSERT_TRUE(WaitFor([&] { return watcher_->Synced(); }, kWait));
  EXPECT_EQ(AllCrashes().size(), 2u);
  EXPECT_EQ(Crashes("shop", "start_failed"), -1);
}

TEST_F(KubeWatcherTest, RestartThresholdOncePerCrossing) {
  Apply("pod_restarts.json");
  StartWatcher();
  const std::string key =
      "shop/e2d4f6a8-1b3c-4d5e-8f7a-9b0c1d2e3f05/cart/restart_threshold/5";
  model::Crash c;
  ASSERT_TRUE(WaitFor([&] { return GetCrash(key, &c); }, kWait));
  EXPECT_EQ(c.crash_type, model::CrashType::kRestartThreshold);
  EXPECT_EQ(c.restart_count, 6);
  EXPECT_EQ(c.workload, "cart");
  // More restarts: still one record.
  std::string json = ReadKubeFixture("pod_restarts.json");
  size_t pos = json.find("\"restartCount\": 6");
  ASSERT_NE(pos, std::string::npos);
  json.replace(pos, 17, "\"restartCount\": 7");
  ASSERT_FALSE(fake_.ApplyPod(json).empty());
  // Events are handled in order: once the next pod's crash is stored, the
  // update above has been seen.
  Apply("pod_oomkilled.json");
  ASSERT_TRUE(WaitFor([&] { return GetCrash(kOomKey, &c); }, kWait));
  ASSERT_TRUE(GetCrash(key, &c));
  EXPECT_EQ(c.restart_count, 6);
  EXPECT_EQ(AllCrashes().size(), 2u);
  EXPECT_EQ(Crashes("shop", "restart_threshold"), 1);
}

TEST_F(KubeWatcherTest, ExpiredWatchRelistsWithoutDuplicates) {
  Apply("pod_oomkilled.json");
  Apply("pod_crashloop_1.json");
  StartWatcher();
  ASSERT_TRUE(WaitFor([&] { return AllCrashes().size() == 3; }, kWait));
  ASSERT_TRUE(WaitFor([&] { return fake_.stats().open_watches == 1; }, kWait));
  EXPECT_EQ(fake_.stats().lists, 1);
  fake_.Expire();  // the verbatim 410 Expired ERROR event
  ASSERT_TRUE(WaitFor([&] { return fake_.stats().lists == 2; }, kWait));
  ASSERT_TRUE(WaitFor(
      [&] {
        return Metric("crashctl_kube_watch_restarts_total",
                      {{"namespace", "all"}, {"reason", "expired"}}) == 1;
      },
      kWait));
  Apply("pod_crashloop_2.json");
  model::Crash loop;
  ASSERT_TRUE(WaitFor(
      [&] { return GetCrash(kLoopKey, &loop) && loop.restart_count == 2; },
      kWait));
  EXPECT_EQ(AllCrashes().size(), 3u);
  EXPECT_EQ(Crashes("shop", "oom_killed"), 1);
  EXPECT_EQ(Crashes("jobs", "crash_loop"), 1);
  EXPECT_EQ(Crashes("jobs", "error_exit"), 1);
  EXPECT_EQ(InsertedCount(), 3u);
}

TEST_F(KubeWatcherTest, UpdateMissedWhileServerWasDownIsRecorded) {
  Apply("pod_crashloop_1.json");
  StartWatcher();
  ASSERT_TRUE(WaitFor([&] { return AllCrashes().size() == 2; }, kWait));
  const int port = fake_.port();
  fake_.Stop();
  ASSERT_TRUE(WaitFor(
      [&] {
        return Metric("crashctl_kube_watch_up", {{"namespace", "all"}}) == 0;
      },
      kWait));
  // While the server is away the container crashes twice more and etcd is
  // compacted: the watcher must relist and catch up from the pod's state.
  Apply("pod_crashloop_3.json");
  fake_.Expire();
  std::string error;
  ASSERT_TRUE(fake_.Start(port, &error)) << error;
  model::Crash loop;
  ASSERT_TRUE(WaitFor(
      [&] { return GetCrash(kLoopKey, &loop) && loop.restart_count == 3; },
      kWait));
  EXPECT_EQ(loop.exit_code, 139);
  EXPECT_DOUBLE_EQ(loop.finished_at, ParseRfc3339("2026-11-20T11:01:06Z"));
  EXPECT_EQ(AllCrashes().size(), 2u);
  ASSERT_TRUE(WaitFor(
      [&] {
        return Metric("crashctl_kube_watch_up", {{"namespace", "all"}}) == 1;
      },
      kWait));
  EXPECT_GE(Metric("crashctl_kube_watch_restarts_total",
                   {{"namespace", "all"}, {"reason", "error"}}),
            1);
}

TEST_F(KubeWatcherTest, ServerDownAtStartThenBack) {
  FakeApiServer later;
  const int port = testing::FreePort();
  config_.kube_api_server = "http://127.0.0.1:" + std::to_string(port);
  StartWatcher();
  ASSERT_TRUE(WaitFor(
      [&] {
        return Metric("crashctl_kube_watch_restarts_total",
                      {{"namespace", "all"}, {"reason", "error"}}) >= 2;
      },
      kWait));
  EXPECT_FALSE(watcher_->Synced());
  EXPECT_EQ(Metric("crashctl_kube_watch_up", {{"namespace", "all"}}), 0);
  std::string json = ReadKubeFixture("pod_oomkilled.json");
  ASSERT_FALSE(later.ApplyPod(json).empty());
  std::string error;
  ASSERT_TRUE(later.Start(port, &error)) << error;
  model::Crash c;
  ASSERT_TRUE(WaitFor([&] { return GetCrash(kOomKey, &c); }, kWait));
  // The crash is recorded while the list is processed; synced follows once
  // the whole list is.
  EXPECT_TRUE(WaitFor([&] { return watcher_->Synced(); }, kWait));
  watcher_->Stop();
  later.Stop();
}

TEST_F(KubeWatcherTest, DeletedPodsLeaveTheCrashLoopGauge) {
  auto looping = [&] {
    return Metric("crashctl_pods_crashlooping", {{"namespace", "jobs"}});
  };
  Apply("pod_crashloop_1.json");
  StartWatcher();
  ASSERT_TRUE(WaitFor([&] { return looping() == 1; }, kWait));
  // Deleted while watched: a DELETED event.
  ASSERT_TRUE(fake_.DeletePod("jobs", "worker-0"));
  ASSERT_TRUE(WaitFor([&] { return looping() == 0; }, kWait));
  // Back (same uid), then deleted while the API server is away: the relist
  // no longer lists it.
  Apply("pod_crashloop_1.json");
  ASSERT_TRUE(WaitFor([&] { return looping() == 1; }, kWait));
  const int port = fake_.port();
  fake_.Stop();
  ASSERT_TRUE(fake_.DeletePod("jobs", "worker-0"));
  fake_.Expire();
  std::string error;
  ASSERT_TRUE(fake_.Start(port, &error)) << error;
  ASSERT_TRUE(WaitFor([&] { return looping() == 0; }, kWait));
  // The exit that started the loop is recorded once its wait for an
  // explaining Event is over (Tick), which may come after the gauge falls.
  ASSERT_TRUE(WaitFor([&] { return AllCrashes().size() >= 2u; }, kWait));
  EXPECT_EQ(AllCrashes().size(), 2u);  // seeing the pod again added nothing
  EXPECT_EQ(InsertedCount(), 2u);
}

TEST_F(KubeWatcherTest, StreamCutInsideALineResumesFromLastVersion) {
  StartWatcher();
  ASSERT_TRUE(WaitFor([&] { return watcher_->Synced(); }, kWait));
  ASSERT_TRUE(WaitFor([&] { return fake_.stats().open_watches == 1; }, kWait));
  const int64_t rv_before = fake_.resource_version();
  Apply("pod_oomkilled.json", /*cut=*/true);
  model::Crash c;
  ASSERT_TRUE(WaitFor([&] { return GetCrash(kOomKey, &c); }, kWait));
  FakeApiServer::Stats s = fake_.stats();
  EXPECT_EQ(s.lists, 1);  // resumed by watching, not relisting
  ASSERT_GE(s.watches, 2);
  EXPECT_NE(
      s.watch_paths[1].find("resourceVersion=" + std::to_string(rv_before)),
      std::string::npos)
      << s.watch_paths[1];
  EXPECT_EQ(AllCrashes().size(), 1u);
  EXPECT_TRUE(
      WaitFor([&] { return Crashes("shop", "oom_killed") == 1; }, kWait));
  EXPECT_GE(Metric("crashctl_kube_watch_restarts_total",
                   {{"namespace", "all"}, {"reason", "error"}}),
            1);
}

TEST_F(KubeWatcherTest, BookmarkAdvancesResourceVersionAndNamespacesFilter) {
  config_.kube_namespaces = {"shop"};
  StartWatcher();
  ASSERT_TRUE(WaitFor([&] { return watcher_->Synced(); }, kWait));
  ASSERT_TRUE(WaitFor([&] { return fake_.stats().open_watches == 1; }, kWait));
  Apply("pod_crashloop_1.json");  // another namespace: not watched
  const int64_t rv = fake_.resource_version();
  fake_.Bookmark();
  fake_.CloseWatches();
  ASSERT_TRUE(WaitFor([&] { return fake_.stats().watches >= 2; }, kWait));
  FakeApiServer::Stats s = fake_.stats();
  EXPECT_EQ(s.watch_paths[0].rfind("/api/v1/namespaces/shop/pods?", 0), 0u)
      << s.watch_paths[0];
  EXPECT_NE(s.watch_paths[0].find("allowWatchBookmarks=true"),
            std::string::npos);
  EXPECT_NE(s.watch_paths[0].find("timeoutSeconds=60"), std::string::npos);
  EXPECT_NE(s.watch_paths[1].find("resourceVersion=" + std::to_string(rv)),
            std::string::npos)
      << s.watch_paths[1];
  EXPECT_EQ(s.lists, 1);
  EXPECT_TRUE(AllCrashes().empty());
  EXPECT_GE(Metric("crashctl_kube_watch_restarts_total",
                   {{"namespace", "shop"}, {"reason", "closed"}}),
            1);
}

TEST_F(KubeWatcherTest, PaginatedListOfEveryScenario) {
  options_.list_page_size = 2;
  std::string error;
  ASSERT_TRUE(testing::LoadScenario(&fake_, "all", &error)) << error;
  StartWatcher();
  ASSERT_TRUE(WaitFor([&] { return watcher_->Synced(); }, kWait));
  EXPECT_EQ(fake_.stats().lists, 4);  // 8 pods, 2 a page
  std::map<std::string, int> types;
  // The error_exit waits for the first list of Events.
  ASSERT_TRUE(WaitFor([&] { return AllCrashes().size() == 8u; }, kWait))
      << AllCrashes().size();
  for (const model::Crash& c : AllCrashes())
    ++types[model::ToString(c.crash_type)];
  EXPECT_EQ(types, (std::map<std::string, int>{{"crash_loop", 1},
                                               {"error_exit", 1},
                                               {"evicted", 1},
                                               {"init_failed", 1},
                                               {"liveness_failed", 1},
                                               {"oom_killed", 1},
                                               {"restart_threshold", 1},
                                               {"start_failed", 1}}));
}

TEST_F(KubeWatcherTest, CrashesAndGroupsAreLinkedBothWays) {
  model::Project project;
  ASSERT_TRUE(store_->CreateProject("shop", &project).ok());
  auto item = [&](int n, const std::string& fingerprint, double ts, bool tag) {
    model::WriteItem it;
    char id[33];
    std::snprintf(id, sizeof(id), "%032x", n);
    it.event.event_id = id;
    it.event.project_id = project.id;
    it.event.timestamp = ts;
    it.event.received = ts;
    it.event.message = "boom";
    it.event.raw_json = std::string("{\"event_id\":\"") + id + "\"}";
    if (tag) {
      it.event.server_name = "some-host";
      it.event.tags.push_back({"pod", kOomPod});
    } else {
      it.event.server_name = kOomPod;
    }
    it.grouping.fingerprint = fingerprint;
    it.grouping.title = "Error: " + fingerprint;
    it.grouping.method = "fingerprint";
    return it;
  };
  const double started = ParseRfc3339("2026-11-20T10:00:00Z");
  const double finished = ParseRfc3339("2026-11-20T10:05:00Z");
  // An error reported before the OOM kill, from the same pod.
  std::vector<model::WriteOutcome> before;
  ASSERT_TRUE(
      store_
          ->WriteEvents({item(1, std::string(32, 'a'), started + 200, false)},
                        &before)
          .ok());
  Apply("pod_oomkilled.json");
  StartWatcher();
  model::Crash c;
  ASSERT_TRUE(WaitFor(
      [&] {
        return GetCrash(kOomKey, &c) && store_->GetCrash(c.id, &c).ok() &&
               !c.linked_groups.empty();
      },
      kWait));
  EXPECT_EQ(c.linked_groups, std::vector<int64_t>{before[0].group_id});
  model::Group g;
  ASSERT_TRUE(store_->GetGroup(before[0].group_id, &g).ok());
  EXPECT_EQ(g.linked_crashes, std::vector<int64_t>{c.id});

  // Errors stored after the crash is known: linked when inside
  // [started, finished + 60], by tag `pod` too.
  std::vector<model::WriteItem> after = {
      item(2, std::string(32, 'b'), finished + 30, true),
      item(3, std::string(32, 'c'), finished + 120, false)};
  std::vector<model::WriteOutcome> outcomes;
  ASSERT_TRUE(store_->WriteEvents(after, &outcomes).ok());
  for (size_t i = 0; i < after.size(); ++i) {
    watcher_->OnEventStored(after[i], outcomes[i]);
  }
  ASSERT_TRUE(store_->GetCrash(c.id, &c).ok());
  std::vector<int64_t> linked = c.linked_groups;
  std::sort(linked.begin(), linked.end());
  std::vector<int64_t> want = {before[0].group_id, outcomes[0].group_id};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(linked, want);
}

// An event another replica stored (this watcher's OnEventStored never sees
// it) is linked once the crash's window has been closed for the relink
// delay. The fixture's crash ended on 2026-11-20, so its window (end + 60 s)
// is long closed; a delay up to 6 s from now makes the relink come after
// the write below (asserted: the write must happen before it).
TEST_F(KubeWatcherTest, EventsStoredElsewhereAreLinkedWhenTheWindowCloses) {
  model::Project project;
  ASSERT_TRUE(store_->CreateProject("shop", &project).ok());
  const double finished = ParseRfc3339("2026-11-20T10:05:00Z");
  const double window_end = finished + 60;  // kLinkAfterSeconds
  const double relink_at = util::NowSeconds() + 6;
  options_.relink_delay_seconds = relink_at - window_end;
  Apply("pod_oomkilled.json");
  StartWatcher();
  model::Crash c;
  // Notified after the crash's own lookup of its pod's groups.
  ASSERT_TRUE(WaitFor([&] { return InsertedCount() >= 1; }, kWait));
  ASSERT_TRUE(GetCrash(kOomKey, &c));
  EXPECT_TRUE(c.linked_groups.empty());

  model::WriteItem it;
  it.event.event_id = std::string(31, '0') + "9";
  it.event.project_id = project.id;
  it.event.timestamp = finished + 30;  // inside the window
  it.event.received = util::NowSeconds();
  it.event.message = "boom";
  it.event.server_name = kOomPod;
  it.event.raw_json = "{\"event_id\":\"" + it.event.event_id + "\"}";
  it.grouping.fingerprint = std::string(32, 'd');
  it.grouping.title = "Error: elsewhere";
  it.grouping.method = "fingerprint";
  std::vector<model::WriteOutcome> outcomes;
  ASSERT_TRUE(store_->WriteEvents({it}, &outcomes).ok());
  ASSERT_LT(util::NowSeconds(), relink_at - 0.5) << "machine too slow";
  ASSERT_TRUE(store_->GetCrash(c.id, &c).ok());
  EXPECT_TRUE(c.linked_groups.empty());  // not yet: no OnEventStored
  ASSERT_TRUE(WaitFor(
      [&] {
        return store_->GetCrash(c.id, &c).ok() && !c.linked_groups.empty();
      },
      kWait + 6));
  EXPECT_EQ(c.linked_groups, std::vector<int64_t>{outcomes[0].group_id});
}

TEST_F(KubeWatcherTest, MissingPreviousLogsAreNotAnError) {
  Apply("pod_crashloop_1.json");  // no logs set: the fake answers 400
  StartWatcher();
  model::Crash c;
  ASSERT_TRUE(WaitFor([&] { return GetCrash(kLoopKey, &c); }, kWait));
  ASSERT_TRUE(WaitFor([&] { return fake_.stats().logs >= 2; }, kWait));
  EXPECT_TRUE(c.logs.empty());
}

// --- LogFetcher and KubeApiClient directly ---------------------------------

TEST_F(KubeWatcherTest, LogFetcherHandlesPrevious400AndFetchesTail) {
  Apply("pod_oomkilled.json");
  std::string many;
  for (int i = 1; i <= 80; ++i) many += "line " + std::to_string(i) + "\n";
  fake_.SetLogs("shop", kOomPod, "api", true, many);
  KubeClientConfig cc;
  cc.server = fake_.url();
  KubeApiClient client(cc, KubeApiClient::Options());
  std::mutex mu;
  std::map<std::string, std::string> got;
  LogFetcher fetcher(&client, 10, 50,
                     [&](const LogRequest& r, const std::string& logs) {
                       std::lock_guard<std::mutex> lock(mu);
                       got[r.dedup_key] = logs;
                     });
  fetcher.Start();
  auto request = [](const char* key, const char* container) {
    LogRequest r;
    r.dedup_key = key;
    r.namespace_ = "shop";
    r.pod = kOomPod;
    r.container = container;
    return r;
  };
  ASSERT_TRUE(fetcher.Enqueue(request("k1", "sidecar")));
  ASSERT_TRUE(fetcher.Enqueue(request("k2", "api")));
  ASSERT_TRUE(WaitFor(
      [&] {
        std::lock_guard<std::mutex> lock(mu);
        return got.count("k2") > 0;
      },
      kWait));
  fetcher.Stop();
  EXPECT_EQ(got.count("k1"), 0u);  // 400 "previous ... not found": no logs
  std::string want;
  for (int i = 31; i <= 80; ++i) want += "line " + std::to_string(i) + "\n";
  EXPECT_EQ(got["k2"], want);
  LogRequest r;
  r.namespace_ = "ns";
  r.pod = "p";
  r.container = "c";
  // No limitBytes: it would cut the end of the log, where the crash is.
  EXPECT_EQ(LogFetcher::LogPath(r, 500),
            "/api/v1/namespaces/ns/pods/p/log?container=c&previous=true&"
            "tailLines=500");
}

TEST_F(KubeWatcherTest, ApiClientRereadsTheTokenFile) {
  const std::string token_file = dir_.File("token");
  auto write_token = [&](const std::string& token) {
    std::ofstream out(token_file, std::ios::trunc);
    out << token << "\n";
  };
  write_token("first");
  KubeClientConfig cc;
  cc.server = fake_.url();
  cc.token_file = token_file;
  KubeApiClient::Options rereads;
  rereads.token_reload_seconds = 0;  // every request
  KubeApiClient::Options hourly;
  hourly.token_reload_seconds = 3600;
  KubeApiClient client(cc, rereads);
  KubeApiClient cached(cc, hourly);
  ASSERT_TRUE(client.Get("/version").ok());
  EXPECT_EQ(fake_.stats().last_authorization, "Bearer first");
  ASSERT_TRUE(cached.Get("/version").ok());
  write_token("second");  // the kubelet rotated the projected token
  ASSERT_TRUE(client.Get("/version").ok());
  EXPECT_EQ(fake_.stats().last_authorization, "Bearer second");
  ASSERT_TRUE(cached.Get("/version").ok());
  EXPECT_EQ(fake_.stats().last_authorization, "Bearer first");
}

TEST_F(KubeWatcherTest, ApiClientStreamStopsPromptly) {
  KubeClientConfig cc;
  cc.server = fake_.url();
  KubeApiClient client(cc, KubeApiClient::Options());
  KubeResponse version = client.Get("/version");
  ASSERT_TRUE(version.ok()) << version.error;
  EXPECT_NE(version.body.find("\"gitVersion\""), std::string::npos);
  KubeResponse missing = client.Get("/api/v1/namespaces/x/pods/nope");
  EXPECT_EQ(missing.status, 404);
  EXPECT_TRUE(missing.error.empty());

  std::atomic<bool> stop{false};
  std::atomic<int> bytes{0};
  std::thread t([&] {
    KubeResponse r = client.Stream(
        "/api/v1/pods?watch=true&resourceVersion=1",
        [&](const char*, size_t n) {
          bytes += static_cast<int>(n);
          return true;
        },
        &stop);
    EXPECT_EQ(r.error, "stopped");
  });
  ASSERT_TRUE(WaitFor([&] { return fake_.stats().open_watches == 1; }, kWait));
  Apply("pod_healthy.json");
  ASSERT_TRUE(WaitFor([&] { return bytes > 0; }, kWait));
  auto t0 = std::chrono::steady_clock::now();
  stop = true;
  t.join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
}

// --- Kubernetes Events ---------------------------------------------------

const char kLivenessKey[] =
    "shop/c4e5f6a7-1b2c-4d3e-8f4a-5b6c7d8e9f08/app/exit/2026-11-20T15:02:20Z";
const char kLivenessPod[] = "checkout-7b8c9d6f5-lv9x2";

std::string Rfc3339At(double t) {
  std::time_t s = static_cast<std::time_t>(t);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&s));
  return buf;
}

// `text` with every `from` replaced by `to`.
std::string ReplaceAll(std::string text, const std::string& from,
                       const std::string& to) {
  for (size_t pos = text.find(from); pos != std::string::npos;
       pos = text.find(from, pos + to.size())) {
    text.replace(pos, from.size(), to);
  }
  return text;
}

// The liveness fixtures moved to now: the run ended `ago` seconds ago, the
// kill 30 s before that.
std::string Fresh(const std::string& fixture, double end) {
  std::string json = ReadKubeFixture(fixture);
  json = ReplaceAll(json, "2026-11-20T14:58:14Z", Rfc3339At(end - 240));
  json = ReplaceAll(json, "2026-11-20T15:01:30Z", Rfc3339At(end - 50));
  json = ReplaceAll(json, "2026-11-20T15:01:50Z", Rfc3339At(end - 30));
  json = ReplaceAll(json, "2026-11-20T15:02:20Z", Rfc3339At(end));
  json = ReplaceAll(json, "2026-11-20T15:02:21Z", Rfc3339At(end + 1));
  return json;
}

TEST_F(KubeWatcherTest, LivenessKillIsOneLivenessFailedRecord) {
  std::string error;
  ASSERT_TRUE(testing::LoadScenario(&fake_, "liveness", &error)) << error;
  StartWatcher();
  model::Crash c;
  ASSERT_TRUE(WaitFor([&] { return GetCrash(kLivenessKey, &c); }, kWait));
  EXPECT_EQ(c.crash_type, model::CrashType::kLivenessFailed);
  EXPECT_EQ(c.reason, "LivenessProbe");
  EXPECT_EQ(c.message,
            "Liveness probe failed: HTTP probe failed with statuscode: 500");
  EXPECT_EQ(c.pod, kLivenessPod);
  EXPECT_EQ(c.container, "app");
  EXPECT_EQ(c.exit_code, 137);
  EXPECT_EQ(c.signal, "SIGKILL");
  EXPECT_EQ(c.workload, "checkout");
  EXPECT_TRUE(WaitFor(
      [&] {
        return Metric("crashctl_kube_terminations_waiting", {}) == 0 &&
               Crashes("shop", "liveness_failed") == 1;
      },
      kWait));
  // The termination is this crash only: no error_exit, now or later (none
  // waits any more).
  EXPECT_EQ(AllCrashes().size(), 1u);
  EXPECT_EQ(InsertedCount(), 1u);
  EXPECT_EQ(Crashes("shop", "error_exit"), -1);
  EXPECT_GE(Metric("crashctl_kube_events_total", {{"involved_kind", "pod"}}),
            2);
  EXPECT_EQ(Metric("crashctl_kube_events_watch_up", {{"namespace", "all"}}), 1);
  FakeApiServer::Stats s = fake_.stats();
  EXPECT_EQ(s.event_lists, 1);
  // An object that is not a usable Event (no involvedObject) is counted as
  // invalid and ignored; the watch goes on.
  EXPECT_EQ(
      Metric("crashctl_kube_events_total", {{"involved_kind", "invalid"}}), 0);
  ASSERT_FALSE(fake_
                   .ApplyEvent(R"({"apiVersion":"v1","kind":"Event",)"
                               R"("metadata":{"namespace":"shop",)"
                               R"("name":"broken.1"},"reason":"Killing"})")
                   .empty());
  EXPECT_TRUE(WaitFor(
      [&] {
        return Metric("crashctl_kube_events_total",
                      {{"involved_kind", "invalid"}}) == 1;
      },
      kWait));
  EXPECT_EQ(Metric("crashctl_kube_events_watch_up", {{"namespace", "all"}}), 1);
  EXPECT_EQ(AllCrashes().size(), 1u);
  s = fake_.stats();
  EXPECT_EQ(s.event_lists, 1);
  ASSERT_FALSE(s.event_watch_paths.empty());
  EXPECT_EQ(s.event_watch_paths[0].rfind("/api/v1/events?watch=true", 0), 0u)
      << s.event_watch_paths[0];
  EXPECT_NE(s.event_watch_paths[0].find("allowWatchBookmarks=true"),
            std::string::npos);
}

TEST_F(KubeWatcherTest, StartupProbeKillIsLivenessFailedWithItsProbe) {
  auto startup = [](std::string json) {
    json = ReplaceAll(json, "Liveness probe failed", "Startup probe failed");
    return ReplaceAll(json, "failed liveness probe", "failed startup probe");
  };
  for (const char* f :
       {"event_liveness_unhealthy_1.json", "event_liveness_killing.json"}) {
    ASSERT_FALSE(fake_.ApplyEvent(startup(ReadKubeFixture(f))).empty());
  }
  Apply("pod_liveness_killed.json");
  StartWatcher();
  model::Crash c;
  ASSERT_TRUE(WaitFor([&] { return GetCrash(kLivenessKey, &c); }, kWait));
  EXPECT_EQ(c.crash_type, model::CrashType::kLivenessFailed);
  EXPECT_EQ(c.reason, "StartupProbe");
  EXPECT_EQ(c.message,
            "Startup probe failed: HTTP probe failed with statuscode: 500");
}

TEST_F(KubeWatcherTest, FreshTerminationWaitsForItsKillingEvent) {
  config_.kube_event_wait = 30;  // the Event comes well before
  StartWatcher();
  ASSERT_TRUE(WaitFor([&] { return watcher_->Synced(); }, kWait));
  const double end = std::floor(util::NowSeconds()) - 1;
  ASSERT_FALSE(fake_.ApplyPod(Fresh("pod_liveness_killed.json", end)).empty());
  // The exit waits: nothing is recorded while the Event has not come.
  ASSERT_TRUE(WaitFor(
      [&] { return Metric("crashctl_kube_terminations_waiting", {}) == 1; },
      kWait));
  EXPECT_TRUE(AllCrashes().empty());
  for (const char* f :
       {"event_liveness_unhealthy_1.json", "event_liveness_unhealthy_3.json",
        "event_liveness_killing.json"}) {
    ASSERT_FALSE(fake_.ApplyEvent(Fresh(f, end)).empty());
  }
  const std::string key =
      "shop/c4e5f6a7-1b2c-4d3e-8f4a-5b6c7d8e9f08/app/exit/" + Rfc3339At(end);
  model::Crash c;
  ASSERT_TRUE(WaitFor([&] { return GetCrash(key, &c); }, kWait));
  EXPECT_EQ(c.crash_type, model::CrashType::kLivenessFailed);
  EXPECT_EQ(Metric("crashctl_kube_terminations_waiting", {}), 0);
  EXPECT_EQ(AllCrashes().size(), 1u);
}

TEST_F(KubeWatcherTest, EventWaitEndsInErrorExitNeverReclassified) {
  config_.kube_event_wait = 0.3;
  StartWatcher();
  ASSERT_TRUE(WaitFor([&] { return watcher_->Synced(); }, kWait));
  const double end = std::floor(util::NowSeconds()) - 1;
  ASSERT_FALSE(fake_.ApplyPod(Fresh("pod_liveness_killed.json", end)).empty());
  const std::string key =
      "shop/c4e5f6a7-1b2c-4d3e-8f4a-5b6c7d8e9f08/app/exit/" + Rfc3339At(end);
  model::Crash c;
  ASSERT_TRUE(WaitFor([&] { return GetCrash(key, &c); }, kWait));
  EXPECT_EQ(c.crash_type, model::CrashType::kErrorExit);
  EXPECT_EQ(c.reason, "Error");
  // The Killing event comes too late: the record stays as it is.
  const double before =
      Metric("crashctl_kube_events_total", {{"involved_kind", "pod"}});
  ASSERT_FALSE(
      fake_.ApplyEvent(Fresh("event_liveness_killing.json", end)).empty());
  ASSERT_TRUE(WaitFor(
      [&] {
        return Metric("crashctl_kube_events_total",
                      {{"involved_kind", "pod"}}) > before;
      },
      kWait));
  ASSERT_TRUE(GetCrash(key, &c));
  EXPECT_EQ(c.crash_type, model::CrashType::kErrorExit);
  EXPECT_EQ(AllCrashes().size(), 1u);
  EXPECT_EQ(Crashes("shop", "error_exit"), 1);
  EXPECT_EQ(Crashes("shop", "liveness_failed"), -1);
}

TEST_F(KubeWatcherTest, EventsRelistAfterExpiredWatchAddsNothing) {
  std::string error;
  ASSERT_TRUE(testing::LoadScenario(&fake_, "liveness", &error)) << error;
  ASSERT_TRUE(testing::LoadScenario(&fake_, "evicted", &error)) << error;
  StartWatcher();
  model::Crash c;
  ASSERT_TRUE(WaitFor([&] { return GetCrash(kLivenessKey, &c); }, kWait));
  ASSERT_TRUE(
      WaitFor([&] { return fake_.stats().event_open_watches == 1; }, kWait));
  fake_.Expire();
  ASSERT_TRUE(WaitFor([&] { return fake_.stats().event_lists >= 2; }, kWait));
  ASSERT_TRUE(WaitFor([&] { return fake_.stats().lists >= 2; }, kWait));
  // A repeat after the relist (count 4) is a MODIFIED of the same event.
  std::string repeat =
      ReplaceAll(ReplaceAll(ReadKubeFixture("event_liveness_unhealthy_3.json"),
                            "\"count\": 3", "\"count\": 4"),
                 "\"lastTimestamp\": \"2026-11-20T15:01:50Z\"",
                 "\"lastTimestamp\": \"2026-11-20T15:02:00Z\"");
  ASSERT_FALSE(fake_.ApplyEvent(repeat).empty());
  ASSERT_TRUE(
      WaitFor([&] { return fake_.stats().event_open_watches == 1; }, kWait));
  EXPECT_EQ(AllCrashes().size(), 2u);
  EXPECT_EQ(InsertedCount(), 2u);
  EXPECT_EQ(Crashes("shop", "liveness_failed"), 1);
  EXPECT_EQ(Crashes("batch", "evicted"), 1);
  ASSERT_TRUE(GetCrash(kLivenessKey, &c));
  EXPECT_EQ(c.crash_type, model::CrashType::kLivenessFailed);
}

TEST_F(KubeWatcherTest, EvictionAndOomKillGetTheNodesEvents) {
  std::string error;
  ASSERT_TRUE(testing::LoadScenario(&fake_, "evicted", &error)) << error;
  ASSERT_TRUE(testing::LoadScenario(&fake_, "oomkill", &error)) << error;
  StartWatcher();
  const std::string evicted =
      "batch/8e4f2a61-3b5c-4d7e-9f10-2a3b4c5d6e03/evicted";
  model::Crash c;
  ASSERT_TRUE(WaitFor(
      [&] {
        return GetCrash(evicted, &c) &&
               c.message.find("EvictionThresholdMet") != std::string::npos &&
               c.message.find("NodeHasInsufficientMemory") != std::string::npos;
      },
      kWait))
      << c.message;
  // The pod status's message first, then the node's events in time order;
  // the pod's Evicted event says what the status says (not repeated).
  EXPECT_EQ(c.message,
            "The node was low on resource: memory. Threshold quantity: "
            "100Mi, available: 61460Ki. Container report was using 1254Mi, "
            "request is 512Mi, has larger consumption of memory.\n"
            "node node-c: NodeHasInsufficientMemory: Node node-c status is "
            "now: NodeHasInsufficientMemory\n"
            "node node-c: EvictionThresholdMet: Attempting to reclaim memory");
  EXPECT_EQ(c.crash_type, model::CrashType::kEvicted);
  ASSERT_TRUE(WaitFor(
      [&] {
        return GetCrash(kOomKey, &c) &&
               c.message.find(
                   "node node-a: SystemOOM: System OOM "
                   "encountered, victim process: api, pid: 48213") !=
                   std::string::npos;
      },
      kWait))
      << c.message;
  // A node event that comes after the record still reaches it.
  std::string late = ReplaceAll(
      ReplaceAll(ReadKubeFixture("event_node_insufficient_memory.json"),
                 "node-c", "node-a"),
      "2026-11-20T12:29:30Z", "2026-11-20T10:04:50Z");
  ASSERT_FALSE(fake_.ApplyEvent(late).empty());
  ASSERT_TRUE(WaitFor(
      [&] {
        return GetCrash(kOomKey, &c) &&
               c.message.find("node node-a: NodeHasInsufficientMemory") !=
                   std::string::npos;
      },
      kWait))
      << c.message;
  EXPECT_EQ(c.crash_type, model::CrashType::kOomKilled);
  EXPECT_EQ(AllCrashes().size(), 2u);
}

TEST_F(KubeWatcherTest, EventsWatchIsScopedToTheNamespaces) {
  config_.kube_namespaces = {"shop"};
  std::string error;
  ASSERT_TRUE(testing::LoadScenario(&fake_, "liveness", &error)) << error;
  ASSERT_TRUE(testing::LoadScenario(&fake_, "evicted", &error)) << error;
  StartWatcher();
  model::Crash c;
  ASSERT_TRUE(WaitFor([&] { return GetCrash(kLivenessKey, &c); }, kWait));
  EXPECT_EQ(c.crash_type, model::CrashType::kLivenessFailed);
  ASSERT_TRUE(
      WaitFor([&] { return fake_.stats().event_open_watches == 1; }, kWait));
  FakeApiServer::Stats s = fake_.stats();
  ASSERT_FALSE(s.event_watch_paths.empty());
  EXPECT_EQ(s.event_watch_paths[0].rfind("/api/v1/namespaces/shop/events?", 0),
            0u)
      << s.event_watch_paths[0];
  EXPECT_EQ(Metric("crashctl_kube_events_watch_up", {{"namespace", "shop"}}),
            1);
  EXPECT_EQ(AllCrashes().size(), 1u);  // batch is not watched
}

TEST_F(KubeWatcherTest, WithoutTheEventsWatchExitsAreErrorExits) {
  options_.watch_events = false;
  std::string error;
  ASSERT_TRUE(testing::LoadScenario(&fake_, "liveness", &error)) << error;
  StartWatcher();
  model::Crash c;
  ASSERT_TRUE(WaitFor([&] { return GetCrash(kLivenessKey, &c); }, kWait));
  EXPECT_EQ(c.crash_type, model::CrashType::kErrorExit);
  EXPECT_EQ(fake_.stats().event_lists, 0);
}

}  // namespace
}  // namespace kube
}  // namespace crashctl
