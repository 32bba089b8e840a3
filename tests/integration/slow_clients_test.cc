// Slow clients at scale against the real binary with its default
// configuration: while hundreds of connections trickle their bodies and
// headers, a normal client still gets every answer within 2 s. Runs alone
// (RUN_SERIAL): it measures latency.
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/testing/raw_http.h"
#include "tests/testing/sanitizers.h"
#include "tests/testing/server_process.h"

namespace crashctl {
namespace {

using testing::HttpCall;
using testing::HttpResult;
using testing::MetricValue;
using testing::RawClient;
using testing::SecondsSince;
using testing::ServerProcess;
using Clock = std::chrono::steady_clock;

// An AddressSanitizer build at -O0 serves each request several times
// slower; the bound there is looser, but still a bound.
#ifdef CRASHCTL_UNDER_ASAN
constexpr double kWorstAnswerSeconds = 6.0;
#else
constexpr double kWorstAnswerSeconds = 2.0;
#endif

// Slow clients: `bodies` connections that announce a body and send a byte
// every second, `headers` connections that send a header line every
// second; each reconnects when the server closes it. Runs on one thread
// until Stop().
class SlowClients {
 public:
  SlowClients(int port, int bodies, int headers) : port_(port) {
    for (int i = 0; i < bodies + headers; ++i) {
      clients_.push_back({nullptr, i < bodies, Clock::time_point()});
    }
    thread_ = std::thread([this] { Run(); });
  }
  ~SlowClients() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int reconnects() const { return reconnects_; }

 private:
  struct Slow {
    std::unique_ptr<RawClient> client;
    bool body;
    Clock::time_point next;
  };
  void Open(Slow* s, size_t index) {
    // Spread over four source addresses, each under the per-client cap.
    s->client = std::make_unique<RawClient>(
        port_, "127.0.0." + std::to_string(10 + index % 4));
    if (!s->client->ok()) return;
    s->client->Send(s->body ? "POST /api/1/store/ HTTP/1.1\r\nHost: x\r\n"
                              "Content-Length: 100000\r\n\r\n"
                            : "GET /healthz HTTP/1.1\r\n");
    s->next = Clock::now() + std::chrono::seconds(1);
  }
  void Run() {
    for (size_t i = 0; i < clients_.size(); ++i) Open(&clients_[i], i);
    while (!stop_) {
      for (size_t i = 0; i < clients_.size() && !stop_; ++i) {
        Slow& s = clients_[i];
        if (!s.client || !s.client->ok()) {
          Open(&s, i);
          continue;
        }
        pollfd p{s.client->fd(), POLLIN, 0};
        if (poll(&p, 1, 0) > 0) {  // an answer (408) or a close
          char buffer[4096];
          if (read(s.client->fd(), buffer, sizeof(buffer)) <= 0 ||
              p.revents & (POLLHUP | POLLERR)) {
            ++reconnects_;
            Open(&s, i);
          }
          continue;
        }
        if (Clock::now() >= s.next) {
          s.client->Send(s.body ? "x" : "X-Slow: 1\r\n");
          s.next = Clock::now() + std::chrono::seconds(1);
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  const int port_;
  std::vector<Slow> clients_;
  std::atomic<bool> stop_{false};
  std::atomic<int> reconnects_{0};
  std::thread thread_;
};

TEST(SlowClientsTest, BodiesAndHeadersAtScaleDoNotStarveANormalClient) {
  ServerProcess::Options options;
  options.env = {{"CRASHCTL_LOG_LEVEL", "warn"}};  // otherwise the defaults
  std::string error;
  std::unique_ptr<ServerProcess> server = ServerProcess::Start(options, &error);
  ASSERT_TRUE(server) << error;
  const ServerProcess::ProjectInfo project = server->CreateProject("app");
  SlowClients slow(server->port(), 140, 140);
  // Let them all connect and start trickling.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  double worst = 0;
  int answered = 0;
  const auto until = Clock::now() + std::chrono::seconds(14);
  while (Clock::now() < until) {
    auto start = Clock::now();
    HttpResult health =
        HttpCall("GET", server->base_url() + "/healthz", "", {}, 5000);
    worst = std::max(worst, SecondsSince(start));
    EXPECT_EQ(health.status, 200) << health.error;
    start = Clock::now();
    HttpResult event =
        HttpCall("POST", project.short_dsn, R"({"message":"normal client"})",
                 {"Content-Type: application/json"}, 5000);
    worst = std::max(worst, SecondsSince(start));
    EXPECT_EQ(event.status, 200) << event.error << event.body;
    answered += 2;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  slow.Stop();
  EXPECT_LT(worst, kWorstAnswerSeconds);
  EXPECT_GT(answered, 40);
  // The slow ones were answered 408 and closed (then came back).
  EXPECT_GE(slow.reconnects(), 140);
  const std::string metrics = server->Get("/metrics").body;
  EXPECT_GE(
      MetricValue(metrics, "crashctl_http_refused_total{reason=\"too_slow\"}"),
      140);
  EXPECT_GE(
      MetricValue(metrics,
                  "crashctl_http_refused_total{reason=\"header_timeout\"}"),
      140);
}

}  // namespace
}  // namespace crashctl
