// Two real `crashctl serve` processes with leader election against the fake
// API server: one leads (crashctl_kube_leader 1) and records a pod crash,
// the other is ready without a watch and records nothing; SIGKILL the
// leader and the other leads within the lease duration and records a later
// crash. (Each replica has its own SQLite data dir here: serve keeps an
// ingest lock on its database; what one shared database adds is that the
// new leader's relist finds the old crash already recorded.)
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <signal.h>

#include <chrono>
#include <memory>
#include <string>

#include "fake_apiserver.h"
#include "fake_scenarios.h"
#include "tests/testing/raw_http.h"
#include "tests/testing/server_process.h"

namespace crashctl {
namespace kube {
namespace {

using testing::FakeApiServer;
using testing::ReadKubeFixture;
using testing::ServerProcess;
using testing::WaitFor;

constexpr double kLease = 1.5;
constexpr double kRetry = 0.2;

std::unique_ptr<ServerProcess> StartReplica(const FakeApiServer& fake,
                                            const std::string& identity) {
  ServerProcess::Options options;
  options.env = {
      {"CRASHCTL_KUBERNETES_ENABLED", "true"},
      {"CRASHCTL_KUBERNETES_API_SERVER", fake.url()},
      {"CRASHCTL_KUBERNETES_EVENT_WAIT", "0"},
      {"CRASHCTL_KUBERNETES_LEADER_ELECTION_ENABLED", "true"},
      {"CRASHCTL_KUBERNETES_LEADER_ELECTION_NAMESPACE", "crashctl"},
      {"CRASHCTL_KUBERNETES_LEADER_ELECTION_IDENTITY", identity},
      {"CRASHCTL_KUBERNETES_LEADER_ELECTION_LEASE_DURATION", "1500ms"},
      {"CRASHCTL_KUBERNETES_LEADER_ELECTION_RENEW_DEADLINE", "1s"},
      {"CRASHCTL_KUBERNETES_LEADER_ELECTION_RETRY_PERIOD", "200ms"},
  };
  std::string error;
  std::unique_ptr<ServerProcess> server = ServerProcess::Start(options, &error);
  EXPECT_NE(server, nullptr) << error;
  return server;
}

double Leader(ServerProcess* s) {
  return testing::MetricValue(s->Get("/metrics").body, "crashctl_kube_leader");
}

// Pod names of the replica's crash records.
std::vector<std::string> CrashPods(ServerProcess* s) {
  std::vector<std::string> pods;
  testing::HttpResult r = s->Get("/api/v1/crashes");
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("items")) return pods;
  for (const auto& item : d["items"].GetArray()) {
    if (item.HasMember("pod") && item["pod"].IsString()) {
      pods.push_back(item["pod"].GetString());
    }
  }
  return pods;
}

TEST(LeaderElectionServeTest, OneReplicaWatchesAndTheOtherTakesOverOnKill) {
  FakeApiServer fake;
  std::string error;
  ASSERT_TRUE(fake.Start(0, &error)) << error;
  std::unique_ptr<ServerProcess> a = StartReplica(fake, "replica-a");
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(WaitFor([&] { return Leader(a.get()) == 1; }, 20)) << a->Log();
  std::unique_ptr<ServerProcess> b = StartReplica(fake, "replica-b");
  ASSERT_NE(b, nullptr);
  // The follower is ready without the watch it does not run.
  ASSERT_TRUE(WaitFor([&] { return b->Get("/readyz").status == 200; }, 20))
      << b->Log();
  ASSERT_TRUE(WaitFor([&] { return a->Get("/readyz").status == 200; }, 20));
  EXPECT_EQ(Leader(b.get()), 0);
  EXPECT_EQ(Leader(a.get()), 1);

  ASSERT_FALSE(fake.ApplyPod(ReadKubeFixture("pod_oomkilled.json")).empty());
  ASSERT_TRUE(WaitFor([&] { return CrashPods(a.get()).size() == 1; }, 20))
      << a->Log();
  // Over a few lease durations the follower stays one and records nothing.
  ASSERT_FALSE(WaitFor([&] { return Leader(b.get()) == 1; }, 3 * kLease));
  EXPECT_TRUE(CrashPods(b.get()).empty());
  EXPECT_EQ(CrashPods(a.get()).size(), 1u);
  EXPECT_NE(b->Log().find("leader election"), std::string::npos);

  const auto killed = std::chrono::steady_clock::now();
  a->Stop(SIGKILL);
  ASSERT_TRUE(WaitFor([&] { return Leader(b.get()) == 1; }, 20)) << b->Log();
  EXPECT_LT(testing::SecondsSince(killed), kLease + 2.2 * kRetry + 1.0);
  ASSERT_FALSE(fake.ApplyPod(ReadKubeFixture("pod_crashloop_1.json")).empty());
  ASSERT_TRUE(WaitFor(
      [&] {
        for (const std::string& pod : CrashPods(b.get())) {
          if (pod == "worker-0") return true;
        }
        return false;
      },
      20))
      << b->Log();
  EXPECT_EQ(b->Get("/readyz").status, 200);
  a.reset();
  b.reset();
  fake.Stop();
}

}  // namespace
}  // namespace kube
}  // namespace crashctl
