#include "fake_alertmanager.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

namespace crashctl {
namespace alertmanager {

FakeAlertmanager::FakeAlertmanager() {
  std::vector<std::string> options = {"listening_ports",   "127.0.0.1:0",
                                      "num_threads",       "8",
                                      "linger_timeout_ms", "0"};
  server_ = std::make_unique<CivetServer>(options);
  server_->addHandler("/api/v2/alerts", this);
  const std::vector<int> ports = server_->getListeningPorts();
  port_ = ports.empty() ? 0 : ports.front();
}

FakeAlertmanager::~FakeAlertmanager() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    delay_ms_ = 0;
  }
  // civetweb's master thread notices the stop flag only when its poll on
  // the listening socket returns (up to 2 s): wake it with a connection.
  std::thread closer([this] {
    server_->close();
    closed_ = true;
  });
  for (int i = 0; i < 50 && !closed_.load(); ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port_));
    connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::close(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  closer.join();
}

void FakeAlertmanager::ScriptStatuses(std::vector<int> statuses) {
  std::lock_guard<std::mutex> lock(mu_);
  statuses_.assign(statuses.begin(), statuses.end());
}

void FakeAlertmanager::SetDelayMs(int ms) {
  std::lock_guard<std::mutex> lock(mu_);
  delay_ms_ = ms;
}

std::vector<FakeAlertmanager::Request> FakeAlertmanager::requests() {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

size_t FakeAlertmanager::request_count() {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_.size();
}

bool FakeAlertmanager::WaitForRequests(size_t n, double timeout_s) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, std::chrono::duration<double>(timeout_s),
                      [&] { return requests_.size() >= n; });
}

bool FakeAlertmanager::handlePost(CivetServer*, mg_connection* conn) {
  Request request;
  request.received = std::chrono::steady_clock::now();
  const mg_request_info* info = mg_get_request_info(conn);
  request.path = info->local_uri != nullptr ? info->local_uri : "";
  const char* ct = mg_get_header(conn, "Content-Type");
  request.content_type = ct != nullptr ? ct : "";
  char buf[8192];
  int n;
  while ((n = mg_read(conn, buf, sizeof(buf))) > 0) request.body.append(buf, n);
  int status = 200;
  int delay = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!statuses_.empty()) {
      status = statuses_.front();
      statuses_.pop_front();
    }
    delay = delay_ms_;
    requests_.push_back(request);
  }
  cv_.notify_all();
  if (delay > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay));
  const std::string body = status == 200 ? "" : "{\"error\":\"scripted\"}";
  mg_response_header_start(conn, status);
  mg_response_header_add(conn, "Content-Type", "application/json", -1);
  mg_response_header_add(conn, "Content-Length",
                         std::to_string(body.size()).c_str(), -1);
  mg_response_header_send(conn);
  mg_write(conn, body.data(), body.size());
  return true;
}

}  // namespace alertmanager
}  // namespace crashctl
