#include "crashctl/store/pg/pool.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

namespace crashctl {
namespace store {
namespace pg {

// --- Lease ------------------------------------------------------------------

Pool::Lease::Lease(Lease&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)),
      conn_(std::move(other.conn_)) {}

Pool::Lease& Pool::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    Release();
    pool_ = std::exchange(other.pool_, nullptr);
    conn_ = std::move(other.conn_);
  }
  return *this;
}

void Pool::Lease::Release() {
  if (pool_ != nullptr && conn_ != nullptr) {
    pool_->Return(std::move(conn_), /*discard=*/false);
  }
  pool_ = nullptr;
  conn_.reset();
}

void Pool::Lease::Discard() {
  if (pool_ != nullptr && conn_ != nullptr) {
    pool_->Return(std::move(conn_), /*discard=*/true);
  }
  pool_ = nullptr;
  conn_.reset();
}

// --- Pool -------------------------------------------------------------------

namespace {

PoolOptions Sanitized(PoolOptions options) {
  options.size = std::max(1, options.size);
  options.acquire_timeout_ms = std::max(0, options.acquire_timeout_ms);
  options.ping_after_idle_ms = std::max(0, options.ping_after_idle_ms);
  options.ping_timeout_ms = std::max(1, options.ping_timeout_ms);
  return options;
}

}  // namespace

Pool::Pool(PoolOptions options) : options_(Sanitized(std::move(options))) {}

Pool::~Pool() {
  std::vector<Idle> idle;
  {
    std::lock_guard<std::mutex> lock(mu_);
    idle.swap(idle_);
    if (open_ != static_cast<int>(idle.size())) {
      spdlog::error("postgres pool destroyed with {} connection(s) leased",
                    open_ - static_cast<int>(idle.size()));
    }
  }
  // Closing happens outside the lock.
}

bool Pool::NeedsPing(const Idle& idle, Clock::time_point now) const {
  return now - idle.since >
             std::chrono::milliseconds(options_.ping_after_idle_ms) ||
         idle.since < last_broken_;
}

Status Pool::Acquire(Lease* out) {
  return Acquire(options_.acquire_timeout_ms, out);
}

Status Pool::Acquire(int timeout_ms, Lease* out) {
  out->Release();
  const Clock::time_point deadline =
      Clock::now() + std::chrono::milliseconds(std::max(0, timeout_ms));
  std::unique_lock<std::mutex> lock(mu_);
  // Each turn takes an idle connection, opens one, or waits; the deadline
  // bounds the turns (a failed ping consumes a connection, and at most
  // `size` exist).
  for (;;) {
    Clock::time_point now = Clock::now();
    if (!idle_.empty()) {
      Idle item = std::move(idle_.back());
      idle_.pop_back();
      if (NeedsPing(item, now)) {
        lock.unlock();
        Status ping = item.conn->Ping(options_.ping_timeout_ms);
        if (!ping.ok()) {
          spdlog::info("postgres pool: discarding a connection to {}: {}",
                       item.conn->description(), ping.message());
          item.conn.reset();
        }
        lock.lock();
        if (item.conn == nullptr) {
          --open_;
          ++discarded_;
          last_broken_ = Clock::now();
          cv_.notify_one();
          if (Clock::now() >= deadline) break;
          continue;
        }
      }
      out->pool_ = this;
      out->conn_ = std::move(item.conn);
      return Status::Ok();
    }
    if (open_ < options_.size) {
      ++open_;
      lock.unlock();
      ConnectOptions connect = options_.connect;
      auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(
                           deadline - Clock::now())
                           .count();
      connect.connect_timeout_ms = static_cast<int>(std::max<int64_t>(
          1, std::min<int64_t>(connect.connect_timeout_ms, remaining)));
      std::unique_ptr<Connection> conn;
      Status st = Connection::Open(connect, &conn);
      lock.lock();
      if (!st.ok()) {
        --open_;
        cv_.notify_one();
        return st.Annotate("postgres pool");
      }
      ++opened_;
      out->pool_ = this;
      out->conn_ = std::move(conn);
      return Status::Ok();
    }
    ++waiting_;
    bool ready = cv_.wait_until(lock, deadline, [this] {
      return !idle_.empty() || open_ < options_.size;
    });
    --waiting_;
    if (!ready) break;
  }
  ++acquire_timeouts_;
  return Status::Unavailable("postgres pool: no connection free within " +
                             std::to_string(timeout_ms) + " ms (" +
                             std::to_string(options_.size) + " in use)");
}

void Pool::Return(std::unique_ptr<Connection> conn, bool discard) {
  if (!discard && !conn->broken() && conn->in_transaction()) {
    Status st = conn->Rollback();
    if (!st.ok()) {
      spdlog::warn("postgres pool: rollback of a returned connection: {}",
                   st.message());
    }
  }
  const bool broken = conn->broken();
  if (discard || broken || conn->in_transaction()) {
    conn.reset();  // closes outside the lock
    std::lock_guard<std::mutex> lock(mu_);
    --open_;
    ++discarded_;
    if (broken) last_broken_ = Clock::now();
    cv_.notify_one();
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  idle_.push_back({std::move(conn), Clock::now()});
  cv_.notify_one();
}

Status Pool::HealthCheck() {
  Lease lease;
  Status st = Acquire(&lease);
  if (!st.ok()) return st;
  return lease->Ping(options_.ping_timeout_ms);
}

Pool::Stats Pool::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  Stats s;
  s.open = open_;
  s.idle = static_cast<int>(idle_.size());
  s.leased = open_ - s.idle;
  s.waiting = waiting_;
  s.opened = opened_;
  s.discarded = discarded_;
  s.acquire_timeouts = acquire_timeouts_;
  return s;
}

}  // namespace pg
}  // namespace store
}  // namespace crashctl
