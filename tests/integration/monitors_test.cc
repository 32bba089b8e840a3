// Cron monitors end to end: the real crashctl binary on a loopback port.
//  * Relay's HTTP check-in form (GET and POST, key in the path, in the
//    query, in X-Sentry-Auth; a JSON body with a monitor config), its
//    refusals (bad status, unknown key, too many monitors);
//  * the real @sentry/node captureCheckIn / withMonitor
//    (tests/integration/monitors_node_client.js; skipped when missing);
//  * GET /api/v1/monitors, /api/v1/monitors/{id}, .../checkins and the
//    crashctl_monitor_* series on /metrics;
//  * a run missed while crashctl was down reported once after restarts,
//    and (PostgreSQL) by exactly one of two replicas.
// Every case runs on both storage drivers (the PostgreSQL cases skip when
// PostgreSQL is not installed).
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <map>
#include <string>
#include <vector>

#include "tests/testing/postgres_server.h"
#include "tests/testing/server_process.h"
#include "tests/testing/temp_dir.h"

namespace crashctl {
namespace {

using testing::HttpResult;
using testing::ServerProcess;

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

rapidjson::Document ParseJson(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse(text.c_str(), text.size());
  EXPECT_FALSE(doc.HasParseError()) << text;
  return doc;
}

// The value of the /metrics line that starts with `series` (exact name and
// labels as exposed); -1 when absent.
double MetricLine(const std::string& metrics, const std::string& series) {
  size_t pos = 0;
  while ((pos = metrics.find(series, pos)) != std::string::npos) {
    if (pos == 0 || metrics[pos - 1] == '\n') {
      const size_t space = metrics.find(' ', pos + series.size());
      if (space == pos + series.size()) {
        return std::strtod(metrics.c_str() + space + 1, nullptr);
      }
    }
    pos += series.size();
  }
  return -1;
}

class MonitorsIntegrationTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string why;
    if (!testing::StorageEnv(GetParam(), &storage_, &why)) GTEST_SKIP() << why;
  }
  bool postgres() const { return GetParam() == "postgres"; }
  // The storage settings of this test, with `env` added.
  std::map<std::string, std::string> Env(
      std::map<std::string, std::string> env = {}) const {
    env.insert(storage_.begin(), storage_.end());
    return env;
  }
  void Start(std::map<std::string, std::string> env = {}) {
    std::string error;
    ServerProcess::Options options;
    options.env = Env(std::move(env));
    server_ = ServerProcess::Start(options, &error);
    ASSERT_TRUE(server_) << error;
    // On PostgreSQL a restarted server has the same database (and project).
    if (postgres() && project_.id != 0) return;
    project_ = server_->CreateProject("jobs");
    ASSERT_FALSE(project_.key.empty());
    pid_ = std::to_string(project_.id);
  }
  std::string Cron(const std::string& slug, bool with_key = true) {
    return "/api/" + pid_ + "/cron/" + slug + "/" +
           (with_key ? project_.key + "/" : "");
  }
  rapidjson::Document GetJson(const std::string& path, long want = 200) {
    HttpResult r = server_->Get(path);
    EXPECT_EQ(r.status, want) << path << ": " << r.body;
    return ParseJson(r.status == want ? r.body : "{}");
  }

  std::map<std::string, std::string> storage_;  // CRASHCTL_STORAGE_*
  std::unique_ptr<ServerProcess> server_;
  ServerProcess::ProjectInfo project_;
  std::string pid_;
};
INSTANTIATE_TEST_SUITE_P(Backends, MonitorsIntegrationTest,
                         ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

TEST_P(MonitorsIntegrationTest, HttpFormRestAndMetrics) {
  Start();
  // GET with the key in the path and the status in the query.
  HttpResult r = server_->Get(Cron("daily-report") + "?status=ok");
  EXPECT_EQ(r.status, 202) << r.body << server_->Log();
  EXPECT_NE(r.body.find("\"id\""), std::string::npos) << r.body;
  // POST without the key segment: the key from the query.
  const std::string id = "83a7c03ed0a04e1b97e2e3b18d38f244";
  r = server_->Post(Cron("daily-report", false) + "?sentry_key=" +
                        project_.key + "&status=in_progress&check_in_id=" + id,
                    "");
  EXPECT_EQ(r.status, 202) << r.body;
  EXPECT_NE(r.body.find(id), std::string::npos) << r.body;
  // ... and from X-Sentry-Auth.
  r = server_->Post(
      Cron("daily-report", false) + "?status=error&check_in_id=" + id +
          "&duration=2.5",
      "",
      {"X-Sentry-Auth: Sentry sentry_version=7, sentry_key=" + project_.key});
  EXPECT_EQ(r.status, 202) << r.body;
  // A JSON body with a monitor config (the path's slug wins).
  r = server_->Post(
      Cron("weekly-cleanup"),
      R"({"monitor_slug":"ignored","status":"ok","environment":"staging",)"
      R"("monitor_config":{"schedule":{"type":"crontab","value":"0 4 * * MON"},)"
      R"("checkin_margin":10,"max_runtime":60,"timezone":"Europe/Vienna"}})",
      {"Content-Type: application/json"});
  EXPECT_EQ(r.status, 202) << r.body;

  // Refusals: a bad status, an unknown key, a key of another project.
  r = server_->Get(Cron("daily-report") + "?status=missed");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("error"), std::string::npos);
  r = server_->Get("/api/" + pid_ +
                   "/cron/daily-report/0123456789abcdef0123456789abcdef/"
                   "?status=ok");
  EXPECT_EQ(r.status, 403) << r.body;
  r = server_->Get("/api/" + pid_ + "/cron/daily-report/?status=ok");
  EXPECT_EQ(r.status, 401) << r.body;

  // REST.
  rapidjson::Document doc = GetJson("/api/v1/monitors?project=" + pid_);
  ASSERT_TRUE(doc.HasMember("items") && doc["items"].IsArray());
  ASSERT_EQ(doc["items"].Size(), 2u);
  const auto& daily = doc["items"][0];
  EXPECT_STREQ(daily["slug"].GetString(), "daily-report");
  EXPECT_STREQ(daily["environment"].GetString(), "production");
  EXPECT_STREQ(daily["status"].GetString(), "error");
  EXPECT_TRUE(daily["schedule"].IsNull());
  EXPECT_EQ(daily["checkins_total"].GetInt64(), 3);
  EXPECT_TRUE(daily["incident_open"].GetBool());
  const auto& weekly = doc["items"][1];
  EXPECT_STREQ(weekly["slug"].GetString(), "weekly-cleanup");
  EXPECT_STREQ(weekly["environment"].GetString(), "staging");
  ASSERT_TRUE(weekly["schedule"].IsObject());
  EXPECT_STREQ(weekly["schedule"]["type"].GetString(), "crontab");
  EXPECT_STREQ(weekly["schedule"]["value"].GetString(), "0 4 * * MON");
  EXPECT_EQ(weekly["checkin_margin"].GetInt64(), 10);
  EXPECT_EQ(weekly["max_runtime"].GetInt64(), 60);
  EXPECT_STREQ(weekly["timezone"].GetString(), "Europe/Vienna");
  EXPECT_TRUE(weekly["next_expected"].IsString());

  const std::string daily_id = std::to_string(daily["id"].GetInt64());
  doc = GetJson("/api/v1/monitors/" + daily_id);
  ASSERT_TRUE(doc.HasMember("checkins") && doc["checkins"].IsArray());
  ASSERT_EQ(doc["checkins"].Size(), 3u);
  EXPECT_STREQ(doc["checkins"][0]["status"].GetString(), "error");
  EXPECT_STREQ(doc["checkins"][0]["kind"].GetString(), "run_finished");
  EXPECT_EQ(doc["checkins"][0]["duration"].GetDouble(), 2.5);
  ASSERT_TRUE(doc["in_progress"].IsArray());
  EXPECT_EQ(doc["in_progress"].Size(), 0u);
  doc = GetJson("/api/v1/monitors/" + daily_id + "/checkins?limit=2");
  ASSERT_EQ(doc["items"].Size(), 2u);
  ASSERT_TRUE(doc["next_cursor"].IsString());
  doc = GetJson("/api/v1/monitors/" + daily_id + "/checkins?limit=2&cursor=" +
                std::string(doc["next_cursor"].GetString()));
  ASSERT_EQ(doc["items"].Size(), 1u);
  EXPECT_TRUE(doc["next_cursor"].IsNull());
  GetJson("/api/v1/monitors/999999", 404);
  GetJson("/api/v1/monitors/abc", 400);
  GetJson("/api/v1/monitors?colour=blue", 400);
  GetJson("/api/v1/monitors?project=x", 400);
  GetJson("/api/v1/monitors?limit=0", 400);
  GetJson("/api/v1/monitors?cursor=bad!", 400);

  // Metrics.
  HttpResult m = server_->Get("/metrics");
  ASSERT_EQ(m.status, 200);
  const std::string labels =
      "{monitor=\"daily-report\",project=\"" + pid_ + "\"";
  EXPECT_EQ(MetricLine(m.body, "crashctl_monitor_checkins_total" + labels +
                                   ",status=\"ok\"}"),
            1)
      << m.body.substr(0, 0);
  EXPECT_EQ(MetricLine(m.body, "crashctl_monitor_checkins_total" + labels +
                                   ",status=\"error\"}"),
            1);
  EXPECT_EQ(MetricLine(m.body, "crashctl_monitor_checkins_total" + labels +
                                   ",status=\"in_progress\"}"),
            1);
  EXPECT_EQ(MetricLine(m.body, "crashctl_monitor_incident_open" + labels + "}"),
            1);
  EXPECT_GT(MetricLine(m.body,
                       "crashctl_monitor_last_checkin_timestamp_"
                       "seconds" +
                           labels + "}"),
            1.7e9);
  EXPECT_EQ(MetricLine(m.body, "crashctl_monitors{project=\"" + pid_ + "\"}"),
            2);
  EXPECT_GE(MetricLine(m.body,
                       "crashctl_ingest_rejected_total{reason=\"invalid_check_"
                       "in\"}"),
            1);
}

TEST_P(MonitorsIntegrationTest, MaxPerProjectAndDisabled) {
  Start({{"CRASHCTL_MONITORS_MAX_PER_PROJECT", "1"}});
  EXPECT_EQ(server_->Get(Cron("a") + "?status=ok").status, 202);
  HttpResult r = server_->Get(Cron("b") + "?status=ok");
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_NE(r.body.find("max_per_project"), std::string::npos) << r.body;
  EXPECT_EQ(server_->Get(Cron("a") + "?status=ok").status, 202);
  server_.reset();
  Start({{"CRASHCTL_MONITORS_ENABLED", "false"}});
  r = server_->Get(Cron("a") + "?status=ok");
  EXPECT_EQ(r.status, 404) << r.body;
}

TEST_P(MonitorsIntegrationTest, SentryNodeCaptureCheckIn) {
  const char* node_path = std::getenv("NODE_PATH");
  const std::string modules =
      node_path != nullptr && *node_path != '\0'
          ? node_path
          : testing::SourceDir() + "/tests/node_modules";
  if (!Exists(modules + "/@sentry/node/package.json")) {
    GTEST_SKIP() << "@sentry/node is not installed under " << modules;
  }
  Start();
  testing::CommandResult run = testing::RunCommand(
      {"node",
       testing::SourceDir() + "/tests/integration/monitors_node_client.js",
       project_.dsn},
      {{"NODE_PATH", modules}}, 90);
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err << server_->Log();
  rapidjson::Document doc;
  const bool ok = testing::WaitFor(
      [&] {
        doc = GetJson("/api/v1/monitors?project=" + pid_);
        return doc.HasMember("items") && doc["items"].IsArray() &&
               doc["items"].Size() == 2;
      },
      15);
  ASSERT_TRUE(ok) << server_->Log();
  std::map<std::string, const rapidjson::Value*> by_slug;
  for (const auto& m : doc["items"].GetArray()) {
    by_slug[m["slug"].GetString()] = &m;
  }
  ASSERT_EQ(by_slug.count("node-nightly"), 1u);
  ASSERT_EQ(by_slug.count("node-hourly-sync"), 1u);
  const rapidjson::Value& nightly = *by_slug["node-nightly"];
  EXPECT_STREQ(nightly["status"].GetString(), "ok");
  EXPECT_STREQ(nightly["schedule"]["value"].GetString(), "0 3 * * *");
  EXPECT_STREQ(nightly["timezone"].GetString(), "Europe/Vienna");
  EXPECT_EQ(nightly["checkin_margin"].GetInt64(), 5);
  EXPECT_EQ(nightly["checkins_total"].GetInt64(), 2);
  const rapidjson::Value& sync = *by_slug["node-hourly-sync"];
  EXPECT_STREQ(sync["status"].GetString(), "error");
  EXPECT_STREQ(sync["schedule"]["type"].GetString(), "interval");
  EXPECT_EQ(sync["schedule"]["value"].GetInt64(), 2);
  EXPECT_STREQ(sync["schedule"]["unit"].GetString(), "hour");

  HttpResult m = server_->Get("/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_EQ(MetricLine(m.body,
                       "crashctl_monitor_checkins_total{monitor=\"node-"
                       "nightly\",project=\"" +
                           pid_ + "\",status=\"ok\"}"),
            1);
  EXPECT_EQ(MetricLine(m.body,
                       "crashctl_monitor_checkins_total{monitor=\"node-"
                       "hourly-sync\",project=\"" +
                           pid_ + "\",status=\"error\"}"),
            1);
}

// "2026-12-02T18:37:00.000Z" -> epoch seconds; -1 when malformed.
int64_t EpochOf(const std::string& rfc3339) {
  std::tm tm{};
  if (strptime(rfc3339.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) == nullptr) return -1;
  return static_cast<int64_t>(timegm(&tm));
}

// crashctl is down when a run's margin passes: the next crashctl reports
// that run missed once, and a further restart does not report it again.
// A "* * * * *" crontab with the minimum margin (1 minute); the restarted
// servers' scheduler clock runs ahead past the margin
// (CRASHCTL_TEST_CRON_CLOCK_OFFSET), so the test need not wait for it.
TEST_P(MonitorsIntegrationTest, RestartInTheMiddleReportsMissedRunOnce) {
  testing::TempDir data("monitors-restart");
  ServerProcess::Options options;
  options.data_dir = data.path();
  options.env = Env();
  std::string error;
  server_ = ServerProcess::Start(options, &error);
  ASSERT_TRUE(server_) << error;
  project_ = server_->CreateProject("jobs");
  pid_ = std::to_string(project_.id);
  HttpResult r = server_->Post(
      Cron("every-minute"),
      R"({"status":"ok","monitor_config":{"schedule":{"type":"crontab",)"
      R"("value":"* * * * *"},"checkin_margin":1}})",
      {"Content-Type: application/json"});
  ASSERT_EQ(r.status, 202) << r.body;
  rapidjson::Document doc = GetJson("/api/v1/monitors?project=" + pid_);
  ASSERT_EQ(doc["items"].Size(), 1u);
  const std::string id = std::to_string(doc["items"][0]["id"].GetInt64());
  const std::string expected = doc["items"][0]["next_expected"].GetString();
  const int64_t run = EpochOf(expected);
  ASSERT_GT(run, 0) << expected;
  server_.reset();  // crashctl is down until the run's margin (60 s) passed
  auto past_the_margin = [&] {
    const int64_t ahead = run + 63 - static_cast<int64_t>(std::time(nullptr));
    options.env["CRASHCTL_TEST_CRON_CLOCK_OFFSET"] =
        std::to_string(ahead > 0 ? ahead : 0);
  };
  past_the_margin();

  // Rows that report the run `expected` missed.
  auto missed_rows = [&](const rapidjson::Document& d) {
    int n = 0;
    for (const auto& c : d["items"].GetArray()) {
      if (std::string(c["kind"].GetString()) != "missed") continue;
      const int64_t first = EpochOf(c["run_started"].GetString());
      const int64_t last = c["last_scheduled"].IsString()
                               ? EpochOf(c["last_scheduled"].GetString())
                               : first;
      if (first <= run && run <= last) ++n;
    }
    return n;
  };
  server_ = ServerProcess::Start(options, &error);
  ASSERT_TRUE(server_) << error;
  const std::string checkins =
      "/api/v1/monitors/" + id + "/checkins?limit=1000";
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        doc = GetJson(checkins);
        return doc.HasMember("items") && missed_rows(doc) >= 1;
      },
      20))
      << server_->Log();
  EXPECT_EQ(missed_rows(doc), 1);
  HttpResult m = server_->Get("/metrics");
  EXPECT_GE(MetricLine(m.body,
                       "crashctl_monitor_missed_total{monitor=\"every-"
                       "minute\",project=\"" +
                           pid_ + "\"}"),
            1);
  server_.reset();
  // Another restart: the run is not reported again.
  past_the_margin();
  server_ = ServerProcess::Start(options, &error);
  ASSERT_TRUE(server_) << error;
  ::usleep(500 * 1000);
  doc = GetJson(checkins);
  EXPECT_EQ(missed_rows(doc), 1) << server_->Log();
}

// Two replicas on one PostgreSQL database, both schedulers past a run's
// margin at once: the run is recorded missed once, by one of them, and the
// replicas' crashctl_monitor_missed_total sum to 1.
TEST_P(MonitorsIntegrationTest, TwoReplicasReportAMissedRunOnce) {
  if (!postgres()) GTEST_SKIP() << "replicas need the postgres driver";
  Start();
  HttpResult r = server_->Post(
      Cron("every-minute"),
      R"({"status":"ok","monitor_config":{"schedule":{"type":"crontab",)"
      R"("value":"* * * * *"},"checkin_margin":1}})",
      {"Content-Type: application/json"});
  ASSERT_EQ(r.status, 202) << r.body;
  rapidjson::Document doc = GetJson("/api/v1/monitors?project=" + pid_);
  ASSERT_EQ(doc["items"].Size(), 1u);
  const std::string id = std::to_string(doc["items"][0]["id"].GetInt64());
  const int64_t run = EpochOf(doc["items"][0]["next_expected"].GetString());
  ASSERT_GT(run, 0);
  server_.reset();
  const int64_t ahead = run + 63 - static_cast<int64_t>(std::time(nullptr));
  ServerProcess::Options options;
  options.env = Env({{"CRASHCTL_TEST_CRON_CLOCK_OFFSET",
                      std::to_string(ahead > 0 ? ahead : 0)}});
  std::string error;
  std::unique_ptr<ServerProcess> a = ServerProcess::Start(options, &error);
  ASSERT_TRUE(a) << error;
  std::unique_ptr<ServerProcess> b = ServerProcess::Start(options, &error);
  ASSERT_TRUE(b) << error;
  const std::string path = "/api/v1/monitors/" + id + "/checkins?limit=1000";
  auto missed = [](const rapidjson::Document& d) {
    int n = 0;
    if (!d.HasMember("items") || !d["items"].IsArray()) return -1;
    for (const auto& c : d["items"].GetArray()) {
      if (std::string(c["kind"].GetString()) == "missed") ++n;
    }
    return n;
  };
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        HttpResult got = b->Get(path);
        doc = ParseJson(got.status == 200 ? got.body : "{}");
        return missed(doc) >= 1;
      },
      20))
      << a->Log() << b->Log();
  // Both schedulers have run at least once more (they wake every 30 s at
  // the latest; a due monitor at once): the row stays one.
  const std::string series =
      "crashctl_monitor_missed_total{monitor=\"every-"
      "minute\",project=\"" +
      pid_ + "\"}";
  auto sum = [&] {
    double total = 0;
    for (ServerProcess* s : {a.get(), b.get()}) {
      const double v = MetricLine(s->Get("/metrics").body, series);
      if (v > 0) total += v;
    }
    return total;
  };
  EXPECT_TRUE(testing::WaitFor([&] { return sum() >= 1; }, 10));
  ::usleep(1500 * 1000);
  HttpResult got = a->Get(path);
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(missed(ParseJson(got.body)), 1) << got.body;
  EXPECT_EQ(sum(), 1) << a->Get("/metrics").body << b->Get("/metrics").body;
}

}  // namespace
}  // namespace crashctl
