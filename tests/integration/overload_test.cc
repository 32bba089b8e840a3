// Overload: with a tiny ingest queue and many concurrent clients the server
// refuses the excess at once with 429 + Retry-After + X-Sentry-Rate-Limits
// instead of queueing without bound; every event it acknowledged is stored
// and its memory stays bounded.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/testing/events.h"
#include "tests/testing/sanitizers.h"
#include "tests/testing/server_process.h"

namespace crashctl {
namespace {

// Memory stays bounded under overload. AddressSanitizer keeps freed memory
// in a quarantine (256 MB by default) and adds shadow memory, so its bound
// is looser; it is still a bound.
#ifdef CRASHCTL_UNDER_ASAN
constexpr long kPeakRssLimitKb = 400 * 1024;
#else
constexpr long kPeakRssLimitKb = 100 * 1024;
#endif

using testing::HttpCall;
using testing::HttpResult;
using testing::ServerProcess;

// Peak resident set (VmHWM) of `pid` in KiB, 0 when unknown.
long PeakRssKb(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

TEST(OverloadTest, FullQueueAnswers429WithRetryAfterAndStaysBounded) {
  ServerProcess::Options options;
  // Two queued events at most and one fsync per event: 24 concurrent
  // clients are far more than the writer can take.
  options.env = {{"CRASHCTL_INGEST_QUEUE_SIZE", "2"},
                 {"CRASHCTL_INGEST_BATCH_SIZE", "1"},
                 {"CRASHCTL_LOG_LEVEL", "warn"}};
  std::string error;
  std::unique_ptr<ServerProcess> server = ServerProcess::Start(options, &error);
  ASSERT_TRUE(server) << error;
  const ServerProcess::ProjectInfo project = server->CreateProject("load");
  const std::string url = server->base_url() + project.StorePath();

  constexpr int kClients = 24;
  constexpr int kPerClient = 40;
  std::mutex mu;
  std::vector<std::string> acknowledged;
  std::vector<std::string> other;  // unexpected answers
  std::atomic<int> refused{0};
  std::atomic<int> refused_without_headers{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      for (int n = 0; n < kPerClient; ++n) {
        const std::string id = testing::HexEventId(c + 0x100, n + 1);
        const std::string k = std::to_string(n % 20);
        const std::string event =
            testing::PythonExceptionEvent(id, "Over" + k, "load", "g" + k);
        HttpResult r = HttpCall("POST", url, event, {}, 10000);
        if (r.status == 200) {
          std::lock_guard<std::mutex> lock(mu);
          acknowledged.push_back(id);
        } else if (r.status == 429) {
          ++refused;
          if (r.headers["retry-after"].empty() ||
              r.headers["x-sentry-rate-limits"].empty()) {
            ++refused_without_headers;
          }
        } else {
          std::lock_guard<std::mutex> lock(mu);
          other.push_back(std::to_string(r.status) + " " + r.error + " " +
                          r.body);
        }
      }
    });
  }
  for (auto& t : clients) t.join();

  EXPECT_GT(refused.load(), 0) << "the queue never filled";
  EXPECT_EQ(refused_without_headers.load(), 0);
  EXPECT_GT(acknowledged.size(), 0u);
  EXPECT_TRUE(other.empty())
      << other.size()
      << " unexpected, first: " << (other.empty() ? "" : other.front());
  size_t missing = 0;
  for (const std::string& id : acknowledged) {
    if (server->Get("/api/v1/events/" + id).status != 200) ++missing;
  }
  EXPECT_EQ(missing, 0u) << "of " << acknowledged.size() << " acknowledged";
  const HttpResult metrics = server->Get("/metrics");
  EXPECT_NE(metrics.body.find(
                "crashctl_ingest_rejected_total{reason=\"queue_full\"}"),
            std::string::npos);
  const long peak_kb = PeakRssKb(server->pid());
  EXPECT_GT(peak_kb, 0);
  EXPECT_LT(peak_kb, kPeakRssLimitKb) << "peak RSS " << peak_kb << " KiB";
}

}  // namespace
}  // namespace crashctl
