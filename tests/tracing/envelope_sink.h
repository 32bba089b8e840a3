// Test support for tests/tracing: a loopback HTTP listener that plays a
// Sentry server for real SDKs (answers every POST 200, keeps the bodies,
// gunzipped), and a minimal envelope splitter for the transaction items.
//
// Thread-safety: EnvelopeSink's methods may be called from any thread; its
// accept loop runs on a thread of its own.
#ifndef CRASHCTL_TESTS_TRACING_ENVELOPE_SINK_H_
#define CRASHCTL_TESTS_TRACING_ENVELOPE_SINK_H_

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace crashctl {
namespace tracing {
namespace testing {

class EnvelopeSink {
 public:
  EnvelopeSink();  // listens on 127.0.0.1, a free port
  ~EnvelopeSink();
  EnvelopeSink(const EnvelopeSink&) = delete;
  EnvelopeSink& operator=(const EnvelopeSink&) = delete;

  bool ok() const { return fd_ >= 0; }
  int port() const { return port_; }
  // http://<key>@127.0.0.1:<port>/<project>
  std::string Dsn(int project) const;
  // The request bodies received so far (decompressed), in arrival order.
  std::vector<std::string> Bodies() const;

 private:
  void Loop();
  void Serve(int client);

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  std::vector<std::string> bodies_;
  std::thread thread_;
};

// The payloads of the `transaction` items of an envelope (empty when it is
// not one).
std::vector<std::string> TransactionItems(const std::string& envelope);

// The whole file; "" when unreadable.
std::string ReadFileOrEmpty(const std::string& path);

}  // namespace testing
}  // namespace tracing
}  // namespace crashctl

#endif  // CRASHCTL_TESTS_TRACING_ENVELOPE_SINK_H_
