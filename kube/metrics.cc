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
  kube_events_ =
      &BuildCounter()
           .Name("crashctl_kube_events_total")
           .Help(
               "Kubernetes Events received, by the kind of "
               "their involved object (pod, node, other; invalid: not a "
               "usable Event object).")
           .Register(r);
  for (const char* kind : {"pod", "node", "other", "invalid"}) {
    kube_events_->Add({{"involved_kind", kind}});
  }
  kube_events_dropped_ =
      &BuildCounter()
           .Name("crashctl_kube_events_dropped_total")
           .Help("Kubernetes Events evicted from the bounded event cache.")
           .Register(r)
           .Add({});
  terminations_waiting_ =
      &BuildGauge()
           .Name("crashctl_kube_terminations_waiting")
           .Help(
               "Container terminations waiting for a Kubernetes Event that "
               "explains them (kubernetes.event_wait).")
           .Register(r)
           .Add({});
  events_watch_up_ =
      &BuildGauge()
           .Name("crashctl_kube_events_watch_up")
           .Help(
               "1 while the Kubernetes Events watch of a namespace is "
               "connected.")
           .Register(r);
  leader_ = &BuildGauge()
                 .Name("crashctl_kube_leader")
                 .Help(
                     "1 while this replica holds the Kubernetes leader "
                     "election Lease (and so watches pods), else 0.")
                 .Register(r)
                 .Add({});
}

void Metrics::SetLeader(bool leader) { leader_->Set(leader ? 1 : 0); }

void Metrics::SetEventsWatchUp(const std::string& ns, bool up) {
  events_watch_up_->Add({{"namespace", WatchNamespace(ns)}}).Set(up ? 1 : 0);
}

void Metrics::KubeEventSeen(const std::string& involved_kind) {
  const char* kind = involved_kind == "Pod"      ? "pod"
                     : involved_kind == "Node"   ? "node"
                     : involved_kind == kInvalid ? "invalid"
                                                 : "other";
  kube_events_->Add({{"involved_kind", kind}}).Increment();
}

void Metrics::KubeEventsDropped(int64_t count) {
  kube_events_dropped_->Increment(static_cast<double>(count));
}

void Metrics::SetTerminationsWaiting(double value) {
  terminations_waiting_->Set(value);
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
