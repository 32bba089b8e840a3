// KubeApiClient: minimal HTTP client for the Kubernetes API on libcurl.
//
// Sends the credentials of a KubeClientConfig (bearer token, re-read from its
// token file at most every `token_reload_seconds`; client certificate; CA;
// insecure-skip-tls-verify). Every request has a connect timeout; plain GETs
// have a total timeout; streams (watches) are aborted when no byte arrives
// for `stream_idle_seconds` (curl low-speed limit) or after
// `stream_max_seconds`. Every call returns early (error "stopped") soon after
// `*stop` becomes true.
//
// Thread-safety: all methods may be called concurrently (each call uses its
// own curl handles; the cached token is guarded by a mutex).
#ifndef CRASHCTL_KUBE_KUBE_API_CLIENT_H_
#define CRASHCTL_KUBE_KUBE_API_CLIENT_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>

#include "kube_client_config.h"

namespace crashctl {
namespace kube {

struct KubeResponse {
  int status = 0;     // HTTP status; 0 when no response was received
  std::string body;   // body (for streams: only when status != 200)
  std::string error;  // transport error ("" when the server answered)
  bool ok() const { return error.empty() && status == 200; }
  // 2xx (200 OK, 201 Created) without a transport error.
  bool ok2xx() const { return error.empty() && status >= 200 && status < 300; }
};

class KubeApiClient {
 public:
  struct Options {
    double connect_timeout_seconds = 10;
    double request_timeout_seconds = 60;
    double stream_idle_seconds = 90;
    double stream_max_seconds = 600;
    double token_reload_seconds = 60;
    size_t max_body_bytes = 256u << 20;
    std::string user_agent = "crashctl/kube-watcher";
  };

  KubeApiClient(KubeClientConfig config, Options options);
  KubeApiClient(const KubeApiClient&) = delete;
  KubeApiClient& operator=(const KubeApiClient&) = delete;

  const KubeClientConfig& config() const { return config_; }

  // Percent-encodes a query parameter value.
  static std::string Escape(const std::string& value);

  // GET `path_and_query` (starting with '/') and returns the whole answer.
  KubeResponse Get(const std::string& path_and_query,
                   const std::atomic<bool>* stop = nullptr);

  // `method` (GET, POST, PUT) `path_and_query` with `body` (JSON; "" sends
  // none) and returns the whole answer. `timeout_seconds` > 0 bounds this
  // call (connect and total) below the options' timeouts; 0 = the options'.
  KubeResponse Send(const std::string& method,
                    const std::string& path_and_query, const std::string& body,
                    double timeout_seconds,
                    const std::atomic<bool>* stop = nullptr);

  // GET a streaming resource. While the answer is 200, every received block
  // is passed to `on_data`; returning false from it ends the stream (error
  // "aborted"). A clean end of the body gives status 200 and error "".
  using DataCallback = std::function<bool(const char* data, size_t size)>;
  KubeResponse Stream(const std::string& path_and_query,
                      const DataCallback& on_data,
                      const std::atomic<bool>* stop);

 private:
  KubeResponse Perform(const std::string& method,
                       const std::string& path_and_query,
                       const std::string& body, double timeout_seconds,
                       bool streaming, const DataCallback* on_data,
                       const std::atomic<bool>* stop);
  std::string CurrentToken();

  const KubeClientConfig config_;
  const Options options_;
  std::mutex token_mu_;
  std::string token_;
  std::chrono::steady_clock::time_point token_read_{};
  bool token_loaded_ = false;
};

}  // namespace kube
}  // namespace crashctl

#endif  // CRASHCTL_KUBE_KUBE_API_CLIENT_H_
