#include "kube/pod_classifier.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "fake_scenarios.h"

namespace crashctl {
namespace kube {
namespace {

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

TEST(PodClassifierTest, OomKilledInLastState) {
  PodSnapshot pod = Load("pod_oomkilled.json");
  EXPECT_EQ(pod.workload_kind, "Deployment");
  EXPECT_EQ(pod.workload, "api");
  auto cands = ClassifyPod(pod, 5);
  ASSERT_EQ(cands.size(), 1u);
  const model::Crash& c = cands[0].crash;
  EXPECT_EQ(cands[0].kind, CrashCandidate::kTermination);
  EXPECT_TRUE(cands[0].in_last_state);
  EXPECT_TRUE(cands[0].logs_previous);
  EXPECT_EQ(c.crash_type, model::CrashType::kOomKilled);
  EXPECT_EQ(c.dedup_key,
            "shop/3f6c1a52-8d4e-4b7a-9a51-0c2d9e7f1a01/api/exit/"
            "2026-11-20T10:05:00Z");
  EXPECT_EQ(c.namespace_, "shop");
  EXPECT_EQ(c.pod, "api-7d9f8b6c5d-x2k4p");
  EXPECT_EQ(c.container, "api");
  EXPECT_EQ(c.node, "node-a");
  EXPECT_EQ(c.image, "registry.example.com/shop/api:1.4.2");
  EXPECT_EQ(c.reason, "OOMKilled");
  EXPECT_EQ(c.exit_code, 137);
  EXPECT_EQ(c.signal, "SIGKILL");
  EXPECT_EQ(c.restart_count, 1);
  EXPECT_EQ(c.memory_request, "128Mi");
  EXPECT_EQ(c.memory_limit, "256Mi");
  EXPECT_DOUBLE_EQ(c.started_at, ParseRfc3339("2026-11-20T10:00:00Z"));
  EXPECT_DOUBLE_EQ(c.finished_at, c.started_at + 300);
  EXPECT_FALSE(PodIsCrashLooping(pod));
}

TEST(PodClassifierTest, CrashLoopBackOffGivesTerminationAndLoop) {
  PodSnapshot pod = Load("pod_crashloop_3.json");
  EXPECT_EQ(pod.workload_kind, "StatefulSet");
  EXPECT_EQ(pod.workload, "worker");
  EXPECT_TRUE(PodIsCrashLooping(pod));
  auto cands = ClassifyPod(pod, 5);
  ASSERT_EQ(cands.size(), 2u);
  EXPECT_EQ(cands[0].crash.crash_type, model::CrashType::kErrorExit);
  EXPECT_EQ(cands[0].crash.exit_code, 139);
  EXPECT_EQ(cands[0].crash.signal, "SIGSEGV");
  EXPECT_EQ(cands[1].kind, CrashCandidate::kCrashLoop);
  EXPECT_EQ(cands[1].crash.crash_type, model::CrashType::kCrashLoop);
  EXPECT_EQ(cands[1].crash.reason, "CrashLoopBackOff");
  EXPECT_EQ(cands[1].crash.restart_count, 3);
  EXPECT_EQ(cands[1].crash.dedup_key,
            "jobs/5b2d8e41-7c3a-4f19-8e6d-2a4b6c8d0e02/worker/crashloop/"
            "2026-11-20T11:01:06Z");
  EXPECT_EQ(cands[1].crash.memory_limit, "512Mi");
}

TEST(PodClassifierTest, EvictedWithNullContainerStatuses) {
  PodSnapshot pod = Load("pod_evicted.json");
  EXPECT_EQ(pod.workload_kind, "Job");
  EXPECT_EQ(pod.workload, "report-29001");
  auto cands = ClassifyPod(pod, 5);
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
  PodSnapshot pod = Load("pod_init_failed.json");
  EXPECT_EQ(pod.workload_kind, "DaemonSet");
  EXPECT_EQ(pod.workload, "log-agent");
  auto cands = ClassifyPod(pod, 5);
  ASSERT_EQ(cands.size(), 1u);
  const model::Crash& c = cands[0].crash;
  EXPECT_EQ(c.crash_type, model::CrashType::kInitFailed);
  EXPECT_EQ(c.container, "setup");
  EXPECT_EQ(c.exit_code, 1);
  EXPECT_EQ(c.signal, "");
  EXPECT_EQ(c.memory_limit, "64Mi");
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
  auto owner = [](const char* json, std::string* kind, std::string* name) {
    rapidjson::Document d;
    d.Parse(json);
    OwnerWorkload(d, kind, name);
  };
  std::string kind, name;
  // A ReplicaSet whose name does not end with the hash stays a ReplicaSet.
  owner(R"({"labels":{"pod-template-hash":"abc"},"ownerReferences":[
        {"kind":"ReplicaSet","name":"web-xyz","controller":true}]})",
        &kind, &name);
  EXPECT_EQ(kind, "ReplicaSet");
  EXPECT_EQ(name, "web-xyz");
  owner(R"({"labels":{"pod-template-hash":"abc"},"ownerReferences":[
        {"kind":"ReplicaSet","name":"my-web-abc","controller":true}]})",
        &kind, &name);
  EXPECT_EQ(kind, "Deployment");
  EXPECT_EQ(name, "my-web");
  owner(R"({"ownerReferences":[{"kind":"Node","name":"n1"},
        {"kind":"DaemonSet","name":"ds","controller":true}]})",
        &kind, &name);
  EXPECT_EQ(kind, "DaemonSet");
  EXPECT_EQ(name, "ds");
  owner(R"({"name":"bare"})", &kind, &name);
  EXPECT_EQ(kind, "");
  EXPECT_EQ(name, "");
}

}  // namespace
}  // namespace kube
}  // namespace crashctl
