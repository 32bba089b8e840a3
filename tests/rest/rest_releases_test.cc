// GET /api/v1/releases (issue 18) on a store answering fixed summaries:
// every field of the JSON (rates from releases::ComputeReleaseHealth, nulls
// without sessions or users), the query handed to the store, and 400s for
// unknown, repeated or malformed parameters.
#include <string>
#include <vector>

#include "crashctl/rest/rest_api.h"
#include "fake_store.h"
#include "gtest/gtest.h"
#include "rest_test_util.h"

namespace crashctl {
namespace rest {
namespace {

class ReleasesStore : public testing::FakeStore {
 public:
  Status ListReleases(const store::ReleaseQuery& query,
                      model::Page<model::ReleaseSummary>* out) override {
    last_query = query;
    if (!query.cursor.empty() && query.cursor != "next") {
      return Status::Invalid("invalid cursor");
    }
    out->items = summaries;
    out->next_cursor = query.cursor.empty() ? "next" : "";
    return Status::Ok();
  }
  std::vector<model::ReleaseSummary> summaries;
  store::ReleaseQuery last_query;
};

class RestReleasesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RestOptions options;
    options.base_url = "http://127.0.0.1:9190/";
    RegisterRestRoutes(&router_, &store_, options);
    model::ReleaseSummary a;
    a.project_id = 3;
    a.release = "shop@2.0.1";
    a.exited = 6;
    a.errored = 1;
    a.crashed = 2;
    a.abnormal = 1;
    a.users = 4;
    a.crashed_users = 1;
    a.errors = 7;
    a.new_groups = 2;
    a.first_seen = 1795341600;
    a.last_seen = 1795345200.5;
    a.environments = {"", "production"};
    model::ReleaseSummary empty;
    empty.project_id = 3;
    empty.release = "shop@2.1.0";
    empty.first_seen = empty.last_seen = 1795341700;
    store_.summaries = {a, empty};
  }

  http::HttpResponse Get(const std::string& target) {
    http::HttpRequest request = MakeRequest("GET", target);
    std::string pattern;
    return router_.Dispatch(request, &pattern);
  }

  ReleasesStore store_;
  http::Router router_;
};

TEST_F(RestReleasesTest, RendersEveryField) {
  http::HttpResponse response =
      Get("/api/v1/releases?project=3&environment=production&limit=2");
  ASSERT_EQ(response.status, 200) << response.body;
  ASSERT_TRUE(store_.last_query.project.has_value());
  EXPECT_EQ(*store_.last_query.project, 3);
  EXPECT_EQ(store_.last_query.environment, "production");
  EXPECT_EQ(store_.last_query.limit, 2);
  rapidjson::Document doc = ParseStrict(response.body);
  ASSERT_EQ(doc["items"].Size(), 2u);
  EXPECT_EQ(Str(doc["next_cursor"]), "next");
  const rapidjson::Value& r = doc["items"][0];
  EXPECT_EQ(r["project"].GetInt64(), 3);
  EXPECT_EQ(Str(r["release"]), "shop@2.0.1");
  EXPECT_EQ(r["sessions"]["total"].GetUint64(), 10u);
  EXPECT_EQ(r["sessions"]["exited"].GetUint64(), 6u);
  EXPECT_EQ(r["sessions"]["errored"].GetUint64(), 1u);
  EXPECT_EQ(r["sessions"]["crashed"].GetUint64(), 2u);
  EXPECT_EQ(r["sessions"]["abnormal"].GetUint64(), 1u);
  EXPECT_DOUBLE_EQ(r["crash_free_sessions"].GetDouble(), 80.0);
  EXPECT_DOUBLE_EQ(r["crash_free_users"].GetDouble(), 75.0);
  EXPECT_DOUBLE_EQ(r["healthy_sessions"].GetDouble(), 60.0);
  EXPECT_EQ(r["users"].GetUint64(), 4u);
  EXPECT_EQ(r["crashed_users"].GetUint64(), 1u);
  EXPECT_EQ(r["errors"].GetUint64(), 7u);
  EXPECT_EQ(r["new_groups"].GetInt64(), 2);
  EXPECT_EQ(Str(r["first_seen"]), "2026-11-22T10:00:00.000Z");
  EXPECT_EQ(Str(r["last_seen"]), "2026-11-22T11:00:00.500Z");
  ASSERT_EQ(r["environments"].Size(), 2u);
  EXPECT_EQ(Str(r["environments"][0]), "");
  EXPECT_EQ(Str(r["links"]["groups"]),
            "http://127.0.0.1:9190/api/v1/groups?project=3&sort=first_seen");
  const rapidjson::Value& e = doc["items"][1];
  EXPECT_EQ(e["sessions"]["total"].GetUint64(), 0u);
  EXPECT_TRUE(e["crash_free_sessions"].IsNull());
  EXPECT_TRUE(e["crash_free_users"].IsNull());
  EXPECT_TRUE(e["healthy_sessions"].IsNull());
  // The last page.
  doc = ParseStrict(Get("/api/v1/releases?cursor=next").body);
  EXPECT_TRUE(doc["next_cursor"].IsNull());
  EXPECT_FALSE(store_.last_query.project.has_value());
}

TEST_F(RestReleasesTest, RefusesBadParameters) {
  for (const char* target : {
           "/api/v1/releases?projekt=3",
           "/api/v1/releases?project=3&project=4",
           "/api/v1/releases?project=0",
           "/api/v1/releases?project=abc",
           "/api/v1/releases?limit=0",
           "/api/v1/releases?limit=1001",
           "/api/v1/releases?cursor=bogus",
           "/api/v1/releases?environment="
           "0123456789012345678901234567890123456789012345678901234567890123"
           "4",
       }) {
    http::HttpResponse response = Get(target);
    EXPECT_EQ(response.status, 400) << target << " -> " << response.body;
    rapidjson::Document doc = ParseStrict(response.body);
    EXPECT_TRUE(doc.IsObject() && doc.HasMember("error")) << target;
  }
  EXPECT_EQ(Get("/api/v1/releases?").status, 200);
}

}  // namespace
}  // namespace rest
}  // namespace crashctl
