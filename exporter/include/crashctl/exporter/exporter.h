// Exporter: the one prometheus-cpp Registry every component declares its
// metric families on (ingest::Metrics, http::Metrics, kube::Metrics, ...),
// and its text exposition on GET /metrics.
//
// Thread-safety: all methods may be called concurrently. Refresh hooks and
// collectables run on the thread that serializes (a /metrics request).
#ifndef CRASHCTL_EXPORTER_EXPORTER_H_
#define CRASHCTL_EXPORTER_EXPORTER_H_

#include <prometheus/collectable.h>
#include <prometheus/registry.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "crashctl/metrics/labels.h"

namespace crashctl {
namespace http {
class Router;
}  // namespace http
namespace exporter {

class Exporter {
 public:
  struct Options {
    std::string version = "dev";  // crashctl_build_info{version}
    // Distinct service label values kept before folding into "other",
    // across every family with a service label.
    size_t max_services = 100;
  };
  explicit Exporter(const Options& options);
  Exporter(const Exporter&) = delete;
  Exporter& operator=(const Exporter&) = delete;

  prometheus::Registry* registry() { return registry_.get(); }
  // The service label's bound, shared by every family that carries one.
  metrics::LabelLimiter* services() { return &services_; }

  // Runs `hook` at the start of every Serialize(), so that gauges that
  // mirror another component's state are current.
  void AddRefreshHook(std::function<void()> hook);
  // Families built at scrape time (e.g. a snapshot that is neither a
  // counter nor a gauge prometheus-cpp can hold). `collectable` must
  // outlive this object.
  void AddCollectable(const prometheus::Collectable* collectable);

  // Text exposition (format 0.0.4) of the registry and the collectables,
  // after the refresh hooks ran.
  std::string Serialize();
  // Registers GET /metrics on `router` (a probe route: no auth, no CORS).
  void Register(http::Router* router);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  metrics::LabelLimiter services_;
  std::mutex mu_;
  std::vector<std::function<void()>> hooks_;                  // guarded by mu_
  std::vector<const prometheus::Collectable*> collectables_;  // guarded by mu_
};

}  // namespace exporter
}  // namespace crashctl

#endif  // CRASHCTL_EXPORTER_EXPORTER_H_
