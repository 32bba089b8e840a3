#include "kube/pod_classifier.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>
#include <vector>

#include "fake_scenarios.h"
#include "fixture_crashes.h"

namespace crashctl {
namespace kube {
namespace {

using testing::ExpectCrashLoopFixtureEpisode;
using testing::ExpectInitFailedFixtureCrash;
using testing::ExpectOomKilledFixtureCrash;
using testing::ReadKubeFixture;

PodSnapshot Load(const std::string& fixture) {
  std::string json = ReadKubeFixture(fixture);
  EXPECT_FALSE(json.empty()) << fixture;
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  EXPECT_FALSE(doc.HasParseError()) << fixture;
  PodSnapshot pod;
  std::string error;
  EXPECT_TRUE(ParsePodSnapshot(doc, &pod, &error)) << error;
  return pod;
}

// A fixture's pod, checked to be owned by `workload_kind`/`workload`, and
// the crash candidates it gives (restart threshold 5).
struct Classified {
  PodSnapshot pod;
  std::vector<CrashCandidate> cands;
};
Classified LoadAndClassify(const std::string& fixture,
                           const std::string& workload_kind,
                           const std::string& workload) {
  Classified out;
  out.pod = Load(fixture);
  EXPECT_EQ(out.pod.workload_kind, workload_kind) << fixture;
  EXPECT_EQ(out.pod.workload, workload) << fixture;
  out.cands = ClassifyPod(out.pod, 5);
  return out;
}

TEST(PodClassifierTest, OomKilledInLastState) {
  const auto [pod, cands] =
      LoadAndClassify("pod_oomkilled.json", "Deployment", "api");
  ASSERT_EQ(cands.size(), 1u);
  const model::Crash& c = cands[0].crash;
  EXPECT_EQ(cands[0].kind, CrashCandidate::kTermination);
  EXPECT_TRUE(cands[0].in_last_state);
  EXPECT_TRUE(cands[0].logs_previous);
  EXPECT_EQ(c.dedup_key,
            "shop/3f6c1a52-8d4e-4b7a-9a51-0c2d9e7f1a01/api/exit/"
            "2026-11-20T10:05:00Z");
  ExpectOomKilledFixtureCrash(c);
  EXPECT_DOUBLE_EQ(c.finished_at, c.started_at + 300);
  EXPECT_FALSE(PodIsCrashLooping(pod));
}

TEST(PodClassifierTest, CrashLoopBackOffGivesTerminationAndLoop) {
  const auto [pod, cands] =
      LoadAndClassify("pod_crashloop_3.json", "StatefulSet", "worker");
  EXPECT_TRUE(PodIsCrashLooping(pod));
  ASSERT_EQ(cands.size(), 2u);
  EXPECT_EQ(cands[0].crash.crash_type, model::CrashType::kErrorExit);
  EXPECT_EQ(cands[0].crash.exit_code, 139);
  EXPECT_EQ(cands[0].crash.signal, "SIGSEGV");
  EXPECT_EQ(cands[1].kind, CrashCandidate::kCrashLoop);
  ExpectCrashLoopFixtureEpisode(cands[1].crash);
  EXPECT_EQ(cands[1].crash.dedup_key,
            "jobs/5b2d8e41-7c3a-4f19-8e6d-2a4b6c8d0e02/worker/crashloop/"
            "2026-11-20T11:01:06Z");
}

TEST(PodClassifierTest, EvictedWithNullContainerStatuses) {
  const std::vector<CrashCandidate> cands =
      LoadAndClassify("pod_evicted.json", "Job", "report-29001").cands;
  ASSERT_EQ(cands.size(), 1u);
  const model::Crash& c = cands[0].crash;
  EXPECT_EQ(c.crash_type, model::CrashType::kEvicted);
  EXPECT_EQ(c.reason, "Evicted (memory)");
  EXPECT_EQ(c.container, "report");
  EXPECT_EQ(c.memory_request, "512Mi");
  EXPECT_EQ(c.memory_limit, "1Gi");
  EXPECT_EQ(c.dedup_key, "batch/8e4f2a61-3b5c-4d7e-9f10-2a3b4c5d6e03/evicted");
  EXPECT_DOUBLE_EQ(c.finished_at, ParseRfc3339("2026-11-20T12:30:00Z"));
  EXPECT_TRUE(cands[0].logs_container.empty());
}

TEST(PodClassifierTest, FailedInitContainer) {
  const std::vector<CrashCandidate> cands =
      LoadAndClassify("pod_init_failed.json", "DaemonSet", "log-agent").cands;
  ASSERT_EQ(cands.size(), 1u);
  const model::Crash& c = cands[0].crash;
  ExpectInitFailedFixtureCrash(c);
  EXPECT_EQ(c.signal, "");
  EXPECT_EQ(c.dedup_key,
            "monitoring/c7a1e9d3-5f2b-4c8e-a0d6-4b8c2e6f0a04/init:setup/exit/"
            "2026-11-20T13:00:02Z");
  EXPECT_FALSE(cands[0].logs_previous);  // the container has not restarted
}

TEST(PodClassifierTest, RestartThresholdOnly) {
  PodSnapshot pod = Load("pod_restarts.json");
  auto cands = ClassifyPod(pod, 5);
  ASSERT_EQ(cands.size(), 1u);
  EXPECT_EQ(cands[0].crash.crash_type, model::CrashType::kRestartThreshold);
  EXPECT_EQ(cands[0].crash.restart_count, 6);
  EXPECT_EQ(cands[0].crash.dedup_key,
            "shop/e2d4f6a8-1b3c-4d5e-8f7a-9b0c1d2e3f05/cart/"
            "restart_threshold/5");
  EXPECT_TRUE(ClassifyPod(pod, 7).empty());
  EXPECT_TRUE(ClassifyPod(pod, 0).empty());  // disabled
}

TEST(PodClassifierTest, ImagePullFailureIsStartFailedKeyedByRestartCount) {
  for (const char* f : {"pod_start_failed_1.json", "pod_start_failed_2.json"}) {
    PodSnapshot pod = Load(f);
    auto cands = ClassifyPod(pod, 5);
    ASSERT_EQ(cands.size(), 1u) << f;
    const model::Crash& c = cands[0].crash;
    EXPECT_EQ(cands[0].kind, CrashCandidate::kStartFailed);
    EXPECT_EQ(c.crash_type, model::CrashType::kStartFailed);
    // ErrImagePull and ImagePullBackOff alternate: one episode, one key.
    EXPECT_EQ(c.dedup_key,
              "shop/a1b2c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c06/web/start_failed/0");
    EXPECT_EQ(c.workload, "web");
    EXPECT_EQ(c.image, "registry.example.com/shop/web:9.9.9");
    EXPECT_TRUE(cands[0].logs_container.empty());  // it never ran
    EXPECT_FALSE(PodIsCrashLooping(pod));
  }
  PodSnapshot pod = Load("pod_start_failed_1.json");
  auto cands = ClassifyPod(pod, 5);
  ASSERT_EQ(cands.size(), 1u);
  EXPECT_EQ(cands[0].crash.reason, "ErrImagePull");
  EXPECT_NE(cands[0].crash.message.find("not found"), std::string::npos);
  for (const char* r :
       {"ImagePullBackOff", "ErrImagePull", "CreateContainerConfigError",
        "CreateContainerError", "RunContainerError", "InvalidImageName"}) {
    EXPECT_TRUE(IsStartFailure(r)) << r;
  }
  EXPECT_FALSE(IsStartFailure("CrashLoopBackOff"));
  EXPECT_FALSE(IsStartFailure("ContainerCreating"));
  EXPECT_FALSE(IsStartFailure("PodInitializing"));
}

TEST(PodClassifierTest, HealthyPodHasNoCandidates) {
  EXPECT_TRUE(ClassifyPod(Load("pod_healthy.json"), 5).empty());
}

TEST(PodClassifierTest, SameTerminationInStateAndLastStateHasOneKey) {
  // The container just died (state.terminated), then restarted (the same
  // termination moves to lastState): both give the same dedup key.
  const char* kDying = R"({"metadata":{"name":"p","namespace":"n","uid":"u"},
    "status":{"containerStatuses":[{"name":"c","restartCount":0,
      "state":{"terminated":{"exitCode":1,"reason":"Error",
        "startedAt":"2026-01-01T00:00:00Z","finishedAt":"2026-01-01T00:00:09Z",
        "containerID":"containerd://x"}}}]}})";
  const char* kRestarted =
      R"({"metadata":{"name":"p","namespace":"n","uid":"u"},
    "status":{"containerStatuses":[{"name":"c","restartCount":1,
      "state":{"running":{"startedAt":"2026-01-01T00:00:10Z"}},
      "lastState":{"terminated":{"exitCode":1,"reason":"Error",
        "startedAt":"2026-01-01T00:00:00Z","finishedAt":"2026-01-01T00:00:09Z",
        "containerID":"containerd://x"}}}]}})";
  std::string keys[2];
  int i = 0;
  for (const char* json : {kDying, kRestarted}) {
    rapidjson::Document d;
    d.Parse(json);
    PodSnapshot pod;
    std::string error;
    ASSERT_TRUE(ParsePodSnapshot(d, &pod, &error)) << error;
    auto cands = ClassifyPod(pod, 5);
    ASSERT_EQ(cands.size(), 1u);
    EXPECT_EQ(cands[0].crash.crash_type, model::CrashType::kErrorExit);
    keys[i++] = cands[0].crash.dedup_key;
  }
  EXPECT_EQ(keys[0], "n/u/c/exit/2026-01-01T00:00:09Z");
  EXPECT_EQ(keys[0], keys[1]);
}

TEST(PodClassifierTest, RejectsObjectsThatAreNotPods) {
  rapidjson::Document d;
  d.Parse(R"({"metadata":{"name":"x"}})");
  PodSnapshot pod;
  std::string error;
  EXPECT_FALSE(ParsePodSnapshot(d, &pod, &error));
  EXPECT_NE(error.find("uid"), std::string::npos);
}

TEST(PodClassifierTest, Signals) {
  EXPECT_EQ(SignalFromExitCode(137), "SIGKILL");
  EXPECT_EQ(SignalFromExitCode(143), "SIGTERM");
  EXPECT_EQ(SignalFromExitCode(139), "SIGSEGV");
  EXPECT_EQ(SignalFromExitCode(134), "SIGABRT");
  EXPECT_EQ(SignalFromExitCode(1), "");
  EXPECT_EQ(SignalFromExitCode(128), "");
  EXPECT_EQ(SignalFromExitCode(255), "");
}

TEST(PodClassifierTest, EvictionResource) {
  EXPECT_EQ(EvictionResource("The node was low on resource: memory. "
                             "Threshold quantity: 100Mi"),
            "memory");
  EXPECT_EQ(EvictionResource("The node was low on resource: "
                             "ephemeral-storage. Container x ..."),
            "ephemeral-storage");
  EXPECT_EQ(EvictionResource("Pod was evicted"), "");
}

TEST(PodClassifierTest, Rfc3339) {
  EXPECT_DOUBLE_EQ(ParseRfc3339("1970-01-01T00:01:00Z"), 60);
  EXPECT_DOUBLE_EQ(ParseRfc3339("1970-01-01T01:00:00+01:00"), 0);
  EXPECT_DOUBLE_EQ(ParseRfc3339("1970-01-01T00:00:01.5Z"), 1.5);
  EXPECT_DOUBLE_EQ(ParseRfc3339(""), 0);
  EXPECT_DOUBLE_EQ(ParseRfc3339("yesterday"), 0);
}

TEST(PodClassifierTest, OwnerWorkloads) {
  // The same two strings throughout: each call overwrites both.
  std::string kind, name;
  const struct {
    const char* json;
    const char* kind;
    const char* name;
  } cases[] = {
      // A ReplicaSet whose name does not end with the hash stays a
      // ReplicaSet.
      {R"({"labels":{"pod-template-hash":"abc"},"ownerReferences":[
        {"kind":"ReplicaSet","name":"web-xyz","controller":true}]})",
       "ReplicaSet", "web-xyz"},
      {R"({"labels":{"pod-template-hash":"abc"},"ownerReferences":[
        {"kind":"ReplicaSet","name":"my-web-abc","controller":true}]})",
       "Deployment", "my-web"},
      {R"({"ownerReferences":[{"kind":"Node","name":"n1"},
        {"kind":"DaemonSet","name":"ds","controller":true}]})",
       "DaemonSet", "ds"},
      {R"({"name":"bare"})", "", ""},
  };
  for (const auto& tc : cases) {
    SCOPED_TRACE(tc.json);
    rapidjson::Document d;
    d.Parse(tc.json);
    OwnerWorkload(d, &kind, &name);
    EXPECT_EQ(kind, tc.kind);
    EXPECT_EQ(name, tc.name);
  }
}

}  // namespace
}  // namespace kube
}  // namespace crashctl
