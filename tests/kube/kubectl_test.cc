// Proves the fake API server speaks the real protocol: the real kubectl
// lists and watches pods through it.
#include <gtest/gtest.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <string>
#include <thread>

#include "fake_apiserver.h"
#include "fake_scenarios.h"
#include "tests/testing/server_process.h"

namespace crashctl {
namespace kube {
namespace {

using testing::FakeApiServer;
using testing::ReadKubeFixture;
using testing::WaitFor;

const char kKubectl[] = "/usr/bin/kubectl";

std::string WriteKubeconfig(const std::string& dir, const std::string& url) {
  YAML::Node cfg;
  cfg["apiVersion"] = "v1";
  cfg["kind"] = "Config";
  YAML::Node cluster;
  cluster["name"] = "fake";
  cluster["cluster"]["server"] = url;
  cfg["clusters"].push_back(cluster);
  YAML::Node user;
  user["name"] = "tester";
  user["user"]["token"] = "test-token";
  cfg["users"].push_back(user);
  YAML::Node context;
  context["name"] = "fake";
  context["context"]["cluster"] = "fake";
  context["context"]["user"] = "tester";
  context["context"]["namespace"] = "jobs";
  cfg["contexts"].push_back(context);
  cfg["current-context"] = "fake";
  std::string path = dir + "/kubeconfig";
  std::ofstream out(path);
  out << YAML::Dump(cfg) << "\n";
  return path;
}

TEST(KubectlAgainstFakeTest, GetPodsWatchPrintsPodsAndUpdates) {
  if (access(kKubectl, X_OK) != 0) GTEST_SKIP() << "no " << kKubectl;
  FakeApiServer fake;
  std::string error;
  ASSERT_TRUE(fake.Start(0, &error)) << error;
  ASSERT_FALSE(fake.ApplyPod(ReadKubeFixture("pod_crashloop_1.json")).empty());
  const testing::TempDir temp_dir("kubectl-test");
  const std::string& dir = temp_dir.path();
  std::string kubeconfig = WriteKubeconfig(dir, fake.url());

  testing::CommandResult result;
  std::thread kubectl([&] {
    result = testing::RunCommand(
        {kKubectl, "--kubeconfig", kubeconfig, "--cache-dir", dir + "/cache",
         "get", "pods", "--watch", "--request-timeout=20s"},
        {{"HOME", dir}}, 30);
  });
  // Once kubectl watches, the pod recovers and the watch is closed, which
  // ends `kubectl get -w`.
  bool watching = WaitFor([&] { return fake.stats().open_watches >= 1; }, 20);
  EXPECT_TRUE(watching);
  ASSERT_FALSE(fake.ApplyPod(ReadKubeFixture("pod_crashloop_4.json")).empty());
  fake.CloseWatches();
  kubectl.join();
  fake.Stop();
  SCOPED_TRACE("stdout:\n" + result.out + "\nstderr:\n" + result.err);
  EXPECT_NE(result.out.find("NAME"), std::string::npos);
  // The list, then the watch update.
  size_t listed = result.out.find("worker-0");
  ASSERT_NE(listed, std::string::npos);
  EXPECT_NE(result.out.find("CrashLoopBackOff", listed), std::string::npos);
  size_t updated = result.out.find("worker-0", listed + 1);
  ASSERT_NE(updated, std::string::npos);
  EXPECT_NE(result.out.find("Running", updated), std::string::npos);
  EXPECT_GE(fake.stats().lists, 1);
  EXPECT_GE(fake.stats().watches, 1);
}

// `kubectl get events --watch` prints the server-side Table of the Event
// list, then the watch's MODIFIED repeat of an event (count 3).
TEST(KubectlAgainstFakeTest, GetEventsWatchPrintsEventsAndRepeats) {
  if (access(kKubectl, X_OK) != 0) GTEST_SKIP() << "no " << kKubectl;
  FakeApiServer fake;
  std::string error;
  ASSERT_TRUE(fake.Start(0, &error)) << error;
  for (const char* f : {"event_liveness_unhealthy_1.json",
                        "event_failed_scheduling_series.json"}) {
    ASSERT_FALSE(fake.ApplyEvent(ReadKubeFixture(f)).empty()) << f;
  }
  const testing::TempDir temp_dir("kubectl-events-test");
  const std::string& dir = temp_dir.path();
  std::string kubeconfig = WriteKubeconfig(dir, fake.url());
  testing::CommandResult result;
  std::thread kubectl([&] {
    result = testing::RunCommand(
        {kKubectl, "--kubeconfig", kubeconfig, "--cache-dir", dir + "/cache",
         "get", "events", "-n", "shop", "--watch", "--request-timeout=20s"},
        {{"HOME", dir}}, 30);
  });
  bool watching =
      WaitFor([&] { return fake.stats().event_open_watches >= 1; }, 20);
  EXPECT_TRUE(watching);
  ASSERT_FALSE(
      fake.ApplyEvent(ReadKubeFixture("event_liveness_unhealthy_3.json"))
          .empty());
  ASSERT_FALSE(
      fake.ApplyEvent(ReadKubeFixture("event_liveness_killing.json")).empty());
  // Events applied before the close are sent before the watch ends.
  fake.CloseWatches();
  kubectl.join();
  fake.Stop();
  SCOPED_TRACE("stdout:\n" + result.out + "\nstderr:\n" + result.err);
  for (const char* column :
       {"LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"}) {
    EXPECT_NE(result.out.find(column), std::string::npos) << column;
  }
  size_t listed = result.out.find("pod/checkout-7b8c9d6f5-lv9x2");
  ASSERT_NE(listed, std::string::npos);
  EXPECT_NE(result.out.find("Liveness probe failed: HTTP probe failed", listed),
            std::string::npos);
  EXPECT_NE(result.out.find("FailedScheduling"), std::string::npos);
  // The watch: the repeat of the Unhealthy event, then the Killing.
  size_t repeat = result.out.find("Unhealthy", listed + 1);
  size_t second =
      result.out.find("Unhealthy", result.out.find("Unhealthy") + 1);
  EXPECT_NE(repeat, std::string::npos);
  EXPECT_NE(second, std::string::npos);
  EXPECT_NE(result.out.find("failed liveness probe, will be restarted"),
            std::string::npos);
  EXPECT_GE(fake.stats().event_lists, 1);
  EXPECT_GE(fake.stats().event_watches, 1);
}

// `kubectl events` decodes the objects into typed core/v1 Events (a wrong
// field type is an error) and prints them from their fields: count,
// series, involvedObject, lastTimestamp / eventTime.
TEST(KubectlAgainstFakeTest, KubectlEventsDecodesTypedEvents) {
  if (access(kKubectl, X_OK) != 0) GTEST_SKIP() << "no " << kKubectl;
  FakeApiServer fake;
  std::string error;
  ASSERT_TRUE(fake.Start(0, &error)) << error;
  for (const char* f :
       {"event_liveness_unhealthy_3.json", "event_liveness_killing.json",
        "event_failed_scheduling_series.json", "event_evicted_pod.json",
        "event_node_eviction_threshold.json", "event_node_system_oom.json"}) {
    ASSERT_FALSE(fake.ApplyEvent(ReadKubeFixture(f)).empty()) << f;
  }
  const testing::TempDir temp_dir("kubectl-events-typed-test");
  const std::string& dir = temp_dir.path();
  std::string kubeconfig = WriteKubeconfig(dir, fake.url());
  testing::CommandResult result = testing::RunCommand(
      {kKubectl, "--kubeconfig", kubeconfig, "--cache-dir", dir + "/cache",
       "events", "-A", "--request-timeout=20s"},
      {{"HOME", dir}}, 30);
  fake.Stop();
  SCOPED_TRACE("stdout:\n" + result.out + "\nstderr:\n" + result.err);
  EXPECT_EQ(result.err.find("rror"), std::string::npos);
  for (const char* text :
       {"Pod/checkout-7b8c9d6f5-lv9x2", "Unhealthy", "(x3 over", "Killing",
        "failed liveness probe", "FailedScheduling", "(x4 over", "Node/node-c",
        "EvictionThresholdMet", "Node/node-a", "SystemOOM",
        "Pod/report-29001-7xk2m", "Evicted"}) {
    EXPECT_NE(result.out.find(text), std::string::npos) << text;
  }
}

// `kubectl get lease` finds Leases through the fake's discovery
// (/apis/coordination.k8s.io/v1), prints the server-side Table (NAME,
// HOLDER, AGE) and, with -o json, the typed Lease with its MicroTimes.
TEST(KubectlAgainstFakeTest, GetLeasePrintsTheHolder) {
  if (access(kKubectl, X_OK) != 0) GTEST_SKIP() << "no " << kKubectl;
  FakeApiServer fake;
  std::string error;
  ASSERT_TRUE(fake.Start(0, &error)) << error;
  const std::string lease =
      R"({"apiVersion":"coordination.k8s.io/v1","kind":"Lease",)"
      R"("metadata":{"name":"crashctl","namespace":"crashctl"},)"
      R"("spec":{"holderIdentity":"crashctl-7d9f-x2k4p",)"
      R"("leaseDurationSeconds":15,)"
      R"("acquireTime":"2026-12-03T12:00:00.000000Z",)"
      R"("renewTime":"2026-12-03T12:00:04.123456Z","leaseTransitions":3}})";
  testing::HttpResult created = testing::HttpCall(
      "POST",
      fake.url() + "/apis/coordination.k8s.io/v1/namespaces/crashctl/leases",
      lease, {"Content-Type: application/json"});
  ASSERT_EQ(created.status, 201) << created.body;
  const testing::TempDir temp_dir("kubectl-lease-test");
  const std::string& dir = temp_dir.path();
  std::string kubeconfig = WriteKubeconfig(dir, fake.url());
  testing::CommandResult table = testing::RunCommand(
      {kKubectl, "--kubeconfig", kubeconfig, "--cache-dir", dir + "/cache",
       "get", "lease", "-n", "crashctl", "--request-timeout=20s"},
      {{"HOME", dir}}, 30);
  testing::CommandResult json =
      testing::RunCommand({kKubectl, "--kubeconfig", kubeconfig, "--cache-dir",
                           dir + "/cache", "get", "lease", "crashctl", "-n",
                           "crashctl", "-o", "json", "--request-timeout=20s"},
                          {{"HOME", dir}}, 30);
  fake.Stop();
  SCOPED_TRACE("table stdout:\n" + table.out + "\nstderr:\n" + table.err +
               "\njson stdout:\n" + json.out + "\nstderr:\n" + json.err);
  EXPECT_EQ(table.exit_code, 0);
  EXPECT_NE(table.out.find("HOLDER"), std::string::npos);
  EXPECT_NE(table.out.find("crashctl-7d9f-x2k4p"), std::string::npos);
  EXPECT_EQ(json.exit_code, 0);
  EXPECT_NE(json.out.find("\"kind\": \"Lease\""), std::string::npos);
  EXPECT_NE(json.out.find("\"holderIdentity\": \"crashctl-7d9f-x2k4p\""),
            std::string::npos);
  EXPECT_NE(json.out.find("\"renewTime\": \"2026-12-03T12:00:04.123456Z\""),
            std::string::npos);
  EXPECT_NE(json.out.find("\"leaseTransitions\": 3"), std::string::npos);
  EXPECT_NE(json.out.find("\"resourceVersion\""), std::string::npos);
}

}  // namespace
}  // namespace kube
}  // namespace crashctl
