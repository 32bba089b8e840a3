// The SDK's background sender: a bounded queue of envelopes drained by one
// thread that POSTs them, honours rate limits (429, Retry-After,
// X-Sentry-Rate-Limits), retries failures with exponential backoff, and
// spools what it could not send (after kMaxAttempts, or at shutdown).
// On start it also sends envelopes spooled by earlier runs. A rate limit of
// the "transaction" category alone (X-Sentry-Rate-Limits) drops
// transactions, queued or new, until it ends, and holds nothing else.
// Thread-safety: all public methods are thread-safe.
#ifndef CRASHCTL_SDK_SRC_TRANSPORT_H_
#define CRASHCTL_SDK_SRC_TRANSPORT_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "crashctl/sdk/support/dsn.h"
#include "crashctl/sdk/support/spool.h"

namespace crashctl {
namespace sdk {

class Transport {
 public:
  static constexpr int kMaxAttempts = 4;

  Transport(Dsn dsn, std::string spool_dir, size_t queue_size, bool debug);
  ~Transport();  // Shutdown(0) if not done
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // Queues an envelope; never blocks. False (and counted as dropped) when the
  // queue is full or the transport is shut down.
  // `transaction`: the envelope holds a transaction item.
  bool Enqueue(const std::string& event_id, std::string envelope,
               bool transaction = false);

  // True when the queue drained (nothing queued or in flight) in time.
  bool Flush(std::chrono::milliseconds timeout);

  // Flushes up to `timeout`, then stops the thread (aborting a request in
  // flight) and spools everything not sent.
  void Shutdown(std::chrono::milliseconds timeout);

  uint64_t dropped() const { return dropped_.load(); }
  uint64_t sent() const { return sent_.load(); }

 private:
  struct Item {
    std::string event_id;
    std::string envelope;
    int attempts = 0;
    bool transaction = false;
  };
  void Run();
  // Waits until `until` or stop; returns false if stopping.
  bool SleepUntil(std::chrono::steady_clock::time_point until);

  const Dsn dsn_;
  const Spool spool_;
  const size_t queue_size_;
  const bool debug_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;  // guarded by mu_
  bool in_flight_ = false;  // guarded by mu_
  bool stopping_ = false;   // guarded by mu_
  // Transactions are dropped until then; guarded by mu_.
  std::chrono::steady_clock::time_point transactions_not_before_{};
  std::atomic<bool> abort_{false};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> sent_{0};
  std::thread thread_;
};

}  // namespace sdk
}  // namespace crashctl

#endif  // CRASHCTL_SDK_SRC_TRANSPORT_H_
