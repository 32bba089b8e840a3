// Requests and traces end to end: the real crashctl binary on a loopback
// port, fed by the real Sentry SDKs with tracing on.
//  * @sentry/node 10 in a real express app (route-named transactions,
//    source "route") and a bare `http` server (URL-named, source "url",
//    folded into "<< unparameterized >>" in the metrics):
//    tests/integration/transactions_node_server.js.
//  * sentry_sdk 1.9 (Debian python3-sentry-sdk): transactions with known
//    durations, HTTP statuses, child spans, and an error captured inside a
//    span of a trace with a fixed id: transactions_python_client.py.
// Asserts the histograms on /metrics (bucket counts, per status and route),
// the REST summary's nearest-rank percentiles against the known durations,
// the stored transactions, and the trace -> errors -> groups link of
// GET /api/v1/traces/{id}. Each test is skipped when its SDK is missing.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <sys/stat.h>

#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "server_fixture.h"
#include "tests/testing/server_process.h"

namespace crashctl {
namespace {

using testing::HttpResult;
using testing::ServerProcess;

constexpr char kTraceId[] = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr char kDuration[] = "crashctl_transaction_duration_seconds";
constexpr char kSpan[] = "crashctl_span_duration_seconds";

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

// One sample of the Prometheus text exposition format.
struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// Parses `text` (the body of /metrics): comment lines are skipped, label
// values are unescaped (\\, \", \n).
std::vector<Sample> ParseMetrics(const std::string& text) {
  std::vector<Sample> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty() || line[0] == '#') continue;
    Sample s;
    size_t i = line.find_first_of("{ ");
    if (i == std::string::npos) continue;
    s.name = line.substr(0, i);
    if (line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        const size_t eq = line.find('=', i);
        if (eq == std::string::npos || eq + 1 >= line.size()) break;
        const std::string key = line.substr(i, eq - i);
        std::string value;
        size_t j = eq + 2;  // past ="
        for (; j < line.size() && line[j] != '"'; ++j) {
          if (line[j] == '\\' && j + 1 < line.size()) {
            ++j;
            value += line[j] == 'n' ? '\n' : line[j];
          } else {
            value += line[j];
          }
        }
        s.labels[key] = value;
        i = j + 1;
        if (i < line.size() && line[i] == ',') ++i;
      }
      ++i;  // past }
    }
    while (i < line.size() && line[i] == ' ') ++i;
    s.value = std::strtod(line.c_str() + i, nullptr);
    out.push_back(std::move(s));
  }
  return out;
}

// Sum of the samples named `name` whose labels include `match`.
double Sum(const std::vector<Sample>& samples, const std::string& name,
           const std::map<std::string, std::string>& match) {
  double total = 0;
  for (const Sample& s : samples) {
    if (s.name != name) continue;
    bool all = true;
    for (const auto& [k, v] : match) {
      auto it = s.labels.find(k);
      if (it == s.labels.end() || it->second != v) {
        all = false;
        break;
      }
    }
    if (all) total += s.value;
  }
  return total;
}

// Whether any sample named `name` has label `key` = `value`.
bool HasLabel(const std::vector<Sample>& samples, const std::string& name,
              const std::string& key, const std::string& value) {
  for (const Sample& s : samples) {
    auto it = s.labels.find(key);
    if (s.name == name && it != s.labels.end() && it->second == value) {
      return true;
    }
  }
  return false;
}

std::string Str(const rapidjson::Value& v, const char* key) {
  return v.IsObject() && v.HasMember(key) && v[key].IsString()
             ? v[key].GetString()
             : "";
}

double Num(const rapidjson::Value& v, const char* key) {
  return v.IsObject() && v.HasMember(key) && v[key].IsNumber()
             ? v[key].GetDouble()
             : -1;
}

class TransactionsSdkTest : public testing::ServerWithProjectTest {
 protected:
  void SetUp() override {
    ServerWithProjectTest::SetUp();
    if (HasFatalFailure()) return;
    pid_ = std::to_string(project_.id);
  }

  std::vector<Sample> Metrics() {
    HttpResult r = server_->Get("/metrics");
    EXPECT_EQ(r.status, 200);
    return ParseMetrics(r.body);
  }

  // Polls /metrics until the transaction histogram of `service` counts
  // `count` transactions.
  std::vector<Sample> WaitForCount(const std::string& service, double count) {
    std::vector<Sample> m;
    const bool ok = testing::WaitFor(
        [&] {
          m = Metrics();
          return Sum(m, std::string(kDuration) + "_count",
                     {{"project", pid_}, {"service", service}}) >= count;
        },
        15);
    EXPECT_TRUE(ok) << "the histogram of " << service << " did not reach "
                    << count << "\n"
                    << server_->Log();
    return m;
  }

  rapidjson::Document GetJson(const std::string& path, long want = 200) {
    HttpResult r = server_->Get(path);
    EXPECT_EQ(r.status, want) << path << ": " << r.body;
    return ParseJson(r.status == want ? r.body : "{}");
  }

  std::string pid_;
};

TEST_F(TransactionsSdkTest, SentryNodeExpressRoutesAndBareHttpUrls) {
  const char* node_path = std::getenv("NODE_PATH");
  const std::string modules =
      node_path != nullptr && *node_path != '\0'
          ? node_path
          : testing::SourceDir() + "/tests/node_modules";
  if (!Exists(modules + "/@sentry/node/package.json") ||
      !Exists(modules + "/express/package.json")) {
    GTEST_SKIP() << "@sentry/node or express is not installed under "
                 << modules;
  }
  testing::CommandResult run = testing::RunCommand(
      {"node",
       testing::SourceDir() + "/tests/integration/transactions_node_server.js",
       project_.dsn},
      {{"NODE_PATH", modules}}, 90);
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err << server_->Log();
  EXPECT_NE(run.out.find("sent 200,200,200,200,200,500,500,200,200,200"),
            std::string::npos)
      << run.out;

  const std::vector<Sample> m = WaitForCount("storefront", 10);
  const std::string bucket = std::string(kDuration) + "_bucket";
  const std::string count = std::string(kDuration) + "_count";
  const std::map<std::string, std::string> products = {
      {"project", pid_},
      {"service", "storefront"},
      {"transaction", "GET /products/:id"},
      {"method", "GET"},
      {"status", "ok"}};
  EXPECT_EQ(Sum(m, count, products), 5) << server_->Log();
  // Each product request slept 30 ms first: none is in the 5, 10 or 25 ms
  // buckets; all are within 10 s.
  auto with_le = [](std::map<std::string, std::string> labels,
                    const std::string& le) {
    labels["le"] = le;
    return labels;
  };
  EXPECT_EQ(Sum(m, bucket, with_le(products, "0.025")), 0);
  EXPECT_EQ(Sum(m, bucket, with_le(products, "10")), 5);
  EXPECT_EQ(Sum(m, bucket, with_le(products, "+Inf")), 5);
  EXPECT_GE(Sum(m, std::string(kDuration) + "_sum", products), 5 * 0.030);
  // The 500s of the checkout route: status internal_error.
  EXPECT_EQ(Sum(m, count,
                {{"project", pid_},
                 {"service", "storefront"},
                 {"transaction", "GET /checkout/:cart"},
                 {"status", "internal_error"}}),
            2);
  // The bare server's URL-named transactions share one label value; the
  // URLs themselves never become label values.
  EXPECT_EQ(Sum(m, count,
                {{"project", pid_},
                 {"service", "storefront"},
                 {"transaction", "<< unparameterized >>"}}),
            3);
  for (const char* url :
       {"GET /legacy/item-1", "GET /legacy/item-2", "GET /legacy/item-3"}) {
    EXPECT_FALSE(HasLabel(m, count, "transaction", url)) << url;
  }
  // Spans by op: the handler's db.query spans.
  EXPECT_EQ(
      Sum(m, std::string(kSpan) + "_count",
          {{"project", pid_}, {"service", "storefront"}, {"op", "db.query"}}),
      5);

  // Stored: the names and sources as sent; the slowest first.
  rapidjson::Document doc =
      GetJson("/api/v1/transactions?project=" + pid_ +
              "&service=storefront&sort=duration&limit=100");
  ASSERT_TRUE(doc.HasMember("items") && doc["items"].IsArray());
  ASSERT_EQ(doc["items"].Size(), 10u);
  std::map<std::string, int> sources;
  double previous = 1e9;
  for (const auto& t : doc["items"].GetArray()) {
    sources[Str(t, "transaction") + " " + Str(t, "source")]++;
    EXPECT_LE(Num(t, "duration"), previous);
    previous = Num(t, "duration");
    EXPECT_EQ(Str(t, "release"), "storefront@2.0.0");
    EXPECT_EQ(Str(t, "trace_id").size(), 32u);
  }
  EXPECT_EQ(sources["GET /products/:id route"], 5);
  EXPECT_EQ(sources["GET /checkout/:cart route"], 2);
  EXPECT_EQ(sources["GET /legacy/item-2 url"], 1);
  // The summary keeps each name (stored rows are not label values).
  doc = GetJson("/api/v1/transactions/summary?project=" + pid_ +
                "&service=storefront");
  ASSERT_TRUE(doc.HasMember("items") && doc["items"].IsArray());
  bool found = false;
  for (const auto& row : doc["items"].GetArray()) {
    if (Str(row, "transaction") != "GET /checkout/:cart") continue;
    found = true;
    EXPECT_EQ(Num(row, "count"), 2);
    EXPECT_DOUBLE_EQ(Num(row, "error_ratio"), 1.0);
  }
  EXPECT_TRUE(found) << "no summary row for GET /checkout/:cart";
}

TEST_F(TransactionsSdkTest, SentryPythonKnownDurationsAndTraceErrors) {
  std::string python;
  for (const char* candidate : {"/usr/bin/python3", "python3"}) {
    if (testing::RunCommand({candidate, "-c", "import sentry_sdk"}, {}, 30)
            .exit_code == 0) {
      python = candidate;
      break;
    }
  }
  if (python.empty()) GTEST_SKIP() << "no python3 with sentry_sdk";
  testing::CommandResult run = testing::RunCommand(
      {python,
       testing::SourceDir() +
           "/tests/integration/transactions_python_client.py",
       project_.dsn},
      {}, 90);
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err << server_->Log();

  const std::vector<Sample> m = WaitForCount("reports", 11);
  const std::string bucket = std::string(kDuration) + "_bucket";
  const std::map<std::string, std::string> route = {
      {"project", pid_},
      {"service", "reports"},
      {"transaction", "GET /reports/{id}"}};
  // Durations 0.07, 0.17, ..., 0.97 s, summed over the status series.
  const std::map<std::string, double> cumulative = {
      {"0.005", 0}, {"0.05", 0}, {"0.1", 1},  {"0.25", 2},
      {"0.5", 5},   {"1", 10},   {"2.5", 10}, {"+Inf", 10}};
  for (const auto& [le, want] : cumulative) {
    std::map<std::string, std::string> labels = route;
    labels["le"] = le;
    EXPECT_EQ(Sum(m, bucket, labels), want) << "le=" << le;
  }
  EXPECT_NEAR(Sum(m, std::string(kDuration) + "_sum", route), 5.2, 0.01);
  const std::string count = std::string(kDuration) + "_count";
  auto with_status = [&](const std::string& status) {
    std::map<std::string, std::string> labels = route;
    labels["status"] = status;
    return labels;
  };
  EXPECT_EQ(Sum(m, count, with_status("ok")), 8);
  EXPECT_EQ(Sum(m, count, with_status("internal_error")), 1);
  EXPECT_EQ(Sum(m, count, with_status("unavailable")), 1);
  EXPECT_EQ(
      Sum(m, std::string(kSpan) + "_count",
          {{"project", pid_}, {"service", "reports"}, {"op", "db.query"}}),
      11);
  EXPECT_EQ(Sum(m, std::string(kSpan) + "_count",
                {{"project", pid_},
                 {"service", "reports"},
                 {"op", "template.render"}}),
            1);

  // The summary's nearest-rank percentiles of the 10 known durations:
  // p50 = d[5] = 0.47, p95 = p99 = d[10] = 0.97; 2 of 10 failed.
  rapidjson::Document doc = GetJson(
      "/api/v1/transactions/summary?project=" + pid_ + "&service=reports");
  ASSERT_TRUE(doc.HasMember("items") && doc["items"].IsArray());
  EXPECT_TRUE(doc.HasMember("since") && doc.HasMember("until"));
  EXPECT_TRUE(doc.HasMember("truncated") && doc["truncated"].IsBool() &&
              !doc["truncated"].GetBool());
  std::map<std::string, const rapidjson::Value*> rows;
  for (const auto& row : doc["items"].GetArray()) {
    rows[Str(row, "transaction")] = &row;
  }
  ASSERT_EQ(rows.count("GET /reports/{id}"), 1u)
      << "summary rows: " << rows.size();
  const rapidjson::Value& s = *rows["GET /reports/{id}"];
  EXPECT_EQ(Num(s, "count"), 10);
  EXPECT_NEAR(Num(s, "error_ratio"), 0.2, 1e-9);
  EXPECT_NEAR(Num(s, "p50"), 0.47, 1e-3);
  EXPECT_NEAR(Num(s, "p95"), 0.97, 1e-3);
  EXPECT_NEAR(Num(s, "p99"), 0.97, 1e-3);
  ASSERT_EQ(rows.count("POST /reports/{id}/render"), 1u);
  EXPECT_NEAR(Num(*rows["POST /reports/{id}/render"], "p99"), 1.5, 1e-3);

  // The failed requests, with the status code Python's SDK sends as a tag.
  doc = GetJson("/api/v1/transactions?project=" + pid_ +
                "&service=reports&status=unavailable");
  ASSERT_TRUE(doc.HasMember("items") && doc["items"].IsArray());
  ASSERT_EQ(doc["items"].Size(), 1u);
  EXPECT_EQ(Num(doc["items"][0], "http_status"), 503);
  EXPECT_NEAR(Num(doc["items"][0], "duration"), 0.67, 1e-3);
  EXPECT_EQ(Str(doc["items"][0], "source"), "route");
  EXPECT_EQ(Str(doc["items"][0], "op"), "http.server");
  doc = GetJson("/api/v1/transactions?project=" + pid_ +
                "&service=reports&min_duration=0.9&sort=duration");
  ASSERT_TRUE(doc.HasMember("items") && doc["items"].IsArray());
  ASSERT_EQ(doc["items"].Size(), 2u);
  EXPECT_EQ(Str(doc["items"][0], "transaction"), "POST /reports/{id}/render");
  EXPECT_NEAR(Num(doc["items"][1], "duration"), 0.97, 1e-3);

  // The trace: its transaction's span tree, the error captured inside the
  // template.render span, and that error's group. The error event may be
  // committed after the transaction: poll.
  const std::string trace_path = std::string("/api/v1/traces/") + kTraceId;
  std::string body;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        HttpResult r = server_->Get(trace_path);
        body = r.body;
        if (r.status != 200) return false;
        rapidjson::Document d = ParseJson(r.body);
        return d.HasMember("errors") && d["errors"].IsArray() &&
               d["errors"].Size() >= 1;
      },
      15))
      << body << server_->Log();
  doc = ParseJson(body);
  EXPECT_EQ(Str(doc, "trace_id"), kTraceId);
  EXPECT_EQ(Num(doc, "transactions"), 1);
  ASSERT_TRUE(doc["nodes"].IsArray());
  ASSERT_EQ(doc["nodes"].Size(), 3u) << body;  // transaction + 2 spans
  ASSERT_TRUE(doc["roots"].IsArray());
  ASSERT_EQ(doc["roots"].Size(), 1u);
  const rapidjson::Value& root = doc["nodes"][doc["roots"][0].GetUint()];
  EXPECT_EQ(Str(root, "kind"), "transaction");
  EXPECT_EQ(Str(root, "transaction"), "POST /reports/{id}/render");
  EXPECT_EQ(root["children"].Size(), 2u);
  int render = -1;
  for (rapidjson::SizeType i = 0; i < doc["nodes"].Size(); ++i) {
    if (Str(doc["nodes"][i], "op") == "template.render") {
      render = static_cast<int>(i);
    }
  }
  ASSERT_GE(render, 0) << body;
  const rapidjson::Value& span = doc["nodes"][render];
  EXPECT_EQ(Str(span, "kind"), "span");
  EXPECT_EQ(Num(span, "depth"), 1);
  ASSERT_EQ(doc["errors"].Size(), 1u) << body;
  const rapidjson::Value& err = doc["errors"][0];
  EXPECT_NE(Str(err, "title").find("ValueError"), std::string::npos) << body;
  EXPECT_EQ(Str(err, "span_id"), Str(span, "span_id"));
  ASSERT_TRUE(err.HasMember("node") && err["node"].IsInt()) << body;
  EXPECT_EQ(err["node"].GetInt(), render);
  ASSERT_TRUE(doc["groups"].IsArray());
  ASSERT_EQ(doc["groups"].Size(), 1u);
  ASSERT_TRUE(err["group_id"].IsInt64());
  EXPECT_EQ(doc["groups"][0]["id"].GetInt64(), err["group_id"].GetInt64());

  // The other way round: the error event and its group carry the trace.
  // (span and err point into doc: read what is needed before it is
  // replaced.)
  const std::string event_id = Str(err, "event_id");
  const std::string span_id = Str(span, "span_id");
  const int64_t group_id = err["group_id"].GetInt64();
  rapidjson::Document event = GetJson("/api/v1/events/" + event_id);
  EXPECT_EQ(Str(event, "trace_id"), kTraceId);
  EXPECT_EQ(Str(event, "span_id"), span_id);
  rapidjson::Document group =
      GetJson("/api/v1/groups/" + std::to_string(group_id));
  ASSERT_TRUE(group.HasMember("traces") && group["traces"].IsArray()) << body;
  ASSERT_EQ(group["traces"].Size(), 1u);
  EXPECT_STREQ(group["traces"][0].GetString(), kTraceId);

  // An unknown trace is a 404 with an error body.
  HttpResult r =
      server_->Get("/api/v1/traces/0123456789abcdef0123456789abcdef");
  EXPECT_EQ(r.status, 404) << r.body;
  EXPECT_NE(r.body.find("\"error\""), std::string::npos) << r.body;
}

}  // namespace
}  // namespace crashctl
