// Payloads that would harm readers of what crashctl stores, sent to the real
// binary: hostile timestamps, deep nesting, secrets, NUL bytes in labels.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <cmath>
#include <ctime>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "tests/testing/raw_http.h"
#include "tests/testing/server_process.h"
#include "tests/testing/temp_dir.h"

namespace crashctl {
namespace {

using ::testing::HasSubstr;
using testing::HttpCall;
using testing::HttpResult;
using testing::MetricValue;
using testing::ServerProcess;

class HostilePayloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerProcess::Options options;
    options.env = {{"CRASHCTL_LOG_LEVEL", "warn"}};
    std::string error;
    server_ = ServerProcess::Start(options, &error);
    ASSERT_TRUE(server_) << error;
    project_ = server_->CreateProject("app");
  }

  // Sends one event to the store endpoint; returns its id.
  std::string Send(const std::string& json) {
    HttpResult r = HttpCall("POST", project_.short_dsn, json,
                            {"Content-Type: application/json"});
    EXPECT_EQ(r.status, 200) << r.body;
    rapidjson::Document doc;
    doc.Parse(r.body.c_str());
    if (!doc.IsObject() || !doc.HasMember("id")) return "";
    return doc["id"].GetString();
  }

  // GET /api/v1/events/{id} as text.
  std::string Event(const std::string& id) {
    HttpResult r = server_->Get("/api/v1/events/" + id);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.body;
  }

  std::unique_ptr<ServerProcess> server_;
  ServerProcess::ProjectInfo project_;
};

TEST_F(HostilePayloadTest, TimestampsFarFromNowAreStoredAsTheReceiveTime) {
  const double now = static_cast<double>(std::time(nullptr));
  const char* const timestamps[] = {"1e300", "1e12", "\"9999-12-31T23:59:59Z\"",
                                    "0", "\"1970-01-01T00:00:00Z\""};
  int n = 0;
  for (const char* ts : timestamps) {
    SCOPED_TRACE(ts);
    const std::string id = Send("{\"message\":\"time " + std::to_string(++n) +
                                "\",\"timestamp\":" + ts + "}");
    const std::string body = Event(id);
    rapidjson::Document doc;
    doc.Parse(body.c_str());
    ASSERT_TRUE(doc.IsObject()) << body;
    // Never null, never the hostile value: the receive time.
    ASSERT_TRUE(doc["timestamp"].IsString()) << body;
    std::tm tm{};
    const std::time_t t = static_cast<std::time_t>(now);
    gmtime_r(&t, &tm);
    char year[8];
    std::strftime(year, sizeof(year), "%Y", &tm);
    EXPECT_EQ(std::string(doc["timestamp"].GetString()).substr(0, 4), year);
    // The original is kept and flagged in the payload.
    EXPECT_THAT(body, HasSubstr("_timestamp\",\"name\":\"timestamp\""));
    EXPECT_THAT(body, HasSubstr("\"sdk_time\":"));
  }
  // No group sorts on top for good: last_seen is now for each.
  const std::string groups = server_->Get("/api/v1/groups?sort=last_seen").body;
  EXPECT_THAT(groups, ::testing::Not(HasSubstr("9999-")));
  EXPECT_THAT(groups, ::testing::Not(HasSubstr("\"last_seen\":null")));
  const std::string metrics = server_->Get("/metrics").body;
  EXPECT_EQ(MetricValue(metrics,
                        "crashctl_ingest_adjusted_total{reason=\"future_"
                        "timestamp\"}"),
            3);
  EXPECT_EQ(
      MetricValue(metrics,
                  "crashctl_ingest_adjusted_total{reason=\"past_timestamp\"}"),
      2);
}

TEST_F(HostilePayloadTest, DeepNestingIsCutSoStandardReadersCanReadIt) {
  std::string deep = R"({"message":"deep","extra":{"x":)";
  deep += std::string(100000, '[') + std::string(100000, ']') + "}}";
  const std::string id = Send(deep);
  const std::string body = Event(id);
  EXPECT_THAT(body, HasSubstr("[depth limit]"));
  EXPECT_LT(body.size(), 20000u);
  // Python's json module (and jq, which stops at depth 256) read it.
  const testing::TempDir dir("deep");
  const std::string path = dir.path() + "/event.json";
  std::ofstream(path) << body;
  testing::CommandResult r =
      testing::RunCommand({"python3", "-c",
                           "import json,sys; d=json.load(open(sys.argv[1])); "
                           "print(d['payload']['message'])",
                           path});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "deep\n");
  EXPECT_EQ(
      MetricValue(server_->Get("/metrics").body,
                  "crashctl_ingest_adjusted_total{reason=\"depth_limit\"}"),
      1);
}

TEST_F(HostilePayloadTest, SecretsOfEveryKindAreNotStored) {
  const std::string id = Send(R"({
    "message": "db login failed: password=hunter2",
    "exception": {"values": [{"type": "AuthError",
      "value": "token rejected: Bearer eyJhbGciOi.payload.sig"}]},
    "user": {"id": "42", "ip_address": "203.0.113.9"},
    "request": {
      "url": "https://shop.example/checkout?item=7&api_key=K3YK3Y",
      "query_string": "session=SESS1&page=2",
      "headers": [["Authorization", "Basic dXNlcjpwYXNzd29yZA=="],
                  ["Cookie", "sid=C00KIE"], ["Set-Cookie", "sid=C00KIE2"],
                  ["User-Agent", "curl/8"]],
      "env": {"REMOTE_ADDR": "198.51.100.4"},
      "data": {"card": "5555 5555 5555 4444", "password": "pw-in-body"}
    },
    "extra": {"aws_secret_access_key": "AKIAXXXX", "note": "ok"},
    "breadcrumbs": [{"category": "http",
                     "data": {"url": "/x?access_token=ACC3SS"}}]
  })");
  const std::string event = Event(id);
  const std::string groups = server_->Get("/api/v1/groups").body;
  const std::string events =
      server_
          ->Get("/api/v1/groups/" +
                [&] {
                  rapidjson::Document doc;
                  doc.Parse(event.c_str());
                  return std::to_string(doc["group"].GetInt64());
                }() +
                "/events")
          .body;
  for (const char* secret :
       {"hunter2", "eyJhbGciOi", "203.0.113.9", "K3YK3Y", "SESS1",
        "dXNlcjpwYXNzd29yZA", "C00KIE", "198.51.100.4", "5555 5555",
        "pw-in-body", "AKIAXXXX", "ACC3SS"}) {
    EXPECT_THAT(event, ::testing::Not(HasSubstr(secret))) << secret;
    EXPECT_THAT(groups, ::testing::Not(HasSubstr(secret))) << secret;
    EXPECT_THAT(events, ::testing::Not(HasSubstr(secret))) << secret;
  }
  // The database file holds none of them either (titles, messages and the
  // payload, which is compressed, are checked through the API above).
  std::string bytes;
  for (const char* file : {"/crashctl.db", "/crashctl.db-wal"}) {
    std::ifstream db(server_->data_dir() + file, std::ios::binary);
    bytes.append((std::istreambuf_iterator<char>(db)),
                 std::istreambuf_iterator<char>());
  }
  for (const char* secret : {"hunter2", "eyJhbGciOi", "203.0.113.9"}) {
    EXPECT_EQ(bytes.find(secret), std::string::npos) << secret;
  }
  for (const char* kept : {"item=7", "page=2", "curl/8", "\"note\":\"ok\""}) {
    EXPECT_THAT(event, HasSubstr(kept));
  }
  EXPECT_THAT(event, HasSubstr("[Filtered]"));
  EXPECT_EQ(MetricValue(server_->Get("/metrics").body,
                        "crashctl_ingest_adjusted_total{reason=\"scrubbed\"}"),
            1);
}

TEST_F(HostilePayloadTest, ControlCharactersNeverReachALabelValue) {
  Send(R"({"message":"nul","tags":{"service":"a\u0000b\nc"}})");
  const std::string metrics = server_->Get("/metrics").body;
  EXPECT_EQ(metrics.find('\0'), std::string::npos);
  EXPECT_THAT(metrics, HasSubstr("service=\"a_b_c\""));
}

TEST_F(HostilePayloadTest, QueueDepthGaugeReturnsToZero) {
  for (int i = 0; i < 20; ++i) Send(R"({"message":"gauge"})");
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        return MetricValue(server_->Get("/metrics").body,
                           "crashctl_ingest_queue_depth") == 0;
      },
      5));
}

}  // namespace
}  // namespace crashctl
