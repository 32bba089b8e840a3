// Idle and slow connections cannot starve the others. civetweb serves one
// connection per worker thread (server.max_connections of them), so:
// - connections that never send a byte are kept out of the workers by
//   TCP_DEFER_ACCEPT: many of them do not delay a normal request at all;
// - connections that trickle their headers hold a worker for at most the
//   header timeout (min(server.request_timeout, 10 s)); a normal request
//   waits at most about that long, then succeeds.
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "tests/testing/raw_http.h"
#include "tests/testing/server_process.h"

namespace crashctl {
namespace {

using testing::HttpResult;
using testing::SecondsSince;
using testing::ServerProcess;
using Clock = std::chrono::steady_clock;

// True when the peer closed `fd` (after any error response it sent) within
// `timeout_ms`.
bool ClosedByPeer(int fd, int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  char buffer[4096];
  while (Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) < 0) return false;
    if (p.revents == 0) continue;
    if (read(fd, buffer, sizeof(buffer)) <= 0) return true;
  }
  return false;
}

std::unique_ptr<ServerProcess> StartSmallServer() {
  ServerProcess::Options options;
  options.env = {{"CRASHCTL_SERVER_MAX_CONNECTIONS", "8"},
                 {"CRASHCTL_SERVER_REQUEST_TIMEOUT", "2s"},
                 {"CRASHCTL_LOG_LEVEL", "warn"}};
  std::string error;
  std::unique_ptr<ServerProcess> server = ServerProcess::Start(options, &error);
  EXPECT_TRUE(server) << error;
  return server;
}

TEST(ConnectionsTest, ManyIdleConnectionsDoNotDelayARequest) {
  std::unique_ptr<ServerProcess> server = StartSmallServer();
  ASSERT_TRUE(server);
  // 300 connections that send nothing, against 8 workers.
  std::vector<int> idle;
  for (int i = 0; i < 300; ++i) {
    const int fd = testing::ConnectLoopback(server->port());
    ASSERT_GE(fd, 0) << "connection " << i;
    idle.push_back(fd);
  }
  const auto start = Clock::now();
  const HttpResult r = server->Get("/healthz");
  EXPECT_EQ(r.status, 200) << r.error;
  // Without TCP_DEFER_ACCEPT the 300 would each hold one of the 8 workers
  // for the 2 s header timeout ahead of this request.
  EXPECT_LT(SecondsSince(start), 2.0);
  for (int fd : idle) close(fd);
}

TEST(ConnectionsTest, SlowHeadersHoldAWorkerOnlyUntilTheHeaderTimeout) {
  std::unique_ptr<ServerProcess> server = StartSmallServer();
  ASSERT_TRUE(server);
  // Twice as many slow clients as workers, each sending half a request.
  std::vector<int> slow;
  for (int i = 0; i < 16; ++i) {
    const int fd = testing::ConnectLoopback(server->port());
    ASSERT_GE(fd, 0);
    const std::string partial = "POST /api/1/store/ HTTP/1.1\r\nHost: x\r\n";
    ASSERT_EQ(write(fd, partial.data(), partial.size()),
              static_cast<ssize_t>(partial.size()));
    slow.push_back(fd);
  }
  const auto start = Clock::now();
  const HttpResult r =
      testing::HttpCall("GET", server->base_url() + "/healthz", "", {}, 15000);
  EXPECT_EQ(r.status, 200) << r.error;
  // Worst case: the slow clients ahead of it time out in two rounds of
  // 2 s each (16 slow clients, 8 workers).
  EXPECT_LT(SecondsSince(start), 10.0);
  // The server has dropped the slow clients by now (or soon).
  for (int fd : slow) {
    EXPECT_TRUE(ClosedByPeer(fd, 5000));
    close(fd);
  }
}

TEST(ConnectionsTest, TruncatedBodyAnswers408) {
  std::unique_ptr<ServerProcess> server = StartSmallServer();
  ASSERT_TRUE(server);
  const int fd = testing::ConnectLoopback(server->port());
  ASSERT_GE(fd, 0);
  const std::string request =
      "POST /api/1/store/?sentry_key=00000000000000000000000000000000 "
      "HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"a\":";
  ASSERT_EQ(write(fd, request.data(), request.size()),
            static_cast<ssize_t>(request.size()));
  // Stop sending: the per-read timeout (2 s) ends the body read.
  const auto start = Clock::now();
  pollfd p{fd, POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 8000), 1);
  char buffer[4096];
  const ssize_t n = read(fd, buffer, sizeof(buffer));
  ASSERT_GT(n, 0);
  EXPECT_EQ(
      std::string(buffer, static_cast<size_t>(n)).rfind("HTTP/1.1 408", 0), 0u)
      << std::string(buffer, static_cast<size_t>(n));
  EXPECT_LT(SecondsSince(start), 9.0);
  close(fd);
}

}  // namespace
}  // namespace crashctl
