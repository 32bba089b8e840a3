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

}  // namespace
}  // namespace kube
}  // namespace crashctl
