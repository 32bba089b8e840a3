#include "crashctl/ingest/key_cache.h"

#include <spdlog/spdlog.h>

#include <utility>
#include <vector>

namespace crashctl {
namespace ingest {

KeyCache::KeyCache(store::Store* store, Options options)
    : store_(store), options_(std::move(options)) {}

bool KeyCache::Find(const std::string& public_key, model::ProjectKey* out) {
  const Clock::time_point now = options_.now ? options_.now() : Clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  if (!loaded_ || now - loaded_at_ >= options_.max_age) ReloadLocked(now);
  auto it = keys_.find(public_key);
  if (it == keys_.end() && now - loaded_at_ >= options_.min_reload_interval) {
    ReloadLocked(now);
    it = keys_.find(public_key);
  }
  if (it == keys_.end()) return false;
  *out = it->second;
  return true;
}

void KeyCache::Invalidate() {
  std::lock_guard<std::mutex> lock(mu_);
  loaded_ = false;
}

int64_t KeyCache::loads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return loads_;
}

void KeyCache::ReloadLocked(Clock::time_point now) {
  ++loads_;
  loaded_ = true;
  loaded_at_ = now;
  std::vector<model::ProjectKey> keys;
  const Status status = store_->ListAllKeys(&keys);
  if (!status.ok()) {
    spdlog::warn("ingest: loading the project keys: {}", status.message());
    return;  // keeps the keys loaded before
  }
  keys_.clear();
  for (model::ProjectKey& key : keys) {
    std::string public_key = key.public_key;
    keys_.emplace(std::move(public_key), std::move(key));
  }
}

}  // namespace ingest
}  // namespace crashctl
