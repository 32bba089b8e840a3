// Expectations shared by the kube tests about the crashes the fixtures in
// tests/kube/fixtures describe, whichever path (the classifier alone, or the
// whole watcher against the fake API server) produced the record.
//
// Thread-safety: functions are reentrant (gtest assertions from the test's
// thread).
#ifndef CRASHCTL_TESTS_KUBE_FIXTURE_CRASHES_H_
#define CRASHCTL_TESTS_KUBE_FIXTURE_CRASHES_H_

#include <gtest/gtest.h>

#include "crashctl/model/records.h"
#include "kube/pod_classifier.h"

namespace crashctl {
namespace testing {

// `c` is the OOM kill of pod_oomkilled.json (shop/api-7d9f8b6c5d-x2k4p,
// container api, 137 in lastState): what the pod's status says about it.
inline void ExpectOomKilledFixtureCrash(const model::Crash& c) {
  EXPECT_EQ(c.crash_type, model::CrashType::kOomKilled);
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
  EXPECT_DOUBLE_EQ(c.started_at, kube::ParseRfc3339("2026-11-20T10:00:00Z"));
}

// `c` is the crash-loop episode of pod_crashloop_3.json (jobs/worker-0,
// container worker, in CrashLoopBackOff after 3 restarts).
inline void ExpectCrashLoopFixtureEpisode(const model::Crash& c) {
  EXPECT_EQ(c.crash_type, model::CrashType::kCrashLoop);
  EXPECT_EQ(c.reason, "CrashLoopBackOff");
  EXPECT_EQ(c.restart_count, 3);
  EXPECT_EQ(c.memory_limit, "512Mi");
}

// `c` is the failed init container of pod_init_failed.json
// (monitoring/log-agent-h7x2q, init container setup exited 1).
inline void ExpectInitFailedFixtureCrash(const model::Crash& c) {
  EXPECT_EQ(c.crash_type, model::CrashType::kInitFailed);
  EXPECT_EQ(c.container, "setup");
  EXPECT_EQ(c.exit_code, 1);
  EXPECT_EQ(c.memory_limit, "64Mi");
}

}  // namespace testing
}  // namespace crashctl

#endif  // CRASHCTL_TESTS_KUBE_FIXTURE_CRASHES_H_
