// The civetweb wrapper: an exception escaping a handler is reported with
// method/route/status tags and answered with 500; every request is one
// transaction that continues incoming trace headers, and errors inside it
// carry its trace. Real requests (libcurl) to a real CivetServer; what the
// SDK sends is captured by a fake Sentry endpoint on loopback.
#include <CivetServer.h>
#include <curl/curl.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <stdlib.h>

#include <map>
#include <stdexcept>
#include <vector>

#include "crashctl/civetweb.h"
#include "crashctl/sdk.h"
#include "crashctl/tracing/trace_context.h"
#include "fake_sentry.h"
#include "tests/testing/temp_dir.h"

namespace crashctl {
namespace {

class ThrowingHandler : public CivetHandler {
 public:
  bool handleGet(CivetServer*, mg_connection* conn) override {
    const mg_request_info* info = mg_get_request_info(conn);
    if (std::string(info->local_uri) == "/orders/ok") {
      mg_printf(conn,
                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                "Connection: close\r\n\r\nok");
      return true;
    }
    throw std::logic_error("order table missing");
  }
};

long Get(const std::string& url) {
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
  curl_easy_setopt(
      curl, CURLOPT_WRITEFUNCTION,
      +[](char*, size_t s, size_t n, void*) { return s * n; });
  long status = 0;
  if (curl_easy_perform(curl) == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  }
  curl_easy_cleanup(curl);
  return status;
}

TEST(CivetwebWrapperTest, ExceptionBecomes500AndAnEvent) {
  testing::FakeSentry sentry;
  testing::TempDir spool("civet-test");
  sdk::Options options;
  options.dsn = sentry.Dsn();
  options.service = "orders";
  options.spool_dir = spool.path();
  options.install_crash_handler = false;
  ASSERT_TRUE(sdk::Init(options));

  ThrowingHandler inner;
  sdk::CapturingHandler wrapped(&inner, "/orders");
  CivetServer server({"listening_ports", "127.0.0.1:0", "num_threads", "2"});
  server.addHandler("/orders", wrapped);
  std::string base =
      "http://127.0.0.1:" + std::to_string(server.getListeningPorts()[0]);

  EXPECT_EQ(Get(base + "/orders/ok"), 200);
  EXPECT_EQ(Get(base + "/orders/7"), 500);
  ASSERT_TRUE(sdk::Flush(std::chrono::seconds(5)));
  ASSERT_TRUE(sentry.WaitFor(1, std::chrono::seconds(5)));
  EXPECT_EQ(sentry.Received().size(), 1u);
  rapidjson::Document doc;
  doc.Parse(sentry.Received()[0].event_json.c_str());
  ASSERT_TRUE(doc.IsObject());
  EXPECT_STREQ(doc["tags"]["method"].GetString(), "GET");
  EXPECT_STREQ(doc["tags"]["route"].GetString(), "/orders");
  EXPECT_STREQ(doc["tags"]["status"].GetString(), "500");
  EXPECT_STREQ(doc["tags"]["service"].GetString(), "orders");
  EXPECT_STREQ(doc["exception"]["values"][0]["type"].GetString(),
               "std::logic_error");
  EXPECT_STREQ(doc["exception"]["values"][0]["value"].GetString(),
               "order table missing");
  sdk::Shutdown();
}

struct Response {
  long status = 0;
  std::string body;
};

Response Request(const std::string& method, const std::string& url,
                 const std::vector<std::string>& headers = {}) {
  CURL* curl = curl_easy_init();
  Response r;
  curl_slist* list = nullptr;
  for (const std::string& h : headers)
    list = curl_slist_append(list, h.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  if (method == "POST") curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "x");
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(
      curl, CURLOPT_WRITEFUNCTION, +[](char* p, size_t s, size_t n, void* b) {
        static_cast<std::string*>(b)->append(p, s * n);
        return s * n;
      });
  if (curl_easy_perform(curl) == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
  }
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return r;
}

void Reply(mg_connection* conn, int status, const std::string& body) {
  mg_printf(conn,
            "HTTP/1.1 %d X\r\nContent-Length: %zu\r\n"
            "Connection: close\r\n\r\n%s",
            status, body.size(), body.c_str());
}

// Implements only the two-argument form (civetweb tries the other first).
class OrdersHandler : public CivetHandler {
 public:
  bool handleGet(CivetServer*, mg_connection* conn) override {
    std::string uri = mg_get_request_info(conn)->local_uri;
    if (uri == "/orders/ok") {
      // A child span of the request, and the headers a downstream call
      // would carry (answered as the body).
      sdk::Span db = sdk::CurrentSpan().StartChild("db.query", "SELECT 1");
      db.Finish();
      Reply(conn, 200, sdk::CurrentSpan().TraceHeaders()["sentry-trace"]);
      return true;
    }
    if (uri == "/orders/missing") {
      sdk::CurrentSpan().SetHttpStatus(404);
      Reply(conn, 404, "no");
      return true;
    }
    throw std::logic_error("order table missing");
  }
};

// Implements the form with a status.
class CreateHandler : public CivetHandler {
 public:
  bool handlePost(CivetServer*, mg_connection* conn, int* status) override {
    Reply(conn, 201, "made");
    *status = 201;
    return true;
  }
};

int PlainHandler(mg_connection* conn, void*) {
  Reply(conn, 202, "queued");
  return 202;
}

int PlainCallback(mg_connection* conn, void* cbdata) {
  return sdk::CaptureRequest(conn, "/jobs", &PlainHandler, cbdata);
}

std::string Str(const rapidjson::Value& v, const char* key) {
  auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsString() ? it->value.GetString()
                                                     : "<absent>";
}

TEST(CivetwebWrapperTest, EveryRequestIsATransactionAndErrorsCarryItsTrace) {
  testing::FakeSentry sentry;
  testing::TempDir spool("civet-test");
  sdk::Options options;
  options.dsn = sentry.Dsn();
  options.service = "orders";
  options.release = "2.0";
  options.spool_dir = spool.path();
  options.install_crash_handler = false;
  options.traces_sample_rate = 1.0;
  ASSERT_TRUE(sdk::Init(options));

  OrdersHandler orders;
  CreateHandler create;
  sdk::CapturingHandler wrapped_orders(&orders, "/orders/{id}");
  sdk::CapturingHandler wrapped_create(&create, "/orders");
  CivetServer server({"listening_ports", "127.0.0.1:0", "num_threads", "2"});
  server.addHandler("/orders/", wrapped_orders);
  server.addHandler("/orders$", wrapped_create);
  mg_set_request_handler(const_cast<mg_context*>(server.getContext()), "/jobs",
                         &PlainCallback, nullptr);
  std::string base =
      "http://127.0.0.1:" + std::to_string(server.getListeningPorts()[0]);

  const std::string trace = "771a43a4192642f0b136d5159a501700";
  const std::string parent = "b0e6f15b45c36b12";
  const std::string w3c_trace = "0af7651916cd43dd8448eb211c80319c";
  Response ok = Request(
      "GET", base + "/orders/ok",
      {"sentry-trace: " + trace + "-" + parent + "-1",
       "baggage: sentry-trace_id=" + trace + ",sentry-release=web,vendor=v"});
  EXPECT_EQ(ok.status, 200);
  Response boom =
      Request("GET", base + "/orders/7",
              {"traceparent: 00-" + w3c_trace + "-b7ad6b7169203331-01"});
  EXPECT_EQ(boom.status, 500);
  EXPECT_EQ(Request("GET", base + "/orders/missing").status, 404);
  EXPECT_EQ(Request("POST", base + "/orders").status, 201);
  EXPECT_EQ(Request("GET", base + "/jobs").status, 202);

  // The handler's outgoing headers continue the incoming trace.
  tracing::SentryTrace out;
  ASSERT_TRUE(tracing::ParseSentryTrace(ok.body, &out, nullptr)) << ok.body;
  EXPECT_EQ(out.trace_id, trace);
  EXPECT_NE(out.span_id, parent);
  EXPECT_EQ(out.sampled.value_or(false), true);

  ASSERT_TRUE(sdk::Flush(std::chrono::seconds(5)));
  // 5 transactions and 1 error event.
  ASSERT_TRUE(sentry.WaitFor(6, std::chrono::seconds(5)));
  std::map<std::string, rapidjson::Document> txs;  // by request.url
  std::vector<rapidjson::Document> errors;
  for (const auto& env : sentry.Received()) {
    rapidjson::Document doc;
    doc.Parse(env.event_json.c_str());
    ASSERT_TRUE(doc.IsObject()) << env.event_json;
    if (env.item_header.find("\"type\":\"transaction\"") != std::string::npos) {
      std::string url = Str(doc["request"], "url");
      EXPECT_EQ(txs.count(url), 0u) << "two transactions for " << url;
      txs[url] = std::move(doc);
    } else {
      errors.push_back(std::move(doc));
    }
  }
  ASSERT_EQ(txs.size(), 5u);
  ASSERT_EQ(errors.size(), 1u);

  const rapidjson::Document& t_ok = txs["/orders/ok"];
  EXPECT_EQ(Str(t_ok, "transaction"), "/orders/{id}");
  EXPECT_EQ(Str(t_ok["transaction_info"], "source"), "route");
  EXPECT_EQ(Str(t_ok["request"], "method"), "GET");
  EXPECT_EQ(t_ok["contexts"]["response"]["status_code"].GetInt(), 200);
  EXPECT_EQ(Str(t_ok["contexts"]["trace"], "status"), "ok");
  EXPECT_EQ(Str(t_ok["contexts"]["trace"], "op"), "http.server");
  EXPECT_EQ(Str(t_ok["contexts"]["trace"], "trace_id"), trace);
  EXPECT_EQ(Str(t_ok["contexts"]["trace"], "parent_span_id"), parent);
  EXPECT_EQ(Str(t_ok["tags"], "service"), "orders");
  EXPECT_EQ(Str(t_ok, "release"), "2.0");
  EXPECT_GT(t_ok["timestamp"].GetDouble(), t_ok["start_timestamp"].GetDouble());
  ASSERT_EQ(t_ok["spans"].Size(), 1u);
  EXPECT_EQ(Str(t_ok["spans"][0], "op"), "db.query");
  EXPECT_EQ(Str(t_ok["spans"][0], "parent_span_id"),
            Str(t_ok["contexts"]["trace"], "span_id"));

  const rapidjson::Document& t_boom = txs["/orders/7"];
  EXPECT_EQ(Str(t_boom, "transaction"), "/orders/{id}");
  EXPECT_EQ(t_boom["contexts"]["response"]["status_code"].GetInt(), 500);
  EXPECT_EQ(Str(t_boom["contexts"]["trace"], "status"), "internal_error");
  EXPECT_EQ(Str(t_boom["contexts"]["trace"], "trace_id"), w3c_trace);
  EXPECT_EQ(Str(t_boom["contexts"]["trace"], "parent_span_id"),
            "b7ad6b7169203331");

  // The error event of that request carries its trace context.
  const rapidjson::Document& err = errors[0];
  EXPECT_EQ(Str(err["exception"]["values"][0], "type"), "std::logic_error");
  EXPECT_EQ(Str(err["tags"], "route"), "/orders/{id}");
  EXPECT_EQ(Str(err["contexts"]["trace"], "trace_id"), w3c_trace);
  EXPECT_EQ(Str(err["contexts"]["trace"], "span_id"),
            Str(t_boom["contexts"]["trace"], "span_id"));
  EXPECT_EQ(Str(err["contexts"]["trace"], "op"), "http.server");

  const rapidjson::Document& t_missing = txs["/orders/missing"];
  EXPECT_EQ(t_missing["contexts"]["response"]["status_code"].GetInt(), 404);
  EXPECT_EQ(Str(t_missing["contexts"]["trace"], "status"), "not_found");
  EXPECT_EQ(Str(t_missing["contexts"]["trace"], "parent_span_id"),
            "<absent>");  // no incoming headers: a new trace

  const rapidjson::Document& t_create = txs["/orders"];
  EXPECT_EQ(Str(t_create, "transaction"), "/orders");
  EXPECT_EQ(Str(t_create["request"], "method"), "POST");
  EXPECT_EQ(t_create["contexts"]["response"]["status_code"].GetInt(), 201);

  const rapidjson::Document& t_jobs = txs["/jobs"];
  EXPECT_EQ(Str(t_jobs, "transaction"), "/jobs");
  EXPECT_EQ(t_jobs["contexts"]["response"]["status_code"].GetInt(), 202);
  sdk::Shutdown();
}

}  // namespace
}  // namespace crashctl
