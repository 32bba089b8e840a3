// KeyCache: the DSN keys ingest accepts (Store::ListAllKeys), held in
// memory so that a request costs no database read (issue 19,
// docs/rest-api.md "Projects and keys").
//
// The whole set is reloaded when it is older than `max_age` (3 s), when
// Invalidate() was called (the REST key routes call it through
// RestOptions::on_keys_changed), and on a lookup of a key it does not hold,
// at most once per `min_reload_interval` (1 s) so that unknown keys cannot
// hammer the database. A failed reload keeps what was loaded before (and is
// retried no sooner than min_reload_interval).
//
// Thread-safety: all methods may be called from any thread at once; a
// reload runs under the cache's mutex (other lookups wait for it).
#ifndef CRASHCTL_INGEST_KEY_CACHE_H_
#define CRASHCTL_INGEST_KEY_CACHE_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

#include "crashctl/model/records.h"
#include "crashctl/store/store.h"

namespace crashctl {
namespace ingest {

class KeyCache {
 public:
  using Clock = std::chrono::steady_clock;
  struct Options {
    Clock::duration max_age = std::chrono::seconds(3);
    Clock::duration min_reload_interval = std::chrono::seconds(1);
    // The time source (tests); null = Clock::now.
    std::function<Clock::time_point()> now;
  };

  // `store` is not owned and must outlive the cache.
  explicit KeyCache(store::Store* store) : KeyCache(store, Options()) {}
  KeyCache(store::Store* store, Options options);
  KeyCache(const KeyCache&) = delete;
  KeyCache& operator=(const KeyCache&) = delete;

  // Finds `public_key` (active or not: the caller refuses a disabled key
  // with its own answer). False when the key is unknown.
  bool Find(const std::string& public_key, model::ProjectKey* out);
  // The next Find reloads, whatever the intervals.
  void Invalidate();
  // How many reloads were attempted (tests, debugging).
  int64_t loads() const;

 private:
  // Needs mu_.
  void ReloadLocked(Clock::time_point now);

  store::Store* store_;
  Options options_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, model::ProjectKey> keys_;
  bool loaded_ = false;  // a load was attempted since the start/Invalidate
  Clock::time_point loaded_at_{};
  int64_t loads_ = 0;
};

}  // namespace ingest
}  // namespace crashctl

#endif  // CRASHCTL_INGEST_KEY_CACHE_H_
