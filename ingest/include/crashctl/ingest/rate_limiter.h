// RateLimiter: the per-key rate limit of ingestion (issue 19,
// ProjectKey::rate_limit_per_minute): a token bucket per key holding up to
// `per_minute` events, refilled at per_minute / 60 events per second; a
// request that needs more than the bucket holds is answered 429 with
// RateLimitHeaders.
//
// Bounded: at most Options::max_keys buckets. A new key beyond that first
// drops the buckets that are full again (the same as no bucket), then, if
// none is, an arbitrary one (that key starts again with a full bucket).
//
// Thread-safety: Acquire may be called from any thread at once.
#ifndef CRASHCTL_INGEST_RATE_LIMITER_H_
#define CRASHCTL_INGEST_RATE_LIMITER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace crashctl {
namespace ingest {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  struct Options {
    size_t max_keys = 10000;
  };

  RateLimiter() : RateLimiter(Options()) {}
  explicit RateLimiter(Options options) : options_(options) {}

  // Takes `cost` (>= 1) events from the bucket of key `key_id`, whose limit
  // is `per_minute` (0 or less: no limit, always admitted; a limit changed
  // since the last call applies from now on). Returns 0 when admitted,
  // otherwise the whole seconds (>= 1) after which `cost` events will be
  // admitted; nothing is taken then. A cost over the limit itself is
  // admitted when the bucket is full (a request is never refused forever).
  int64_t Acquire(int64_t key_id, int64_t per_minute, int64_t cost,
                  Clock::time_point now);
  int64_t Acquire(int64_t key_id, int64_t per_minute, int64_t cost = 1) {
    return Acquire(key_id, per_minute, cost, Clock::now());
  }
  // Buckets held (<= max_keys).
  size_t size() const;

 private:
  struct Bucket {
    double tokens = 0;
    int64_t per_minute = 0;
    Clock::time_point updated{};
  };
  // Needs mu_: makes room for one more bucket.
  void EvictLocked(Clock::time_point now);

  Options options_;
  mutable std::mutex mu_;
  std::unordered_map<int64_t, Bucket> buckets_;
};

// The headers of a 429 for a key over its limit: Retry-After: <seconds> and
// X-Sentry-Rate-Limits: <seconds>::key (Sentry's retry_after:categories:
// scope; no categories: every category).
std::vector<std::pair<std::string, std::string>> KeyRateLimitHeaders(
    int64_t retry_after_seconds);

}  // namespace ingest
}  // namespace crashctl

#endif  // CRASHCTL_INGEST_RATE_LIMITER_H_
