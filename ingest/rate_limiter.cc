#include "crashctl/ingest/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace crashctl {
namespace ingest {
namespace {

// The bucket of `per_minute` events after `elapsed` seconds.
double Refill(double tokens, int64_t per_minute, double elapsed) {
  const double capacity = static_cast<double>(per_minute);
  return std::min(capacity, tokens + elapsed * capacity / 60.0);
}

}  // namespace

int64_t RateLimiter::Acquire(int64_t key_id, int64_t per_minute, int64_t cost,
                             Clock::time_point now) {
  if (per_minute <= 0) return 0;
  cost = std::max<int64_t>(cost, 1);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = buckets_.find(key_id);
  if (it == buckets_.end()) {
    if (buckets_.size() >= options_.max_keys) EvictLocked(now);
    Bucket fresh;
    fresh.tokens = static_cast<double>(per_minute);
    fresh.per_minute = per_minute;
    fresh.updated = now;
    it = buckets_.emplace(key_id, fresh).first;
  }
  Bucket& bucket = it->second;
  const double elapsed = std::max(
      0.0, std::chrono::duration<double>(now - bucket.updated).count());
  bucket.per_minute = per_minute;
  bucket.tokens = Refill(bucket.tokens, per_minute, elapsed);
  bucket.updated = std::max(bucket.updated, now);
  const double capacity = static_cast<double>(per_minute);
  const double need = std::min(static_cast<double>(cost), capacity);
  if (bucket.tokens + 1e-9 >= need) {
    bucket.tokens -= static_cast<double>(cost);  // may go below 0: owed
    return 0;
  }
  const double wait = (need - bucket.tokens) * 60.0 / capacity;
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(wait - 1e-9)));
}

size_t RateLimiter::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return buckets_.size();
}

void RateLimiter::EvictLocked(Clock::time_point now) {
  // Bounded by max_keys buckets.
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    const double elapsed =
        std::chrono::duration<double>(now - it->second.updated).count();
    const double tokens =
        Refill(it->second.tokens, it->second.per_minute, elapsed);
    if (tokens >= static_cast<double>(it->second.per_minute)) {
      it = buckets_.erase(it);
    } else {
      ++it;
    }
  }
  if (buckets_.size() >= options_.max_keys && !buckets_.empty()) {
    buckets_.erase(buckets_.begin());
  }
}

std::vector<std::pair<std::string, std::string>> KeyRateLimitHeaders(
    int64_t retry_after_seconds) {
  const std::string seconds = std::to_string(retry_after_seconds);
  return {{"Retry-After", seconds},
          {"X-Sentry-Rate-Limits", seconds + "::key"}};
}

}  // namespace ingest
}  // namespace crashctl
