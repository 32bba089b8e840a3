// Named scenarios for FakeApiServer: pods (and their logs) from the
// fixtures in tests/kube/fixtures, used by kube tests and by the
// `fake-apiserver` binary (issue 4's end-to-end test).
//
//   empty      no pods
//   oomkill    shop/api-7d9f8b6c5d-x2k4p: OOMKilled (137) in lastState;
//              node-a's SystemOOM Event
//   crashloop  jobs/worker-0: CrashLoopBackOff, restartCount 1 -> 3
//   evicted    batch/report-29001-7xk2m: Evicted (memory), null statuses;
//              its Evicted Event, node-c's NodeHasInsufficientMemory and
//              EvictionThresholdMet Events
//   initfail   monitoring/log-agent-h7x2q: init container exit 1
//   restarts   shop/cart-5c8b9d7f4-q9w8e: restartCount 6
//   startfail  shop/web-5f7c9d8b6-k2m4n: waiting in ErrImagePull
//   liveness   shop/checkout-7b8c9d6f5-lv9x2: killed by its liveness probe
//              (Unhealthy x3 as ADDED + MODIFIED, Killing), restarted
//   all        every pod above plus a healthy one
//
// Thread-safety: functions are reentrant.
#ifndef CRASHCTL_TESTS_KUBE_FAKE_SCENARIOS_H_
#define CRASHCTL_TESTS_KUBE_FAKE_SCENARIOS_H_

#include <string>

#include "fake_apiserver.h"

namespace crashctl {
namespace testing {

// Directory of the fixtures (compiled in).
std::string KubeFixturesDir();
// Contents of fixture `name` ("pod_oomkilled.json"); "" when unreadable.
std::string ReadKubeFixture(const std::string& name);
// Applies the scenario's pods and logs to `server`.
bool LoadScenario(FakeApiServer* server, const std::string& name,
                  std::string* error);

}  // namespace testing
}  // namespace crashctl

#endif  // CRASHCTL_TESTS_KUBE_FAKE_SCENARIOS_H_
