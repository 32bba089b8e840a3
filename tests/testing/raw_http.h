// Test support: raw TCP clients for what an HTTP library will not send
// (malformed framing, bodies a byte at a time, other loopback source
// addresses), and reading values out of a /metrics exposition.
//
// Thread-safety: a RawClient is owned by one thread; free functions are
// thread-safe.
#ifndef CRASHCTL_TESTS_TESTING_RAW_HTTP_H_
#define CRASHCTL_TESTS_TESTING_RAW_HTTP_H_

#include <functional>
#include <string>

namespace crashctl {
namespace testing {

// A TCP connection to 127.0.0.1:`port` from `source` (another loopback
// address, or "" for the default): its descriptor (close-on-exec, the
// caller's to close), -1 when it fails.
int ConnectLoopback(int port, const std::string& source = "");

class RawClient {
 public:
  // Connects to 127.0.0.1:`port` from `source` (another loopback address,
  // e.g. "127.0.0.7", or "" for the default). ok() tells whether it did.
  RawClient(int port, const std::string& source = "");
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  // Sends all of `data`; false when the connection is gone.
  bool Send(const std::string& data);
  // Reads what arrives within `timeout_ms`, until the peer closes (then
  // closed() is true) or the time is up. Returns what was read.
  std::string ReadUntilClosed(int timeout_ms);
  // Reads until at least one whole response (headers and Content-Length
  // bytes of body) is there, or `timeout_ms`. Returns everything read.
  std::string ReadResponse(int timeout_ms);
  bool closed() const { return closed_; }
  void Close();

 private:
  // Reads until `done` holds for what was read, the peer closes or
  // `timeout_ms` pass; returns what was read.
  std::string ReadUntil(int timeout_ms,
                        const std::function<bool(const std::string&)>& done);

  int fd_ = -1;
  bool closed_ = false;
};

// The status of the first response in `wire` ("HTTP/1.1 400 ..."), 0 if none.
int StatusOf(const std::string& wire);
// The body of the first response in `wire` (by its Content-Length).
std::string BodyOf(const std::string& wire);
// How many responses (status lines) `wire` holds.
int ResponseCount(const std::string& wire);

// The value of one series in a Prometheus text exposition, e.g.
// MetricValue(text, "crashctl_http_refused_total{reason=\"framing\"}"); -1
// when absent.
double MetricValue(const std::string& exposition, const std::string& series);

}  // namespace testing
}  // namespace crashctl

#endif  // CRASHCTL_TESTS_TESTING_RAW_HTTP_H_
