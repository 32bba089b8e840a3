#include "crashctl/alertmanager/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "crashctl/cron/monitor_service.h"
#include "crashctl/exporter/exporter.h"
#include "crashctl/exporter/store_metrics.h"
#include "crashctl/health/session_service.h"
#include "crashctl/http/metrics.h"
#include "crashctl/ingest/metrics.h"
#include "crashctl/ingest/transaction_metrics.h"
#include "crashctl/kube/metrics.h"
#include "crashctl/util/time.h"
#include "tests/rest/fake_store.h"
#include "tests/testing/temp_dir.h"

namespace crashctl {
namespace exporter {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Sample lines of the exposition: "name{labels}" -> value text.
std::map<std::string, std::string> Samples(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t space = line.rfind(' ');
    out[line.substr(0, space)] = line.substr(space + 1);
  }
  return out;
}

// "# TYPE name type" lines: name -> type.
std::map<std::string, std::string> Types(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string hash, kw, name, type;
    words >> hash >> kw >> name >> type;
    if (hash == "#" && kw == "TYPE") out[name] = type;
  }
  return out;
}

// Every component's families on one Exporter, as `crashctl serve` wires them.
struct AllMetrics {
  explicit AllMetrics(size_t max_services = 100)
      : exporter(Opts(max_services)),
        store(&exporter, nullptr, 20),
        ingest(exporter.registry(), exporter.services()),
        transactions(exporter.registry(), {}),
        http(exporter.registry()),
        kube(exporter.registry()),
        alerts(exporter.registry()),
        sessions(&session_store, exporter.registry(), {}),
        monitors(&monitor_store, exporter.registry(), nullptr, {}) {}
  static Exporter::Options Opts(size_t max_services) {
    Exporter::Options o;
    o.version = "1.2.3";
    o.max_services = max_services;
    return o;
  }
  std::string Serialize() { return exporter.Serialize(); }

  Exporter exporter;
  StoreMetrics store;
  ingest::Metrics ingest;
  ingest::TransactionMetrics transactions;
  http::Metrics http;
  kube::Metrics kube;
  alertmanager::Metrics alerts;
  // Counts every session it is given as exited; never Start()ed.
  struct SessionStore : testing::FakeStore {
    Status WriteSessions(const store::SessionWrite& write,
                         std::vector<releases::SessionCount>* counts) override {
      counts->clear();
      for (const releases::SessionUpdate& u : write.updates) {
        releases::SessionCount count;
        count.project_id = write.project_id;
        count.release = u.attrs.release;
        counts->push_back(count);
      }
      return Status::Ok();
    }
  } session_store;
  health::SessionService sessions;
  // Answers every check-in with one stored ok check-in row; never
  // Start()ed.
  struct MonitorStore : testing::FakeStore {
    Status ApplyCheckIn(int64_t project_id, const releases::CheckIn& check_in,
                        int64_t now, size_t max_monitors,
                        store::MonitorUpdate* out) override {
      (void)max_monitors;
      *out = store::MonitorUpdate{};
      out->monitor.id = 1;
      out->monitor.project_id = project_id;
      out->monitor.slug = check_in.monitor_slug;
      out->monitor.environment = check_in.environment;
      out->created = true;
      releases::CheckInRecord record;
      record.status = "ok";
      record.received = now;
      out->transition.records.push_back(record);
      out->transition.last_checkin_timestamp = now;
      return Status::Ok();
    }
  } monitor_store;
  cron::MonitorService monitors;
};

// Calls every method so every family has at least one series.
void Populate(AllMetrics* m) {
  releases::SessionUpdate session;
  session.attrs.release = "app@1";
  ASSERT_TRUE(m->sessions.Record(1, {session}, {}, 0).ok());
  model::WriteItem new_group;
  new_group.event.project_id = 1;
  new_group.event.release = "app@1";
  model::WriteOutcome created;
  created.new_group = true;
  m->sessions.OnEventStored(new_group, created);
  releases::CheckIn check_in;
  check_in.monitor_slug = "nightly";
  check_in.environment = "production";
  ASSERT_TRUE(m->monitors.CheckIn(1, check_in).ok());
  m->ingest.AttachmentStored(1, 10);
  m->ingest.FeedbackStored(1, "feedback");
  m->ingest.EventStored(1, model::Level::kError, "api");
  m->ingest.GroupCreated(1);
  m->ingest.GroupRegressed(1);
  m->ingest.ObserveIngestion(0.003);
  m->ingest.Rejected("queue_full");
  m->ingest.EnvelopeItem("session");
  m->ingest.SetQueue(5, 100);
  m->ingest.ObserveWriteBatch(16, 0.02);
  m->ingest.SetStorageUp(true);
  tracing::Transaction tx;
  tx.name = "GET /orders/:id";
  tx.source = "route";
  tx.status = "ok";
  tx.method = "GET";
  tx.service = "api";
  tx.start = 1700000000;
  tx.end = 1700000000.25;
  tracing::Span span;
  span.op = "db.query";
  span.start = tx.start;
  span.end = tx.start + 0.01;
  tx.spans.push_back(span);
  m->transactions.Observe(1, tx);
  m->transactions.Outcome(1, "stored");
  m->store.SetWriteRetries(2);
  m->store.RetentionDeleted(7);
  m->http.Request("/api/v1/groups", "GET", 200, 0.001);
  m->kube.PodCrash("default", model::CrashType::kOomKilled);
  m->kube.SetPodsCrashLooping("default", 1);
  m->kube.SetWatchUp("default", true);
  m->kube.WatchRestart("default", "expired");
  m->kube.SetEventsWatchUp("default", true);
  m->kube.SetLastEvent(1700000000);
  m->alerts.Push("sent");
  m->alerts.SetQueue(1, 1000);
  m->store.SetTopGroups({{1, 42, "api", 17}});
}

TEST(MetricsTest, InitialSeriesAreZero) {
  AllMetrics m;
  auto s = Samples(m.Serialize());
  EXPECT_EQ(s["crashctl_build_info{version=\"1.2.3\"}"], "1");
  EXPECT_EQ(s["crashctl_ingest_queue_depth"], "0");
  EXPECT_EQ(s["crashctl_ingest_queue_capacity"], "0");
  EXPECT_EQ(s["crashctl_storage_size_bytes"], "0");
  EXPECT_EQ(s["crashctl_group_counters_pending"], "0");
  EXPECT_EQ(s["crashctl_storage_busy_retries_total"], "0");
  EXPECT_EQ(s["crashctl_storage_up"], "1");
  EXPECT_EQ(s["crashctl_retention_deleted_events_total"], "0");
  EXPECT_EQ(s["crashctl_ingestion_duration_seconds_count"], "0");
  EXPECT_EQ(s["crashctl_write_batch_size_count"], "0");
  EXPECT_EQ(s["crashctl_write_batch_duration_seconds_count"], "0");
  EXPECT_EQ(s["crashctl_kube_last_event_timestamp_seconds"], "0");
  EXPECT_EQ(s["crashctl_alert_queue_depth"], "0");
  EXPECT_EQ(s["crashctl_alert_queue_capacity"], "0");
  for (const auto& reason : ingest::Metrics::KnownRejectReasons()) {
    EXPECT_EQ(s["crashctl_ingest_rejected_total{reason=\"" + reason + "\"}"],
              "0")
        << reason;
  }
  for (const auto& type : ingest::Metrics::KnownEnvelopeItemTypes()) {
    EXPECT_EQ(s["crashctl_envelope_items_total{type=\"" + type + "\"}"], "0")
        << type;
  }
  for (const auto& outcome : alertmanager::Metrics::KnownOutcomes()) {
    EXPECT_EQ(s["crashctl_alert_pushes_total{outcome=\"" + outcome + "\"}"],
              "0")
        << outcome;
  }
  EXPECT_EQ(ingest::Metrics::KnownEnvelopeItemTypes().size(), 13u);
}

TEST(MetricsTest, EachMethodProducesItsSeries) {
  AllMetrics m;
  Populate(&m);
  m.ingest.EventStored(1, model::Level::kError, "api");
  m.ingest.EventStored(2, model::Level::kWarning, "");
  m.ingest.Rejected("queue_full");
  m.ingest.Rejected("something_new");
  m.ingest.EnvelopeItem("made_up");
  m.store.SetWriteRetries(5);  // +3
  m.store.SetWriteRetries(1);  // lower total: baseline resets, no decrease
  m.store.SetWriteRetries(2);  // +1
  m.ingest.SetStorageUp(false);
  m.store.RetentionDeleted(3);
  m.http.Request("/api/v1/groups", "GET", 200, 0.2);
  m.http.Request("/api/v1/groups", "BREW", 999, 0.2);
  m.http.Request("", "POST", 404, 0.2);
  m.kube.PodCrash("default", model::CrashType::kOomKilled);
  m.kube.PodCrash("prod", model::CrashType::kErrorExit);
  m.kube.PodCrash("", model::CrashType::kCrashLoop);
  m.kube.WatchRestart("default", "nonsense");
  m.kube.SetWatchUp("prod", false);
  m.kube.SetWatchUp("", true);
  m.alerts.Push("mystery");

  const std::string text = m.Serialize();
  auto s = Samples(text);
  const std::map<std::string, std::string> want = {
      {"crashctl_events_total{level=\"error\",project=\"1\",service=\"api\"}",
       "2"},
      {"crashctl_events_total{level=\"warning\",project=\"2\",service="
       "\"unknown\"}",
       "1"},
      {"crashctl_groups_created_total{project=\"1\"}", "1"},
      {"crashctl_group_regressions_total{project=\"1\"}", "1"},
      {"crashctl_ingestion_duration_seconds_count", "1"},
      {"crashctl_ingestion_duration_seconds_bucket{le=\"0.005\"}", "1"},
      {"crashctl_ingestion_duration_seconds_bucket{le=\"0.0025\"}", "0"},
      {"crashctl_ingestion_duration_seconds_bucket{le=\"0.0005\"}", "0"},
      {"crashctl_ingestion_duration_seconds_bucket{le=\"+Inf\"}", "1"},
      {"crashctl_ingest_rejected_total{reason=\"queue_full\"}", "2"},
      {"crashctl_ingest_rejected_total{reason=\"other\"}", "1"},
      {"crashctl_envelope_items_total{type=\"session\"}", "1"},
      {"crashctl_envelope_items_total{type=\"other\"}", "1"},
      {"crashctl_ingest_queue_depth", "5"},
      {"crashctl_ingest_queue_capacity", "100"},
      {"crashctl_write_batch_size_count", "1"},
      {"crashctl_write_batch_size_sum", "16"},
      {"crashctl_write_batch_size_bucket{le=\"16\"}", "1"},
      {"crashctl_write_batch_size_bucket{le=\"8\"}", "0"},
      {"crashctl_write_batch_duration_seconds_count", "1"},
      {"crashctl_storage_busy_retries_total", "6"},
      {"crashctl_storage_up", "0"},
      {"crashctl_retention_deleted_events_total", "10"},
      {"crashctl_http_requests_total{code=\"200\",method=\"GET\",route=\"/api/"
       "v1/groups\"}",
       "2"},
      {"crashctl_http_requests_total{code=\"other\",method=\"other\",route=\"/"
       "api/v1/groups\"}",
       "1"},
      {"crashctl_http_requests_total{code=\"404\",method=\"POST\",route="
       "\"unknown\"}",
       "1"},
      {"crashctl_http_request_duration_seconds_count{route=\"/api/v1/groups\"}",
       "3"},
      {"crashctl_pod_crashes_total{crash_type=\"oom_killed\",namespace="
       "\"default\"}",
       "2"},
      {"crashctl_pod_crashes_total{crash_type=\"error_exit\",namespace="
       "\"prod\"}",
       "1"},
      {"crashctl_pod_crashes_total{crash_type=\"crash_loop\",namespace="
       "\"unknown\"}",
       "1"},
      {"crashctl_pods_crashlooping{namespace=\"default\"}", "1"},
      {"crashctl_kube_watch_up{namespace=\"default\"}", "1"},
      {"crashctl_kube_watch_up{namespace=\"prod\"}", "0"},
      {"crashctl_kube_watch_up{namespace=\"all\"}", "1"},
      {"crashctl_kube_watch_restarts_total{namespace=\"default\",reason="
       "\"expired\"}",
       "1"},
      {"crashctl_kube_watch_restarts_total{namespace=\"default\",reason="
       "\"other\"}",
       "1"},
      {"crashctl_kube_last_event_timestamp_seconds", "1700000000"},
      {"crashctl_alert_pushes_total{outcome=\"sent\"}", "1"},
      {"crashctl_alert_pushes_total{outcome=\"other\"}", "1"},
      {"crashctl_alert_queue_depth", "1"},
      {"crashctl_alert_queue_capacity", "1000"},
      {"crashctl_group_events_total{group_id=\"42\",project=\"1\",service="
       "\"api\"}",
       "17"},
      {"crashctl_build_info{version=\"1.2.3\"}", "1"},
  };
  for (const auto& [series, value] : want) {
    ASSERT_TRUE(s.count(series)) << series << " missing in\n" << text;
    EXPECT_EQ(s[series], value) << series;
  }
  // Crash types outside the contract never appear as labels.
  EXPECT_THAT(text, Not(HasSubstr("something")));
  EXPECT_THAT(text, Not(HasSubstr("BREW")));
}

TEST(MetricsTest, ServiceLabelFoldsIntoOtherBeyondMax) {
  AllMetrics m(/*max_services=*/2);
  m.ingest.EventStored(1, model::Level::kError, "a");
  m.ingest.EventStored(1, model::Level::kError, "b");
  m.ingest.EventStored(1, model::Level::kError, "c");
  m.ingest.EventStored(1, model::Level::kError, "d");
  m.ingest.EventStored(1, model::Level::kError, "a");
  auto s = Samples(m.Serialize());
  EXPECT_EQ(
      s["crashctl_events_total{level=\"error\",project=\"1\",service=\"a\"}"],
      "2");
  EXPECT_EQ(
      s["crashctl_events_total{level=\"error\",project=\"1\",service=\"b\"}"],
      "1");
  EXPECT_EQ(s["crashctl_events_total{level=\"error\",project=\"1\",service="
              "\"other\"}"],
            "2");
  EXPECT_FALSE(s.count(
      "crashctl_events_total{level=\"error\",project=\"1\",service=\"c\"}"));
  EXPECT_EQ(m.exporter.services()->Fold("zzz"), "other");
}

TEST(MetricsTest, TopGroupsSnapshotIsReplaced) {
  AllMetrics m;
  m.store.SetTopGroups({{1, 10, "api", 5}, {2, 20, "", 9}});
  std::string text = m.Serialize();
  EXPECT_THAT(text, HasSubstr("# TYPE crashctl_group_events_total counter"));
  auto s = Samples(text);
  EXPECT_EQ(s["crashctl_group_events_total{group_id=\"10\",project=\"1\","
              "service=\"api\"}"],
            "5");
  EXPECT_EQ(s["crashctl_group_events_total{group_id=\"20\",project=\"2\","
              "service=\"unknown\"}"],
            "9");
  m.store.SetTopGroups({{1, 10, "api", 6}});
  s = Samples(m.Serialize());
  EXPECT_EQ(s["crashctl_group_events_total{group_id=\"10\",project=\"1\","
              "service=\"api\"}"],
            "6");
  EXPECT_FALSE(
      s.count("crashctl_group_events_total{group_id=\"20\",project=\"2\","
              "service=\"unknown\"}"));
  m.store.SetTopGroups({});
  EXPECT_THAT(m.Serialize(), Not(HasSubstr("crashctl_group_events_total")));
}

// A store whose stats a test sets.
class StatsStore : public testing::FakeStore {
 public:
  Stats stats;
  Stats GetStats() override { return stats; }
};

TEST(StoreMetricsTest, RefreshMirrorsTheStore) {
  StatsStore store;
  store.projects = {{1, "app", "k1", 0}, {2, "web", "k2", 0}};
  Exporter exporter(Exporter::Options{});
  StoreMetrics metrics(&exporter, &store, 20);
  store.stats = {4096, 5, 7};
  auto s = Samples(exporter.Serialize());
  EXPECT_EQ(s["crashctl_storage_size_bytes"], "4096");
  EXPECT_EQ(s["crashctl_group_counters_pending"], "7");
  EXPECT_EQ(s["crashctl_storage_busy_retries_total"], "5");
  // Every status of every project, 0 where the store counts none.
  EXPECT_EQ(s["crashctl_groups_active{project=\"1\",status=\"unresolved\"}"],
            "0");
  EXPECT_EQ(s["crashctl_groups_active{project=\"2\",status=\"ignored\"}"], "0");
  store.stats.write_retries = 2;  // the store was reopened: no decrease
  s = Samples(exporter.Serialize());
  EXPECT_EQ(s["crashctl_storage_busy_retries_total"], "5");
  store.stats.write_retries = 4;
  s = Samples(exporter.Serialize());
  EXPECT_EQ(s["crashctl_storage_busy_retries_total"], "7");
}

// A store of a few groups, merged and deleted as the SQLite one does.
class GroupsStore : public testing::FakeStore {
 public:
  std::map<int64_t, model::Group> by_id;
  Status GetGroup(int64_t id, model::Group* out) override {
    auto it = by_id.find(id);
    if (it == by_id.end()) return Status(Status::Code::kNotFound, "gone");
    *out = it->second;
    return Status::Ok();
  }
};

TEST(StoreMetricsTest, MergedAndDeletedGroupsFollowTheStore) {
  GroupsStore store;
  store.projects = {{1, "app", "k1", 0}};
  for (int64_t id : {1, 2, 3}) {
    model::Group g;
    g.id = id;
    g.project_id = 1;
    g.count = id * 10;
    g.service = "api";
    store.by_id[id] = g;
  }
  Exporter exporter(Exporter::Options{});
  StoreMetrics metrics(&exporter, &store, /*top_groups=*/2);
  const double now = util::NowSeconds();
  auto stored = [&](int64_t group, int events) {
    model::WriteItem item;
    item.event.received = now;
    model::WriteOutcome outcome;
    outcome.group_id = group;
    for (int i = 0; i < events; ++i) metrics.OnEventStored(item, outcome);
  };
  stored(1, 3);
  stored(2, 2);
  stored(3, 4);
  auto s = Samples(exporter.Serialize());
  const std::string g1 =
      "crashctl_group_events_total{group_id=\"1\",project=\"1\","
      "service=\"api\"}";
  const std::string g2 =
      "crashctl_group_events_total{group_id=\"2\",project=\"1\","
      "service=\"api\"}";
  const std::string g3 =
      "crashctl_group_events_total{group_id=\"3\",project=\"1\","
      "service=\"api\"}";
  EXPECT_TRUE(s.count(g3) && s.count(g1));
  EXPECT_FALSE(s.count(g2));

  // The store merged 3 into 2: 2 holds 6 events of the hour, the most.
  store.by_id[2].count = 50;
  store.by_id.erase(3);
  metrics.GroupsMerged(2, {3});
  for (const TopGroup& g : metrics.TopGroups()) EXPECT_NE(g.group_id, 3);
  s = Samples(exporter.Serialize());
  EXPECT_EQ(s[g2], "50");
  EXPECT_EQ(s[g1], "10");
  EXPECT_FALSE(s.count(g3));

  // Deleted: gone at once, and a new group 2 starts from nothing.
  store.by_id.erase(2);
  metrics.GroupsDeleted({2});
  EXPECT_EQ(metrics.TopGroups().size(), 1u);
  model::Group fresh;
  fresh.id = 2;
  fresh.project_id = 1;
  fresh.count = 1;
  fresh.service = "api";
  store.by_id[2] = fresh;
  stored(2, 1);
  s = Samples(exporter.Serialize());
  EXPECT_EQ(s[g2], "1");
  EXPECT_EQ(metrics.TopGroups().front().group_id, 1);  // 3 events > 1
}

TEST(MetricsTest, RefreshHooksRunOnSerialize) {
  AllMetrics m;
  int calls = 0;
  m.exporter.AddRefreshHook([&] {
    ++calls;
    m.kube.SetLastEvent(123);
  });
  auto s = Samples(m.Serialize());
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(s["crashctl_kube_last_event_timestamp_seconds"], "123");
}

TEST(MetricsTest, TextIsWellFormed) {
  AllMetrics m;
  Populate(&m);
  const std::string text = m.Serialize();
  // sample: name{label="v",...} value
  const std::regex sample(
      R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"]*",?)*\})? )"
      R"((-?[0-9.e+-]+|\+Inf|-Inf|NaN)$)");
  const std::regex comment(R"(^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$)");
  auto types = Types(text);
  std::istringstream in(text);
  std::string line;
  int samples = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line[0] == '#') {
      EXPECT_TRUE(std::regex_match(line, comment)) << line;
      continue;
    }
    std::smatch match;
    ASSERT_TRUE(std::regex_match(line, match, sample)) << line;
    ++samples;
    // Every sample belongs to a family with a TYPE line.
    std::string name = match[1];
    bool typed = types.count(name) > 0;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      std::string sfx = suffix;
      if (name.size() > sfx.size() &&
          name.compare(name.size() - sfx.size(), sfx.size(), sfx) == 0 &&
          types[name.substr(0, name.size() - sfx.size())] == "histogram") {
        typed = true;
      }
    }
    EXPECT_TRUE(typed) << name;
  }
  EXPECT_GT(samples, 50);
  for (const auto& [name, type] : types) {
    EXPECT_EQ(name.rfind("crashctl_", 0), 0u) << name;
    if (type == "counter") {
      EXPECT_THAT(name, ::testing::EndsWith("_total"));
    }
  }
}

TEST(MetricsTest, PromtoolCheckMetricsPasses) {
  const char* promtool = "/usr/bin/promtool";
  if (access(promtool, X_OK) != 0) GTEST_SKIP() << "promtool not installed";
  AllMetrics m;
  Populate(&m);
  m.store.SetTopGroups({{1, 42, "api", 17}, {1, 43, "worker", 3}});
  const testing::TempDir dir("metrics-test");
  const std::string path = dir.File("metrics.txt");
  std::ofstream(path) << m.Serialize();
  const std::string out_path = path + ".out";
  const std::string cmd = std::string(promtool) + " check metrics < " + path +
                          " > " + out_path + " 2>&1";
  int status = std::system(cmd.c_str());
  std::ifstream out(out_path);
  std::stringstream output;
  output << out.rdbuf();
  ASSERT_TRUE(WIFEXITED(status)) << cmd;
  EXPECT_EQ(WEXITSTATUS(status), 0) << output.str();
}

// docs/metrics.md: one table row per metric, "| `name` | type | ...".
std::map<std::string, std::string> DocumentedMetrics() {
  const char* dir = std::getenv("CRASHCTL_SOURCE_DIR");
  std::string root = dir != nullptr ? dir : CRASHCTL_TEST_SOURCE_DIR;
  std::ifstream in(root + "/docs/metrics.md");
  EXPECT_TRUE(in) << "cannot read " << root << "/docs/metrics.md";
  std::map<std::string, std::string> out;
  const std::regex row(R"(^\|\s*`(crashctl_[a-z0-9_]+)`\s*\|\s*([a-z]+)\s*\|)");
  std::string line;
  while (std::getline(in, line)) {
    std::smatch match;
    if (std::regex_search(line, match, row)) {
      EXPECT_FALSE(out.count(match[1])) << "documented twice: " << match[1];
      out[match[1]] = match[2];
    }
  }
  return out;
}

TEST(MetricsDocsTest, DocsListExactlyTheExportedFamilies) {
  AllMetrics m;
  Populate(&m);
  auto exported = Types(m.Serialize());
  // The families that mirror a store have series only with one behind them.
  StatsStore store;
  store.projects = {{1, "app", "k1", 0}};
  Exporter with_store(Exporter::Options{});
  StoreMetrics store_metrics(&with_store, &store, 20);
  for (const auto& [name, type] : Types(with_store.Serialize())) {
    exported[name] = type;
  }
  auto documented = DocumentedMetrics();
  std::set<std::string> exported_names, documented_names;
  for (const auto& [name, type] : exported) exported_names.insert(name);
  for (const auto& [name, type] : documented) documented_names.insert(name);
  EXPECT_EQ(exported_names, documented_names);
  for (const auto& [name, type] : exported) {
    if (documented.count(name)) {
      EXPECT_EQ(documented[name], type) << "documented type of " << name;
    }
  }
}

}  // namespace
}  // namespace exporter
}  // namespace crashctl
