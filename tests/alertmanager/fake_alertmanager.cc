#include "tests/alertmanager/fake_alertmanager.h"

#include <thread>

namespace crashctl {

FakeAlertmanager::FakeAlertmanager() {
  std::vector<std::string> options = {"listening_ports", "127.0.0.1:0",
                                      "num_threads", "8"};
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
  server_->close();
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
  mg_printf(conn,
            "HTTP/1.1 %d Scripted\r\nContent-Type: application/json\r\n"
            "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
            status, body.size(), body.c_str());
  return true;
}

}  // namespace crashctl
