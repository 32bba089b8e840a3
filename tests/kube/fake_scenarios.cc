#include "fake_scenarios.h"

#include <fstream>
#include <sstream>

namespace crashctl {
namespace testing {

std::string KubeFixturesDir() { return CRASHCTL_KUBE_FIXTURES_DIR; }

std::string ReadKubeFixture(const std::string& name) {
  std::ifstream in(KubeFixturesDir() + "/" + name, std::ios::binary);
  if (!in) return "";
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

namespace {

bool Apply(FakeApiServer* server, const std::string& fixture,
           std::string* error) {
  std::string json = ReadKubeFixture(fixture);
  if (json.empty() || server->ApplyPod(json).empty()) {
    *error = "cannot apply fixture " + fixture;
    return false;
  }
  return true;
}

bool ApplyEvents(FakeApiServer* server,
                 std::initializer_list<const char*> fixtures,
                 std::string* error) {
  for (const char* fixture : fixtures) {
    std::string json = ReadKubeFixture(fixture);
    if (json.empty() || server->ApplyEvent(json).empty()) {
      *error = std::string("cannot apply event fixture ") + fixture;
      return false;
    }
  }
  return true;
}

}  // namespace

bool LoadScenario(FakeApiServer* server, const std::string& name,
                  std::string* error) {
  bool all = name == "all";
  bool known = all || name == "empty";
  if (all || name == "oomkill") {
    known = true;
    server->SetLogs("shop", "api-7d9f8b6c5d-x2k4p", "api", true,
                    ReadKubeFixture("logs_api_previous.txt"));
    if (!ApplyEvents(server, {"event_node_system_oom.json"}, error)) {
      return false;
    }
    if (!Apply(server, "pod_oomkilled.json", error)) return false;
  }
  if (all || name == "crashloop") {
    known = true;
    server->SetLogs("jobs", "worker-0", "worker", true,
                    ReadKubeFixture("logs_worker_previous.txt"));
    for (const char* f : {"pod_crashloop_1.json", "pod_crashloop_2.json",
                          "pod_crashloop_3.json"}) {
      if (!Apply(server, f, error)) return false;
    }
  }
  if (all || name == "evicted") {
    known = true;
    if (!ApplyEvents(
            server,
            {"event_node_insufficient_memory.json",
             "event_node_eviction_threshold.json", "event_evicted_pod.json"},
            error) ||
        !Apply(server, "pod_evicted.json", error)) {
      return false;
    }
  }
  if (all || name == "initfail") {
    known = true;
    server->SetLogs("monitoring", "log-agent-h7x2q", "setup", false,
                    ReadKubeFixture("logs_setup.txt"));
    if (!Apply(server, "pod_init_failed.json", error)) return false;
  }
  if (all || name == "restarts") {
    known = true;
    if (!Apply(server, "pod_restarts.json", error)) return false;
  }
  if (all || name == "startfail") {
    known = true;
    if (!Apply(server, "pod_start_failed_1.json", error)) return false;
  }
  if (all || name == "liveness") {
    known = true;
    // The probe fails three times (one Event whose count grows: MODIFIED),
    // the kubelet kills the container, which restarts.
    if (!ApplyEvents(
            server,
            {"event_liveness_unhealthy_1.json",
             "event_liveness_unhealthy_3.json", "event_liveness_killing.json"},
            error) ||
        !Apply(server, "pod_liveness_killed.json", error)) {
      return false;
    }
  }
  if (all && !Apply(server, "pod_healthy.json", error)) return false;
  if (!known) {
    *error = "unknown scenario \"" + name +
             "\" (empty, oomkill, crashloop, evicted, initfail, restarts, "
             "startfail, liveness, all)";
    return false;
  }
  return true;
}

}  // namespace testing
}  // namespace crashctl
