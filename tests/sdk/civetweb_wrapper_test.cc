// The civetweb wrapper: an exception escaping a handler is reported with
// method/route/status tags and answered with 500.
#include <CivetServer.h>
#include <curl/curl.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <stdlib.h>

#include <stdexcept>

#include "crashctl/civetweb.h"
#include "crashctl/sdk.h"
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

}  // namespace
}  // namespace crashctl
