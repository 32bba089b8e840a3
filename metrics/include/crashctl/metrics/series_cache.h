// SeriesCache: the series of one prometheus-cpp family, found by a string
// key instead of a Labels map.
//
// prometheus::Family::Add() builds a std::map of labels, a throwaway metric
// object and takes the family's mutex on every call. Paths that count every
// request or every stored event look their series up here instead: a shared
// (reader) lock and one map lookup, no allocation once the key is known.
//
// The key must determine the labels (e.g. the label values joined with a
// separator that no value contains). Entries are never removed, so the
// cache holds at most as many entries as the family has series: it is
// bounded by the same label bounds as the family. Do not use it for a
// family whose series are removed (Family::Remove would leave a dangling
// entry).
//
// Thread-safety: Get() may be called concurrently from any thread.
#ifndef CRASHCTL_METRICS_SERIES_CACHE_H_
#define CRASHCTL_METRICS_SERIES_CACHE_H_

#include <functional>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>

namespace crashctl {
namespace metrics {

template <typename Metric>
class SeriesCache {
 public:
  SeriesCache() = default;
  SeriesCache(const SeriesCache&) = delete;
  SeriesCache& operator=(const SeriesCache&) = delete;
  // The series for `key`. The first call for a key calls `add()`, which
  // must return the family's series for the labels that `key` stands for
  // (normally Family::Add); later calls return that series.
  template <typename AddFn>
  Metric& Get(std::string_view key, const AddFn& add) {
    {
      std::shared_lock<std::shared_mutex> lock(mu_);
      const auto it = series_.find(key);
      if (it != series_.end()) return *it->second;
    }
    std::unique_lock<std::shared_mutex> lock(mu_);
    auto it = series_.find(key);
    if (it == series_.end()) {
      Metric* metric = &add();
      it = series_.emplace(std::string(key), metric).first;
    }
    return *it->second;
  }

  // Entries cached so far.
  size_t size() const {
    std::shared_lock<std::shared_mutex> lock(mu_);
    return series_.size();
  }

 private:
  mutable std::shared_mutex mu_;
  std::map<std::string, Metric*, std::less<>> series_;
};

}  // namespace metrics
}  // namespace crashctl

#endif  // CRASHCTL_METRICS_SERIES_CACHE_H_
