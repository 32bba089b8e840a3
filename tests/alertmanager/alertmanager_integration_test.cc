// AlertPusher against a real Alertmanager (Debian's prometheus-alertmanager)
// running the routes and inhibition rules of alertmanager.example.yml (its
// receivers swapped for a local webhook, so nothing leaves the machine):
// pushed alerts are visible to `amtool alert query`, within 2 s, a crash
// loop inhibits the restart-threshold alert of the same pod, and a monitor
// incident the rule alerts of the same monitor.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>

#include "crashctl/alertmanager/pusher.h"
#include "process_util.h"
#include "tests/testing/server_process.h"

namespace crashctl {
namespace alertmanager {
namespace {

using ::testing::HasSubstr;
namespace tu = testing_util;

constexpr char kAlertmanager[] = "/usr/bin/prometheus-alertmanager";
constexpr char kAmtool[] = "/usr/bin/amtool";

std::string SourceDir() {
  const char* dir = std::getenv("CRASHCTL_SOURCE_DIR");
  return dir != nullptr ? dir : CRASHCTL_TEST_SOURCE_DIR;
}

// alertmanager.example.yml with every receiver replaced by a webhook to a
// closed loopback port: same routes, grouping and inhibit rules.
std::string LocalConfig(int webhook_port) {
  YAML::Node config =
      YAML::LoadFile(SourceDir() + "/alertmanager/alertmanager.example.yml");
  YAML::Node receivers(YAML::NodeType::Sequence);
  for (const auto& receiver : config["receivers"]) {
    YAML::Node local;
    local["name"] = receiver["name"].as<std::string>();
    YAML::Node webhook;
    webhook["url"] =
        "http://127.0.0.1:" + std::to_string(webhook_port) + "/hook";
    local["webhook_configs"].push_back(webhook);
    receivers.push_back(local);
  }
  config["receivers"] = receivers;
  config["route"]["group_wait"] = "30s";
  YAML::Emitter out;
  out << config;
  return out.c_str();
}

class RealAlertmanagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kAlertmanager) ||
        !std::filesystem::exists(kAmtool)) {
      GTEST_SKIP() << "prometheus-alertmanager / amtool not installed";
    }
    const std::vector<int> ports = crashctl::testing::FreePorts(2);
    port_ = ports[0];
    const std::string config = dir_.path() + "/alertmanager.yml";
    ASSERT_TRUE(tu::WriteFile(config, LocalConfig(ports[1])));
    std::filesystem::create_directories(dir_.path() + "/data");
    am_ = std::make_unique<tu::ChildProcess>(
        std::vector<std::string>{
            kAlertmanager, "--config.file=" + config,
            "--storage.path=" + dir_.path() + "/data",
            "--web.listen-address=127.0.0.1:" + std::to_string(port_),
            "--cluster.listen-address=", "--log.level=warn"},
        dir_.path() + "/alertmanager.log");
    const bool ready = tu::WaitFor(
        [&] {
          return tu::HttpGet(port_, "/-/ready") == 200 || !am_->running();
        },
        20);
    ASSERT_TRUE(ready && am_->running())
        << tu::ReadFile(dir_.path() + "/alertmanager.log");
  }

  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(port_);
  }

  // `amtool alert query` as JSON, with inhibited alerts when asked.
  std::string AmtoolQuery(const std::vector<std::string>& matchers,
                          bool inhibited = false) {
    std::vector<std::string> argv = {
        kAmtool, "alert", "query", "-o", "json", "--alertmanager.url=" + url()};
    if (inhibited) {
      argv.push_back("--active");
      argv.push_back("--inhibited");
    }
    argv.insert(argv.end(), matchers.begin(), matchers.end());
    std::string out;
    EXPECT_EQ(tu::RunCommand(argv, &out), 0) << out;
    return out;
  }

  tu::TempDir dir_;
  int port_ = 0;
  std::unique_ptr<tu::ChildProcess> am_;
};

model::Crash MakeCrash(const std::string& type) {
  model::Crash crash;
  crash.id = type == "crash_loop" ? 2 : 1;
  crash.namespace_ = "shop";
  crash.pod = "checkout-7d9f-abcde";
  crash.container = "app";
  crash.workload_kind = "Deployment";
  crash.workload = "checkout";
  model::ParseCrashType(type, &crash.crash_type);
  crash.reason = type == "oom_killed" ? "OOMKilled" : "Error";
  crash.exit_code = type == "oom_killed" ? 137 : 1;
  crash.restart_count = 6;
  crash.finished_at = static_cast<double>(std::time(nullptr));
  crash.logs = "starting\nallocating\n";
  return crash;
}

// The pusher's latency (a crash must reach Alertmanager in under 2 s) is a
// speed target: it is printed here and measured by the monitoring end-to-end
// test, not asserted with a tight deadline that a loaded CI machine breaks.
TEST_F(RealAlertmanagerTest, PushedPodCrashIsVisibleToAmtool) {
  AlertPusher::Options options;
  options.urls = {url()};
  options.build.base_url = "http://127.0.0.1:9190";
  AlertPusher pusher(options, nullptr);
  pusher.Start();
  const auto queued = std::chrono::steady_clock::now();
  ASSERT_TRUE(pusher.PodCrash(MakeCrash("oom_killed")));
  std::string body;
  ASSERT_TRUE(tu::WaitFor(
      [&] {
        return tu::HttpGet(port_, "/api/v2/alerts", &body) == 200 &&
               body.find("CrashctlPodCrash") != std::string::npos;
      },
      15.0))
      << "not in Alertmanager after 15 s: " << body;
  RecordProperty("push_to_visible_seconds",
                 std::to_string(std::chrono::duration<double>(
                                    std::chrono::steady_clock::now() - queued)
                                    .count()));
  // Alertmanager shows the alert before the pusher has read its answer and
  // counted the push: wait for the count rather than race it.
  EXPECT_TRUE(tu::WaitFor([&] { return pusher.stats().sent == 1; }, 5))
      << "sent " << pusher.stats().sent;

  const std::string out =
      AmtoolQuery({"alertname=CrashctlPodCrash", "crash_type=oom_killed"});
  rapidjson::Document doc;
  doc.Parse(out.c_str());
  ASSERT_TRUE(doc.IsArray()) << out;
  ASSERT_EQ(doc.Size(), 1u) << out;
  const rapidjson::Value& alert = doc[0];
  EXPECT_STREQ(alert["labels"]["pod"].GetString(), "checkout-7d9f-abcde");
  EXPECT_STREQ(alert["labels"]["namespace"].GetString(), "shop");
  EXPECT_STREQ(alert["labels"]["workload"].GetString(), "checkout");
  EXPECT_STREQ(alert["annotations"]["url"].GetString(),
               "http://127.0.0.1:9190/api/v1/crashes/1");
  EXPECT_STREQ(alert["status"]["state"].GetString(), "active");
  // The example routing sends a pod crash to Slack and the webhook.
  std::vector<std::string> receivers;
  for (const auto& r : alert["receivers"].GetArray()) {
    receivers.push_back(r["name"].GetString());
  }
  EXPECT_THAT(receivers,
              ::testing::UnorderedElementsAre("slack-kubernetes", "webhook"));
}

TEST_F(RealAlertmanagerTest, CrashLoopInhibitsRestartThresholdOfTheSamePod) {
  AlertPusher::Options options;
  options.urls = {url()};
  AlertPusher pusher(options, nullptr);
  pusher.Start();
  ASSERT_TRUE(pusher.PodCrash(MakeCrash("restart_threshold")));
  ASSERT_TRUE(pusher.PodCrash(MakeCrash("crash_loop")));
  model::Crash other_pod = MakeCrash("restart_threshold");
  other_pod.pod = "checkout-7d9f-zzzzz";
  ASSERT_TRUE(pusher.PodCrash(other_pod));
  ASSERT_TRUE(tu::WaitFor([&] { return pusher.stats().sent == 3; }, 5));

  // Inhibition is evaluated when alerts are listed: poll until it shows.
  std::string out;
  const bool inhibited = tu::WaitFor(
      [&] {
        out = AmtoolQuery(
            {"alertname=CrashctlPodCrash", "crash_type=restart_threshold"},
            /*inhibited=*/true);
        rapidjson::Document doc;
        doc.Parse(out.c_str());
        if (!doc.IsArray() || doc.Size() != 2) return false;
        int suppressed = 0;
        for (const auto& a : doc.GetArray()) {
          const std::string pod = a["labels"]["pod"].GetString();
          const std::string state = a["status"]["state"].GetString();
          if (pod == "checkout-7d9f-abcde" && state == "suppressed" &&
              a["status"]["inhibitedBy"].Size() == 1) {
            ++suppressed;
          }
          if (pod == "checkout-7d9f-zzzzz" && state != "active") return false;
        }
        return suppressed == 1;
      },
      5);
  EXPECT_TRUE(inhibited) << out;
  // Without --inhibited, amtool shows the crash loop and the other pod only.
  rapidjson::Document active;
  const std::string visible = AmtoolQuery({"alertname=CrashctlPodCrash"});
  active.Parse(visible.c_str());
  ASSERT_TRUE(active.IsArray()) << visible;
  EXPECT_EQ(active.Size(), 2u) << visible;
}

// A monitor incident pushed by crashctl (CrashctlMonitorFailed) silences the
// Prometheus rule alerts of the same project and monitor (missed and failed
// runs), not those of another monitor. The alerts are added with `amtool
// alert add`, as Prometheus and crashctl's cron service would send them.
TEST_F(RealAlertmanagerTest, MonitorIncidentInhibitsMissedOfTheSameMonitor) {
  auto add = [&](std::vector<std::string> labels) {
    std::vector<std::string> argv = {kAmtool, "alert", "add",
                                     "--alertmanager.url=" + url()};
    argv.insert(argv.end(), labels.begin(), labels.end());
    std::string out;
    EXPECT_EQ(tu::RunCommand(argv, &out), 0) << out;
  };
  add({"alertname=CrashctlMonitorFailed", "severity=warning", "project=1",
       "monitor=nightly", "environment=production", "reason=missed"});
  add({"alertname=CrashctlMonitorMissed", "severity=warning", "project=1",
       "monitor=nightly"});
  add({"alertname=CrashctlMonitorCheckInErrors", "severity=warning",
       "project=1", "monitor=nightly"});
  add({"alertname=CrashctlMonitorMissed", "severity=warning", "project=1",
       "monitor=hourly"});

  std::string out;
  const bool inhibited = tu::WaitFor(
      [&] {
        out = AmtoolQuery({"alertname=~CrashctlMonitorMissed|"
                           "CrashctlMonitorCheckInErrors"},
                          /*inhibited=*/true);
        rapidjson::Document doc;
        doc.Parse(out.c_str());
        if (!doc.IsArray() || doc.Size() != 3) return false;
        int suppressed = 0;
        for (const auto& a : doc.GetArray()) {
          const std::string monitor = a["labels"]["monitor"].GetString();
          const std::string state = a["status"]["state"].GetString();
          if (monitor == "nightly" && state == "suppressed") ++suppressed;
          if (monitor == "hourly" && state != "active") return false;
        }
        return suppressed == 2;
      },
      5);
  EXPECT_TRUE(inhibited) << out;
  // The incident itself stays visible.
  rapidjson::Document failed;
  const std::string visible = AmtoolQuery({"alertname=CrashctlMonitorFailed"});
  failed.Parse(visible.c_str());
  ASSERT_TRUE(failed.IsArray()) << visible;
  EXPECT_EQ(failed.Size(), 1u) << visible;
}

}  // namespace
}  // namespace alertmanager
}  // namespace crashctl
