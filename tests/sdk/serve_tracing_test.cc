// The C++ SDK's civetweb wrapper against the real crashctl server: a traced
// application (a CivetServer whose handlers are wrapped) answers real
// requests, the SDK sends its transactions and the error of a failing
// request to `crashctl serve` on loopback, and the server shows them: the
// error event with its trace (REST), and the transactions in
// crashctl_transaction_duration_seconds (/metrics).
#include <CivetServer.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "crashctl/civetweb.h"
#include "crashctl/sdk.h"
#include "tests/testing/server_process.h"
#include "tests/testing/temp_dir.h"

namespace crashctl {
namespace {

using testing::HttpResult;
using testing::ServerProcess;

class OrdersHandler : public CivetHandler {
 public:
  bool handleGet(CivetServer*, mg_connection* conn) override {
    std::string uri = mg_get_request_info(conn)->local_uri;
    if (uri == "/orders/boom") throw std::runtime_error("stock service down");
    sdk::CurrentSpan().StartChild("db.query", "SELECT * FROM orders").Finish();
    mg_printf(conn,
              "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
              "Connection: close\r\n\r\nok");
    return true;
  }
};

std::mutex g_mu;
std::vector<sdk::Event> g_sent;  // what before_send saw; guarded by g_mu

std::string Member(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject()) return "";
  auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsString() ? it->value.GetString()
                                                     : "";
}

// The value of the sample `series` (exact text before the value) in a
// Prometheus text exposition; -1 when absent.
double Sample(const std::string& exposition, const std::string& series) {
  size_t pos = 0;
  while ((pos = exposition.find(series, pos)) != std::string::npos) {
    bool line_start = pos == 0 || exposition[pos - 1] == '\n';
    size_t after = pos + series.size();
    if (line_start && after < exposition.size() && exposition[after] == ' ') {
      return std::stod(exposition.substr(after + 1));
    }
    pos = after;
  }
  return -1;
}

TEST(ServeTracingTest, WrapperTransactionsAndTheErrorsTraceReachTheServer) {
  std::string error;
  std::unique_ptr<ServerProcess> crashctl = ServerProcess::Start({}, &error);
  ASSERT_TRUE(crashctl) << error;
  ServerProcess::ProjectInfo project = crashctl->CreateProject("shop");

  testing::TempDir spool("serve-tracing");
  sdk::Options options;
  options.dsn = project.dsn;
  options.service = "orders-api";
  options.release = "orders@3.1";
  options.spool_dir = spool.path();
  options.install_crash_handler = false;
  options.traces_sample_rate = 1.0;
  options.before_send = [](sdk::Event& e) {
    std::lock_guard<std::mutex> lock(g_mu);
    g_sent.push_back(e);
    return true;
  };
  ASSERT_TRUE(sdk::Init(options));

  OrdersHandler orders;
  sdk::CapturingHandler wrapped(&orders, "/orders/{id}");
  CivetServer app({"listening_ports", "127.0.0.1:0", "num_threads", "2"});
  app.addHandler("/orders/", wrapped);
  std::string base =
      "http://127.0.0.1:" + std::to_string(app.getListeningPorts()[0]);
  const std::string trace = "4bf92f3577b34da6a3ce929d0e0e4736";
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(
        testing::HttpCall("GET", base + "/orders/" + std::to_string(i)).status,
        200);
  }
  EXPECT_EQ(
      testing::HttpCall("GET", base + "/orders/boom", "",
                        {"traceparent: 00-" + trace + "-00f067aa0ba902b7-01"})
          .status,
      500);
  ASSERT_TRUE(sdk::Flush(std::chrono::seconds(10)));
  sdk::Shutdown();

  std::string event_id;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    ASSERT_EQ(g_sent.size(), 1u);
    event_id = g_sent[0].event_id;
    EXPECT_EQ(g_sent[0].trace.trace_id, trace);
  }
  // The error event, stored with its trace context.
  HttpResult ev;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        ev = crashctl->Get("/api/v1/events/" + event_id);
        return ev.status == 200;
      },
      20))
      << ev.status << " " << ev.body << crashctl->Log();
  rapidjson::Document doc;
  doc.Parse(ev.body.c_str());
  ASSERT_TRUE(doc.IsObject()) << ev.body;
  const rapidjson::Value& payload = doc["payload"];
  ASSERT_TRUE(payload.IsObject()) << ev.body;
  EXPECT_EQ(Member(payload["contexts"]["trace"], "trace_id"), trace) << ev.body;
  EXPECT_EQ(Member(payload["contexts"]["trace"], "op"), "http.server");

  // The four transactions arrived as envelope items of their type.
  double items = -1;
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        items = Sample(crashctl->Get("/metrics").body,
                       "crashctl_envelope_items_total{type=\"transaction\"}");
        return items == 4;
      },
      20))
      << items;
}

}  // namespace
}  // namespace crashctl
