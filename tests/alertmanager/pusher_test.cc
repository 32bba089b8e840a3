// AlertPusher against a fake Alertmanager (civetweb): payload shape, HA
// fan-out, cooldown, retries, queue bound, latency and metrics.
#include "crashctl/alertmanager/pusher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <ctime>
#include <string>
#include <utility>
#include <vector>

#include "crashctl/alertmanager/metrics.h"
#include "crashctl/exporter/exporter.h"
#include "crashctl/grouping/grouping.h"
#include "fake_alertmanager.h"
#include "process_util.h"
#include "tests/testing/sample_records.h"
#include "tests/testing/server_process.h"

namespace crashctl {
namespace alertmanager {
namespace {

using ::testing::HasSubstr;

// Parses "2024-05-01T12:00:00.250Z" back to epoch seconds.
double ParseRfc3339(const std::string& text) {
  std::tm tm{};
  int millis = 0;
  if (sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon,
             &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &millis) != 7) {
    return -1;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<double>(timegm(&tm)) + millis / 1000.0;
}

std::string Str(const rapidjson::Value& object, const char* key) {
  auto it = object.FindMember(key);
  if (it == object.MemberEnd() || !it->value.IsString()) return "<absent>";
  return it->value.GetString();
}

// Expects each key of `expected` to name that string in `object`.
void ExpectStrings(
    const rapidjson::Value& object,
    const std::vector<std::pair<const char*, std::string>>& expected) {
  for (const auto& [key, value] : expected) {
    EXPECT_EQ(Str(object, key), value) << key;
  }
}

model::Group SampleGroup() {
  model::Group group;
  group.id = 42;
  group.project_id = 3;
  group.title = "TypeError: cannot read property 'id' of undefined";
  group.culprit = "app/handlers.js in handleOrder";
  group.level = model::Level::kError;
  group.status = model::GroupStatus::kUnresolved;
  group.service = "checkout";
  return group;
}

model::WriteItem SampleItem() {
  model::WriteItem item;
  item.event.event_id = "0123456789abcdef0123456789abcdef";
  item.event.level = model::Level::kError;
  item.event.service = "checkout";
  item.event.release = "checkout@1.4.2";
  item.event.environment = "production";
  item.event.tags = {{"pod", "checkout-7d9f-abcde"}, {"namespace", "shop"}};
  model::ExceptionValue ex;
  ex.type = "TypeError";
  model::Frame lib;
  lib.function = "dispatch";
  lib.filename = "node_modules/express/router.js";
  lib.lineno = 10;
  lib.in_app = false;
  model::Frame app;
  app.function = "handleOrder";
  app.filename = "app/handlers.js";
  app.lineno = 88;
  app.in_app = true;
  ex.frames = {lib, app, lib};
  item.event.exceptions = {ex};
  item.grouping = grouping::ComputeGrouping(item.event);
  return item;
}

model::Crash SampleCrash() {
  model::Crash crash = crashctl::testing::OomKilledCheckoutCrash();
  crash.finished_at = static_cast<double>(std::time(nullptr)) - 1;
  for (int i = 1; i <= 50; ++i) {
    crash.logs += "log line " + std::to_string(i) + "\n";
  }
  crash.linked_groups = {42, 17};
  return crash;
}

AlertPusher::Options FastOptions(std::vector<std::string> urls) {
  AlertPusher::Options options;
  options.urls = std::move(urls);
  options.build.base_url = "https://crashctl.example.com";
  options.initial_backoff = 0.02;
  options.max_backoff = 0.1;
  options.request_timeout = 2;
  return options;
}

// The single alert of the request's JSON array.
void ParseSingleAlert(const std::string& body, rapidjson::Document* doc) {
  doc->Parse(body.c_str());
  ASSERT_FALSE(doc->HasParseError()) << body;
  ASSERT_TRUE(doc->IsArray()) << body;
  ASSERT_EQ(doc->Size(), 1u) << body;
}

TEST(AlertEncodingTest, EncodesV2ArrayAndLeavesOutEmptyValues) {
  Alert alert;
  alert.labels = {{"alertname", "X"}, {"pod", ""}, {"q", "a\"b"}};
  alert.annotations = {{"summary", "s"}, {"logs", ""}};
  alert.starts_at = 1714564800.25;
  alert.ends_at = 1714568400;
  alert.generator_url = "http://x/api/v1/groups/1";
  rapidjson::Document doc;
  doc.Parse(EncodeAlerts({alert, alert}).c_str());
  ASSERT_TRUE(doc.IsArray());
  ASSERT_EQ(doc.Size(), 2u);
  const rapidjson::Value& a = doc[0];
  EXPECT_EQ(Str(a["labels"], "alertname"), "X");
  EXPECT_EQ(Str(a["labels"], "q"), "a\"b");
  EXPECT_FALSE(a["labels"].HasMember("pod"));
  EXPECT_FALSE(a["annotations"].HasMember("logs"));
  EXPECT_EQ(Str(a, "startsAt"), "2024-05-01T12:00:00.250Z");
  EXPECT_EQ(Str(a, "endsAt"), "2024-05-01T13:00:00.000Z");
  EXPECT_EQ(Str(a, "generatorURL"), "http://x/api/v1/groups/1");
  EXPECT_EQ(EncodeAlerts({}), "[]");
}

TEST(AlertBuilderTest, MonitorAlertLabelsAndResolve) {
  model::Monitor m;
  m.id = 7;
  m.project_id = 2;
  m.slug = "nightly-backup";
  m.environment = "production";
  AlertBuildOptions options;
  options.base_url = "http://x";
  Alert raise =
      MonitorAlert(m, "missed", 1000, "1 run missed", false, options, 1100, 50);
  EXPECT_EQ(raise.labels["alertname"], kMonitorFailedAlertName);
  EXPECT_EQ(raise.labels["severity"], "warning");
  EXPECT_EQ(raise.labels["project"], "2");
  EXPECT_EQ(raise.labels["monitor"], "nightly-backup");
  EXPECT_EQ(raise.labels["environment"], "production");
  EXPECT_EQ(raise.labels["reason"], "missed");
  EXPECT_EQ(raise.annotations["url"], "http://x/api/v1/monitors/7");
  EXPECT_THAT(raise.annotations["description"], HasSubstr("1 run missed"));
  EXPECT_EQ(raise.starts_at, 1000);
  EXPECT_EQ(raise.ends_at, 1150);
  EXPECT_EQ(raise.cooldown_key, "monitor:7");
  EXPECT_EQ(raise.identity, "monitor:7:1000");
  Alert resolve = MonitorAlert(m, "missed", 1000, "", true, options, 2000, 50);
  EXPECT_EQ(resolve.labels, raise.labels);
  EXPECT_EQ(resolve.ends_at, 2000);
  EXPECT_EQ(resolve.identity, raise.identity);
}

TEST(AlertBuilderTest, LastLogLinesKeepsTheTail) {
  EXPECT_EQ(LastLogLines("a\nb\nc\n", 2, 100),
            "\xE2\x80\xA6"
            "b\nc");
  EXPECT_EQ(LastLogLines("a\nb\nc", 5, 100), "a\nb\nc");
  EXPECT_EQ(LastLogLines("", 5, 100), "");
  const std::string cut = LastLogLines(std::string(100, 'x') + "\nend", 5, 20);
  EXPECT_LE(cut.size(), 20u + 3);
  EXPECT_THAT(cut, HasSubstr("end"));
  // Never cuts inside a UTF-8 sequence.
  const std::string utf8 = LastLogLines("\xC3\xA9\xC3\xA9\xC3\xA9", 5, 5);
  EXPECT_EQ(utf8, "\xE2\x80\xA6\xC3\xA9");
}

TEST(AlertPusherTest, NewGroupPayloadShape) {
  FakeAlertmanager am;
  AlertPusher pusher(FastOptions({am.url()}), nullptr);
  pusher.Start();
  const double before = static_cast<double>(std::time(nullptr));
  ASSERT_TRUE(pusher.NewGroup(SampleGroup(), SampleItem()));
  ASSERT_TRUE(am.WaitForRequests(1, 5));
  const auto request = am.requests().front();
  EXPECT_EQ(request.path, "/api/v2/alerts");
  EXPECT_EQ(request.content_type, "application/json");
  rapidjson::Document doc;
  ParseSingleAlert(request.body, &doc);
  const rapidjson::Value& alert = doc[0];
  const rapidjson::Value& labels = alert["labels"];
  ExpectStrings(labels, {{"alertname", "CrashctlNewErrorGroup"},
                         {"severity", "warning"},
                         {"project", "3"},
                         {"service", "checkout"},
                         {"group_id", "42"},
                         {"namespace", "shop"},
                         {"pod", "checkout-7d9f-abcde"}});
  const rapidjson::Value& annotations = alert["annotations"];
  ExpectStrings(annotations,
                {{"summary", SampleGroup().title},
                 {"top_frame", "handleOrder (app/handlers.js:88)"},
                 {"culprit", "app/handlers.js in handleOrder"},
                 {"url", "https://crashctl.example.com/api/v1/groups/42"}});
  EXPECT_THAT(Str(annotations, "description"), HasSubstr("checkout@1.4.2"));
  EXPECT_EQ(Str(alert, "generatorURL"),
            "https://crashctl.example.com/api/v1/groups/42");
  const double starts = ParseRfc3339(Str(alert, "startsAt"));
  const double ends = ParseRfc3339(Str(alert, "endsAt"));
  EXPECT_GE(starts, before - 1);
  EXPECT_NEAR(ends - starts, 3600, 1);
}

TEST(AlertPusherTest, RegressionAndFatalSeverity) {
  FakeAlertmanager am;
  AlertPusher pusher(FastOptions({am.url()}), nullptr);
  pusher.Start();
  model::WriteItem fatal = SampleItem();
  fatal.event.level = model::Level::kFatal;
  ASSERT_TRUE(pusher.NewGroup(SampleGroup(), fatal));
  ASSERT_TRUE(pusher.Regression(SampleGroup(), SampleItem()));
  // One request or two, depending on whether the sender was already busy.
  ASSERT_TRUE(
      testing_util::WaitFor([&] { return pusher.stats().sent == 2; }, 5));
  std::map<std::string, std::string> severity_by_name;
  for (const auto& request : am.requests()) {
    rapidjson::Document doc;
    doc.Parse(request.body.c_str());
    ASSERT_TRUE(doc.IsArray());
    for (const auto& alert : doc.GetArray()) {
      severity_by_name[Str(alert["labels"], "alertname")] =
          Str(alert["labels"], "severity");
    }
  }
  EXPECT_EQ(severity_by_name["CrashctlNewErrorGroup"], "critical");
  EXPECT_EQ(severity_by_name["CrashctlRegression"], "warning");
}

TEST(AlertPusherTest, OnEventStoredPushesNewGroupsAndRegressionsOnly) {
  FakeAlertmanager am;
  AlertPusher pusher(FastOptions({am.url()}), nullptr);
  pusher.Start();
  model::WriteItem item = SampleItem();
  item.event.project_id = 5;
  item.grouping.title = "TypeError: boom";
  item.grouping.culprit = "app/handlers.js in handleOrder";
  model::WriteOutcome ordinary;
  ordinary.group_id = 11;
  EXPECT_FALSE(pusher.OnEventStored(item, ordinary));
  model::WriteOutcome duplicate = ordinary;
  duplicate.new_group = true;
  duplicate.duplicate = true;
  EXPECT_FALSE(pusher.OnEventStored(item, duplicate));
  model::WriteOutcome created = ordinary;
  created.new_group = true;
  EXPECT_TRUE(pusher.OnEventStored(item, created));
  ASSERT_TRUE(am.WaitForRequests(1, 5));
  rapidjson::Document doc;
  ParseSingleAlert(am.requests()[0].body, &doc);
  ExpectStrings(doc[0]["labels"], {{"alertname", "CrashctlNewErrorGroup"},
                                   {"project", "5"},
                                   {"group_id", "11"}});
  EXPECT_EQ(Str(doc[0]["annotations"], "summary"), "TypeError: boom");
  model::WriteOutcome regressed = ordinary;
  regressed.regression = true;
  EXPECT_TRUE(pusher.OnEventStored(item, regressed));
  ASSERT_TRUE(
      testing_util::WaitFor([&] { return pusher.stats().sent == 2; }, 5));
  EXPECT_THAT(am.requests().back().body, HasSubstr("CrashctlRegression"));
}

TEST(AlertPusherTest, PodCrashPayloadReachesAlertmanagerFast) {
  FakeAlertmanager am;
  AlertPusher pusher(FastOptions({am.url()}), nullptr);
  pusher.Start();
  const auto queued = std::chrono::steady_clock::now();
  ASSERT_TRUE(pusher.PodCrash(SampleCrash()));
  ASSERT_TRUE(am.WaitForRequests(1, 5));
  const auto request = am.requests().front();
  // The contract is < 2 s; with nothing in the way it is milliseconds.
  EXPECT_LT(std::chrono::duration<double>(request.received - queued).count(),
            0.5);
  rapidjson::Document doc;
  ParseSingleAlert(request.body, &doc);
  const rapidjson::Value& labels = doc[0]["labels"];
  ExpectStrings(labels, {{"alertname", "CrashctlPodCrash"},
                         {"severity", "warning"},
                         {"namespace", "shop"},
                         {"pod", "checkout-7d9f-abcde"},
                         {"container", "app"},
                         {"workload", "checkout"},
                         {"crash_type", "oom_killed"},
                         {"group_id", "42"}});
  const rapidjson::Value& annotations = doc[0]["annotations"];
  EXPECT_EQ(Str(annotations, "summary"),
            "OOMKilled: shop/checkout-7d9f-abcde (container app)");
  EXPECT_THAT(Str(annotations, "description"), HasSubstr("exit code 137"));
  EXPECT_THAT(Str(annotations, "description"), HasSubstr("SIGKILL"));
  EXPECT_THAT(Str(annotations, "description"), HasSubstr("128Mi"));
  EXPECT_EQ(Str(annotations, "url"),
            "https://crashctl.example.com/api/v1/crashes/7");
  // The last 20 of 50 log lines, marked as cut.
  const std::string logs = Str(annotations, "logs");
  EXPECT_THAT(logs, HasSubstr("log line 50"));
  EXPECT_THAT(logs, HasSubstr("log line 31"));
  EXPECT_THAT(logs, ::testing::Not(HasSubstr("log line 30\n")));
  EXPECT_EQ(logs.rfind("\xE2\x80\xA6", 0), 0u);
}

TEST(AlertPusherTest, CooldownPerGroupAndPerPodCrashType) {
  FakeAlertmanager am;
  std::atomic<double> now{1000};
  AlertPusher::Options options = FastOptions({am.url()});
  options.cooldown = 300;
  options.now = [&] { return now.load(); };
  exporter::Exporter exporter(exporter::Exporter::Options{});
  Metrics metrics(exporter.registry());
  AlertPusher pusher(options, &metrics);
  pusher.Start();
  EXPECT_TRUE(pusher.NewGroup(SampleGroup(), SampleItem()));
  EXPECT_FALSE(pusher.NewGroup(SampleGroup(), SampleItem()));  // cooldown
  model::Group other = SampleGroup();
  other.id = 43;
  EXPECT_TRUE(pusher.NewGroup(other, SampleItem()));  // another group
  EXPECT_TRUE(pusher.PodCrash(SampleCrash()));
  model::Crash next = SampleCrash();
  next.id = 8;  // another crash of the same pod and type
  EXPECT_FALSE(pusher.PodCrash(next));
  model::Crash updated = SampleCrash();  // the same record, now with new logs
  updated.logs = "fetched later\n";
  EXPECT_TRUE(pusher.PodCrash(updated));
  model::Crash loop = SampleCrash();
  loop.id = 9;
  loop.crash_type = model::CrashType::kCrashLoop;
  EXPECT_TRUE(pusher.PodCrash(loop));  // same pod, other type
  now = 1000 + 299;
  EXPECT_FALSE(pusher.NewGroup(SampleGroup(), SampleItem()));
  now = 1000 + 301;
  EXPECT_TRUE(pusher.NewGroup(SampleGroup(), SampleItem()));  // cooled down
  ASSERT_TRUE(
      testing_util::WaitFor([&] { return pusher.stats().sent == 6; }, 5));
  EXPECT_EQ(pusher.stats().suppressed, 3);
  const std::string text = exporter.Serialize();
  EXPECT_THAT(
      text, HasSubstr("crashctl_alert_pushes_total{outcome=\"suppressed\"} 3"));
  EXPECT_THAT(text,
              HasSubstr("crashctl_alert_pushes_total{outcome=\"sent\"} 6"));
}

TEST(AlertPusherTest, RetriesServerErrorsWithBackoff) {
  FakeAlertmanager am;
  am.ScriptStatuses({503, 500});
  exporter::Exporter exporter(exporter::Exporter::Options{});
  Metrics metrics(exporter.registry());
  AlertPusher pusher(FastOptions({am.url()}), &metrics);
  pusher.Start();
  ASSERT_TRUE(pusher.PodCrash(SampleCrash()));
  ASSERT_TRUE(
      testing_util::WaitFor([&] { return pusher.stats().sent == 1; }, 5));
  EXPECT_EQ(am.request_count(), 3u);
  EXPECT_EQ(pusher.stats().retried, 2);
  EXPECT_EQ(pusher.stats().failed, 0);
  // Each attempt carries the same alert.
  const auto requests = am.requests();
  EXPECT_EQ(requests[0].body, requests[2].body);
  // Backoff: the retries are spaced, not immediate.
  EXPECT_GE(
      std::chrono::duration<double>(requests[2].received - requests[0].received)
          .count(),
      0.02);
  EXPECT_THAT(exporter.Serialize(),
              HasSubstr("crashctl_alert_pushes_total{outcome=\"retried\"} 2"));
}

TEST(AlertPusherTest, GivesUpAfterMaxAttemptsAndOnClientErrors) {
  FakeAlertmanager am;
  am.ScriptStatuses({503, 503, 503, 400});
  AlertPusher::Options options = FastOptions({am.url()});
  options.max_attempts = 3;
  AlertPusher pusher(options, nullptr);
  pusher.Start();
  ASSERT_TRUE(pusher.PodCrash(SampleCrash()));
  ASSERT_TRUE(
      testing_util::WaitFor([&] { return pusher.stats().failed == 1; }, 5));
  EXPECT_EQ(am.request_count(), 3u);
  // 400 is not retried.
  ASSERT_TRUE(pusher.NewGroup(SampleGroup(), SampleItem()));
  ASSERT_TRUE(
      testing_util::WaitFor([&] { return pusher.stats().failed == 2; }, 5));
  EXPECT_EQ(am.request_count(), 4u);
  // The sender still works afterwards.
  model::Group other = SampleGroup();
  other.id = 99;
  ASSERT_TRUE(pusher.NewGroup(other, SampleItem()));
  ASSERT_TRUE(
      testing_util::WaitFor([&] { return pusher.stats().sent == 1; }, 5));
}

TEST(AlertPusherTest, QueueIsBoundedAndDropsTheOldest) {
  FakeAlertmanager am;
  am.SetDelayMs(400);
  AlertPusher::Options options = FastOptions({am.url()});
  options.queue_capacity = 3;
  options.cooldown = 0;
  exporter::Exporter exporter(exporter::Exporter::Options{});
  Metrics metrics(exporter.registry());
  AlertPusher pusher(options, &metrics);
  pusher.Start();
  model::Group group = SampleGroup();
  ASSERT_TRUE(pusher.NewGroup(group, SampleItem()));
  ASSERT_TRUE(am.WaitForRequests(1, 5));  // in flight, answer delayed
  for (int i = 0; i < 5; ++i) {
    group.id = 100 + i;
    ASSERT_TRUE(pusher.NewGroup(group, SampleItem()));
  }
  EXPECT_EQ(pusher.stats().dropped, 2);
  const std::string text = exporter.Serialize();
  EXPECT_THAT(text, HasSubstr("crashctl_alert_queue_depth 3"));
  EXPECT_THAT(text, HasSubstr("crashctl_alert_queue_capacity 3"));
  EXPECT_THAT(text,
              HasSubstr("crashctl_alert_pushes_total{outcome=\"dropped\"} 2"));
  am.SetDelayMs(0);
  ASSERT_TRUE(
      testing_util::WaitFor([&] { return pusher.stats().sent == 4; }, 5));
  // The three newest survived: groups 102, 103, 104.
  const std::string last = am.requests().back().body;
  EXPECT_THAT(last, HasSubstr("\"group_id\":\"104\""));
  EXPECT_THAT(last, HasSubstr("\"group_id\":\"102\""));
  EXPECT_THAT(last, ::testing::Not(HasSubstr("\"group_id\":\"101\"")));
}

TEST(AlertPusherTest, FansOutToEveryAlertmanagerAndADeadOneDelaysNobody) {
  FakeAlertmanager a;
  FakeAlertmanager b;
  const int dead_port = crashctl::testing::FreePort();
  AlertPusher::Options options =
      FastOptions({"http://127.0.0.1:" + std::to_string(dead_port),
                   a.url() + "/", b.url() + "/api/v2/alerts"});
  options.max_attempts = 3;
  AlertPusher pusher(options, nullptr);
  pusher.Start();
  const auto queued = std::chrono::steady_clock::now();
  ASSERT_TRUE(pusher.PodCrash(SampleCrash()));
  ASSERT_TRUE(a.WaitForRequests(1, 2));
  ASSERT_TRUE(b.WaitForRequests(1, 2));
  EXPECT_LT(
      std::chrono::duration<double>(a.requests()[0].received - queued).count(),
      0.5);
  EXPECT_EQ(a.requests()[0].body, b.requests()[0].body);
  EXPECT_EQ(a.requests()[0].path, "/api/v2/alerts");
  EXPECT_EQ(b.requests()[0].path, "/api/v2/alerts");
  ASSERT_TRUE(testing_util::WaitFor([&] { return pusher.stats().failed == 1; },
                                    5));  // the dead one
  EXPECT_EQ(pusher.stats().sent, 2);
}

TEST(AlertPusherTest, DisabledWithoutUrlsAndStopIsIdempotent) {
  AlertPusher pusher(AlertPusher::Options{}, nullptr);
  EXPECT_FALSE(pusher.enabled());
  pusher.Start();
  EXPECT_FALSE(pusher.PodCrash(SampleCrash()));
  pusher.Stop();
  pusher.Stop();
}

TEST(AlertPusherTest, StopDropsWhatIsQueuedAndReturnsQuickly) {
  const int dead_port = crashctl::testing::FreePort();
  AlertPusher::Options options =
      FastOptions({"http://127.0.0.1:" + std::to_string(dead_port)});
  options.initial_backoff = 10;  // a long backoff that Stop interrupts
  options.max_backoff = 10;
  options.cooldown = 0;
  AlertPusher pusher(options, nullptr);
  pusher.Start();
  ASSERT_TRUE(pusher.PodCrash(SampleCrash()));
  ASSERT_TRUE(
      testing_util::WaitFor([&] { return pusher.stats().retried == 1; }, 5));
  ASSERT_TRUE(pusher.PodCrash(SampleCrash()));
  const auto start = std::chrono::steady_clock::now();
  pusher.Stop();
  EXPECT_LT(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count(),
      2.0);
  EXPECT_EQ(pusher.stats().failed, 1);
  EXPECT_EQ(pusher.stats().dropped, 1);
  EXPECT_FALSE(pusher.PodCrash(SampleCrash()));
}

TEST(AlertPusherTest, OptionsFromConfig) {
  core::Config config;
  config.alertmanager_urls = {"http://am-0:9093, http://am-1:9093", ""};
  config.alert_cooldown = 60;
  config.listen = ":9190";
  AlertPusher::Options options = AlertPusher::OptionsFromConfig(config);
  EXPECT_EQ(options.urls,
            (std::vector<std::string>{"http://am-0:9093", "http://am-1:9093"}));
  EXPECT_EQ(options.cooldown, 60);
  EXPECT_EQ(options.build.base_url, "http://localhost:9190");
  config.base_url = "https://crashctl.example.com/";
  EXPECT_EQ(AlertPusher::OptionsFromConfig(config).build.base_url,
            "https://crashctl.example.com");
}

}  // namespace
}  // namespace alertmanager
}  // namespace crashctl
