// The HTTP server's metric families: requests by route pattern, method and
// status, their durations, and the requests refused before a handler ran.
//
// Thread-safety: all methods may be called concurrently.
#ifndef CRASHCTL_HTTP_METRICS_H_
#define CRASHCTL_HTTP_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <string>
#include <vector>

#include "crashctl/metrics/series_cache.h"

namespace crashctl {
namespace http {

class Metrics {
 public:
  // Registers the families on `registry`, which must outlive this object.
  explicit Metrics(prometheus::Registry* registry);
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // A request refused by the HTTP server before (or instead of) its
  // handler: one of KnownRefusedReasons(), else counted as "other".
  void Refused(const std::string& reason);
  // `route` is the matched route pattern ("" = none: "unknown"); `method` as
  // received: methods other than GET, HEAD, POST, PUT, PATCH, DELETE and
  // OPTIONS are counted as "other"; codes outside 100..599 as "other".
  void Request(const std::string& route, const std::string& method, int code,
               double seconds);

  // framing, timeout, too_slow, incomplete, too_large, headers_too_large,
  // header_timeout, malformed, bad_version, connection_limit, other.
  static const std::vector<std::string>& KnownRefusedReasons();

 private:
  prometheus::Family<prometheus::Counter>* requests_;
  prometheus::Family<prometheus::Counter>* refused_;
  prometheus::Family<prometheus::Histogram>* duration_;
  metrics::SeriesCache<prometheus::Counter> requests_by_key_;
  metrics::SeriesCache<prometheus::Histogram> duration_by_route_;
};

}  // namespace http
}  // namespace crashctl

#endif  // CRASHCTL_HTTP_METRICS_H_
