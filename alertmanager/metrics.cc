#include "crashctl/alertmanager/metrics.h"

#include "crashctl/metrics/labels.h"

namespace crashctl {
namespace alertmanager {

const std::vector<std::string>& Metrics::KnownOutcomes() {
  static const auto* v = new std::vector<std::string>{
      "sent", "failed", "retried", "dropped", "suppressed", "other"};
  return *v;
}

Metrics::Metrics(prometheus::Registry* registry) {
  using prometheus::BuildCounter;
  using prometheus::BuildGauge;
  auto& r = *registry;
  pushes_ = &BuildCounter()
                 .Name("crashctl_alert_pushes_total")
                 .Help("Alertmanager pushes, by outcome.")
                 .Register(r);
  for (const auto& outcome : KnownOutcomes()) {
    pushes_->Add({{"outcome", outcome}});
  }
  queue_depth_ = &BuildGauge()
                      .Name("crashctl_alert_queue_depth")
                      .Help("Alerts waiting to be pushed.")
                      .Register(r)
                      .Add({});
  queue_capacity_ = &BuildGauge()
                         .Name("crashctl_alert_queue_capacity")
                         .Help("Capacity of the alert queue.")
                         .Register(r)
                         .Add({});
}

void Metrics::Push(const std::string& outcome) {
  pushes_->Add({{"outcome", metrics::Bounded(outcome, KnownOutcomes())}})
      .Increment();
}

void Metrics::SetQueue(double depth, double capacity) {
  queue_depth_->Set(depth);
  queue_capacity_->Set(capacity);
}

}  // namespace alertmanager
}  // namespace crashctl
