#include "rest/openapi.h"

#include <sys/wait.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <string>

#include "crashctl/rest/rest_api.h"
#include "fake_store.h"
#include "gtest/gtest.h"
#include "rest_test_util.h"

namespace crashctl {
namespace rest {
namespace {

using testing::FakeStore;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(c));
  return s;
}

http::HttpResponse Ok(http::HttpRequest&) {
  return http::HttpResponse::Json(200, "{}");
}

class OpenApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RegisterRestRoutes(&router_, &store_, RestOptions());
    // Routes other components register on the same router.
    router_.Add("POST", "/api/{project_id}/envelope/", "Sentry envelope", Ok);
    router_.Add("POST", "/api/{project_id}/store/", "Sentry store", Ok);
    router_.Add("POST", "/api/v1/events", "Short-DSN ingestion", Ok);
    router_.Add("GET", "/metrics", "Prometheus metrics", Ok);
    router_.Add("DELETE", "/api/v1/x/{thing}", "", Ok);  // unknown to openapi
  }

  // The document as served at /api/v1/openapi.json.
  rapidjson::Document Served() {
    http::HttpRequest request = MakeRequest("GET", "/api/v1/openapi.json");
    std::string pattern;
    http::HttpResponse response = router_.Dispatch(request, &pattern);
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.content_type, "application/json");
    EXPECT_EQ(response.body, BuildOpenApi(router_));
    return ParseStrict(response.body);
  }

  FakeStore store_;
  http::Router router_;
};

TEST_F(OpenApiTest, PathsAreExactlyTheRoutes) {
  rapidjson::Document doc = Served();
  ASSERT_TRUE(doc.IsObject());
  EXPECT_EQ(Str(doc["openapi"]), "3.0.3");
  const rapidjson::Value& paths = doc["paths"];
  std::set<std::string> want_ops, want_paths;
  for (const http::Router::Route& route : router_.routes()) {
    want_paths.insert(route.pattern);
    want_ops.insert(Lower(route.method) + " " + route.pattern);
    ASSERT_TRUE(paths.HasMember(route.pattern.c_str())) << route.pattern;
    const rapidjson::Value& item = paths[route.pattern.c_str()];
    const std::string method = Lower(route.method);
    ASSERT_TRUE(item.HasMember(method.c_str()))
        << route.method << " " << route.pattern;
    const rapidjson::Value& op = item[method.c_str()];
    if (!route.summary.empty()) {
      EXPECT_EQ(Str(op["summary"]), route.summary);
    }
    EXPECT_TRUE(op["responses"].IsObject());
    EXPECT_GT(op["responses"].MemberCount(), 0u);
  }
  std::set<std::string> got_ops, got_paths, operation_ids;
  for (const auto& path : paths.GetObject()) {
    got_paths.insert(Str(path.name));
    for (const auto& op : path.value.GetObject()) {
      got_ops.insert(Str(op.name) + " " + Str(path.name));
      EXPECT_TRUE(operation_ids.insert(Str(op.value["operationId"])).second);
    }
  }
  EXPECT_EQ(got_paths, want_paths);  // no extra paths
  EXPECT_EQ(got_ops, want_ops);      // no extra or missing methods
  // 18 + /api/v1/releases + 3 cron monitor routes + 2 attachment routes
  // + /api/v1/groups/{id}/stats, /tags, /merge (issue 19; /api/v1/events,
  // PATCH /api/v1/groups and DELETE /api/v1/groups/{id} add methods only)
  // + 3 paths of one project and its keys.
  EXPECT_EQ(want_paths.size(), 30u);
}

TEST_F(OpenApiTest, PathParametersDeclared) {
  rapidjson::Document doc = Served();
  for (const auto& path : doc["paths"].GetObject()) {
    const std::string pattern = Str(path.name);
    std::set<std::string> want;
    for (size_t p = pattern.find('{'); p != std::string::npos;
         p = pattern.find('{', p + 1)) {
      want.insert(pattern.substr(p + 1, pattern.find('}', p) - p - 1));
    }
    for (const auto& op : path.value.GetObject()) {
      std::set<std::string> got;
      if (op.value.HasMember("parameters")) {
        for (const auto& param : op.value["parameters"].GetArray()) {
          if (Str(param["in"]) == "path") {
            EXPECT_TRUE(param["required"].GetBool());
            got.insert(Str(param["name"]));
          }
        }
      }
      EXPECT_EQ(got, want) << Str(op.name) << " " << pattern;
    }
  }
}

std::set<std::string> QueryParams(const rapidjson::Value& op) {
  std::set<std::string> names;
  if (!op.HasMember("parameters")) return names;
  for (const auto& param : op["parameters"].GetArray()) {
    if (Str(param["in"]) == "query") names.insert(Str(param["name"]));
  }
  return names;
}

TEST_F(OpenApiTest, ReleasesEndpointDescribesParametersAndSchema) {
  rapidjson::Document doc = Served();
  const rapidjson::Value& op = doc["paths"]["/api/v1/releases"]["get"];
  EXPECT_EQ(QueryParams(op), (std::set<std::string>{"project", "environment",
                                                    "limit", "cursor"}));
  const rapidjson::Value& release = doc["components"]["schemas"]["Release"];
  for (const char* field :
       {"project", "release", "sessions", "crash_free_sessions",
        "crash_free_users", "healthy_sessions", "users", "crashed_users",
        "errors", "new_groups", "first_seen", "last_seen", "environments",
        "links"}) {
    EXPECT_TRUE(release["properties"].HasMember(field)) << field;
  }
}

// The served routes accept every query parameter the document names for
// them, and refuse one it does not name (rest/request_params.h).
TEST_F(OpenApiTest, DocumentedQueryParametersAreTheAcceptedOnes) {
  rapidjson::Document doc = Served();
  int checked = 0;
  for (const http::Router::Route& route : router_.routes()) {
    if (route.pattern.rfind("/api/v1/", 0) != 0 ||
        route.kind != http::RouteKind::kApi ||
        route.pattern == "/api/v1/x/{thing}" ||
        (route.method == "POST" && route.pattern == "/api/v1/events")) {
      // Not REST routes: stand-ins for other components' (SetUp).
      continue;
    }
    const rapidjson::Value& op =
        doc["paths"][route.pattern.c_str()][Lower(route.method).c_str()];
    std::string path = route.pattern;
    for (size_t p = path.find('{'); p != std::string::npos;
         p = path.find('{')) {
      path.replace(p, path.find('}', p) - p + 1, "1");
    }
    for (const std::string& name : QueryParams(op)) {
      http::HttpRequest request =
          MakeRequest(route.method, path + "?" + name + "=1");
      std::string pattern;
      const http::HttpResponse r = router_.Dispatch(request, &pattern);
      EXPECT_EQ(r.body.find("unknown parameter"), std::string::npos)
          << route.method << " " << path << " " << name << ": " << r.body;
      ++checked;
    }
    http::HttpRequest request =
        MakeRequest(route.method, path + "?undocumented=1");
    std::string pattern;
    const http::HttpResponse r = router_.Dispatch(request, &pattern);
    EXPECT_EQ(r.status, 400) << route.method << " " << path;
    EXPECT_NE(r.body.find("unknown parameter"), std::string::npos)
        << route.method << " " << path << ": " << r.body;
  }
  EXPECT_GT(checked, 50);
}

TEST_F(OpenApiTest, ListEndpointsDescribeFiltersAndSchemas) {
  rapidjson::Document doc = Served();
  const rapidjson::Value& paths = doc["paths"];
  const std::set<std::string> filters = {
      "project",     "status",        "level", "service", "release",
      "environment", "first_release", "user",  "tag",     "since",
      "until",       "query",         "limit", "cursor"};
  std::set<std::string> group_params = filters, event_params = filters;
  group_params.insert("sort");
  event_params.insert("group");
  EXPECT_EQ(QueryParams(paths["/api/v1/groups"]["get"]), group_params);
  EXPECT_EQ(QueryParams(paths["/api/v1/events"]["get"]), event_params);
  EXPECT_EQ(QueryParams(paths["/api/v1/groups"]["patch"]),
            (std::set<std::string>{"id"}));
  EXPECT_EQ(QueryParams(paths["/api/v1/events"]["delete"]),
            (std::set<std::string>{"user", "project"}));
  EXPECT_EQ(QueryParams(paths["/api/v1/groups/{id}/stats"]["get"]),
            (std::set<std::string>{"interval", "since", "until"}));
  EXPECT_EQ(QueryParams(paths["/api/v1/groups/{id}/tags"]["get"]),
            (std::set<std::string>{"top"}));
  EXPECT_TRUE(paths["/api/v1/groups/{id}/merge"].HasMember("post"));
  EXPECT_TRUE(paths["/api/v1/groups/{id}"].HasMember("delete"));
  EXPECT_EQ(QueryParams(paths["/api/v1/crashes"]["get"]),
            (std::set<std::string>{"namespace", "type", "pod", "since", "limit",
                                   "cursor"}));
  EXPECT_EQ(QueryParams(paths["/api/v1/groups/{id}/events"]["get"]),
            (std::set<std::string>{"limit", "cursor"}));

  const rapidjson::Value& schemas = doc["components"]["schemas"];
  for (const char* name :
       {"Group", "Event", "EventDetail", "Crash", "Project", "Error",
        "GroupList", "CrashList", "EventList", "ProjectList", "GroupStats",
        "GroupTagList", "GroupMerge", "GroupsDeleted", "EventsDeleted"}) {
    EXPECT_TRUE(schemas.HasMember(name)) << name;
  }
  for (const char* field :
       {"id", "project", "fingerprint", "title", "culprit", "level", "status",
        "count", "first_seen", "last_seen", "service", "linked_crashes",
        "users", "first_release"}) {
    EXPECT_TRUE(schemas["Group"]["properties"].HasMember(field)) << field;
  }
  for (const char* field :
       {"user", "tags", "release", "environment", "trace_id"}) {
    EXPECT_TRUE(schemas["Event"]["properties"].HasMember(field)) << field;
  }
  for (const char* field :
       {"id", "namespace", "pod", "container", "node", "crash_type", "reason",
        "exit_code", "signal", "restart_count", "memory_limit", "started_at",
        "finished_at", "logs", "linked_groups"}) {
    EXPECT_TRUE(schemas["Crash"]["properties"].HasMember(field)) << field;
  }
  // Every $ref points at a defined schema.
  const std::string text = BuildOpenApi(router_);
  const std::string marker = "\"$ref\":\"#/components/schemas/";
  int refs = 0;
  for (size_t p = text.find(marker); p != std::string::npos;
       p = text.find(marker, p + 1)) {
    const size_t start = p + marker.size();
    const std::string name = text.substr(start, text.find('"', start) - start);
    EXPECT_TRUE(schemas.HasMember(name.c_str())) << name;
    ++refs;
  }
  EXPECT_GT(refs, 20);
  const rapidjson::Value& group_get = paths["/api/v1/groups/{id}"]["get"];
  EXPECT_EQ(Str(group_get["responses"]["200"]["content"]["application/json"]
                         ["schema"]["$ref"]),
            "#/components/schemas/Group");
  EXPECT_EQ(Str(group_get["responses"]["404"]["content"]["application/json"]
                         ["schema"]["$ref"]),
            "#/components/schemas/Error");
}

TEST_F(OpenApiTest, TracingEndpointsDescribeParametersAndSchemas) {
  rapidjson::Document doc = Served();
  const rapidjson::Value& paths = doc["paths"];
  EXPECT_EQ(QueryParams(paths["/api/v1/transactions"]["get"]),
            (std::set<std::string>{"project", "service", "transaction",
                                   "status", "min_duration", "since", "sort",
                                   "limit", "cursor"}));
  EXPECT_EQ(
      QueryParams(paths["/api/v1/transactions/summary"]["get"]),
      (std::set<std::string>{"project", "service", "since", "until", "limit"}));
  const rapidjson::Value& trace = paths["/api/v1/traces/{trace_id}"]["get"];
  EXPECT_EQ(Str(trace["parameters"][0]["schema"]["type"]), "string");
  EXPECT_TRUE(trace["responses"].HasMember("404"));
  const rapidjson::Value& schemas = doc["components"]["schemas"];
  for (const char* field :
       {"event_id", "project_id", "trace_id", "span_id", "parent_span_id",
        "transaction", "source", "op", "status", "method", "http_status",
        "service", "release", "environment", "start_timestamp", "timestamp",
        "duration"}) {
    EXPECT_TRUE(schemas["Transaction"]["properties"].HasMember(field)) << field;
  }
  for (const char* field :
       {"trace_id", "transactions", "nodes", "roots", "errors", "groups"}) {
    EXPECT_TRUE(schemas["Trace"]["properties"].HasMember(field)) << field;
  }
  for (const char* field : {"items", "since", "until", "truncated"}) {
    EXPECT_TRUE(schemas["TransactionSummary"]["properties"].HasMember(field))
        << field;
  }
  EXPECT_TRUE(schemas["Group"]["properties"].HasMember("traces"));
  EXPECT_TRUE(schemas["Event"]["properties"].HasMember("trace_id"));
  EXPECT_TRUE(schemas["Event"]["properties"].HasMember("span_id"));
}

// Validates the document with openapi-spec-validator when it is installed
// (pip package openapi-spec-validator); skipped otherwise.
TEST_F(OpenApiTest, ValidatesAgainstOpenApiSpec) {
  const std::string path = ::testing::TempDir() + "crashctl_openapi.json";
  {
    std::ofstream out(path);
    out << BuildOpenApi(router_);
  }
  // Exit status 77: the validator is not installed.
  const std::string command =
      "python3 -c 'import json, sys\n"
      "try:\n"
      "  from openapi_spec_validator import validate\n"
      "except ImportError:\n"
      "  sys.exit(77)\n"
      "validate(json.load(open(sys.argv[1])))' " +
      path + " 2>&1";
  const int status = std::system(command.c_str());
  std::remove(path.c_str());
  ASSERT_NE(status, -1);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
    GTEST_SKIP() << "python3 openapi_spec_validator not installed";
  }
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "openapi-spec-validator rejected the document";
}

}  // namespace
}  // namespace rest
}  // namespace crashctl
