// Test support: sample records shared by the tests of the components that
// answer or forward them (REST, Alertmanager pushes). Header-only; the user
// links crashctl_model.
//
// Thread-safety: functions are reentrant.
#ifndef CRASHCTL_TESTS_TESTING_SAMPLE_RECORDS_H_
#define CRASHCTL_TESTS_TESTING_SAMPLE_RECORDS_H_

#include "crashctl/model/records.h"

namespace crashctl {
namespace testing {

// Crash 7: container app of shop/checkout-7d9f-abcde (Deployment checkout,
// node-1) OOMKilled with exit code 137 (SIGKILL) after 3 restarts, memory
// limit 128Mi. Times, logs and links are the caller's.
inline model::Crash OomKilledCheckoutCrash() {
  model::Crash crash;
  crash.id = 7;
  crash.namespace_ = "shop";
  crash.pod = "checkout-7d9f-abcde";
  crash.container = "app";
  crash.node = "node-1";
  crash.workload_kind = "Deployment";
  crash.workload = "checkout";
  crash.crash_type = model::CrashType::kOomKilled;
  crash.reason = "OOMKilled";
  crash.exit_code = 137;
  crash.signal = "SIGKILL";
  crash.restart_count = 3;
  crash.memory_limit = "128Mi";
  return crash;
}

}  // namespace testing
}  // namespace crashctl

#endif  // CRASHCTL_TESTS_TESTING_SAMPLE_RECORDS_H_
