// The alert pusher's metric families: pushes by outcome and the queue.
//
// Thread-safety: all methods may be called concurrently.
#ifndef CRASHCTL_ALERTMANAGER_METRICS_H_
#define CRASHCTL_ALERTMANAGER_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <string>
#include <vector>

namespace crashctl {
namespace alertmanager {

class Metrics {
 public:
  // Registers the families on `registry`, which must outlive this object.
  explicit Metrics(prometheus::Registry* registry);
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // sent, failed, retried, dropped, suppressed (else "other").
  void Push(const std::string& outcome);
  void SetQueue(double depth, double capacity);

  static const std::vector<std::string>& KnownOutcomes();

 private:
  prometheus::Family<prometheus::Counter>* pushes_;
  prometheus::Gauge* queue_depth_;
  prometheus::Gauge* queue_capacity_;
};

}  // namespace alertmanager
}  // namespace crashctl

#endif  // CRASHCTL_ALERTMANAGER_METRICS_H_
