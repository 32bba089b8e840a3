// Crash output -> error events: pods whose previous logs are the verbatim
// output of real Go, Rust, Python, Node.js and Java crash programs
// (tests/crashreport/testdata), served by the fake API server, become fatal
// error events grouped like any event and linked to their crashes. Every
// wait polls a condition with a deadline; nothing sleeps.
#include "kube/crash_events.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <fstream>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "crashctl/crashreport/crash_report_parser.h"
#include "crashctl/exporter/exporter.h"
#include "crashctl/grouping/grouping.h"
#include "crashctl/ingest/metrics.h"
#include "crashctl/ingest/normalize.h"
#include "crashctl/ingest/pipeline.h"
#include "crashctl/kube/kube_watcher.h"
#include "crashctl/store/sqlite.h"
#include "crashctl/store/store.h"
#include "crashctl/util/time.h"
#include "fake_apiserver.h"
#include "tests/testing/server_process.h"

namespace crashctl {
namespace kube {
namespace {

using testing::FakeApiServer;
using testing::WaitFor;

constexpr double kWait = 10;

std::string Sample(const std::string& name) {
  const char* root = std::getenv("CRASHCTL_SOURCE_DIR");
  std::ifstream in(
      std::string(root != nullptr ? root : CRASHCTL_TEST_SOURCE_DIR) +
          "/tests/crashreport/testdata/" + name,
      std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Rfc3339(double t) {
  time_t secs = static_cast<time_t>(t);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[32];
  strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// A pod of Deployment `deployment` (ReplicaSet "<deployment>-6c9f7d8b5"),
// container "app" that crashed with exit 2 in its previous run
// [started, started + 5 s]: waiting in CrashLoopBackOff when `looping`, else
// running again.
struct PodSpec {
  std::string ns = "shop";
  std::string name;
  std::string uid;
  std::string deployment = "api";
  int restarts = 1;
  double started = 0;
  bool looping = true;
  std::string annotation;  // crashctl.dev/project, "" = none
  bool oom = false;        // OOMKilled (137) instead of exit 2
};

std::string PodJson(const PodSpec& p) {
  const std::string rs = p.deployment + "-6c9f7d8b5";
  std::string annotations;
  if (!p.annotation.empty()) {
    annotations =
        R"(,"annotations":{"crashctl.dev/project":")" + p.annotation + R"("})";
  }
  const std::string state =
      p.looping
          ? R"({"waiting":{"reason":"CrashLoopBackOff","message":"back-off"}})"
          : R"({"running":{"startedAt":")" + Rfc3339(p.started + 15) + R"("}})";
  const std::string exit = p.oom ? R"("exitCode":137,"reason":"OOMKilled")"
                                 : R"("exitCode":2,"reason":"Error")";
  return R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")" + p.name +
         R"(","namespace":")" + p.ns + R"(","uid":")" + p.uid +
         R"(","labels":{"pod-template-hash":"6c9f7d8b5"},"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":")" +
         rs + R"(","uid":"rs-uid","controller":true}])" + annotations +
         R"(},"spec":{"nodeName":"node-a","containers":[{"name":"app","image":"registry.example.com/shop/api:1.0"}]},"status":{"phase":"Running","startTime":")" +
         Rfc3339(p.started - 60) +
         R"(","containerStatuses":[{"name":"app","ready":false,"restartCount":)" +
         std::to_string(p.restarts) +
         R"(,"image":"registry.example.com/shop/api:1.0","state":)" + state +
         R"(,"lastState":{"terminated":{)" + exit + R"(,"startedAt":")" +
         Rfc3339(p.started) + R"(","finishedAt":")" + Rfc3339(p.started + 5) +
         R"(","containerID":"containerd://)" + p.uid +
         std::to_string(p.restarts) + R"("}}}]}})";
}

class CrashEventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    store_ = store::OpenSqlite(dir_.File("crashctl.db"), &error);
    ASSERT_NE(store_, nullptr) << error;
    ASSERT_TRUE(fake_.Start(0, &error)) << error;
    config_.kube_enabled = true;
    config_.kube_api_server = fake_.url();
    options_.backoff_initial_seconds = 0.02;
    options_.backoff_max_seconds = 0.2;
    options_.watch_timeout_seconds = 60;
    options_.stream_idle_seconds = 3;
    t0_ = std::floor(util::NowSeconds()) - 3600;
  }

  void TearDown() override {
    if (watcher_) watcher_->Stop();
    fake_.Stop();
  }

  void StartWatcher() {
    if (watcher_) watcher_->Stop();
    watcher_ =
        std::make_unique<KubeWatcher>(config_, store_.get(), nullptr, options_);
    std::string error;
    ASSERT_TRUE(watcher_->Start(&error)) << error;
    ASSERT_TRUE(WaitFor([&] { return watcher_->Synced(); }, kWait));
  }

  int64_t CreateProject(const std::string& name) {
    model::Project p;
    EXPECT_TRUE(store_->CreateProject(name, &p).ok());
    return p.id;
  }

  void Apply(const PodSpec& p) {
    ASSERT_FALSE(fake_.ApplyPod(PodJson(p)).empty()) << p.name;
  }

  std::vector<model::Group> Groups() {
    store::GroupQuery q;
    q.limit = 100;
    model::Page<model::Group> page;
    EXPECT_TRUE(store_->ListGroups(q, &page).ok());
    return page.items;
  }

  int64_t TotalCount() {
    int64_t n = 0;
    for (const model::Group& g : Groups()) n += g.count;
    return n;
  }

  std::vector<model::StoredEvent> Events(int64_t group) {
    model::Page<model::StoredEvent> page;
    EXPECT_TRUE(store_->ListGroupEvents(group, 100, "", &page).ok());
    return page.items;
  }

  std::vector<model::Crash> Crashes() {
    store::CrashQuery q;
    q.limit = 1000;
    model::Page<model::Crash> page;
    EXPECT_TRUE(store_->ListCrashes(q, &page).ok());
    return page.items;
  }

  model::Crash CrashOf(const std::string& pod, model::CrashType type) {
    for (const model::Crash& c : Crashes()) {
      if (c.pod == pod && c.crash_type == type) {
        model::Crash full;
        EXPECT_TRUE(store_->GetCrash(c.id, &full).ok());
        return full;
      }
    }
    ADD_FAILURE() << "no " << model::ToString(type) << " crash of " << pod;
    return model::Crash();
  }

  // True once the `type` crash of `pod` is linked to a group (the link
  // follows the event's write).
  bool Linked(const std::string& pod, model::CrashType type) {
    for (const model::Crash& c : Crashes()) {
      if (c.pod != pod || c.crash_type != type) continue;
      model::Crash full;
      return store_->GetCrash(c.id, &full).ok() && !full.linked_groups.empty();
    }
    return false;
  }

  testing::TempDir dir_{"kube-crash-events-test"};
  std::unique_ptr<store::Store> store_;
  FakeApiServer fake_;
  core::Config config_;
  KubeWatcher::Options options_;
  std::unique_ptr<KubeWatcher> watcher_;
  double t0_ = 0;
};

TEST(CrashEventsUnitTest, IdsTailsAndCuts) {
  EXPECT_EQ(CrashEventId("ns/uid/app/exit/t", 3),
            CrashEventId("ns/uid/app/exit/t", 3));
  EXPECT_NE(CrashEventId("ns/uid/app/exit/t", 3),
            CrashEventId("ns/uid/app/exit/t", 4));
  EXPECT_NE(CrashEventId("ns/uid/app/exit/t", 3),
            CrashEventId("ns/uid2/app/exit/t", 3));
  EXPECT_EQ(CrashEventId("k", 0).size(), 32u);

  EXPECT_EQ(LastLines("a\nb\nc\n", 2), "b\nc\n");
  EXPECT_EQ(LastLines("a\nb\nc", 2), "b\nc");
  EXPECT_EQ(LastLines("a\nb\n", 5), "a\nb\n");
  EXPECT_EQ(LastLines("", 5), "");

  EXPECT_EQ(KeepLastBytes("abc\n", 10), "abc\n");
  // "b\ncc\n" starts inside a line: that line goes.
  EXPECT_EQ(KeepLastBytes("aaaa\nbb\ncc\n", 5), "cc\n");
  EXPECT_EQ(KeepLastBytes("aaaa\nbb\ncc\n", 6), "bb\ncc\n");  // a line start
  EXPECT_EQ(KeepLastBytes("aaaa", 2), "");
}

TEST(CrashEventsUnitTest, EventJsonNormalizesToAFatalEventWithTags) {
  const std::string logs = "starting\n" + Sample("go_nil_map.txt");
  std::optional<crashreport::Report> report = crashreport::FindLastReport(logs);
  ASSERT_TRUE(report.has_value());
  model::Crash crash;
  crash.id = 7;
  crash.dedup_key = "shop/uid/app/exit/t";
  crash.namespace_ = "shop";
  crash.pod = "api-1";
  crash.container = "app";
  crash.workload = "api";
  crash.image = "img:1";
  crash.node = "node-a";
  crash.crash_type = model::CrashType::kErrorExit;
  crash.exit_code = 2;
  const double ts = std::floor(util::NowSeconds()) - 10;
  const std::string json = CrashEventJson(crash, *report, logs,
                                          CrashEventId(crash.dedup_key, 1), ts);
  model::Event ev;
  std::string error;
  ASSERT_TRUE(ingest::NormalizeEvent(json, 1, util::NowSeconds(), &ev, &error))
      << error;
  EXPECT_EQ(ev.event_id, CrashEventId(crash.dedup_key, 1));
  EXPECT_EQ(ev.level, model::Level::kFatal);
  EXPECT_EQ(ev.platform, "go");
  EXPECT_EQ(ev.server_name, "api-1");
  EXPECT_DOUBLE_EQ(ev.timestamp, ts);
  ASSERT_EQ(ev.exceptions.size(), 1u);
  EXPECT_EQ(ev.exceptions[0].type, "runtime.Error");
  EXPECT_EQ(ev.exceptions[0].value, "assignment to entry in nil map");
  EXPECT_EQ(ev.exceptions[0].handled, std::optional<bool>(false));
  ASSERT_FALSE(ev.exceptions[0].frames.empty());
  EXPECT_EQ(ev.exceptions[0].frames.back().function, "main.store");
  const std::vector<std::pair<std::string, std::string>> want = {
      {"namespace", "shop"},         {"pod", "api-1"},   {"container", "app"},
      {"workload", "api"},           {"image", "img:1"}, {"node", "node-a"},
      {"crash_type", "error_exit"},  {"exit_code", "2"}, {"signal", "none"},
      {"crash_source", "kubernetes"}};
  for (const auto& kv : want)
    EXPECT_EQ(ev.Tag(kv.first), kv.second) << kv.first;
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  ASSERT_TRUE(doc.IsObject());
  const auto& lines = doc["extra"]["crash_report"];
  ASSERT_TRUE(lines.IsArray());
  ASSERT_EQ(lines.Size(), 7u);  // the report, not the "starting" line
  EXPECT_STREQ(lines[0].GetString(), "panic: assignment to entry in nil map");
  EXPECT_EQ(doc["extra"]["log_lines"].Size(), 8u);
}

// One group for the panic of a Deployment: counted once per crash, across
// the restarts a crash loop folds in and across two pods; stored once
// whatever relists and restarts of crashctl happen; linked both ways.
TEST_F(CrashEventsTest, GoPanicOfADeploymentIsOneGroupCountedPerCrash) {
  const int64_t project = CreateProject("shop");
  const std::string go = Sample("go_nil_map.txt");
  ASSERT_FALSE(go.empty());
  // Pod a: noise before the panic, more than the record's 50 lines.
  std::string noisy;
  for (int i = 0; i < 120; ++i)
    noisy += "INFO handled request " + std::to_string(i) + "\n";
  noisy += go;
  fake_.SetLogs("shop", "api-6c9f7d8b5-aaaaa", "app", true, noisy);
  // Pod b: over 256 KiB in 500 lines; the report at the end is kept.
  std::string big;
  for (int i = 0; i < 400; ++i) big += std::string(1000, 'x') + "\n";
  big += go;
  fake_.SetLogs("shop", "api-6c9f7d8b5-bbbbb", "app", true, big);
  StartWatcher();

  PodSpec a;
  a.name = "api-6c9f7d8b5-aaaaa";
  a.uid = "uid-a";
  a.started = t0_;
  Apply(a);  // an error_exit (run 0) and a crash-loop episode
  ASSERT_TRUE(WaitFor([&] { return TotalCount() == 1; }, kWait));
  a.restarts = 2;
  a.started = t0_ + 30;
  Apply(a);  // folded into the episode: one more crash
  a.restarts = 3;
  a.started = t0_ + 60;
  Apply(a);
  ASSERT_TRUE(WaitFor([&] { return TotalCount() == 3; }, kWait));

  PodSpec b;
  b.name = "api-6c9f7d8b5-bbbbb";
  b.uid = "uid-b";
  b.started = t0_ + 100;
  b.looping = false;
  Apply(b);
  ASSERT_TRUE(WaitFor([&] { return TotalCount() == 4; }, kWait));
  ASSERT_TRUE(WaitFor(
      [&] { return Linked(b.name, model::CrashType::kErrorExit); }, kWait));

  std::vector<model::Group> groups = Groups();
  ASSERT_EQ(groups.size(), 1u);
  const model::Group g = groups[0];
  EXPECT_EQ(g.project_id, project);
  EXPECT_EQ(g.count, 4);
  EXPECT_EQ(g.level, model::Level::kFatal);
  EXPECT_EQ(g.title, "runtime.Error: assignment to entry in nil map");
  EXPECT_EQ(g.culprit, "main in main.store");
  std::vector<model::StoredEvent> events = Events(g.id);
  ASSERT_EQ(events.size(), 4u);
  std::set<std::string> ids;
  for (const model::StoredEvent& e : events) {
    ids.insert(e.event_id);
    EXPECT_EQ(e.platform, "go");
    EXPECT_EQ(e.level, model::Level::kFatal);
  }
  EXPECT_EQ(ids.size(), 4u);

  // Links both ways: pod a's exit record and episode, pod b's exit record.
  model::Crash a_exit = CrashOf(a.name, model::CrashType::kErrorExit);
  model::Crash a_loop = CrashOf(a.name, model::CrashType::kCrashLoop);
  model::Crash b_exit = CrashOf(b.name, model::CrashType::kErrorExit);
  EXPECT_EQ(a_exit.linked_groups, std::vector<int64_t>{g.id});
  EXPECT_EQ(a_loop.linked_groups, std::vector<int64_t>{g.id});
  EXPECT_EQ(b_exit.linked_groups, std::vector<int64_t>{g.id});
  EXPECT_EQ(a_loop.restart_count, 3);
  model::Group full;
  ASSERT_TRUE(store_->GetGroup(g.id, &full).ok());
  std::vector<int64_t> linked = full.linked_crashes;
  std::sort(linked.begin(), linked.end());
  std::vector<int64_t> want = {a_exit.id, a_loop.id, b_exit.id};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(linked, want);
  // The record keeps the last 50 lines, the event the whole report.
  EXPECT_EQ(a_exit.logs, LastLines(noisy, 50));
  EXPECT_EQ(b_exit.logs, LastLines(big, 50));
  model::StoredEvent b_event;
  ASSERT_TRUE(
      store_->GetEvent(CrashEventId(b_exit.dedup_key, 0), &b_event).ok());
  rapidjson::Document doc;
  doc.Parse(b_event.payload.c_str());
  ASSERT_TRUE(doc.IsObject()) << b_event.payload.substr(0, 200);
  EXPECT_EQ(doc["extra"]["crash_report"].Size(), 7u);
  EXPECT_STREQ(doc["tags"]["pod"].GetString(), b.name.c_str());
  EXPECT_STREQ(doc["tags"]["workload"].GetString(), "api");
  EXPECT_STREQ(doc["tags"]["crash_type"].GetString(), "error_exit");
  EXPECT_STREQ(doc["tags"]["exit_code"].GetString(), "2");
  EXPECT_STREQ(doc["tags"]["crash_source"].GetString(), "kubernetes");
  EXPECT_EQ(b_event.server_name, b.name);

  // A relist (etcd compacted) and a restarted crashctl store nothing again.
  fake_.Expire();
  ASSERT_TRUE(WaitFor([&] { return fake_.stats().lists >= 2; }, kWait));
  StartWatcher();
  // Pod b crashes once more: once it is counted, everything before it has
  // been handled too (one log queue, in order).
  b.restarts = 2;
  b.started = t0_ + 200;
  Apply(b);
  ASSERT_TRUE(WaitFor([&] { return TotalCount() >= 5; }, kWait));
  groups = Groups();
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].count, 5);
  EXPECT_EQ(Events(g.id).size(), 5u);
}

// Two replicas of crashctl on one store watch the same cluster: every crash
// still has exactly one event (same ids; the store keeps the first).
TEST_F(CrashEventsTest, TwoReplicasStoreEachEventOnce) {
  CreateProject("shop");
  StartWatcher();
  KubeWatcher replica(config_, store_.get(), nullptr, options_);
  std::string error;
  ASSERT_TRUE(replica.Start(&error)) << error;
  ASSERT_TRUE(WaitFor([&] { return replica.Synced(); }, kWait));
  PodSpec a;
  a.name = "api-6c9f7d8b5-twice";
  a.uid = "uid-twice";
  a.started = t0_;
  fake_.SetLogs("shop", a.name, "app", true, Sample("node_type_error.txt"));
  Apply(a);
  a.restarts = 2;
  a.started = t0_ + 30;
  Apply(a);
  a.restarts = 3;
  a.started = t0_ + 60;
  Apply(a);
  ASSERT_TRUE(WaitFor([&] { return TotalCount() >= 3; }, kWait));
  // A last crash of another pod: once both replicas handled it (its logs
  // were fetched twice), they handled everything before it.
  PodSpec b;
  b.name = "api-6c9f7d8b5-last";
  b.uid = "uid-last";
  b.started = t0_ + 100;
  b.looping = false;
  fake_.SetLogs("shop", b.name, "app", true, Sample("node_type_error.txt"));
  const int logs_before = fake_.stats().logs;
  Apply(b);
  ASSERT_TRUE(
      WaitFor([&] { return fake_.stats().logs >= logs_before + 1; }, kWait));
  ASSERT_TRUE(WaitFor([&] { return TotalCount() >= 4; }, kWait));
  ASSERT_TRUE(WaitFor(
      [&] { return Linked(b.name, model::CrashType::kErrorExit); }, kWait));
  replica.Stop();
  watcher_->Stop();
  std::vector<model::Group> groups = Groups();
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].count, 4);
  EXPECT_EQ(Events(groups[0].id).size(), 4u);
  EXPECT_EQ(Crashes().size(), 3u);  // a: exit + episode; b: exit
}

// Restarts a crash loop went through while nobody watched (the pod jumps
// from restartCount 1 to 4) are crashes too: one event each.
TEST_F(CrashEventsTest, CrashLoopCountsRestartsMissedBetweenUpdates) {
  CreateProject("shop");
  PodSpec a;
  a.name = "api-6c9f7d8b5-jumps";
  a.uid = "uid-jumps";
  a.started = t0_;
  fake_.SetLogs("shop", a.name, "app", true, Sample("python_value_error.txt"));
  StartWatcher();
  Apply(a);
  ASSERT_TRUE(WaitFor([&] { return TotalCount() == 1; }, kWait));
  a.restarts = 4;
  a.started = t0_ + 200;
  Apply(a);
  ASSERT_TRUE(WaitFor([&] { return TotalCount() == 4; }, kWait));
  model::Crash loop = CrashOf(a.name, model::CrashType::kCrashLoop);
  EXPECT_EQ(loop.restart_count, 4);
  for (int r = 2; r <= 4; ++r) {
    model::StoredEvent ev;
    EXPECT_TRUE(store_->GetEvent(CrashEventId(loop.dedup_key, r), &ev).ok())
        << r;
  }
  ASSERT_EQ(Groups().size(), 1u);
  EXPECT_EQ(Groups()[0].title,
            "ValueError: invalid literal for int() with base 10: 'abc'");
  EXPECT_EQ(Groups()[0].count, 4);
}

// Each runtime's verbatim crash output gives its own group with the
// platform of its language.
TEST_F(CrashEventsTest, EveryRuntimeGivesItsPlatform) {
  CreateProject("shop");
  struct Case {
    const char* sample;
    const char* platform;
  };
  const Case cases[] = {{"go_panic_method.txt", "go"},
                        {"rust_1.95_expect_backtrace.txt", "native"},
                        {"python_value_error.txt", "python"},
                        {"node_type_error.txt", "node"},
                        {"java_npe.txt", "java"}};
  StartWatcher();
  int n = 0;
  for (const Case& c : cases) {
    PodSpec p;
    p.deployment = "svc" + std::to_string(n);
    p.name = p.deployment + "-6c9f7d8b5-x" + std::to_string(n);
    p.uid = "uid-" + std::to_string(n);
    p.started = t0_ + n;
    p.looping = false;
    fake_.SetLogs("shop", p.name, "app", true, Sample(c.sample));
    Apply(p);
    ++n;
  }
  ASSERT_TRUE(WaitFor([&] { return Groups().size() == 5; }, kWait));
  for (int i = 0; i < n; ++i) {
    const std::string pod =
        "svc" + std::to_string(i) + "-6c9f7d8b5-x" + std::to_string(i);
    ASSERT_TRUE(WaitFor(
        [&] { return Linked(pod, model::CrashType::kErrorExit); }, kWait));
    model::Crash crash = CrashOf(pod, model::CrashType::kErrorExit);
    model::StoredEvent ev;
    ASSERT_TRUE(store_->GetEvent(CrashEventId(crash.dedup_key, 0), &ev).ok())
        << cases[i].sample;
    EXPECT_EQ(ev.platform, cases[i].platform) << cases[i].sample;
    std::optional<crashreport::Report> report =
        crashreport::FindLastReport(Sample(cases[i].sample));
    ASSERT_TRUE(report.has_value());
    model::Group g;
    ASSERT_TRUE(store_->GetGroup(ev.group_id, &g).ok());
    EXPECT_EQ(g.title.rfind(report->exceptions.back().type, 0), 0u) << g.title;
    EXPECT_EQ(g.count, 1);
    EXPECT_EQ(crash.linked_groups, std::vector<int64_t>{g.id});
  }
}

// The pod annotation's project, else kubernetes.project, else the lowest
// project id; without any project the crash is recorded without an event.
TEST_F(CrashEventsTest, ProjectFromAnnotationConfigOrLowestId) {
  const std::string go = Sample("go_nil_map.txt");
  PodSpec p;
  p.looping = false;
  p.started = t0_;
  auto add = [&](const std::string& name, const std::string& annotation) {
    p.name = "api-6c9f7d8b5-" + name;
    p.uid = "uid-" + name;
    p.annotation = annotation;
    p.started += 10;
    fake_.SetLogs("shop", p.name, "app", true, go);
    Apply(p);
  };
  StartWatcher();
  add("none", "");  // no project yet
  ASSERT_TRUE(WaitFor(
      [&] {
        for (const model::Crash& c : Crashes()) {
          if (c.pod == p.name && !c.logs.empty()) return true;
        }
        return false;
      },
      kWait));
  EXPECT_TRUE(Groups().empty());

  const int64_t first = CreateProject("first");
  const int64_t second = CreateProject("second");
  const int64_t third = CreateProject("third");
  add("lowest", "");
  ASSERT_TRUE(WaitFor([&] { return TotalCount() == 1; }, kWait));
  add("annotated", std::to_string(second));
  ASSERT_TRUE(WaitFor([&] { return TotalCount() == 2; }, kWait));
  config_.kube_project = third;
  StartWatcher();
  add("configured", "");
  ASSERT_TRUE(WaitFor([&] { return TotalCount() == 3; }, kWait));
  add("annotated-too", std::to_string(second));
  ASSERT_TRUE(WaitFor([&] { return TotalCount() == 4; }, kWait));

  auto project_of = [&](const std::string& name) -> int64_t {
    model::Crash c =
        CrashOf("api-6c9f7d8b5-" + name, model::CrashType::kErrorExit);
    model::StoredEvent ev;
    if (!store_->GetEvent(CrashEventId(c.dedup_key, 0), &ev).ok()) return -1;
    return ev.project_id;
  };
  EXPECT_EQ(project_of("none"), -1);
  EXPECT_EQ(project_of("lowest"), first);
  EXPECT_EQ(project_of("annotated"), second);
  EXPECT_EQ(project_of("configured"), third);
  EXPECT_EQ(project_of("annotated-too"), second);
}

// The SDK in the pod reported the panic before dying: the crash is linked
// to its group and no second event is stored.
TEST_F(CrashEventsTest, ExceptionTheSdkReportedIsLinkedNotCountedTwice) {
  const int64_t project = CreateProject("shop");
  const std::string go = Sample("go_nil_map.txt");
  PodSpec p;
  p.name = "api-6c9f7d8b5-sdk";
  p.uid = "uid-sdk";
  p.started = t0_;
  p.looping = false;
  // What the SDK sent: same exception (so the same title), its own id.
  model::WriteItem sdk;
  {
    model::Crash crash;
    crash.pod = p.name;
    std::optional<crashreport::Report> report = crashreport::FindLastReport(go);
    ASSERT_TRUE(report.has_value());
    std::string error;
    ASSERT_TRUE(ingest::NormalizeEvent(
        CrashEventJson(crash, *report, go, std::string(32, 'e'), t0_ + 4),
        project, util::NowSeconds(), &sdk.event, &error))
        << error;
    sdk.event.tags.clear();
    sdk.event.tags.push_back({"sdk", "sentry.go"});
    sdk.grouping = grouping::ComputeGrouping(sdk.event);
  }
  std::vector<model::WriteOutcome> outcomes;
  ASSERT_TRUE(store_->WriteEvents({sdk}, &outcomes).ok());
  fake_.SetLogs("shop", p.name, "app", true, go);
  StartWatcher();
  Apply(p);
  model::Crash crash;
  ASSERT_TRUE(WaitFor(
      [&] {
        for (const model::Crash& c : Crashes()) {
          if (c.pod == p.name && !c.logs.empty()) {
            return store_->GetCrash(c.id, &crash).ok() &&
                   !crash.linked_groups.empty();
          }
        }
        return false;
      },
      kWait));
  EXPECT_EQ(crash.linked_groups, std::vector<int64_t>{outcomes[0].group_id});
  // Another pod's crash of the same panic is counted: once it is, the first
  // pod's logs have been handled.
  PodSpec other = p;
  other.name = "api-6c9f7d8b5-other";
  other.uid = "uid-other";
  other.started = t0_ + 500;
  fake_.SetLogs("shop", other.name, "app", true, go);
  Apply(other);
  ASSERT_TRUE(WaitFor([&] { return TotalCount() == 2; }, kWait));
  std::vector<model::Group> groups = Groups();
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0].id, outcomes[0].group_id);
  model::StoredEvent ev;
  EXPECT_FALSE(store_->GetEvent(CrashEventId(crash.dedup_key, 0), &ev).ok());
}

// An OOM kill gets an event only when its logs hold a crash report.
TEST_F(CrashEventsTest, OomKillGetsAnEventOnlyWithACrashReport) {
  CreateProject("shop");
  PodSpec quiet;
  quiet.name = "api-6c9f7d8b5-quiet";
  quiet.uid = "uid-quiet";
  quiet.started = t0_;
  quiet.looping = false;
  quiet.oom = true;
  fake_.SetLogs("shop", quiet.name, "app", true,
                "INFO loading catalogue\nINFO building index\n");
  PodSpec loud = quiet;
  loud.name = "api-6c9f7d8b5-loud";
  loud.uid = "uid-loud";
  loud.started = t0_ + 100;
  fake_.SetLogs("shop", loud.name, "app", true, Sample("go_out_of_memory.txt"));
  StartWatcher();
  Apply(quiet);
  Apply(loud);
  ASSERT_TRUE(WaitFor([&] { return TotalCount() == 1; }, kWait));
  ASSERT_TRUE(WaitFor(
      [&] { return Linked(loud.name, model::CrashType::kOomKilled); }, kWait));
  model::Crash q = CrashOf(quiet.name, model::CrashType::kOomKilled);
  model::Crash l = CrashOf(loud.name, model::CrashType::kOomKilled);
  EXPECT_FALSE(q.logs.empty());
  EXPECT_TRUE(q.linked_groups.empty());
  ASSERT_EQ(l.linked_groups.size(), 1u);
  model::Group g;
  ASSERT_TRUE(store_->GetGroup(l.linked_groups[0], &g).ok());
  EXPECT_EQ(g.title, "fatal error: out of memory");
  model::StoredEvent ev;
  ASSERT_TRUE(store_->GetEvent(CrashEventId(l.dedup_key, 0), &ev).ok());
  rapidjson::Document doc;
  doc.Parse(ev.payload.c_str());
  ASSERT_TRUE(doc.IsObject());
  EXPECT_STREQ(doc["tags"]["crash_type"].GetString(), "oom_killed");
  EXPECT_STREQ(doc["tags"]["signal"].GetString(), "SIGKILL");
}

// Crash events written through the ingest pipeline are seen like an SDK's:
// ingest metrics, pipeline listeners (the alert pusher's new-group alert),
// and still stored once per crash (a relist and a restart of crashctl add
// nothing).
TEST_F(CrashEventsTest, CrashEventsGoThroughTheIngestPipeline) {
  const int64_t project = CreateProject("shop");
  fake_.SetLogs("shop", "api-6c9f7d8b5-aaaaa", "app", true,
                Sample("go_nil_map.txt"));
  exporter::Exporter exporter{exporter::Exporter::Options()};
  ingest::Metrics metrics(exporter.registry(), exporter.services());
  ingest::IngestPipeline pipeline(store_.get(), &metrics,
                                  ingest::IngestPipeline::Options());
  std::mutex mu;
  std::vector<std::string> heard;  // event ids the listener got
  int new_groups = 0;
  pipeline.AddListener(
      [&](const model::WriteItem& item, const model::WriteOutcome& outcome) {
        std::lock_guard<std::mutex> lock(mu);
        heard.push_back(item.event.event_id);
        if (outcome.new_group) ++new_groups;
      });
  pipeline.Start();
  auto start = [&] {
    if (watcher_) watcher_->Stop();
    watcher_ =
        std::make_unique<KubeWatcher>(config_, store_.get(), nullptr, options_);
    watcher_->SetPipeline(&pipeline);
    std::string error;
    ASSERT_TRUE(watcher_->Start(&error)) << error;
    ASSERT_TRUE(WaitFor([&] { return watcher_->Synced(); }, kWait));
  };
  start();
  PodSpec a;
  a.name = "api-6c9f7d8b5-aaaaa";
  a.uid = "uid-a";
  a.started = t0_;
  a.looping = false;
  Apply(a);
  ASSERT_TRUE(WaitFor([&] { return TotalCount() == 1; }, kWait));
  ASSERT_TRUE(WaitFor(
      [&] { return Linked(a.name, model::CrashType::kErrorExit); }, kWait));
  // crashctl_events_total of the project's fatal events, any service.
  auto fatal = [&] {
    std::istringstream in(exporter.Serialize());
    const std::string labels =
        "level=\"fatal\",project=\"" + std::to_string(project) + "\"";
    double sum = 0;
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("crashctl_events_total{", 0) == 0 &&
          line.find(labels) != std::string::npos) {
        sum += std::stod(line.substr(line.rfind(' ') + 1));
      }
    }
    return sum;
  };
  EXPECT_TRUE(WaitFor([&] { return fatal() == 1; }, kWait))
      << exporter.Serialize();
  {
    std::lock_guard<std::mutex> lock(mu);
    ASSERT_EQ(heard.size(), 1u);
    EXPECT_EQ(heard[0],
              CrashEventId(
                  CrashOf(a.name, model::CrashType::kErrorExit).dedup_key, 0));
    EXPECT_EQ(new_groups, 1);
  }
  // A relist and a restart of crashctl: the same id, a duplicate.
  fake_.Expire();
  ASSERT_TRUE(WaitFor([&] { return fake_.stats().lists >= 2; }, kWait));
  start();
  Apply(a);
  ASSERT_TRUE(WaitFor([&] { return fake_.stats().lists >= 3; }, kWait));
  EXPECT_EQ(TotalCount(), 1);
  EXPECT_EQ(fatal(), 1);
  watcher_->Stop();
  pipeline.Stop();
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(heard.size(), 1u);
}

}  // namespace
}  // namespace kube
}  // namespace crashctl
