#include "crashctl/rest/rest_api.h"

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "fake_store.h"
#include "gtest/gtest.h"
#include "rest_fixture.h"
#include "rest_test_util.h"
#include "tests/testing/sample_records.h"

namespace crashctl {
namespace rest {
namespace {

using testing::FakeStore;

constexpr char kBase[] = "http://127.0.0.1:9190";
constexpr char kEventId[] = "0123456789abcdef0123456789abcdef";

Status Failure(Status::Code code, const std::string& message) {
  return Status(code, message);
}

class RestApiTest : public RestRouteTest {
 protected:
  void SetUp() override {
    options_.base_url = kBase;
    for (int i = 1; i <= 5; ++i) {
      model::Group g;
      g.id = 10 * i;
      g.project_id = 1;
      g.fingerprint = "fp" + std::to_string(i);
      g.title = "TypeError: x is undefined #" + std::to_string(i);
      g.culprit = "app.js in handler";
      g.level = model::Level::kError;
      g.status = model::GroupStatus::kUnresolved;
      g.count = 100 - i;
      g.first_seen = 1795341600.123;  // 2026-11-22T10:00:00.123Z
      g.last_seen = 1795345200.5;     // 2026-11-22T11:00:00.500Z
      g.service = "checkout";
      g.release = "1.2.3";
      g.first_release = "1.0.0";
      g.regression_count = i - 1;
      g.linked_crashes = {7};
      store_.groups.push_back(g);
    }
    for (int i = 0; i < 3; ++i) {
      model::StoredEvent e;
      e.event_id = std::string(31, '0') + std::to_string(i);
      e.project_id = 1;
      e.group_id = 10;
      e.timestamp = 1795341600.25 + i;
      e.received = 1795341600.75 + i;
      e.level = model::Level::kError;
      e.platform = "node";
      e.message = "boom";
      e.title = "Error: boom";
      e.payload = "{\"event_id\":\"" + e.event_id + "\"}";
      store_.events.push_back(e);
    }
    model::StoredEvent detail;
    detail.event_id = kEventId;
    detail.project_id = 1;
    detail.group_id = 20;
    detail.timestamp = 1795341600.123;
    detail.received = 1795341601;
    detail.level = model::Level::kFatal;
    detail.platform = "python";
    detail.release = "2.0";
    detail.environment = "prod";
    detail.server_name = "web-1";
    detail.service = "api";
    detail.title = "ValueError: bad";
    detail.payload =
        "{\"event_id\":\"0123456789abcdef0123456789abcdef\",\"level\":"
        "\"fatal\",\"extra\":{\"big\":123456789012345678901234567890,"
        "\"f\":1.5e300,\"nested\":[1,[2,[3]]]}}";
    store_.events.push_back(detail);
    model::Crash c = testing::OomKilledCheckoutCrash();
    c.pod_uid = "uid-1";
    c.image = "shop/checkout:1.2.3";
    c.memory_request = "64Mi";
    c.started_at = 1795341600;
    c.finished_at = 1795341660.042;
    c.created_at = 1795341661;
    c.updated_at = 1795341661;
    c.logs = "line one\r\nline two\nline three\n";
    c.linked_groups = {10, 20};
    store_.crashes.push_back(c);
    model::Crash evicted;
    evicted.id = 8;
    evicted.namespace_ = "shop";
    evicted.pod = "batch-1";
    evicted.crash_type = model::CrashType::kEvicted;
    evicted.reason = "Evicted";
    store_.crashes.push_back(evicted);
  }

  void ExpectError(int status, const std::string& method,
                   const std::string& target, const std::string& body = "") {
    rapidjson::Document doc = Expect(status, method, target, body);
    ASSERT_TRUE(doc.IsObject());
    ASSERT_TRUE(doc.HasMember("error")) << target;
    EXPECT_TRUE(doc["error"].IsString());
    EXPECT_GT(doc["error"].GetStringLength(), 0u);
  }
};

TEST_F(RestApiTest, HealthzAlwaysOk) {
  options_.ready = [](std::string* reason) {
    *reason = "kubernetes initial sync pending";
    return false;
  };
  rapidjson::Document doc = Expect(200, "GET", "/healthz");
  EXPECT_EQ(Str(doc["status"]), "ok");
}

TEST_F(RestApiTest, ReadyzReportsProbe) {
  bool ready = false;
  options_.ready = [&ready](std::string* reason) {
    if (!ready) *reason = "kubernetes initial sync pending";
    return ready;
  };
  rapidjson::Document doc = Expect(503, "GET", "/readyz");
  EXPECT_EQ(Str(doc["error"]), "kubernetes initial sync pending");
  ready = true;
  doc = Expect(200, "GET", "/readyz");
  EXPECT_EQ(Str(doc["status"]), "ok");
}

TEST_F(RestApiTest, ReadyzWithoutProbeIsReady) {
  Expect(200, "GET", "/readyz");
}

TEST_F(RestApiTest, CreateProjectAnswersDsns) {
  std::vector<std::string> created;
  options_.on_project_created = [&](const model::Project& p) {
    created.push_back(p.name);
  };
  http::HttpResponse response =
      Call("POST", "/api/v1/projects", R"({"name":"shop backend"})");
  ASSERT_EQ(response.status, 201) << response.body;
  rapidjson::Document doc = ParseStrict(response.body);
  EXPECT_EQ(doc["id"].GetInt64(), 1);
  EXPECT_EQ(Str(doc["name"]), "shop backend");
  const std::string key = Str(doc["public_key"]);
  EXPECT_EQ(key.size(), 32u);
  EXPECT_EQ(Str(doc["dsn"]), "http://" + key + "@127.0.0.1:9190/1");
  EXPECT_EQ(Str(doc["short_dsn"]),
            "http://127.0.0.1:9190/api/v1/events?key=" + key);
  EXPECT_EQ(Str(doc["created_at"]), "2026-11-22T10:00:00.500Z");
  EXPECT_EQ(created, std::vector<std::string>{"shop backend"});
  bool has_location = false;
  for (const auto& h : response.headers) {
    if (h.first == "Location") {
      has_location = true;
      EXPECT_EQ(h.second, "http://127.0.0.1:9190/api/v1/projects/1");
    }
  }
  EXPECT_TRUE(has_location);

  doc = Expect(200, "GET", "/api/v1/projects");
  ASSERT_EQ(doc["items"].Size(), 1u);
  EXPECT_EQ(Str(doc["items"][0]["dsn"]), "http://" + key + "@127.0.0.1:9190/1");
  EXPECT_TRUE(doc["next_cursor"].IsNull());
}

TEST_F(RestApiTest, CreateProjectRejectsBadBodies) {
  ExpectError(400, "POST", "/api/v1/projects", "");
  ExpectError(400, "POST", "/api/v1/projects", "{\"name\":");
  ExpectError(400, "POST", "/api/v1/projects", "[\"name\"]");
  ExpectError(400, "POST", "/api/v1/projects", "{}");
  ExpectError(400, "POST", "/api/v1/projects", "{\"name\":42}");
  ExpectError(400, "POST", "/api/v1/projects", "{\"name\":\"  \"}");
  ExpectError(400, "POST", "/api/v1/projects", "{\"name\":\"a\\nb\"}");
  ExpectError(400, "POST", "/api/v1/projects",
              "{\"name\":\"" + std::string(201, 'x') + "\"}");
  ExpectError(400, "POST", "/api/v1/projects", "{\"name\":\"\xff\xfe\"}");
  ExpectError(413, "POST", "/api/v1/projects",
              "{\"name\":\"" + std::string(70000, 'x') + "\"}");
  EXPECT_TRUE(store_.projects.empty());
}

TEST_F(RestApiTest, ProjectStoreFailures) {
  store_.fail_next = Failure(Status::Code::kUnavailable, "disk full");
  http::HttpResponse response =
      Call("POST", "/api/v1/projects", R"({"name":"a"})");
  EXPECT_EQ(response.status, 503);
  EXPECT_NE(response.body.find("disk full"), std::string::npos);
  bool retry_after = false;
  for (const auto& h : response.headers)
    retry_after |= h.first == "Retry-After";
  EXPECT_TRUE(retry_after);
  store_.fail_next = Failure(Status::Code::kInternal, "bug");
  ExpectError(500, "GET", "/api/v1/projects");
}

TEST_F(RestApiTest, ListGroupsRendersEveryField) {
  rapidjson::Document doc = Expect(200, "GET", "/api/v1/groups?limit=1");
  ASSERT_EQ(doc["items"].Size(), 1u);
  const rapidjson::Value& g = doc["items"][0];
  EXPECT_EQ(g["id"].GetInt64(), 10);
  EXPECT_EQ(g["project"].GetInt64(), 1);
  EXPECT_EQ(Str(g["fingerprint"]), "fp1");
  EXPECT_EQ(Str(g["title"]), "TypeError: x is undefined #1");
  EXPECT_EQ(Str(g["culprit"]), "app.js in handler");
  EXPECT_EQ(Str(g["level"]), "error");
  EXPECT_EQ(Str(g["status"]), "unresolved");
  EXPECT_EQ(g["count"].GetInt64(), 99);
  EXPECT_EQ(Str(g["first_seen"]), "2026-11-22T10:00:00.123Z");
  EXPECT_EQ(Str(g["last_seen"]), "2026-11-22T11:00:00.500Z");
  EXPECT_EQ(Str(g["service"]), "checkout");
  EXPECT_EQ(Str(g["release"]), "1.2.3");
  EXPECT_EQ(Str(g["first_release"]), "1.0.0");
  EXPECT_EQ(g["regression_count"].GetInt64(), 0);
  ASSERT_EQ(g["linked_crashes"].Size(), 1u);
  EXPECT_EQ(g["linked_crashes"][0].GetInt64(), 7);
  EXPECT_EQ(Str(g["links"]["self"]), "http://127.0.0.1:9190/api/v1/groups/10");
  EXPECT_EQ(Str(g["links"]["events"]),
            "http://127.0.0.1:9190/api/v1/groups/10/events");
  EXPECT_EQ(Str(doc["next_cursor"]), "off:1");
}

TEST_F(RestApiTest, ListGroupsPassesFiltersToStore) {
  Expect(200, "GET",
         "/api/v1/groups?project=3&status=resolved&level=warning&service="
         "my%20svc&sort=count&limit=1000&cursor=off:0");
  ASSERT_TRUE(store_.last_group_query.has_value());
  const store::GroupQuery& q = *store_.last_group_query;
  ASSERT_TRUE(q.project.has_value());
  EXPECT_EQ(*q.project, 3);
  EXPECT_EQ(q.status, model::GroupStatus::kResolved);
  EXPECT_EQ(q.level, model::Level::kWarning);
  EXPECT_EQ(q.service, "my svc");
  EXPECT_EQ(q.sort, "count");
  EXPECT_EQ(q.limit, 1000);
  EXPECT_EQ(q.cursor, "off:0");

  Expect(200, "GET", "/api/v1/groups");
  const store::GroupQuery& d = *store_.last_group_query;
  EXPECT_FALSE(d.project.has_value());
  EXPECT_FALSE(d.status.has_value());
  EXPECT_FALSE(d.level.has_value());
  EXPECT_EQ(d.service, "");
  EXPECT_EQ(d.sort, "last_seen");
  EXPECT_EQ(d.limit, 50);
  EXPECT_EQ(d.cursor, "");

  for (const char* sort : {"last_seen", "first_seen"}) {
    Expect(200, "GET", std::string("/api/v1/groups?sort=") + sort);
    EXPECT_EQ(store_.last_group_query->sort, sort);
  }
}

TEST_F(RestApiTest, GroupCursorRoundTrip) {
  std::vector<int64_t> seen;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    std::string target = "/api/v1/groups?limit=2";
    if (!cursor.empty()) target += "&cursor=" + cursor;
    rapidjson::Document doc = Expect(200, "GET", target);
    for (const auto& item : doc["items"].GetArray()) {
      seen.push_back(item["id"].GetInt64());
    }
    if (doc["next_cursor"].IsNull()) break;
    cursor = Str(doc["next_cursor"]);
    EXPECT_EQ(store_.last_group_query->limit, 2);
  }
  EXPECT_EQ(seen, (std::vector<int64_t>{10, 20, 30, 40, 50}));
}

TEST_F(RestApiTest, ListGroupsRejectsBadParameters) {
  const std::vector<std::string> bad = {
      "/api/v1/groups?limit=0",
      "/api/v1/groups?limit=1001",
      "/api/v1/groups?limit=abc",
      "/api/v1/groups?limit=-5",
      "/api/v1/groups?limit=",
      "/api/v1/groups?limit=1.5",
      "/api/v1/groups?sort=title",
      "/api/v1/groups?sort=",
      "/api/v1/groups?status=open",
      "/api/v1/groups?level=loud",
      "/api/v1/groups?project=abc",
      "/api/v1/groups?project=0",
      "/api/v1/groups?project=-1",
      "/api/v1/groups?project=99999999999999999999",
  };
  for (const std::string& target : bad) {
    SCOPED_TRACE(target);
    store_.last_group_query.reset();
    ExpectError(400, "GET", target);
    EXPECT_FALSE(store_.last_group_query.has_value());
  }
  // The store judges cursors.
  ExpectError(400, "GET", "/api/v1/groups?cursor=garbage");
  store_.fail_next = Failure(Status::Code::kUnavailable, "database is locked");
  ExpectError(503, "GET", "/api/v1/groups");
}

TEST_F(RestApiTest, GetGroup) {
  rapidjson::Document doc = Expect(200, "GET", "/api/v1/groups/30");
  EXPECT_EQ(doc["id"].GetInt64(), 30);
  EXPECT_EQ(Str(doc["fingerprint"]), "fp3");
  ExpectError(404, "GET", "/api/v1/groups/31");
  EXPECT_EQ(Call("GET", "/api/v1/groups/31").body,
            "{\"error\":\"no such group\"}");
  ExpectError(400, "GET", "/api/v1/groups/abc");
  ExpectError(400, "GET", "/api/v1/groups/0");
  ExpectError(400, "GET", "/api/v1/groups/-3");
  ExpectError(400, "GET", "/api/v1/groups/1e3");
  ExpectError(400, "GET", "/api/v1/groups/99999999999999999999");
  store_.fail_next = Failure(Status::Code::kUnavailable, "I/O error");
  ExpectError(503, "GET", "/api/v1/groups/30");
}

TEST_F(RestApiTest, PatchGroupStatus) {
  for (const char* status : {"resolved", "ignored", "unresolved"}) {
    rapidjson::Document doc =
        Expect(200, "PATCH", "/api/v1/groups/20",
               std::string("{\"status\":\"") + status + "\"}");
    EXPECT_EQ(Str(doc["status"]), status);
    EXPECT_EQ(doc["id"].GetInt64(), 20);
    EXPECT_EQ(model::ToString(store_.groups[1].status), std::string(status));
  }
  ExpectError(400, "PATCH", "/api/v1/groups/20", R"({"status":"closed"})");
  ExpectError(400, "PATCH", "/api/v1/groups/20", R"({"state":"resolved"})");
  ExpectError(400, "PATCH", "/api/v1/groups/20", R"({"status":1})");
  ExpectError(400, "PATCH", "/api/v1/groups/20", "resolved");
  ExpectError(400, "PATCH", "/api/v1/groups/x", R"({"status":"resolved"})");
  ExpectError(404, "PATCH", "/api/v1/groups/21", R"({"status":"resolved"})");
  EXPECT_EQ(store_.groups[1].status, model::GroupStatus::kUnresolved);
}

TEST_F(RestApiTest, WrongMethodIs405) {
  ExpectError(405, "PUT", "/api/v1/groups/20");
  ExpectError(405, "PUT", "/api/v1/projects");
  ExpectError(405, "POST", "/api/v1/crashes");
  ExpectError(404, "GET", "/api/v1/nothing");
}

TEST_F(RestApiTest, GroupEventsPaginate) {
  rapidjson::Document doc =
      Expect(200, "GET", "/api/v1/groups/10/events?limit=2");
  ASSERT_EQ(doc["items"].Size(), 2u);
  EXPECT_EQ(store_.last_events_limit, 2);
  const rapidjson::Value& e = doc["items"][0];
  EXPECT_EQ(Str(e["event_id"]), std::string(31, '0') + "0");
  EXPECT_EQ(e["group"].GetInt64(), 10);
  EXPECT_EQ(e["project"].GetInt64(), 1);
  EXPECT_EQ(Str(e["timestamp"]), "2026-11-22T10:00:00.250Z");
  EXPECT_EQ(Str(e["received"]), "2026-11-22T10:00:00.750Z");
  EXPECT_EQ(Str(e["title"]), "Error: boom");
  EXPECT_FALSE(e.HasMember("payload"));  // lists stay small
  const std::string cursor = Str(doc["next_cursor"]);
  doc = Expect(200, "GET", "/api/v1/groups/10/events?limit=2&cursor=" + cursor);
  EXPECT_EQ(store_.last_events_cursor, cursor);
  ASSERT_EQ(doc["items"].Size(), 1u);
  EXPECT_EQ(Str(doc["items"][0]["event_id"]), std::string(31, '0') + "2");
  EXPECT_TRUE(doc["next_cursor"].IsNull());

  Expect(200, "GET", "/api/v1/groups/10/events");
  EXPECT_EQ(store_.last_events_limit, 50);
  ExpectError(404, "GET", "/api/v1/groups/11/events");
  ExpectError(400, "GET", "/api/v1/groups/abc/events");
  ExpectError(400, "GET", "/api/v1/groups/10/events?limit=5000");
  ExpectError(400, "GET", "/api/v1/groups/10/events?cursor=bad");
}

TEST_F(RestApiTest, EventDetailEmbedsPayload) {
  rapidjson::Document doc =
      Expect(200, "GET", std::string("/api/v1/events/") + kEventId);
  EXPECT_EQ(Str(doc["event_id"]), kEventId);
  EXPECT_EQ(Str(doc["level"]), "fatal");
  EXPECT_EQ(Str(doc["platform"]), "python");
  EXPECT_EQ(Str(doc["release"]), "2.0");
  EXPECT_EQ(Str(doc["environment"]), "prod");
  EXPECT_EQ(Str(doc["server_name"]), "web-1");
  EXPECT_EQ(Str(doc["service"]), "api");
  EXPECT_EQ(Str(doc["timestamp"]), "2026-11-22T10:00:00.123Z");
  EXPECT_EQ(Str(doc["links"]["group"]),
            "http://127.0.0.1:9190/api/v1/groups/20");
  ASSERT_TRUE(doc["payload"].IsObject());
  EXPECT_EQ(Str(doc["payload"]["level"]), "fatal");
  EXPECT_EQ(doc["payload"]["extra"]["nested"][1][1][0].GetInt(), 3);
  // Numbers are copied verbatim, even those a double cannot hold.
  http::HttpResponse raw =
      Call("GET", std::string("/api/v1/events/") + kEventId);
  EXPECT_NE(raw.body.find("\"big\":123456789012345678901234567890"),
            std::string::npos);
  EXPECT_NE(raw.body.find("\"f\":1.5e300"), std::string::npos);
}

TEST_F(RestApiTest, EventIdForms) {
  Expect(200, "GET", "/api/v1/events/0123456789ABCDEF0123456789ABCDEF");
  Expect(200, "GET", "/api/v1/events/01234567-89ab-cdef-0123-456789abcdef");
  ExpectError(404, "GET", "/api/v1/events/ffffffffffffffffffffffffffffffff");
  ExpectError(400, "GET", "/api/v1/events/123");
  ExpectError(400, "GET", "/api/v1/events/0123456789abcdef0123456789abcdeg");
}

TEST_F(RestApiTest, UnparseablePayloadStaysValidJson) {
  store_.events.back().payload = "{\"a\":\"\\ud800\"} trailing \xff";
  rapidjson::Document doc =
      Expect(200, "GET", std::string("/api/v1/events/") + kEventId);
  EXPECT_TRUE(doc["payload"].IsNull());
  EXPECT_NE(Str(doc["payload_text"]).find("trailing \xEF\xBF\xBD"),
            std::string::npos);
}

TEST_F(RestApiTest, WeirdBytesNeverBreakJson) {
  const std::string weird =
      std::string("a\xff\xfe b\xc0\x80 c\xed\xa0\x80 d") +
      std::string(1, '\0') +
      "\x01\x1f \"q\" \\ </script> \xe2\x82 ok \xf0\x9f\x92\xa5";
  store_.groups[0].title = weird;
  store_.groups[0].culprit = "\x80";
  store_.groups[0].service = "\xf4\x90\x80\x80";  // above U+10FFFF
  store_.events.back().payload =
      std::string("{\"message\":\"caf\xe9\",\"ok\":\"\xf0\x9f\x92\xa5\"}");
  store_.events.back().message = "\xc3";
  store_.crashes[0].logs = "ok\n\xff\xff\nend";

  rapidjson::Document doc = Expect(200, "GET", "/api/v1/groups/10");
  const std::string title = Str(doc["title"]);
  EXPECT_EQ(title.find('\xff'), std::string::npos);
  EXPECT_NE(title.find("\xEF\xBF\xBD"), std::string::npos);
  EXPECT_NE(title.find("\xf0\x9f\x92\xa5"), std::string::npos);  // valid kept
  EXPECT_NE(title.find("</script>"), std::string::npos);
  EXPECT_EQ(title.substr(0, 1), "a");
  EXPECT_NE(title.find(std::string(1, '\0')), std::string::npos);
  EXPECT_EQ(Str(doc["culprit"]), "\xEF\xBF\xBD");

  doc = Expect(200, "GET", "/api/v1/groups");
  doc = Expect(200, "GET", std::string("/api/v1/events/") + kEventId);
  ASSERT_TRUE(doc["payload"].IsObject());
  EXPECT_EQ(Str(doc["payload"]["message"]), "caf\xEF\xBF\xBD");
  EXPECT_EQ(Str(doc["payload"]["ok"]), "\xf0\x9f\x92\xa5");
  EXPECT_EQ(Str(doc["message"]), "\xEF\xBF\xBD");
  doc = Expect(200, "GET", "/api/v1/crashes/7");
  ASSERT_EQ(doc["logs"].Size(), 3u);
  EXPECT_EQ(Str(doc["logs"][1]), "\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST_F(RestApiTest, ListCrashesPassesFilters) {
  rapidjson::Document doc = Expect(
      200, "GET",
      "/api/v1/crashes?namespace=shop&type=oom_killed&pod=checkout-7d9f-abcde"
      "&since=2026-11-22T10:00:00.500Z&limit=1");
  ASSERT_TRUE(store_.last_crash_query.has_value());
  const store::CrashQuery& q = *store_.last_crash_query;
  EXPECT_EQ(q.namespace_, "shop");
  EXPECT_EQ(q.crash_type, model::CrashType::kOomKilled);
  EXPECT_EQ(q.pod, "checkout-7d9f-abcde");
  EXPECT_DOUBLE_EQ(q.since, 1795341600.5);
  EXPECT_EQ(q.limit, 1);
  ASSERT_EQ(doc["items"].Size(), 1u);
  EXPECT_EQ(Str(doc["next_cursor"]), "off:1");

  Expect(200, "GET", "/api/v1/crashes?since=1795341600.25&cursor=off:1");
  EXPECT_DOUBLE_EQ(store_.last_crash_query->since, 1795341600.25);
  EXPECT_EQ(store_.last_crash_query->cursor, "off:1");
  Expect(200, "GET", "/api/v1/crashes");
  EXPECT_EQ(store_.last_crash_query->since, 0);
  EXPECT_EQ(store_.last_crash_query->limit, 50);
  EXPECT_FALSE(store_.last_crash_query->crash_type.has_value());

  for (const char* type : {"crash_loop", "init_failed", "evicted",
                           "restart_threshold", "error_exit"}) {
    Expect(200, "GET", std::string("/api/v1/crashes?type=") + type);
  }
  ExpectError(400, "GET", "/api/v1/crashes?type=segfault");
  ExpectError(400, "GET", "/api/v1/crashes?since=yesterday");
  ExpectError(400, "GET", "/api/v1/crashes?since=-5");
  ExpectError(400, "GET", "/api/v1/crashes?since=2026-02-30T00:00:00Z");
  ExpectError(400, "GET", "/api/v1/crashes?limit=0");
  ExpectError(400, "GET", "/api/v1/crashes?cursor=nope");
  store_.fail_next = Failure(Status::Code::kUnavailable, "read-only");
  ExpectError(503, "GET", "/api/v1/crashes");
}

TEST_F(RestApiTest, GetCrashRendersEveryField) {
  rapidjson::Document c = Expect(200, "GET", "/api/v1/crashes/7");
  EXPECT_EQ(c["id"].GetInt64(), 7);
  EXPECT_EQ(Str(c["namespace"]), "shop");
  EXPECT_EQ(Str(c["pod"]), "checkout-7d9f-abcde");
  EXPECT_EQ(Str(c["pod_uid"]), "uid-1");
  EXPECT_EQ(Str(c["container"]), "app");
  EXPECT_EQ(Str(c["node"]), "node-1");
  EXPECT_EQ(Str(c["workload_kind"]), "Deployment");
  EXPECT_EQ(Str(c["workload"]), "checkout");
  EXPECT_EQ(Str(c["image"]), "shop/checkout:1.2.3");
  EXPECT_EQ(Str(c["crash_type"]), "oom_killed");
  EXPECT_EQ(Str(c["reason"]), "OOMKilled");
  EXPECT_EQ(c["exit_code"].GetInt(), 137);
  EXPECT_EQ(Str(c["signal"]), "SIGKILL");
  EXPECT_EQ(c["restart_count"].GetInt(), 3);
  EXPECT_EQ(Str(c["memory_request"]), "64Mi");
  EXPECT_EQ(Str(c["memory_limit"]), "128Mi");
  EXPECT_EQ(Str(c["started_at"]), "2026-11-22T10:00:00.000Z");
  EXPECT_EQ(Str(c["finished_at"]), "2026-11-22T10:01:00.042Z");
  ASSERT_TRUE(c["logs"].IsArray());
  ASSERT_EQ(c["logs"].Size(), 3u);
  EXPECT_EQ(Str(c["logs"][0]), "line one");
  EXPECT_EQ(Str(c["logs"][2]), "line three");
  ASSERT_EQ(c["linked_groups"].Size(), 2u);
  EXPECT_EQ(c["linked_groups"][1].GetInt64(), 20);
  EXPECT_EQ(Str(c["links"]["self"]), "http://127.0.0.1:9190/api/v1/crashes/7");

  rapidjson::Document e = Expect(200, "GET", "/api/v1/crashes/8");
  EXPECT_TRUE(e["signal"].IsNull());
  EXPECT_TRUE(e["memory_limit"].IsNull());
  EXPECT_TRUE(e["started_at"].IsNull());
  EXPECT_EQ(e["logs"].Size(), 0u);
  EXPECT_EQ(e["linked_groups"].Size(), 0u);

  ExpectError(404, "GET", "/api/v1/crashes/9");
  ExpectError(400, "GET", "/api/v1/crashes/seven");
}

// Every REST route, with a request that succeeds when authorised.
struct Call_ {
  const char* method;
  const char* target;
  const char* body;
};
const Call_ kRestCalls[] = {
    {"GET", "/api/v1/openapi.json", ""},
    {"GET", "/api/v1/projects", ""},
    {"POST", "/api/v1/projects", R"({"name":"p"})"},
    {"GET", "/api/v1/groups", ""},
    {"GET", "/api/v1/groups/10", ""},
    {"PATCH", "/api/v1/groups/10", R"({"status":"resolved"})"},
    {"GET", "/api/v1/groups/10/events", ""},
    {"GET", "/api/v1/events/0123456789abcdef0123456789abcdef", ""},
    {"GET", "/api/v1/crashes", ""},
    {"GET", "/api/v1/crashes/7", ""},
};

TEST_F(RestApiTest, AdminTokenGuardsEveryRestRoute) {
  options_.admin_token = "s3cret-token";
  // A route someone else registers (ingestion, /metrics) is not guarded.
  router_.Add("GET", "/metrics", "Prometheus metrics", [](http::HttpRequest&) {
    http::HttpResponse r;
    r.content_type = "text/plain";
    r.body = "up 1\n";
    return r;
  });
  std::set<std::string> covered;
  for (const Call_& c : kRestCalls) {
    SCOPED_TRACE(std::string(c.method) + " " + c.target);
    covered.insert(std::string(c.method) + " " + c.target);
    http::HttpResponse none = Call(c.method, c.target, c.body);
    EXPECT_EQ(none.status, 401);
    EXPECT_TRUE(ParseStrict(none.body).HasMember("error"));
    bool challenge = false;
    for (const auto& h : none.headers) {
      challenge |=
          h.first == "WWW-Authenticate" && h.second.rfind("Bearer", 0) == 0;
    }
    EXPECT_TRUE(challenge);
    for (const char* bad :
         {"Bearer s3cret-toke", "Bearer s3cret-token2", "Basic s3cret-token",
          "s3cret-token", "Bearer ", "Bearer S3CRET-TOKEN"}) {
      EXPECT_EQ(
          Call(c.method, c.target, c.body, {{"authorization", bad}}).status,
          401)
          << bad;
    }
    const int want = std::string(c.method) == "POST" ? 201 : 200;
    EXPECT_EQ(Call(c.method, c.target, c.body,
                   {{"authorization", "Bearer s3cret-token"}})
                  .status,
              want);
    EXPECT_EQ(Call(c.method, c.target, c.body,
                   {{"authorization", "bearer  s3cret-token "}})
                  .status,
              want);
  }
  EXPECT_EQ(Call("GET", "/healthz").status, 200);
  EXPECT_EQ(Call("GET", "/readyz").status, 200);
  EXPECT_EQ(Call("GET", "/metrics").status, 200);
  // Every route registered on the router is either covered above or open.
  for (const http::Router::Route& route : router_.routes()) {
    if (route.pattern == "/healthz" || route.pattern == "/readyz" ||
        route.pattern == "/metrics") {
      continue;
    }
    EXPECT_TRUE(route.pattern.rfind("/api/v1/", 0) == 0) << route.pattern;
  }
  EXPECT_EQ(covered.size(), 10u);
}

TEST_F(RestApiTest, NoTokenMeansOpen) {
  for (const Call_& c : kRestCalls) {
    const int want = std::string(c.method) == "POST" ? 201 : 200;
    EXPECT_EQ(Call(c.method, c.target, c.body).status, want) << c.target;
  }
}

}  // namespace
}  // namespace rest
}  // namespace crashctl
