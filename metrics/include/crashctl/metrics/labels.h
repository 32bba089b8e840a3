// The toolkit every component uses to declare its metric families on the one
// prometheus-cpp Registry (exporter::Exporter owns it and serves /metrics):
// bounded label values, series keys for SeriesCache, shared bucket sets.
//
// A family's label values come either from a closed set (Bounded: anything
// else is "other") or from users (LabelLimiter: the first N distinct values,
// then "other"), so that no label grows without bound.
//
// Thread-safety: the functions are pure; LabelLimiter::Fold may be called
// concurrently.
#ifndef CRASHCTL_METRICS_LABELS_H_
#define CRASHCTL_METRICS_LABELS_H_

#include <prometheus/histogram.h>

#include <initializer_list>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace crashctl {
namespace metrics {

// A user-supplied label value as exported: control characters (NUL, tab,
// newline, ...) become '_', invalid UTF-8 becomes U+FFFD, and at most 128
// bytes are kept.
std::string SafeLabelValue(const std::string& value);

// Folds user-supplied label values into a bounded set: the first `max`
// distinct values are kept, later ones become "other"; "" becomes
// "unknown". Values are made safe first (SafeLabelValue).
class LabelLimiter {
 public:
  explicit LabelLimiter(size_t max) : max_(max) {}
  LabelLimiter(const LabelLimiter&) = delete;
  LabelLimiter& operator=(const LabelLimiter&) = delete;

  std::string Fold(const std::string& value);

 private:
  std::mutex mu_;
  const size_t max_;
  std::set<std::string> seen_;  // guarded by mu_
};

// `value` if it is one of `known`, else "other".
std::string Bounded(std::string_view value,
                    const std::vector<std::string>& known);
// `value`, or "unknown" when it is empty.
std::string NonEmpty(const std::string& value);
// The spellings of a model vocabulary (model::Spellings) plus "other": the
// closed label set of a family labelled by it.
template <typename T>
std::vector<std::string> LabelSet(const std::vector<T>& values) {
  std::vector<std::string> out;
  out.reserve(values.size() + 1);
  for (T value : values) out.emplace_back(ToString(value));
  out.emplace_back("other");
  return out;
}

// A SeriesCache key: the label values, each followed by 0x1f (the ASCII unit
// separator), in a per-thread buffer, so that no allocation happens once the
// buffer has grown. Only the last value may contain 0x1f (all others must be
// bounded labels), so the key determines the values. Valid until the calling
// thread's next call.
std::string_view SeriesKey(std::initializer_list<std::string_view> values);

// Buckets for request and commit latencies: 0.5 ms .. 5 s.
const prometheus::Histogram::BucketBoundaries& LatencyBuckets();

}  // namespace metrics
}  // namespace crashctl

#endif  // CRASHCTL_METRICS_LABELS_H_
