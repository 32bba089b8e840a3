// The HTTP edge against the real binary, attacked from outside on loopback:
// request framing a proxy would read differently, slow bodies and headers at
// scale, the per-client connection cap, refusals that must close the
// connection, over-long headers, and cross-origin requests.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "tests/testing/raw_http.h"
#include "tests/testing/server_process.h"

namespace crashctl {
namespace {

using testing::BodyOf;
using testing::HttpCall;
using testing::HttpResult;
using testing::MetricValue;
using testing::RawClient;
using testing::ResponseCount;
using testing::SecondsSince;
using testing::ServerProcess;
using testing::StatusOf;
using Clock = std::chrono::steady_clock;

std::unique_ptr<ServerProcess> StartServer(
    std::map<std::string, std::string> env = {}) {
  ServerProcess::Options options;
  env.emplace("CRASHCTL_LOG_LEVEL", "warn");
  options.env = std::move(env);
  std::string error;
  std::unique_ptr<ServerProcess> server = ServerProcess::Start(options, &error);
  EXPECT_TRUE(server) << error;
  return server;
}

double Metric(ServerProcess* server, const std::string& series) {
  return MetricValue(server->Get("/metrics").body, series);
}

const char kSmuggled[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";

TEST(EdgeTest, EveryFramingAProxyReadsDifferentlyIsOne400ThenClosed) {
  std::unique_ptr<ServerProcess> server = StartServer();
  ASSERT_TRUE(server);
  const ServerProcess::ProjectInfo project = server->CreateProject("app");
  const std::string path = project.StorePath();
  const std::string body = R"({"message":"smuggler"})";  // 22 bytes
  struct Case {
    const char* name;
    std::string headers;
  };
  const Case cases[] = {
      {"hex length", "Content-Length: 0x16\r\n"},
      {"plus sign", "Content-Length: +22\r\n"},
      {"list", "Content-Length: 5,22\r\n"},
      {"two lengths", "Content-Length: 22\r\nContent-Length: 65\r\n"},
      {"negative", "Content-Length: -1\r\n"},
      {"not a number", "Content-Length: abc\r\n"},
      {"chunked and length",
       "Transfer-Encoding: chunked\r\nContent-Length: 22\r\n"},
      {"identity", "Transfer-Encoding: identity\r\nContent-Length: 22\r\n"},
      {"gzip coding", "Transfer-Encoding: gzip, chunked\r\n"},
      {"two codings",
       "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"},
  };
  const double framing_before =
      Metric(server.get(), "crashctl_http_refused_total{reason=\"framing\"}");
  int refused = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    RawClient client(server->port());
    ASSERT_TRUE(client.ok());
    ASSERT_TRUE(client.Send("POST " + path + " HTTP/1.1\r\nHost: x\r\n" +
                            c.headers + "\r\n" + body + kSmuggled));
    const auto start = Clock::now();
    const std::string wire = client.ReadUntilClosed(5000);
    EXPECT_TRUE(client.closed()) << "connection left open";
    EXPECT_LT(SecondsSince(start), 2.0);
    EXPECT_EQ(StatusOf(wire), 400) << wire;
    EXPECT_EQ(ResponseCount(wire), 1) << "a second request was read:\n" << wire;
    EXPECT_EQ(BodyOf(wire).rfind("{\"error\":", 0), 0u) << wire;
    ++refused;
  }
  // An HTTP/1.0 request may not be chunked; 64 headers hide the rest.
  {
    RawClient client(server->port());
    ASSERT_TRUE(client.Send("POST " + path +
                            " HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"
                            "16\r\n" +
                            body + "\r\n0\r\n\r\n"));
    const std::string wire = client.ReadUntilClosed(5000);
    EXPECT_EQ(StatusOf(wire), 400) << wire;
    EXPECT_TRUE(client.closed());
    ++refused;
  }
  {
    std::string many;
    for (int i = 0; i < 70; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
    RawClient client(server->port());
    ASSERT_TRUE(client.Send("POST " + path + " HTTP/1.1\r\nHost: x\r\n" + many +
                            "Content-Length: 22\r\n\r\n" + body));
    const std::string wire = client.ReadUntilClosed(5000);
    EXPECT_EQ(StatusOf(wire), 400) << wire;
    EXPECT_TRUE(client.closed());
    ++refused;
  }
  // Nothing was stored, and each refusal was counted.
  EXPECT_EQ(server->Get("/api/v1/groups").body.find("smuggler"),
            std::string::npos);
  // "abc" is civetweb's own 411, answered by the server as a framing 400.
  EXPECT_EQ(
      Metric(server.get(), "crashctl_http_refused_total{reason=\"framing\"}") -
          framing_before,
      refused);
  // civetweb refuses three before a route is known (a negative or
  // non-numeric length, a coding other than chunked).
  EXPECT_EQ(Metric(server.get(),
                   "crashctl_ingest_rejected_total{reason=\"framing\"}"),
            refused - 3);
  // Well-framed requests still work on a kept-alive connection.
  RawClient client(server->port());
  ASSERT_TRUE(client.Send("POST " + path +
                          " HTTP/1.1\r\nHost: x\r\nContent-Length: 22\r\n\r\n" +
                          body + kSmuggled));
  std::string wire = client.ReadResponse(5000);
  EXPECT_EQ(StatusOf(wire), 200) << wire;
  if (ResponseCount(wire) < 2) wire += client.ReadResponse(5000);
  EXPECT_EQ(ResponseCount(wire), 2) << wire;  // the GET was a real request
}

TEST(EdgeTest, RefusalsCloseTheConnectionAtOnceAndCountUnderTheirRoute) {
  std::unique_ptr<ServerProcess> server =
      StartServer({{"CRASHCTL_INGEST_MAX_REQUEST_BYTES", "1MiB"}});
  ASSERT_TRUE(server);
  const ServerProcess::ProjectInfo project = server->CreateProject("app");
  const std::string path = "/api/" + std::to_string(project.id) + "/envelope/";
  // A body over the limit, announced but not sent: answered without
  // waiting for it, and closed (civetweb would read and discard it first).
  RawClient big(server->port());
  ASSERT_TRUE(big.Send("POST " + path +
                       " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                       "Content-Length: 5000000\r\n\r\n"));
  auto start = Clock::now();
  std::string wire = big.ReadUntilClosed(8000);
  EXPECT_EQ(StatusOf(wire), 413) << wire;
  EXPECT_TRUE(big.closed());
  EXPECT_LT(SecondsSince(start), 1.0);
  // A body that stops half-way: 408 after the minimum-rate grace, closed.
  RawClient slow(server->port());
  ASSERT_TRUE(slow.Send("POST " + path +
                        " HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" +
                        std::string(40, 'x')));
  start = Clock::now();
  wire = slow.ReadUntilClosed(20000);
  EXPECT_EQ(StatusOf(wire), 408) << wire;
  EXPECT_TRUE(slow.closed());
  EXPECT_LT(SecondsSince(start), 9.0);
  const std::string metrics = server->Get("/metrics").body;
  EXPECT_EQ(MetricValue(metrics,
                        "crashctl_ingest_rejected_total{reason=\"too_large\"}"),
            1);
  EXPECT_EQ(MetricValue(metrics,
                        "crashctl_ingest_rejected_total{reason=\"too_slow\"}"),
            1);
  EXPECT_EQ(MetricValue(metrics,
                        "crashctl_http_requests_total{code=\"413\",method="
                        "\"POST\",route=\"/api/{project_id}/envelope/\"}"),
            1);
  EXPECT_EQ(MetricValue(metrics,
                        "crashctl_http_requests_total{code=\"408\",method="
                        "\"POST\",route=\"/api/{project_id}/envelope/\"}"),
            1);
}

TEST(EdgeTest, OverlongHeadersAndUrlsGet431AsJson) {
  std::unique_ptr<ServerProcess> server = StartServer();
  ASSERT_TRUE(server);
  const std::string requests[] = {
      "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') +
          "\r\n\r\n",
      "GET /" + std::string(20000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n",
  };
  for (const std::string& request : requests) {
    RawClient client(server->port());
    ASSERT_TRUE(client.Send(request));
    const std::string wire = client.ReadUntilClosed(5000);
    EXPECT_EQ(wire.rfind("HTTP/1.1 431 ", 0), 0u) << wire.substr(0, 200);
    EXPECT_NE(wire.find("Content-Type: application/json"), std::string::npos);
    EXPECT_EQ(BodyOf(wire).rfind("{\"error\":", 0), 0u);
    EXPECT_TRUE(client.closed());
  }
  RawClient garbage(server->port());
  ASSERT_TRUE(garbage.Send("GARBAGE\r\n\r\n"));
  const std::string wire = garbage.ReadUntilClosed(5000);
  EXPECT_EQ(StatusOf(wire), 400) << wire;
  EXPECT_EQ(BodyOf(wire).rfind("{\"error\":", 0), 0u) << wire;
}

TEST(EdgeTest, OneClientAddressHoldsAtMostTheCapOfConnections) {
  std::unique_ptr<ServerProcess> server =
      StartServer({{"CRASHCTL_SERVER_MAX_CONNECTIONS_PER_CLIENT", "4"}});
  ASSERT_TRUE(server);
  const std::string get = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  std::vector<std::unique_ptr<RawClient>> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(std::make_unique<RawClient>(server->port(), "127.0.0.9"));
    ASSERT_TRUE(held.back()->ok());
    ASSERT_TRUE(held.back()->Send(get));
    EXPECT_EQ(StatusOf(held.back()->ReadResponse(5000)), 200);
  }
  RawClient fifth(server->port(), "127.0.0.9");
  ASSERT_TRUE(fifth.Send(get));
  std::string wire = fifth.ReadUntilClosed(5000);
  EXPECT_EQ(StatusOf(wire), 429) << wire;
  EXPECT_TRUE(fifth.closed());
  // Another address is not affected.
  RawClient other(server->port(), "127.0.0.10");
  ASSERT_TRUE(other.Send(get));
  EXPECT_EQ(StatusOf(other.ReadResponse(5000)), 200);
  EXPECT_EQ(Metric(server.get(),
                   "crashctl_http_refused_total{reason=\"connection_limit\"}"),
            1);
  // Once they close, the address is served again (a retry that comes before
  // the server has seen the closes is refused and counted too).
  held.clear();
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        RawClient again(server->port(), "127.0.0.9");
        return again.Send(get) && StatusOf(again.ReadResponse(2000)) == 200;
      },
      10));
}

std::string HeaderOf(const HttpResult& r, const std::string& name) {
  auto it = r.headers.find(name);
  return it == r.headers.end() ? "" : it->second;
}

TEST(EdgeTest, CrossOriginIngestionIsAnsweredAndRestWritesAreRefused) {
  std::unique_ptr<ServerProcess> server = StartServer();
  ASSERT_TRUE(server);
  const ServerProcess::ProjectInfo project = server->CreateProject("app");
  const std::string evil = "Origin: https://evil.example";
  // Ingestion: a browser SDK on any origin may send and read the answer.
  const std::string store =
      server->base_url() + "/api/" + std::to_string(project.id) + "/store/";
  HttpResult r = HttpCall("OPTIONS", store, "",
                          {evil, "Access-Control-Request-Method: POST",
                           "Access-Control-Request-Headers: content-type"});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(HeaderOf(r, "access-control-allow-origin"), "*");
  EXPECT_NE(HeaderOf(r, "access-control-allow-methods").find("POST"),
            std::string::npos);
  EXPECT_NE(HeaderOf(r, "access-control-allow-headers").find("content-type"),
            std::string::npos);
  r = HttpCall("POST", store + "?sentry_key=" + project.key,
               R"({"message":"from a browser"})",
               {evil, "Content-Type: text/plain;charset=UTF-8"});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(HeaderOf(r, "access-control-allow-origin"), "*");
  EXPECT_NE(
      HeaderOf(r, "access-control-expose-headers").find("X-Sentry-Rate-Limits"),
      std::string::npos);
  // REST: no CORS for unlisted origins, and writes refused.
  r = HttpCall("OPTIONS", server->base_url() + "/api/v1/projects", "",
               {evil, "Access-Control-Request-Method: POST",
                "Access-Control-Request-Headers: authorization"});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(HeaderOf(r, "access-control-allow-origin"), "");
  r = HttpCall("POST", server->base_url() + "/api/v1/projects",
               R"({"name":"made by a web page"})",
               {evil, "Content-Type: text/plain"});
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(server->Get("/api/v1/projects").body.find("made by a web page"),
            std::string::npos);
  const std::string groups = server->Get("/api/v1/groups").body;
  const size_t id_at = groups.find("\"id\":");
  ASSERT_NE(id_at, std::string::npos) << groups;
  const std::string group_id =
      groups.substr(id_at + 5, groups.find(',', id_at) - id_at - 5);
  r = HttpCall("PATCH", server->base_url() + "/api/v1/groups/" + group_id,
               R"({"status":"resolved"})", {evil});
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(server->Get("/api/v1/groups/" + group_id).body.find("unresolved"),
            std::string::npos);
  r = HttpCall("GET", server->base_url() + "/api/v1/groups", "", {evil});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(HeaderOf(r, "access-control-allow-origin"), "");
  // Without an Origin (curl, scripts, SDKs) nothing changes.
  r = HttpCall("PATCH", server->base_url() + "/api/v1/groups/" + group_id,
               R"({"status":"resolved"})");
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST(EdgeTest, ListedOriginsMayCallTheRestApiEvenWithAToken) {
  std::unique_ptr<ServerProcess> server =
      StartServer({{"CRASHCTL_SERVER_CORS_ORIGINS", "https://grafana.example"},
                   {"CRASHCTL_AUTH_ADMIN_TOKEN", "s3cret"}});
  ASSERT_TRUE(server);
  const std::string url = server->base_url() + "/api/v1/projects";
  HttpResult r = HttpCall(
      "OPTIONS", url, "",
      {"Origin: https://grafana.example", "Access-Control-Request-Method: POST",
       "Access-Control-Request-Headers: authorization"});
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(HeaderOf(r, "access-control-allow-origin"),
            "https://grafana.example");
  EXPECT_NE(HeaderOf(r, "access-control-allow-headers").find("Authorization"),
            std::string::npos);
  r = HttpCall(
      "POST", url, R"({"name":"from grafana"})",
      {"Origin: https://grafana.example", "Authorization: Bearer s3cret"});
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(HeaderOf(r, "access-control-allow-origin"),
            "https://grafana.example");
  // A valid token does not make another origin's write acceptable.
  r = HttpCall(
      "POST", url, R"({"name":"from evil"})",
      {"Origin: https://evil.example", "Authorization: Bearer s3cret"});
  EXPECT_EQ(r.status, 403) << r.body;
}

}  // namespace
}  // namespace crashctl
