// Kubernetes Event parsing and the bounded event cache, on the fixtures.
#include "kube/kube_events.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>

#include "fake_scenarios.h"
#include "kube/pod_classifier.h"

namespace crashctl {
namespace kube {
namespace {

using testing::ReadKubeFixture;

KubeEvent Parse(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.c_str());
  KubeEvent ev;
  std::string error;
  EXPECT_TRUE(ParseKubeEvent(d, &ev, &error)) << error;
  return ev;
}

KubeEvent Fixture(const std::string& name) {
  std::string json = ReadKubeFixture(name);
  EXPECT_FALSE(json.empty()) << name;
  return Parse(json);
}

TEST(KubeEventsTest, ParsesTheKubeletsShape) {
  KubeEvent ev = Fixture("event_liveness_unhealthy_3.json");
  EXPECT_EQ(ev.namespace_, "shop");
  EXPECT_EQ(ev.name, "checkout-7b8c9d6f5-lv9x2.187a1f2b3c4d5e01");
  EXPECT_EQ(ev.involved_kind, "Pod");
  EXPECT_EQ(ev.involved_namespace, "shop");
  EXPECT_EQ(ev.involved_name, "checkout-7b8c9d6f5-lv9x2");
  EXPECT_EQ(ev.container, "app");
  EXPECT_EQ(ev.reason, "Unhealthy");
  EXPECT_EQ(ev.type, "Warning");
  EXPECT_EQ(ev.count, 3);
  EXPECT_DOUBLE_EQ(ev.first, ParseRfc3339("2026-11-20T15:01:30Z"));
  EXPECT_DOUBLE_EQ(ev.last, ParseRfc3339("2026-11-20T15:01:50Z"));
  EXPECT_EQ(ev.source, "kubelet");
  EXPECT_EQ(ProbeFailure(ev), "liveness");
  EXPECT_EQ(ProbeKill(ev), "");
  EXPECT_TRUE(IsInteresting(ev));

  KubeEvent kill = Fixture("event_liveness_killing.json");
  EXPECT_EQ(ProbeKill(kill), "liveness");
  EXPECT_EQ(EventContainer(kill), "app");
  kill.container.clear();  // no fieldPath: the message names it
  EXPECT_EQ(EventContainer(kill), "app");
}

TEST(KubeEventsTest, ParsesTheEventsApiShapeWithSeries) {
  KubeEvent ev = Fixture("event_failed_scheduling_series.json");
  EXPECT_EQ(ev.count, 4);  // series.count; no count field
  EXPECT_DOUBLE_EQ(ev.first, ParseRfc3339("2026-11-20T13:59:50.123456Z"));
  EXPECT_DOUBLE_EQ(ev.last, ParseRfc3339("2026-11-20T13:59:58.654321Z"));
  EXPECT_EQ(ev.source, "default-scheduler");  // reportingComponent
  EXPECT_EQ(ev.container, "");
  EXPECT_FALSE(IsInteresting(ev));
}

TEST(KubeEventsTest, NodeEventsAndBadObjects) {
  KubeEvent ev = Fixture("event_node_eviction_threshold.json");
  EXPECT_EQ(ev.involved_kind, "Node");
  EXPECT_EQ(ev.involved_name, "node-c");
  EXPECT_EQ(ev.involved_namespace, "");
  EXPECT_TRUE(IsPressureEvent(ev));
  EXPECT_TRUE(IsPressureEvent(Fixture("event_node_system_oom.json")));
  EXPECT_TRUE(IsPressureEvent(Fixture("event_evicted_pod.json")));

  for (const char* bad :
       {"[]", "{}", R"({"metadata":{"name":"x"}})",
        R"({"metadata":{"name":"x"},"involvedObject":{"kind":"Pod"}})",
        R"({"metadata":{"name":"x"},"involvedObject":"Pod"})"}) {
    rapidjson::Document d;
    d.Parse(bad);
    KubeEvent out;
    std::string error;
    EXPECT_FALSE(ParseKubeEvent(d, &out, &error)) << bad;
    EXPECT_FALSE(error.empty());
  }
}

TEST(KubeEventsTest, CacheFoldsRepeatsIntoOneEntry) {
  KubeEventCache cache(100);
  int64_t dropped = 0;
  KubeEvent first = Fixture("event_liveness_unhealthy_1.json");
  first.uid = "u1";
  KubeEvent third = Fixture("event_liveness_unhealthy_3.json");
  third.uid = "u1";
  EXPECT_TRUE(cache.Add(first, &dropped));
  EXPECT_TRUE(cache.Add(third, &dropped));   // a repeat: MODIFIED, count 3
  EXPECT_FALSE(cache.Add(third, &dropped));  // seen again (a relist)
  EXPECT_EQ(cache.size(), 1u);
  auto entries = cache.For("Pod", "shop", "checkout-7b8c9d6f5-lv9x2");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0]->event.count, 3);
  EXPECT_EQ(entries[0]->occurrences.size(), 2u);
  const double t30 = ParseRfc3339("2026-11-20T15:01:30Z");
  const double t50 = ParseRfc3339("2026-11-20T15:01:50Z");
  EXPECT_TRUE(KubeEventCache::OccursIn(*entries[0], t50 - 1, t50 + 1));
  // The second of three occurrences was not seen: [first, last] counts.
  EXPECT_TRUE(KubeEventCache::OccursIn(*entries[0], t30 + 5, t30 + 15));
  EXPECT_FALSE(KubeEventCache::OccursIn(*entries[0], t50 + 1, t50 + 100));
  EXPECT_EQ(dropped, 0);
  cache.Remove(third);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(KubeEventsTest, CacheIsBoundedAndCountsWhatItDrops) {
  KubeEventCache cache(3);
  int64_t dropped = 0;
  KubeEvent ev = Fixture("event_node_eviction_threshold.json");
  for (int i = 0; i < 5; ++i) {
    ev.involved_name = "node-" + std::to_string(i);
    ev.uid = "u" + std::to_string(i);
    ev.last = 1000 + i;
    cache.Add(ev, &dropped);
  }
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(dropped, 2);
  // The oldest went.
  EXPECT_TRUE(cache.For("Node", "", "node-0").empty());
  EXPECT_TRUE(cache.For("Node", "", "node-1").empty());
  EXPECT_EQ(cache.For("Node", "", "node-4").size(), 1u);
  // Per object too.
  KubeEventCache one(1000);
  dropped = 0;
  for (size_t i = 0; i < KubeEventCache::kMaxPerObject + 3; ++i) {
    ev.involved_name = "node-x";
    ev.uid = "v" + std::to_string(i);
    ev.last = 2000 + static_cast<double>(i);
    one.Add(ev, &dropped);
  }
  EXPECT_EQ(one.size(), KubeEventCache::kMaxPerObject);
  EXPECT_EQ(dropped, 3);
}

}  // namespace
}  // namespace kube
}  // namespace crashctl
