// Pool: a bounded set of Connections shared by threads.
//
// Contract
// - At most `size` connections exist at once (idle + leased). Acquire()
//   hands out an idle connection, or opens a new one while fewer than
//   `size` exist, or waits up to the acquire timeout for one to come back;
//   then it returns kUnavailable ("timed out"). Connections are opened on
//   demand (none at construction), outside the pool's lock, so one slow
//   connect does not hold up the others.
// - A Lease gives the connection back when it goes out of scope. A broken
//   connection (lost, or closed on a deadline) is discarded and its slot
//   freed, so the next Acquire opens a fresh one: after PostgreSQL
//   restarts, each stale connection fails once (kUnavailable) and the pool
//   recovers by itself. A connection given back inside a transaction is
//   rolled back first (discarded if that fails).
// - Health check: a connection idle for longer than ping_after_idle_ms, or
//   idle since before the pool last discarded a broken one (a sign that the
//   server went away), answers "SELECT 1" before it is handed out; one that
//   does not is discarded and Acquire goes on with another. HealthCheck()
//   does one acquire-and-ping for /readyz.
// - Acquire() on a pool with no free slot fails fast with the connect
//   error when opening a connection fails (no retry loop inside).
//
// Thread-safety: Pool is thread-safe. A Lease (and the Connection it holds)
// is used by one thread at a time. Every Lease must be gone before the Pool
// is destroyed.
#ifndef CRASHCTL_STORE_PG_POOL_H_
#define CRASHCTL_STORE_PG_POOL_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "crashctl/store/pg/connection.h"
#include "crashctl/util/status.h"

namespace crashctl {
namespace store {
namespace pg {

struct PoolOptions {
  ConnectOptions connect;
  int size = 8;                    // most connections at once, >= 1
  int acquire_timeout_ms = 5000;   // Acquire()'s default wait
  int ping_after_idle_ms = 30000;  // ping a connection idle longer
  int ping_timeout_ms = 2000;
};

class Pool {
 public:
  struct Stats {
    int open = 0;  // idle + leased + being opened
    int idle = 0;
    int leased = 0;         // handed out (and being opened)
    int waiting = 0;        // threads inside Acquire waiting for a slot
    int64_t opened = 0;     // connections opened since construction
    int64_t discarded = 0;  // broken or failed health checks
    int64_t acquire_timeouts = 0;
  };

  class Lease {
   public:
    Lease() = default;
    ~Lease() { Release(); }
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

    Connection* get() const { return conn_.get(); }
    Connection* operator->() const { return conn_.get(); }
    Connection& operator*() const { return *conn_; }
    explicit operator bool() const { return conn_ != nullptr; }
    // Gives the connection back now (as the destructor would).
    void Release();
    // Closes the connection instead of giving it back (e.g. after an
    // unknown outcome the caller wants no reuse of).
    void Discard();

   private:
    friend class Pool;
    Pool* pool_ = nullptr;
    std::unique_ptr<Connection> conn_;
  };

  explicit Pool(PoolOptions options);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // A connection within options.acquire_timeout_ms (or `timeout_ms`).
  // kUnavailable on timeout or when a new connection cannot be opened.
  Status Acquire(Lease* out);
  Status Acquire(int timeout_ms, Lease* out);

  // Acquires a connection and pings it: OK when the database answers now.
  Status HealthCheck();

  Stats stats() const;
  const PoolOptions& options() const { return options_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Idle {
    std::unique_ptr<Connection> conn;
    Clock::time_point since;
  };
  void Return(std::unique_ptr<Connection> conn, bool discard);
  bool NeedsPing(const Idle& idle, Clock::time_point now) const;

  const PoolOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Idle> idle_;  // most recently used at the back
  int open_ = 0;            // idle + leased + being opened
  int waiting_ = 0;
  int64_t opened_ = 0;
  int64_t discarded_ = 0;
  int64_t acquire_timeouts_ = 0;
  // When a broken connection was last discarded: connections idle since
  // before then are pinged before use.
  Clock::time_point last_broken_;
};

}  // namespace pg
}  // namespace store
}  // namespace crashctl

#endif  // CRASHCTL_STORE_PG_POOL_H_
