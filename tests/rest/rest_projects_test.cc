// REST routes of one project and its DSN keys (issue 19): GET/DELETE
// /api/v1/projects/{id}, GET/POST /api/v1/projects/{id}/keys, PATCH/DELETE
// /api/v1/projects/{id}/keys/{key_id}: the JSON (DSNs of each key), the
// store calls, on_keys_changed after each change, 400s naming the
// parameter, 404s, and the admin token.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "crashctl/rest/rest_api.h"
#include "fake_store.h"
#include "gtest/gtest.h"
#include "rest_fixture.h"
#include "rest_test_util.h"

namespace crashctl {
namespace rest {
namespace {

class RestProjectsTest : public RestRouteTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(store_.CreateProject("shop", &project_).ok());
    options_.base_url = "http://127.0.0.1:9190/";
    options_.on_keys_changed = [this] { ++keys_changed_; };
    options_.on_groups_deleted = [this](const std::vector<int64_t>& ids) {
      groups_deleted_.insert(groups_deleted_.end(), ids.begin(), ids.end());
    };
  }
  std::string ErrorOf(const http::HttpResponse& response) {
    rapidjson::Document doc = ParseStrict(response.body);
    return doc.IsObject() && doc.HasMember("error") ? Str(doc["error"]) : "";
  }
  std::string Keys() { return "/api/v1/projects/1/keys"; }

  model::Project project_;
  int keys_changed_ = 0;
  std::vector<int64_t> groups_deleted_;
};

TEST_F(RestProjectsTest, GetProjectShowsItsDsn) {
  http::HttpResponse response = Call("GET", "/api/v1/projects/1");
  ASSERT_EQ(response.status, 200) << response.body;
  rapidjson::Document doc = ParseStrict(response.body);
  EXPECT_EQ(doc["id"].GetInt64(), 1);
  EXPECT_EQ(Str(doc["name"]), "shop");
  EXPECT_EQ(Str(doc["public_key"]), project_.public_key);
  EXPECT_EQ(Str(doc["dsn"]),
            "http://" + project_.public_key + "@127.0.0.1:9190/1");
  EXPECT_EQ(Call("GET", "/api/v1/projects/9").status, 404);
  response = Call("GET", "/api/v1/projects/abc");
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(ErrorOf(response).find("project id"), std::string::npos);
}

TEST_F(RestProjectsTest, ListKeysShowsEachKeyWithItsDsn) {
  http::HttpResponse response = Call("GET", Keys());
  ASSERT_EQ(response.status, 200) << response.body;
  rapidjson::Document doc = ParseStrict(response.body);
  ASSERT_EQ(doc["items"].Size(), 1u);
  const rapidjson::Value& key = doc["items"][0];
  EXPECT_EQ(key["project"].GetInt64(), 1);
  EXPECT_EQ(Str(key["public_key"]), project_.public_key);
  EXPECT_EQ(Str(key["label"]), "Default");
  EXPECT_TRUE(key["active"].GetBool());
  EXPECT_EQ(key["rate_limit_per_minute"].GetInt64(), 0);
  EXPECT_EQ(Str(key["dsn"]),
            "http://" + project_.public_key + "@127.0.0.1:9190/1");
  EXPECT_EQ(Str(key["short_dsn"]),
            "http://127.0.0.1:9190/api/v1/events?key=" + project_.public_key);
  EXPECT_TRUE(key["created_at"].IsString());
  EXPECT_TRUE(doc["next_cursor"].IsNull());
  EXPECT_EQ(Call("GET", "/api/v1/projects/7/keys").status, 404);
  EXPECT_EQ(keys_changed_, 0);
}

TEST_F(RestProjectsTest, CreateKeyAnswers201AndTellsIngest) {
  http::HttpResponse response =
      Call("POST", Keys(), R"({"label":"ci","rate_limit_per_minute":120})");
  ASSERT_EQ(response.status, 201) << response.body;
  rapidjson::Document doc = ParseStrict(response.body);
  EXPECT_EQ(Str(doc["label"]), "ci");
  EXPECT_EQ(doc["rate_limit_per_minute"].GetInt64(), 120);
  EXPECT_TRUE(doc["active"].GetBool());
  const std::string key = Str(doc["public_key"]);
  EXPECT_EQ(key.size(), 32u);
  EXPECT_NE(key, project_.public_key);
  EXPECT_EQ(Str(doc["dsn"]), "http://" + key + "@127.0.0.1:9190/1");
  bool location = false;
  for (const auto& h : response.headers) {
    location |= h.first == "Location" &&
                h.second == "http://127.0.0.1:9190/api/v1/projects/1/keys/" +
                                std::to_string(doc["id"].GetInt64());
  }
  EXPECT_TRUE(location);
  EXPECT_EQ(keys_changed_, 1);
  // An empty body makes an unlabelled key without a limit.
  response = Call("POST", Keys());
  ASSERT_EQ(response.status, 201) << response.body;
  EXPECT_EQ(ParseStrict(response.body)["rate_limit_per_minute"].GetInt64(), 0);
  EXPECT_EQ(store_.keys.size(), 3u);
  EXPECT_EQ(keys_changed_, 2);
}

TEST_F(RestProjectsTest, BadKeyBodiesAre400NamingTheMember) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"rate_limit_per_minute":-1})", "rate_limit_per_minute"},
      {R"({"rate_limit_per_minute":"10"})", "rate_limit_per_minute"},
      {R"({"rate_limit_per_minute":1.5})", "rate_limit_per_minute"},
      {R"({"label":5})", "label"},
      {R"({"active":false})", "active"},  // not on create
      {R"({"colour":"red"})", "colour"},
      {R"([1])", "object"},
      {R"({"label":)", "malformed"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.first);
    http::HttpResponse response = Call("POST", Keys(), c.first);
    EXPECT_EQ(response.status, 400);
    EXPECT_NE(ErrorOf(response).find(c.second), std::string::npos)
        << ErrorOf(response);
  }
  http::HttpResponse response =
      Call("POST", Keys(), R"({"label":")" + std::string(201, 'x') + "\"}");
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(ErrorOf(response).find("label"), std::string::npos);
  EXPECT_EQ(Call("POST", "/api/v1/projects/5/keys", "{}").status, 404);
  EXPECT_EQ(keys_changed_, 0);
}

TEST_F(RestProjectsTest, PatchKeyChangesTheGivenFields) {
  const std::string target = Keys() + "/1";  // the project's first key
  http::HttpResponse response =
      Call("PATCH", target, R"({"active":false,"label":"old"})");
  ASSERT_EQ(response.status, 200) << response.body;
  rapidjson::Document doc = ParseStrict(response.body);
  EXPECT_FALSE(doc["active"].GetBool());
  EXPECT_EQ(Str(doc["label"]), "old");
  EXPECT_EQ(keys_changed_, 1);
  response = Call("PATCH", target, R"({"rate_limit_per_minute":30})");
  ASSERT_EQ(response.status, 200);
  doc = ParseStrict(response.body);
  EXPECT_FALSE(doc["active"].GetBool());
  EXPECT_EQ(doc["rate_limit_per_minute"].GetInt64(), 30);
  ASSERT_EQ(store_.keys.size(), 1u);
  EXPECT_EQ(store_.keys[0].rate_limit_per_minute, 30);
  EXPECT_FALSE(store_.keys[0].active);
  EXPECT_EQ(keys_changed_, 2);

  response = Call("PATCH", target, "{}");
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(ErrorOf(response).find("at least one"), std::string::npos);
  response = Call("PATCH", target, R"({"active":"no"})");
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(ErrorOf(response).find("active"), std::string::npos);
  response = Call("PATCH", Keys() + "/x", R"({"active":true})");
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(ErrorOf(response).find("key id"), std::string::npos);
  EXPECT_EQ(Call("PATCH", Keys() + "/99", R"({"active":true})").status, 404);
  EXPECT_EQ(keys_changed_, 2);
}

TEST_F(RestProjectsTest, DeleteKeyAndProject) {
  ASSERT_EQ(Call("POST", Keys(), "{}").status, 201);
  http::HttpResponse response = Call("DELETE", Keys() + "/1");
  ASSERT_EQ(response.status, 200) << response.body;
  rapidjson::Document doc = ParseStrict(response.body);
  EXPECT_EQ(doc["id"].GetInt64(), 1);
  EXPECT_TRUE(doc["deleted"].GetBool());
  EXPECT_EQ(store_.keys.size(), 1u);
  EXPECT_EQ(Call("DELETE", Keys() + "/1").status, 404);
  EXPECT_EQ(keys_changed_, 2);

  model::Group group;
  group.id = 4;
  group.project_id = 1;
  store_.groups.push_back(group);
  response = Call("DELETE", "/api/v1/projects/1");
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_TRUE(ParseStrict(response.body)["deleted"].GetBool());
  EXPECT_EQ(store_.deleted_projects, std::vector<int64_t>{1});
  EXPECT_TRUE(store_.groups.empty());
  ASSERT_TRUE(store_.last_group_query.has_value());
  EXPECT_EQ(store_.last_group_query->project, std::optional<int64_t>(1));
  EXPECT_TRUE(store_.keys.empty());
  EXPECT_EQ(keys_changed_, 3);
  EXPECT_EQ(groups_deleted_, std::vector<int64_t>{4});
  EXPECT_EQ(Call("GET", "/api/v1/projects/1").status, 404);
  EXPECT_EQ(Call("DELETE", "/api/v1/projects/1").status, 404);
  EXPECT_EQ(Call("DELETE", "/api/v1/projects/0").status, 400);
  EXPECT_EQ(keys_changed_, 3);
}

TEST_F(RestProjectsTest, StoreFailureIs503) {
  store_.fail_next = Status(Status::Code::kUnavailable, "disk gone");
  EXPECT_EQ(Call("POST", Keys(), "{}").status, 503);
  EXPECT_EQ(keys_changed_, 0);
}

TEST_F(RestProjectsTest, EveryRouteNeedsTheAdminToken) {
  options_.admin_token = "s3cret";
  const std::vector<std::pair<std::string, std::string>> calls = {
      {"GET", "/api/v1/projects/1"},
      {"GET", Keys()},
      {"POST", Keys()},
      {"PATCH", Keys() + "/1"},
      {"DELETE", Keys() + "/1"},
      {"DELETE", "/api/v1/projects/1"},
  };
  for (const auto& c : calls) {
    SCOPED_TRACE(c.first + " " + c.second);
    EXPECT_EQ(Call(c.first, c.second, R"({"label":"x"})").status, 401);
    EXPECT_EQ(Call(c.first, c.second, R"({"label":"x"})",
                   {{"authorization", "Bearer wrong"}})
                  .status,
              401);
  }
  EXPECT_EQ(keys_changed_, 0);
  EXPECT_EQ(
      Call("POST", Keys(), "{}", {{"authorization", "Bearer s3cret"}}).status,
      201);
  EXPECT_EQ(Call("DELETE", "/api/v1/projects/1", "",
                 {{"authorization", "Bearer s3cret"}})
                .status,
            200);
  EXPECT_EQ(keys_changed_, 2);
}

}  // namespace
}  // namespace rest
}  // namespace crashctl
