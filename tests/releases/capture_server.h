// Test support: a tiny HTTP/1.1 server on 127.0.0.1 that answers every
// request 200 "{}" and keeps what was sent (path and body, with chunked
// transfer coding and gzip/deflate content coding undone), so a test can
// point a real Sentry SDK at it and look at the envelopes. Also a minimal
// envelope splitter. For tests only.
//
// Thread-safety: CaptureServer's methods may be called from any thread; it
// serves connections one at a time on its own thread.
#ifndef CRASHCTL_TESTS_RELEASES_CAPTURE_SERVER_H_
#define CRASHCTL_TESTS_RELEASES_CAPTURE_SERVER_H_

#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace crashctl::testing {

struct CapturedRequest {
  std::string method;
  std::string target;  // path and query as requested
  std::string body;    // decoded
};

class CaptureServer {
 public:
  CaptureServer() = default;
  CaptureServer(const CaptureServer&) = delete;
  CaptureServer& operator=(const CaptureServer&) = delete;
  ~CaptureServer();

  // Listens on 127.0.0.1 (a free port). False with *error on failure.
  bool Start(std::string* error);
  int port() const { return port_; }
  std::vector<CapturedRequest> Requests() const;

 private:
  void Serve();
  void HandleConnection(int fd);

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<CapturedRequest> requests_;
};

struct EnvelopeItem {
  std::string type;
  std::string payload;
};

struct Envelope {
  std::string header;             // the header line
  std::optional<double> sent_at;  // header `sent_at`, epoch seconds
  std::vector<EnvelopeItem> items;
};

// Splits an envelope (header line, then item header line + payload, with or
// without "length"). False when it is malformed.
bool SplitEnvelope(std::string_view body, Envelope* out);

}  // namespace crashctl::testing

#endif  // CRASHCTL_TESTS_RELEASES_CAPTURE_SERVER_H_
