#include "crashctl/kube/metrics.h"

#include "crashctl/metrics/labels.h"

namespace crashctl {
namespace kube {
namespace {

// Watches cover one namespace, or all of them when the name is "".
std::string WatchNamespace(const std::string& ns) {
  return ns.empty() ? "all" : ns;
}

}  // namespace

const std::vector<std::string>& Metrics::KnownWatchRestartReasons() {
  static const auto* v = new std::vector<std::string>{
      "expired", "closed", "error", "timeout", "other"};
  return *v;
}

Metrics::Metrics(prometheus::Registry* registry) {
  using prometheus::BuildCounter;
  using prometheus::BuildGauge;
  auto& r = *registry;
  pod_crashes_ = &BuildCounter()
                      .Name("crashctl_pod_crashes_total")
                      .Help("Pod crashes seen, by namespace and crash type.")
                      .Register(r);
  pods_crashlooping_ =
      &BuildGauge()
           .Name("crashctl_pods_crashlooping")
           .Help("Pods currently in CrashLoopBackOff, by namespace.")
           .Register(r);
  watch_up_ = &BuildGauge()
                   .Name("crashctl_kube_watch_up")
                   .Help("1 while the pod watch of a namespace is connected.")
                   .Register(r);
  watch_restarts_ = &BuildCounter()
                         .Name("crashctl_kube_watch_restarts_total")
                         .Help("Pod watch restarts, by namespace and reason.")
                         .Register(r);
  last_event_ =
      &BuildGauge()
           .Name("crashctl_kube_last_event_timestamp_seconds")
           .Help("Unix time of the last pod event received from Kubernetes.")
           .Register(r)
           .Add({});
}

void Metrics::PodCrash(const std::string& ns, model::CrashType crash_type) {
  pod_crashes_
      ->Add({{"namespace", metrics::NonEmpty(ns)},
             {"crash_type", model::ToString(crash_type)}})
      .Increment();
}

void Metrics::SetPodsCrashLooping(const std::string& ns, double value) {
  pods_crashlooping_->Add({{"namespace", metrics::NonEmpty(ns)}}).Set(value);
}

void Metrics::SetWatchUp(const std::string& ns, bool up) {
  watch_up_->Add({{"namespace", WatchNamespace(ns)}}).Set(up ? 1 : 0);
}

void Metrics::WatchRestart(const std::string& ns, const std::string& reason) {
  watch_restarts_
      ->Add({{"namespace", WatchNamespace(ns)},
             {"reason", metrics::Bounded(reason, KnownWatchRestartReasons())}})
      .Increment();
}

void Metrics::SetLastEvent(double timestamp) { last_event_->Set(timestamp); }

}  // namespace kube
}  // namespace crashctl
