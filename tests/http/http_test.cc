#include "crashctl/http/http.h"

#include <gtest/gtest.h>

namespace crashctl {
namespace http {
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
  EXPECT_EQ(UrlDecode("a%00b", false), std::string("a\0b", 3));
  EXPECT_EQ(UrlDecode("%4a%4A", false), "JJ");
  EXPECT_EQ(UrlDecode("", true), "");
  EXPECT_EQ(UrlDecode("100%", true), "100%");
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

HttpRequest WithHeaders(
    HttpRequest r,
    std::initializer_list<std::pair<std::string, std::string>> headers) {
  for (const auto& h : headers) r.headers[h.first] = h.second;
  return r;
}

std::string HeaderOf(const HttpResponse& r, const std::string& name) {
  for (const auto& h : r.headers) {
    if (h.first == name) return h.second;
  }
  return "";
}

class CorsTest : public ::testing::Test {
 protected:
  CorsTest() {
    auto ok = [](HttpRequest&) { return HttpResponse::Json(200, "{}"); };
    router_.Add("POST", "/api/{project_id}/store/", "ingest", ok,
                RouteKind::kIngest);
    router_.Add("GET", "/api/v1/groups/{id}", "get", ok);
    router_.Add("PATCH", "/api/v1/groups/{id}", "patch", ok);
    router_.Add("GET", "/healthz", "probe", ok, RouteKind::kProbe);
    router_.SetCors(CorsOptions{{"https://Grafana.example/"},
                                "http://crashctl.example:9190"});
  }
  HttpResponse Send(HttpRequest r) {
    std::string pattern;
    return router_.Dispatch(r, &pattern);
  }
  // A `method` request to `path` from a page of `origin`.
  HttpResponse SendFrom(const std::string& origin, const std::string& method,
                        const std::string& path) {
    return Send(WithHeaders(Request(method, path), {{"origin", origin}}));
  }
  // A browser's preflight from `origin` for a `method` request to `path`.
  HttpResponse Preflight(const std::string& path, const std::string& origin,
                         const std::string& method) {
    return Send(WithHeaders(
        Request("OPTIONS", path),
        {{"origin", origin}, {"access-control-request-method", method}}));
  }
  Router router_;
};

TEST_F(CorsTest, IngestionAnswersAnyOrigin) {
  HttpResponse r = Preflight("/api/3/store/", "https://any.example", "POST");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(HeaderOf(r, "Access-Control-Allow-Origin"), "*");
  EXPECT_EQ(HeaderOf(r, "Access-Control-Allow-Methods"), "POST, OPTIONS");
  r = SendFrom("https://any.example", "POST", "/api/3/store/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(HeaderOf(r, "Access-Control-Allow-Origin"), "*");
  EXPECT_NE(HeaderOf(r, "Access-Control-Expose-Headers").find("Retry-After"),
            std::string::npos);
  // Without an Origin, no CORS headers at all.
  r = Send(Request("POST", "/api/3/store/"));
  EXPECT_EQ(HeaderOf(r, "Access-Control-Allow-Origin"), "");
}

TEST_F(CorsTest, RestAnswersListedOriginsAndRefusesOthersWrites) {
  for (const char* origin :
       {"https://grafana.example", "HTTPS://GRAFANA.EXAMPLE",
        "http://crashctl.example:9190"}) {
    SCOPED_TRACE(origin);
    HttpResponse r = Preflight("/api/v1/groups/1", origin, "PATCH");
    EXPECT_EQ(r.status, 204);
    EXPECT_EQ(HeaderOf(r, "Access-Control-Allow-Origin"), origin);
    EXPECT_EQ(HeaderOf(r, "Access-Control-Allow-Methods"),
              "GET, PATCH, OPTIONS");
    EXPECT_EQ(HeaderOf(r, "Vary"), "Origin");
    r = SendFrom(origin, "PATCH", "/api/v1/groups/1");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(HeaderOf(r, "Access-Control-Allow-Origin"), origin);
  }
  for (const char* origin : {"https://evil.example", "null",
                             "https://grafana.example.evil.example"}) {
    SCOPED_TRACE(origin);
    HttpResponse r = Preflight("/api/v1/groups/1", origin, "PATCH");
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(HeaderOf(r, "Access-Control-Allow-Origin"), "");
    r = SendFrom(origin, "PATCH", "/api/v1/groups/1");
    EXPECT_EQ(r.status, 403);
    // Reads go through, without CORS headers (the browser hides them).
    r = SendFrom(origin, "GET", "/api/v1/groups/1");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(HeaderOf(r, "Access-Control-Allow-Origin"), "");
  }
  // A plain OPTIONS lists the methods.
  HttpResponse r = Send(Request("OPTIONS", "/api/v1/groups/1"));
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(HeaderOf(r, "Allow"), "GET, PATCH, OPTIONS");
}

TEST_F(CorsTest, ProbesGetNoCorsAndAreNeverRefused) {
  HttpResponse r = SendFrom("https://x.y", "GET", "/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(HeaderOf(r, "Access-Control-Allow-Origin"), "");
}

TEST(RouterTest, ResolvesBeforeTheBodyAndInvokesLater) {
  Router router;
  bool called = false;
  router.Add("POST", "/api/{project_id}/store/", "s", [&](HttpRequest& r) {
    called = true;
    return HttpResponse::Json(200, r.path_params["project_id"] + r.body);
  });
  HttpRequest request = Request("POST", "/api/9/store/");
  const Router::Match match = router.Resolve(request);
  ASSERT_NE(match.route, nullptr);
  EXPECT_FALSE(match.answered);
  EXPECT_EQ(match.pattern, "/api/{project_id}/store/");
  EXPECT_FALSE(called);
  request.body = "!";
  EXPECT_EQ(router.Invoke(match, request).body, "9!");
  EXPECT_TRUE(called);
}

TEST(OriginOfTest, SchemeHostAndPortLowerCased) {
  EXPECT_EQ(OriginOf("https://Crashctl.Example:8443/base/"),
            "https://crashctl.example:8443");
  EXPECT_EQ(OriginOf("http://h"), "http://h");
  EXPECT_EQ(OriginOf("h:9190"), "");
  EXPECT_EQ(OriginOf("http://"), "");
}

}  // namespace
}  // namespace http
}  // namespace crashctl
