#include "transport.h"

#include <cstdio>

#include "crashctl/sdk/support/http_sender.h"

namespace crashctl {
namespace sdk {

using Clock = std::chrono::steady_clock;

Transport::Transport(Dsn dsn, std::string spool_dir, size_t queue_size,
                     bool debug)
    : dsn_(std::move(dsn)),
      spool_(std::move(spool_dir)),
      queue_size_(queue_size == 0 ? 1 : queue_size),
      debug_(debug) {
  EnsureCurlInitialized();
  thread_ = std::thread([this] { Run(); });
}

Transport::~Transport() { Shutdown(std::chrono::milliseconds(0)); }

bool Transport::Enqueue(const std::string& event_id, std::string envelope,
                        bool transaction) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || queue_.size() >= queue_size_ ||
        (transaction && Clock::now() < transactions_not_before_)) {
      dropped_.fetch_add(1);
      return false;
    }
    queue_.push_back(Item{event_id, std::move(envelope), 0, transaction});
  }
  cv_.notify_all();
  return true;
}

bool Transport::Flush(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout,
                      [this] { return queue_.empty() && !in_flight_; });
}

void Transport::Shutdown(std::chrono::milliseconds timeout) {
  if (!thread_.joinable()) return;
  Flush(timeout);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  abort_.store(true);
  cv_.notify_all();
  thread_.join();
  std::deque<Item> rest;
  {
    std::lock_guard<std::mutex> lock(mu_);
    rest.swap(queue_);
  }
  for (const Item& item : rest) {
    if (!spool_.Write(item.event_id, item.envelope)) dropped_.fetch_add(1);
  }
  if (debug_ && !rest.empty()) {
    std::fprintf(stderr, "crashctl: spooled %zu unsent event(s) to %s\n",
                 rest.size(), spool_.dir().c_str());
  }
}

bool Transport::SleepUntil(Clock::time_point until) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_until(lock, until, [this] { return stopping_; });
  return !stopping_;
}

void Transport::Run() {
  // Envelopes left by earlier runs (this process' own DSN or not).
  DeliverSpool(spool_, Clock::now() + std::chrono::seconds(10),
               /*retry=*/false, debug_);
  Clock::time_point not_before = Clock::now();
  std::chrono::milliseconds backoff(500);
  for (;;) {
    Item item;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      item = std::move(queue_.front());
      queue_.pop_front();
      if (item.transaction && Clock::now() < transactions_not_before_) {
        dropped_.fetch_add(1);  // queued before the limit came
        lock.unlock();
        cv_.notify_all();
        continue;
      }
      in_flight_ = true;
    }
    if (Clock::now() < not_before && !SleepUntil(not_before)) {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_front(std::move(item));
      in_flight_ = false;
      return;
    }
    SendResult r =
        PostEnvelope(dsn_, item.envelope, std::chrono::seconds(10), &abort_);
    ++item.attempts;
    bool done = true;
    if (r.transaction_retry_after_seconds > 0) {
      std::lock_guard<std::mutex> lock(mu_);
      transactions_not_before_ =
          Clock::now() +
          std::chrono::seconds(r.transaction_retry_after_seconds);
    }
    if (r.RateLimited() && item.transaction &&
        r.transaction_retry_after_seconds > 0) {
      dropped_.fetch_add(1);  // limited as a transaction: not kept
    } else if (r.Delivered()) {
      sent_.fetch_add(1);
      backoff = std::chrono::milliseconds(500);
      if (r.retry_after_seconds > 0) {
        not_before = Clock::now() + std::chrono::seconds(r.retry_after_seconds);
      }
    } else if (r.RateLimited()) {
      // Not the event's fault: keep it and wait as told.
      not_before = Clock::now() +
                   std::chrono::seconds(
                       r.retry_after_seconds > 0 ? r.retry_after_seconds : 60);
      item.attempts = 0;
      done = false;
    } else if (r.Retryable()) {
      not_before = Clock::now() + backoff;
      backoff = std::min<std::chrono::milliseconds>(backoff * 2,
                                                    std::chrono::seconds(30));
      done = item.attempts >= kMaxAttempts;
      if (done && !spool_.Write(item.event_id, item.envelope)) {
        dropped_.fetch_add(1);
      }
    } else {
      dropped_.fetch_add(1);  // the server refused it for good (4xx)
    }
    if (debug_ && !r.Delivered()) {
      std::fprintf(stderr, "crashctl: send %s: HTTP %d %s%s\n",
                   item.event_id.c_str(), r.status, r.error.c_str(),
                   done ? "" : " (will retry)");
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!done) queue_.push_front(std::move(item));
      in_flight_ = false;
    }
    cv_.notify_all();
  }
}

}  // namespace sdk
}  // namespace crashctl
