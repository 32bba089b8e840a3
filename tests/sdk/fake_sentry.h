// A fake Sentry ingestion endpoint for tests: a civetweb server on
// 127.0.0.1 (free port) that accepts POST /api/<project>/envelope/, gunzips,
// splits the envelope and records every event item.
// Thread-safety: all methods are thread-safe.
#ifndef CRASHCTL_TESTS_SDK_FAKE_SENTRY_H_
#define CRASHCTL_TESTS_SDK_FAKE_SENTRY_H_

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "tests/testing/temp_dir.h"

struct mg_context;
struct mg_connection;

namespace crashctl {
namespace testing {

struct ReceivedEnvelope {
  std::string path;
  std::string auth;             // X-Sentry-Auth
  std::string envelope_header;  // first line
  std::string item_header;      // second line
  std::string event_json;       // the event item's payload
};

class FakeSentry {
 public:
  // Starts listening on `port` (0: a free port).
  explicit FakeSentry(int port = 0);
  ~FakeSentry();

  int port() const { return port_; }
  // "http://<key>@127.0.0.1:<port>/1"
  std::string Dsn() const;

  // The next `count` requests are answered with `status` and `headers`
  // instead of 200 (and not recorded).
  void FailNext(int count, int status,
                std::map<std::string, std::string> headers = {});

  std::vector<ReceivedEnvelope> Received() const;
  size_t Requests() const;
  // Polls until at least `count` envelopes arrived; false on timeout.
  bool WaitFor(size_t count, std::chrono::milliseconds timeout) const;

 private:
  static int Handle(mg_connection* conn, void* self);
  int OnRequest(mg_connection* conn);

  mg_context* ctx_ = nullptr;
  int port_ = 0;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<ReceivedEnvelope> received_;
  size_t requests_ = 0;
  int fail_count_ = 0;
  int fail_status_ = 0;
  std::map<std::string, std::string> fail_headers_;
};

}  // namespace testing
}  // namespace crashctl

#endif  // CRASHCTL_TESTS_SDK_FAKE_SENTRY_H_
