// FakeAlertmanager: a civetweb HTTP server on a free 127.0.0.1 port that
// records every POST /api/v2/alerts and answers with scripted statuses.
//
// Thread-safety: all methods are safe to call while civetweb threads serve.
#ifndef CRASHCTL_TESTS_ALERTMANAGER_FAKE_ALERTMANAGER_H_
#define CRASHCTL_TESTS_ALERTMANAGER_FAKE_ALERTMANAGER_H_

#include <CivetServer.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace crashctl {
namespace alertmanager {

class FakeAlertmanager : public CivetHandler {
 public:
  struct Request {
    std::string path;
    std::string content_type;
    std::string body;
    std::chrono::steady_clock::time_point received;
  };

  FakeAlertmanager();
  ~FakeAlertmanager() override;

  int port() const { return port_; }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(port_);
  }

  // The next requests are answered with these statuses, in order; after
  // that with 200.
  void ScriptStatuses(std::vector<int> statuses);
  // Every request waits this long before answering (0 = none).
  void SetDelayMs(int ms);

  std::vector<Request> requests();
  size_t request_count();
  // Blocks until at least `n` requests arrived or `timeout_s` passed.
  bool WaitForRequests(size_t n, double timeout_s);

  bool handlePost(CivetServer* server, mg_connection* conn) override;

 private:
  std::unique_ptr<CivetServer> server_;
  int port_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<int> statuses_;
  int delay_ms_ = 0;
  std::vector<Request> requests_;
  std::atomic<bool> closed_{false};
};

}  // namespace alertmanager
}  // namespace crashctl

#endif  // CRASHCTL_TESTS_ALERTMANAGER_FAKE_ALERTMANAGER_H_
