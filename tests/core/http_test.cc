#include "core/http.h"

#include <gtest/gtest.h>

namespace crashctl {
namespace {

HttpRequest Request(std::string method, std::string path,
                    std::string query = "") {
  HttpRequest r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.query = std::move(query);
  return r;
}

TEST(UrlDecodeTest, DecodesPercentAndPlus) {
  EXPECT_EQ(UrlDecode("a%20b+c", true), "a b c");
  EXPECT_EQ(UrlDecode("a%20b+c", false), "a b+c");
  EXPECT_EQ(UrlDecode("%zz%4", true), "%zz%4");  // malformed kept as is
  EXPECT_EQ(UrlDecode("%2F", false), "/");
}

TEST(HttpRequestTest, QueryParams) {
  HttpRequest r = Request("GET", "/", "a=1&b=x%20y&a=2&flag&c=");
  EXPECT_EQ(r.QueryParam("a"), "1");
  EXPECT_EQ(r.QueryParam("b"), "x y");
  EXPECT_TRUE(r.HasQueryParam("flag"));
  EXPECT_TRUE(r.HasQueryParam("c"));
  EXPECT_FALSE(r.HasQueryParam("d"));
  EXPECT_EQ(r.QueryParam("d"), "");
}

TEST(HttpResponseTest, ErrorIsEscapedJson) {
  HttpResponse r = HttpResponse::Error(400, "bad \"x\"\n");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"error":"bad \"x\"\n"})");
  EXPECT_EQ(r.content_type, "application/json");
}

TEST(RouterTest, MatchesParamsMethodsAndTrailingSlash) {
  Router router;
  router.Add("GET", "/api/v1/groups/{id}", "get", [](HttpRequest& r) {
    return HttpResponse::Json(200, r.path_params["id"]);
  });
  router.Add("PATCH", "/api/v1/groups/{id}", "patch",
             [](HttpRequest&) { return HttpResponse::Json(204, ""); });
  router.Add("POST", "/api/{project_id}/envelope/", "env", [](HttpRequest& r) {
    return HttpResponse::Json(200, r.path_params["project_id"]);
  });

  std::string route;
  HttpRequest get = Request("GET", "/api/v1/groups/42");
  HttpResponse response = router.Dispatch(get, &route);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "42");
  EXPECT_EQ(route, "/api/v1/groups/{id}");

  HttpRequest env = Request("POST", "/api/7/envelope");
  EXPECT_EQ(router.Dispatch(env, &route).body, "7");
  HttpRequest env_slash = Request("POST", "/api/7/envelope/");
  EXPECT_EQ(router.Dispatch(env_slash, &route).body, "7");

  HttpRequest del = Request("DELETE", "/api/v1/groups/42");
  response = router.Dispatch(del, &route);
  EXPECT_EQ(response.status, 405);
  ASSERT_EQ(response.headers.size(), 1u);
  EXPECT_EQ(response.headers[0].second, "GET, PATCH");

  HttpRequest missing = Request("GET", "/nope");
  EXPECT_EQ(router.Dispatch(missing, &route).status, 404);
  EXPECT_EQ(route, "unmatched");

  HttpRequest head = Request("HEAD", "/api/v1/groups/1");
  EXPECT_EQ(router.Dispatch(head, &route).status, 200);
}

}  // namespace
}  // namespace crashctl
