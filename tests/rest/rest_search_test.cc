// Issue 19's REST surface against the in-memory store: 400 naming the
// parameter for every unknown or malformed query parameter (table-driven
// over the routes), the group/event filters as the store receives them,
// GET /api/v1/events, a group's stats and tags, the bulk status change,
// merge, the deletes with their callbacks, and the read token.
#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "crashctl/rest/rest_api.h"
#include "crashctl/store/sqlite.h"
#include "crashctl/util/time.h"
#include "fake_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rest_fixture.h"
#include "rest_test_util.h"
#include "tests/testing/temp_dir.h"

namespace crashctl {
namespace rest {
namespace {

using testing::FakeStore;
using ::testing::HasSubstr;

constexpr char kEventId[] = "0123456789abcdef0123456789abcdef";
constexpr double kTen = 1795341600;  // 2026-11-22T10:00:00Z

class RestSearchTest : public RestRouteTest {
 protected:
  void SetUp() override {
    options_.base_url = "http://127.0.0.1:9190";
    options_.on_groups_merged = [this](int64_t into,
                                       const std::vector<int64_t>& from) {
      merged_.emplace_back(into, from);
    };
    options_.on_groups_deleted = [this](const std::vector<int64_t>& ids) {
      deleted_.push_back(ids);
    };
    for (int i = 1; i <= 4; ++i) {
      model::Group g;
      g.id = 10 * i;
      g.project_id = 1;
      g.title = "Timeout #" + std::to_string(i);
      g.count = 2;
      g.first_seen = kTen;
      g.last_seen = kTen + 3600;
      g.first_release = "0.9";
      g.release = "1.0";
      g.users = i;
      store_.groups.push_back(g);
    }
    // Two events per group: 10:05 and 11:05; user u1 only in group 10
    // (both) and group 20 (the first).
    for (int i = 1; i <= 4; ++i) {
      for (int k = 0; k < 2; ++k) {
        model::StoredEvent e;
        e.event_id =
            std::string(30, '0') + std::to_string(i) + std::to_string(k);
        e.project_id = 1;
        e.group_id = 10 * i;
        e.timestamp = kTen + 300 + 3600 * k;
        e.received = e.timestamp + 1;
        e.title = "Timeout";
        e.release = "1.0";
        e.environment = k == 0 ? "prod" : "staging";
        e.trace_id = std::string(31, 'a') + std::to_string(i);
        e.user = (i == 1 || (i == 2 && k == 0)) ? "u1" : "u2";
        e.tags = {{"browser", "Chrome"}, {"os", k == 0 ? "Linux" : "Mac"}};
        e.payload = "{}";
        store_.events.push_back(e);
      }
    }
  }

  // The error message of a 400 answer.
  std::string Expect400(const std::string& method, const std::string& target,
                        const std::string& body = "") {
    rapidjson::Document doc = Expect(400, method, target, body);
    if (!doc.IsObject() || !doc.HasMember("error")) return "<no error>";
    return Str(doc["error"]);
  }

  std::vector<std::pair<int64_t, std::vector<int64_t>>> merged_;
  std::vector<std::vector<int64_t>> deleted_;
};

// A concrete path for a route pattern: every {segment} filled in.
std::string Concrete(const std::string& pattern) {
  static const std::map<std::string, std::string> kValues = {
      {"id", "10"},
      {"event_id", kEventId},
      {"trace_id", std::string(32, 'a')},
      {"attachment_id", "1"}};
  std::string out;
  size_t pos = 0;
  while (pos < pattern.size()) {
    const size_t open = pattern.find('{', pos);
    if (open == std::string::npos) {
      out += pattern.substr(pos);
      break;
    }
    const size_t close = pattern.find('}', open);
    out += pattern.substr(pos, open - pos);
    const std::string name = pattern.substr(open + 1, close - open - 1);
    auto it = kValues.find(name);
    out += it == kValues.end() ? "1" : it->second;
    pos = close + 1;
  }
  return out;
}

TEST_F(RestSearchTest, EveryApiRouteRefusesAnUnknownParameter) {
  Call("GET", "/healthz");  // registers the routes
  int checked = 0;
  for (const http::Router::Route& route : router_.routes()) {
    if (route.kind != http::RouteKind::kApi) continue;
    const std::string target = Concrete(route.pattern) + "?colour=blue";
    const std::string error = Expect400(route.method, target);
    EXPECT_THAT(error, HasSubstr("unknown parameter \"colour\""))
        << route.method << " " << target;
    ++checked;
  }
  EXPECT_GE(checked, 25);
}

TEST_F(RestSearchTest, RepeatedParameterIsRefusedUnlessRepeatable) {
  EXPECT_THAT(Expect400("GET", "/api/v1/groups?project=1&project=2"),
              HasSubstr("parameter \"project\" given twice"));
  EXPECT_THAT(Expect400("GET", "/api/v1/events?limit=1&limit=1"),
              HasSubstr("\"limit\" given twice"));
  Expect(200, "GET", "/api/v1/groups?tag=a:1&tag=b:2");
  EXPECT_EQ(store_.last_group_query->tags.size(), 2u);
}

// Each malformed value answers 400 naming its parameter.
TEST_F(RestSearchTest, MalformedValuesNameTheParameter) {
  const std::string long_value(257, 'x');
  const std::string nine_tags =
      "tag=a:1&tag=b:1&tag=c:1&tag=d:1&tag=e:1&tag=f:1&tag=g:1&tag=h:1&tag=i:1";
  std::string ids;
  for (int i = 1; i <= 101; ++i)
    ids += (i > 1 ? "&id=" : "id=") + std::to_string(i);
  struct Case {
    const char* method;
    std::string target;
    const char* param;
  };
  std::vector<Case> cases;
  for (const char* list : {"/api/v1/groups", "/api/v1/events"}) {
    const std::string l = list;
    for (const auto& [query, param] :
         std::vector<std::pair<std::string, const char*>>{
             {"project=0", "project"},
             {"project=abc", "project"},
             {"status=open", "status"},
             {"level=loud", "level"},
             {"service=" + long_value, "service"},
             {"release=" + long_value, "release"},
             {"environment=" + long_value, "environment"},
             {"first_release=" + long_value, "first_release"},
             {"user=" + long_value, "user"},
             {"tag=nocolon", "tag"},
             {"tag=:v", "tag"},
             {"tag=k:", "tag"},
             {"tag=" + std::string(33, 'k') + ":v", "tag"},
             {"tag=k:" + std::string(201, 'v'), "tag"},
             {nine_tags, "tag"},
             {"since=soon", "since"},
             {"since=-5", "since"},
             {"until=later", "until"},
             {"since=2000&until=1000", "until"},
             {"query=%22open", "query"},
             {"query=-only", "query"},
             {"query=a*", "query"},
             {"query=%20%20", "query"},
             {"query=" + std::string(300, 'q'), "query"},
             {"limit=0", "limit"},
             {"limit=1001", "limit"},
             {"limit=x", "limit"},
         }) {
      cases.push_back({"GET", l + "?" + query, param});
    }
  }
  cases.push_back({"GET", "/api/v1/groups?sort=title", "sort"});
  cases.push_back({"GET", "/api/v1/events?group=0", "group"});
  cases.push_back({"GET", "/api/v1/events?group=x", "group"});
  cases.push_back({"GET", "/api/v1/groups/10/stats?interval=2h", "interval"});
  cases.push_back({"GET", "/api/v1/groups/10/stats?interval=", "interval"});
  cases.push_back({"GET", "/api/v1/groups/10/stats?since=x", "since"});
  cases.push_back({"GET", "/api/v1/groups/10/stats?until=x", "until"});
  cases.push_back(
      {"GET", "/api/v1/groups/10/stats?since=2000&until=1000", "until"});
  cases.push_back({"GET",
                   "/api/v1/groups/10/stats?interval=1m&since=0&until=864000",
                   "since"});
  cases.push_back({"GET", "/api/v1/groups/10/tags?top=0", "top"});
  cases.push_back({"GET", "/api/v1/groups/10/tags?top=101", "top"});
  cases.push_back({"GET", "/api/v1/groups/10/tags?top=x", "top"});
  cases.push_back({"PATCH", "/api/v1/groups", "id"});
  cases.push_back({"PATCH", "/api/v1/groups?id=x", "id"});
  cases.push_back({"PATCH", "/api/v1/groups?id=0", "id"});
  cases.push_back({"PATCH", "/api/v1/groups?" + ids, "id"});
  cases.push_back({"DELETE", "/api/v1/events", "user"});
  cases.push_back({"DELETE", "/api/v1/events?project=1", "user"});
  cases.push_back({"DELETE", "/api/v1/events?user=", "user"});
  cases.push_back({"DELETE", "/api/v1/events?user=u1&project=x", "project"});
  cases.push_back({"GET", "/api/v1/crashes?since=x", "since"});
  cases.push_back(
      {"GET", "/api/v1/transactions?min_duration=x", "min_duration"});
  cases.push_back({"GET", "/api/v1/transactions/summary?until=x", "until"});
  cases.push_back({"GET", "/api/v1/releases?limit=0", "limit"});
  cases.push_back({"GET", "/api/v1/monitors?project=x", "project"});
  for (const Case& c : cases) {
    const int calls_before = store_.calls;
    const std::string error =
        Expect400(c.method, c.target, R"({"status":"resolved"})");
    EXPECT_THAT(error, HasSubstr(std::string("\"") + c.param + "\""))
        << c.method << " " << c.target.substr(0, 120);
    // Refused before the store is asked anything.
    EXPECT_EQ(store_.calls, calls_before) << c.target.substr(0, 120);
  }
}

TEST_F(RestSearchTest, GroupFiltersReachTheStore) {
  Expect(200, "GET",
         "/api/v1/groups?project=1&status=resolved&level=warning&service=api"
         "&release=1.0&environment=prod&first_release=0.9&user=u1"
         "&tag=browser:Chrome&tag=url:http://x/a:b"
         "&since=2026-11-22T10:00:00Z&until=1795345200"
         "&query=Timeout%20%22conn%20refused%22%20-retry&sort=count&limit=5"
         "&cursor=off:0");
  ASSERT_TRUE(store_.last_group_query.has_value());
  const store::GroupQuery& q = *store_.last_group_query;
  EXPECT_EQ(q.project, 1);
  EXPECT_EQ(q.status, model::GroupStatus::kResolved);
  EXPECT_EQ(q.level, model::Level::kWarning);
  EXPECT_EQ(q.service, "api");
  EXPECT_EQ(q.release, "1.0");
  EXPECT_EQ(q.environment, "prod");
  EXPECT_EQ(q.first_release, "0.9");
  EXPECT_EQ(q.user, "u1");
  ASSERT_EQ(q.tags.size(), 2u);
  EXPECT_EQ(q.tags[0].key, "browser");
  EXPECT_EQ(q.tags[0].value, "Chrome");
  EXPECT_EQ(q.tags[1].key, "url");  // split at the first ':'
  EXPECT_EQ(q.tags[1].value, "http://x/a:b");
  EXPECT_DOUBLE_EQ(q.since, kTen);
  EXPECT_DOUBLE_EQ(q.until, kTen + 3600);
  ASSERT_TRUE(q.query.has_value());
  search::Query want;
  ASSERT_TRUE(
      search::ParseQuery("Timeout \"conn refused\" -retry", &want).ok());
  EXPECT_EQ(*q.query, want);
  EXPECT_EQ(q.sort, "count");
  EXPECT_EQ(q.limit, 5);
  EXPECT_EQ(q.cursor, "off:0");

  // Nothing given (or empty values, a dashboard's "All"): nothing filtered.
  Expect(200, "GET", "/api/v1/groups?status=&level=&release=&query=");
  const store::GroupQuery& none = *store_.last_group_query;
  EXPECT_FALSE(none.project || none.status || none.level || none.query);
  EXPECT_TRUE(none.tags.empty());
  EXPECT_EQ(none.since, 0);
  EXPECT_EQ(none.until, 0);
}

TEST_F(RestSearchTest, GroupJsonCarriesUsersAndFirstRelease) {
  rapidjson::Document doc = Expect(200, "GET", "/api/v1/groups?limit=2");
  ASSERT_EQ(doc["items"].Size(), 2u);
  EXPECT_EQ(doc["items"][1]["users"].GetInt64(), 2);
  EXPECT_EQ(Str(doc["items"][1]["first_release"]), "0.9");
  EXPECT_EQ(Str(doc["items"][1]["links"]["stats"]),
            "http://127.0.0.1:9190/api/v1/groups/20/stats");
}

TEST_F(RestSearchTest, EventsListFiltersAndPaginates) {
  rapidjson::Document doc = Expect(
      200, "GET",
      "/api/v1/events?project=1&group=10&user=u1&tag=os:Linux&level=error"
      "&release=1.0&environment=prod&status=unresolved&first_release=0.9"
      "&since=1795341600&until=1795430000&query=timeout&limit=1");
  ASSERT_TRUE(store_.last_event_query.has_value());
  const store::EventQuery& q = *store_.last_event_query;
  EXPECT_EQ(q.project, 1);
  EXPECT_EQ(q.group, 10);
  EXPECT_EQ(q.user, "u1");
  EXPECT_EQ(q.status, model::GroupStatus::kUnresolved);
  EXPECT_EQ(q.first_release, "0.9");
  EXPECT_TRUE(q.query.has_value());
  EXPECT_EQ(q.limit, 1);
  ASSERT_EQ(doc["items"].Size(), 1u);
  const rapidjson::Value& e = doc["items"][0];
  EXPECT_EQ(e["group"].GetInt64(), 10);
  EXPECT_EQ(Str(e["user"]), "u1");
  EXPECT_EQ(Str(e["release"]), "1.0");
  EXPECT_EQ(Str(e["environment"]), "prod");
  EXPECT_EQ(Str(e["trace_id"]), std::string(31, 'a') + "1");
  ASSERT_TRUE(e["tags"].IsArray());
  ASSERT_EQ(e["tags"].Size(), 2u);
  EXPECT_EQ(Str(e["tags"][1]["key"]), "os");
  EXPECT_EQ(Str(e["tags"][1]["value"]), "Linux");
  EXPECT_FALSE(e.HasMember("payload"));
  EXPECT_TRUE(doc["next_cursor"].IsNull());

  // Paging through all eight events, newest first.
  std::string cursor;
  int seen = 0;
  for (int page = 0; page < 10; ++page) {
    doc = Expect(
        200, "GET",
        "/api/v1/events?limit=3" + (cursor.empty() ? "" : "&cursor=" + cursor));
    seen += static_cast<int>(doc["items"].Size());
    if (doc["next_cursor"].IsNull()) break;
    cursor = Str(doc["next_cursor"]);
  }
  EXPECT_EQ(seen, 8);
  // The store's kInvalid for a cursor it did not make names the parameter.
  EXPECT_THAT(Expect400("GET", "/api/v1/events?cursor=garbage"),
              HasSubstr("invalid \"cursor\""));
  EXPECT_THAT(Expect400("GET", "/api/v1/groups?cursor=garbage"),
              HasSubstr("invalid \"cursor\""));
}

TEST_F(RestSearchTest, StatsDefaultsToHourlyOverTheLastDay) {
  const double before = util::NowSeconds();
  rapidjson::Document doc = Expect(200, "GET", "/api/v1/groups/10/stats");
  ASSERT_TRUE(store_.last_stats_query.has_value());
  const store::StatsQuery& q = *store_.last_stats_query;
  EXPECT_EQ(q.group_id, 10);
  EXPECT_EQ(q.interval, 3600);
  EXPECT_GE(q.until, before);
  EXPECT_NEAR(q.until - q.since, 86400, 1e-6);
  EXPECT_EQ(Str(doc["interval"]), "1h");
  // 24 h not aligned to the hour: 25 buckets (or 24 exactly on the hour).
  EXPECT_GE(doc["buckets"].Size(), 24u);
  EXPECT_LE(doc["buckets"].Size(), 25u);
}

TEST_F(RestSearchTest, StatsBucketsAreZeroFilled) {
  // 09:00 to 13:00 hourly: events at 10:05 and 11:05.
  rapidjson::Document doc =
      Expect(200, "GET",
             "/api/v1/groups/10/stats?interval=1h&since=2026-11-22T09:30:00Z"
             "&until=2026-11-22T13:00:00Z");
  EXPECT_DOUBLE_EQ(store_.last_stats_query->since, kTen - 1800);
  const rapidjson::Value& b = doc["buckets"];
  ASSERT_EQ(b.Size(), 4u);
  EXPECT_EQ(Str(b[0]["start"]), "2026-11-22T09:00:00.000Z");
  EXPECT_EQ(b[0]["count"].GetInt64(), 0);
  EXPECT_EQ(b[1]["count"].GetInt64(), 1);
  EXPECT_EQ(b[2]["count"].GetInt64(), 1);
  EXPECT_EQ(b[3]["count"].GetInt64(), 0);
  EXPECT_EQ(doc["total"].GetInt64(), 2);
  doc = Expect(200, "GET",
               "/api/v1/groups/10/stats?interval=1d&since=1795300000"
               "&until=1795400000");
  EXPECT_EQ(store_.last_stats_query->interval, 86400);
  EXPECT_EQ(Str(doc["interval"]), "1d");
  doc = Expect(200, "GET", "/api/v1/groups/10/stats?interval=1m");
  EXPECT_EQ(store_.last_stats_query->interval, 60);
  Expect(404, "GET", "/api/v1/groups/99/stats");
}

TEST_F(RestSearchTest, TagsPassTopAndRender) {
  model::TagSummary browser;
  browser.key = "browser";
  browser.values = 2;
  browser.events = 8;
  for (const char* v : {"Chrome", "Firefox", "Safari"}) {
    model::TagValueCount c;
    c.value = v;
    c.count = 3;
    c.first_seen = kTen;
    c.last_seen = kTen + 60;
    browser.top.push_back(c);
  }
  store_.tag_summaries = {browser};
  rapidjson::Document doc = Expect(200, "GET", "/api/v1/groups/10/tags");
  EXPECT_EQ(store_.last_tags_top, 10u);
  ASSERT_EQ(doc["items"].Size(), 1u);
  const rapidjson::Value& t = doc["items"][0];
  EXPECT_EQ(Str(t["key"]), "browser");
  EXPECT_EQ(t["events"].GetInt64(), 8);
  EXPECT_EQ(t["other_count"].GetInt64(), 0);
  ASSERT_EQ(t["top"].Size(), 3u);
  EXPECT_EQ(Str(t["top"][0]["value"]), "Chrome");
  EXPECT_EQ(Str(t["top"][0]["last_seen"]), "2026-11-22T10:01:00.000Z");
  doc = Expect(200, "GET", "/api/v1/groups/10/tags?top=2");
  EXPECT_EQ(store_.last_tags_top, 2u);
  EXPECT_EQ(doc["items"][0]["top"].Size(), 2u);
  Expect(404, "GET", "/api/v1/groups/99/tags");
}

TEST_F(RestSearchTest, BulkStatusChange) {
  rapidjson::Document doc = Expect(200, "PATCH", "/api/v1/groups?id=10&id=30",
                                   R"({"status":"resolved"})");
  EXPECT_EQ(store_.last_bulk_ids, (std::vector<int64_t>{10, 30}));
  ASSERT_EQ(doc["items"].Size(), 2u);
  EXPECT_EQ(Str(doc["items"][0]["status"]), "resolved");
  EXPECT_EQ(doc["items"][1]["id"].GetInt64(), 30);
  EXPECT_EQ(store_.groups[0].status, model::GroupStatus::kResolved);
  EXPECT_EQ(store_.groups[1].status, model::GroupStatus::kUnresolved);
  // A missing group: 404, nothing changed.
  Expect(404, "PATCH", "/api/v1/groups?id=20&id=99", R"({"status":"ignored"})");
  EXPECT_EQ(store_.groups[1].status, model::GroupStatus::kUnresolved);
  EXPECT_THAT(Expect400("PATCH", "/api/v1/groups?id=20", R"({"status":"x"})"),
              HasSubstr("\"status\""));
  Expect400("PATCH", "/api/v1/groups?id=20", R"({"state":"resolved"})");
  Expect400("PATCH", "/api/v1/groups?id=20", "not json");
}

TEST_F(RestSearchTest, MergeMovesEventsAndTellsTheExporter) {
  rapidjson::Document doc =
      Expect(200, "POST", "/api/v1/groups/10/merge", R"({"from":[20,30]})");
  EXPECT_EQ(doc["id"].GetInt64(), 10);
  EXPECT_EQ(doc["count"].GetInt64(), 6);
  ASSERT_EQ(merged_.size(), 1u);
  EXPECT_EQ(merged_[0].first, 10);
  EXPECT_EQ(merged_[0].second, (std::vector<int64_t>{20, 30}));
  Expect(404, "GET", "/api/v1/groups/20");
  for (const char* body :
       {R"({"from":[]})", R"({"from":[10]})", R"({"from":"20"})",
        R"({"from":[0]})", R"({"from":[1.5]})", R"({})",
        R"({"from":[40],"into":1})"}) {
    EXPECT_THAT(Expect400("POST", "/api/v1/groups/10/merge", body),
                ::testing::AnyOf(HasSubstr("\"from\""),
                                 HasSubstr("unknown body field")))
        << body;
  }
  Expect(404, "POST", "/api/v1/groups/10/merge", R"({"from":[99]})");
  EXPECT_EQ(merged_.size(), 1u);  // failures tell nobody
}

TEST_F(RestSearchTest, DeleteGroupTellsTheExporter) {
  rapidjson::Document doc = Expect(200, "DELETE", "/api/v1/groups/20");
  EXPECT_EQ(doc["deleted_groups"][0].GetInt64(), 20);
  ASSERT_EQ(deleted_.size(), 1u);
  EXPECT_EQ(deleted_[0], (std::vector<int64_t>{20}));
  Expect(404, "GET", "/api/v1/groups/20");
  Expect(404, "DELETE", "/api/v1/groups/20");
  EXPECT_EQ(deleted_.size(), 1u);
}

TEST_F(RestSearchTest, DeleteUserEventsReportsEmptiedGroups) {
  rapidjson::Document doc =
      Expect(200, "DELETE", "/api/v1/events?user=u1&project=1");
  ASSERT_TRUE(store_.last_event_deletion.has_value());
  EXPECT_EQ(store_.last_event_deletion->user, "u1");
  EXPECT_EQ(store_.last_event_deletion->project, 1);
  EXPECT_EQ(doc["deleted_events"].GetInt64(), 3);
  // Group 10 had only u1's events; group 20 keeps one of u2.
  ASSERT_EQ(doc["deleted_groups"].Size(), 1u);
  EXPECT_EQ(doc["deleted_groups"][0].GetInt64(), 10);
  ASSERT_EQ(deleted_.size(), 1u);
  EXPECT_EQ(deleted_[0], (std::vector<int64_t>{10}));
  doc = Expect(200, "DELETE", "/api/v1/events?user=nobody");
  EXPECT_EQ(doc["deleted_events"].GetInt64(), 0);
  EXPECT_FALSE(store_.last_event_deletion->project.has_value());
  EXPECT_EQ(deleted_.size(), 1u);
}

class RestReadTokenTest : public RestSearchTest {
 protected:
  void SetUp() override {
    RestSearchTest::SetUp();
    options_.admin_token = "admin-secret";
    options_.read_token = "read-only";
  }
  int Code(const std::string& method, const std::string& target,
           const std::string& token, const std::string& body = "") {
    std::map<std::string, std::string> headers;
    if (!token.empty()) headers["authorization"] = "Bearer " + token;
    return Call(method, target, body, headers).status;
  }
};

TEST_F(RestReadTokenTest, ReadTokenReadsButNeverWrites) {
  for (const char* target :
       {"/api/v1/groups", "/api/v1/groups/10", "/api/v1/events",
        "/api/v1/groups/10/stats", "/api/v1/groups/10/tags",
        "/api/v1/groups/10/events", "/api/v1/projects", "/api/v1/crashes",
        "/api/v1/openapi.json"}) {
    EXPECT_EQ(Code("GET", target, "read-only"), 200) << target;
    EXPECT_EQ(Code("HEAD", target, "read-only"), 200) << target;
    EXPECT_EQ(Code("GET", target, "admin-secret"), 200) << target;
    EXPECT_EQ(Code("GET", target, ""), 401) << target;
    EXPECT_EQ(Code("GET", target, "wrong"), 401) << target;
  }
  // Routes of the other route files take it too.
  EXPECT_NE(Code("GET", "/api/v1/releases", "read-only"), 401);
  EXPECT_NE(Code("GET", "/api/v1/monitors", "read-only"), 401);
  struct Write {
    const char* method;
    const char* target;
    const char* body;
  };
  const Write writes[] = {
      {"PATCH", "/api/v1/groups/10", R"({"status":"resolved"})"},
      {"PATCH", "/api/v1/groups?id=10", R"({"status":"resolved"})"},
      {"POST", "/api/v1/groups/10/merge", R"({"from":[20]})"},
      {"DELETE", "/api/v1/groups/40", ""},
      {"DELETE", "/api/v1/events?user=u2", ""},
      {"POST", "/api/v1/projects", R"({"name":"web"})"},
  };
  for (const Write& w : writes) {
    std::map<std::string, std::string> headers = {
        {"authorization", "Bearer read-only"}};
    http::HttpResponse r = Call(w.method, w.target, w.body, headers);
    EXPECT_EQ(r.status, 403) << w.method << " " << w.target;
    EXPECT_EQ(Str(ParseStrict(r.body)["error"]), "the read token cannot write");
  }
  EXPECT_EQ(store_.groups.size(), 4u);  // nothing written
  EXPECT_TRUE(merged_.empty());
  EXPECT_TRUE(deleted_.empty());
  for (const Write& w : writes) {
    EXPECT_EQ(Code(w.method, w.target, "admin-secret", w.body) / 100, 2)
        << w.method << " " << w.target;
  }
}

// The same routes on a real SqliteStore: what the REST layer passes is what
// the store filters on, end to end.
TEST(RestSearchSqliteTest, FiltersStatsTagsMergeAndDeleteEndToEnd) {
  ::crashctl::testing::TempDir dir("rest-search-test");
  std::string error;
  std::unique_ptr<store::Store> store =
      store::OpenSqlite(dir.File("crashctl.db"), &error);
  ASSERT_NE(store, nullptr) << error;
  model::Project project;
  ASSERT_TRUE(store->CreateProject("shop", &project).ok());
  // Group "a": 3 events (user u1 twice, Chrome); group "b": 1 event (u2).
  std::vector<model::WriteItem> items;
  for (int i = 0; i < 4; ++i) {
    model::WriteItem item;
    item.event.event_id = std::string(31, 'c') + std::to_string(i);
    item.event.project_id = project.id;
    item.event.timestamp = kTen + 300 + 3600 * (i % 2);
    item.event.received = item.event.timestamp;
    item.event.release = "1.0";
    item.event.environment = "prod";
    item.event.user = i < 2 ? "u1" : "u2";
    item.event.tags = {{"browser", i < 3 ? "Chrome" : "Firefox"}};
    item.event.message = i < 3 ? "Timeout talking to db" : "card declined";
    item.event.raw_json = "{}";
    item.grouping.fingerprint = i < 3 ? "a" : "b";
    item.grouping.title = i < 3 ? "Timeout talking to db" : "card declined";
    items.push_back(item);
  }
  std::vector<model::WriteOutcome> outcomes;
  ASSERT_TRUE(store->WriteEvents(items, &outcomes).ok());
  const int64_t a = outcomes[0].group_id, b = outcomes[3].group_id;
  ASSERT_NE(a, b);

  http::Router router;
  RestOptions options;
  std::vector<int64_t> merged_from;
  options.on_groups_merged = [&](int64_t, const std::vector<int64_t>& from) {
    merged_from = from;
  };
  RegisterRestRoutes(&router, store.get(), options);
  auto get = [&](const std::string& method, const std::string& target,
                 const std::string& body = "") {
    http::HttpRequest request = MakeRequest(method, target, body);
    std::string pattern;
    http::HttpResponse r = router.Dispatch(request, &pattern);
    EXPECT_EQ(r.status / 100, 2) << method << " " << target << " -> " << r.body;
    return ParseStrict(r.body);
  };
  auto ids = [](const rapidjson::Document& doc) {
    std::vector<int64_t> out;
    for (const auto& item : doc["items"].GetArray()) {
      out.push_back(item.HasMember("id") ? item["id"].GetInt64()
                                         : item["group"].GetInt64());
    }
    return out;
  };
  EXPECT_EQ(ids(get("GET", "/api/v1/groups?tag=browser:Chrome")),
            (std::vector<int64_t>{a}));
  // Same last_seen: by id descending.
  EXPECT_EQ(ids(get("GET", "/api/v1/groups?user=u2")),
            (std::vector<int64_t>{std::max(a, b), std::min(a, b)}));
  EXPECT_EQ(ids(get("GET", "/api/v1/groups?query=timeout")),
            (std::vector<int64_t>{a}));
  EXPECT_EQ(ids(get("GET", "/api/v1/groups?release=2.0")),
            (std::vector<int64_t>{}));
  rapidjson::Document events = get("GET", "/api/v1/events?user=u1");
  ASSERT_EQ(events["items"].Size(), 2u);
  EXPECT_EQ(Str(events["items"][0]["user"]), "u1");
  EXPECT_EQ(ids(get("GET", "/api/v1/events?tag=browser:Firefox")),
            (std::vector<int64_t>{b}));

  rapidjson::Document stats =
      get("GET", "/api/v1/groups/" + std::to_string(a) +
                     "/stats?interval=1h&since=1795341600&until=1795352400");
  ASSERT_EQ(stats["buckets"].Size(), 3u);
  EXPECT_EQ(stats["buckets"][0]["count"].GetInt64(), 2);
  EXPECT_EQ(stats["buckets"][1]["count"].GetInt64(), 1);
  EXPECT_EQ(stats["buckets"][2]["count"].GetInt64(), 0);
  rapidjson::Document tags =
      get("GET", "/api/v1/groups/" + std::to_string(a) + "/tags");
  bool browser = false;
  for (const auto& t : tags["items"].GetArray()) {
    if (Str(t["key"]) != "browser") continue;
    browser = true;
    EXPECT_EQ(Str(t["top"][0]["value"]), "Chrome");
    EXPECT_EQ(t["top"][0]["count"].GetInt64(), 3);
  }
  EXPECT_TRUE(browser);

  rapidjson::Document merged =
      get("POST", "/api/v1/groups/" + std::to_string(a) + "/merge",
          "{\"from\":[" + std::to_string(b) + "]}");
  EXPECT_EQ(merged["count"].GetInt64(), 4);
  EXPECT_EQ(merged_from, (std::vector<int64_t>{b}));
  rapidjson::Document gone = get(
      "DELETE", "/api/v1/events?user=u2&project=" + std::to_string(project.id));
  EXPECT_EQ(gone["deleted_events"].GetInt64(), 2);
  EXPECT_EQ(
      get("GET", "/api/v1/groups/" + std::to_string(a))["count"].GetInt64(), 2);
  get("DELETE", "/api/v1/groups/" + std::to_string(a));
  EXPECT_EQ(ids(get("GET", "/api/v1/groups")), (std::vector<int64_t>{}));
}

}  // namespace
}  // namespace rest
}  // namespace crashctl
