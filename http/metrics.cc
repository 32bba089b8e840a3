#include "crashctl/http/metrics.h"

#include <string_view>

#include "crashctl/metrics/families.h"
#include "crashctl/metrics/labels.h"

namespace crashctl {
namespace http {
namespace {

std::string MethodLabel(const std::string& method) {
  static const std::vector<std::string> kMethods = {
      "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
  return metrics::Bounded(method, kMethods);
}

std::string CodeLabel(int code) {
  return code >= 100 && code <= 599 ? std::to_string(code) : "other";
}

}  // namespace

const std::vector<std::string>& Metrics::KnownRefusedReasons() {
  static const auto* v = new std::vector<std::string>{
      "framing",     "timeout",           "too_slow",       "incomplete",
      "too_large",   "headers_too_large", "header_timeout", "malformed",
      "bad_version", "connection_limit",  "other"};
  return *v;
}

Metrics::Metrics(prometheus::Registry* registry) {
  requests_ = &metrics::CounterFamily(
      registry, "crashctl_http_requests_total",
      "HTTP requests by route pattern, method and status.");
  refused_ = &metrics::CounterFamily(
      registry, "crashctl_http_refused_total",
      "HTTP requests refused before their handler ran (framing, timeouts, "
      "sizes, connection limits), by reason.",
      "reason", KnownRefusedReasons());
  duration_ = &metrics::HistogramFamily(
      registry, "crashctl_http_request_duration_seconds",
      "HTTP request duration by route pattern.");
}

void Metrics::Request(const std::string& route, const std::string& method,
                      int code, double seconds) {
  const std::string_view r =
      route.empty() ? std::string_view("unknown") : std::string_view(route);
  const std::string method_label = MethodLabel(method);
  const std::string code_label = CodeLabel(code);
  requests_by_key_
      .Get(metrics::SeriesKey({method_label, code_label, r}),
           [&]() -> prometheus::Counter& {
             return requests_->Add({{"route", std::string(r)},
                                    {"method", method_label},
                                    {"code", code_label}});
           })
      .Increment();
  duration_by_route_
      .Get(r,
           [&]() -> prometheus::Histogram& {
             return duration_->Add({{"route", std::string(r)}},
                                   metrics::LatencyBuckets());
           })
      .Observe(seconds);
}

void Metrics::Refused(const std::string& reason) {
  refused_->Add({{"reason", metrics::Bounded(reason, KnownRefusedReasons())}})
      .Increment();
}

}  // namespace http
}  // namespace crashctl
