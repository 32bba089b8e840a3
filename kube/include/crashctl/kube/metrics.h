// The Kubernetes watcher's metric families: pod crashes by namespace and
// crash type, pods crash-looping, watch health per namespace.
//
// Thread-safety: all methods may be called concurrently.
#ifndef CRASHCTL_KUBE_METRICS_H_
#define CRASHCTL_KUBE_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <string>
#include <vector>

#include "crashctl/model/vocabulary.h"

namespace crashctl {
namespace kube {

class Metrics {
 public:
  // Registers the families on `registry`, which must outlive this object.
  // Namespaces are labels as they are: the watcher only sees the namespaces
  // it is configured for (or a cluster's, which an operator controls).
  explicit Metrics(prometheus::Registry* registry);
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  void PodCrash(const std::string& ns, model::CrashType crash_type);
  void SetPodsCrashLooping(const std::string& ns, double value);
  // `ns` "" is a watch of all namespaces: label "all".
  void SetWatchUp(const std::string& ns, bool up);
  // expired, closed, error, timeout (else "other").
  void WatchRestart(const std::string& ns, const std::string& reason);
  void SetLastEvent(double timestamp);

  static const std::vector<std::string>& KnownWatchRestartReasons();

 private:
  prometheus::Family<prometheus::Counter>* pod_crashes_;
  prometheus::Family<prometheus::Gauge>* pods_crashlooping_;
  prometheus::Family<prometheus::Gauge>* watch_up_;
  prometheus::Family<prometheus::Counter>* watch_restarts_;
  prometheus::Gauge* last_event_;
};

}  // namespace kube
}  // namespace crashctl

#endif  // CRASHCTL_KUBE_METRICS_H_
