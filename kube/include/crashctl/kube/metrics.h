// The Kubernetes watcher's metric families: pod crashes by namespace and
// crash type, pods crash-looping, watch health per namespace, Kubernetes
// Events received and dropped, terminations waiting for an Event, whether
// this replica is the leader.
//
// Thread-safety: all methods may be called concurrently.
#ifndef CRASHCTL_KUBE_METRICS_H_
#define CRASHCTL_KUBE_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <cstdint>
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
  // A Kubernetes Event received (ADDED/MODIFIED/DELETED), by the kind of
  // its involved object: pod, node, other.
  // What KubeEventSeen takes for an object that is not a usable Event
  // (counted as involved_kind="invalid").
  static constexpr const char* kInvalid = "<invalid>";
  void KubeEventSeen(const std::string& involved_kind);
  // Events the bounded event cache evicted to make room.
  void KubeEventsDropped(int64_t count);
  // Terminations waiting for an Event that explains them.
  void SetTerminationsWaiting(double value);
  // 1 while the Events watch of a namespace ("" = all) is connected.
  void SetEventsWatchUp(const std::string& ns, bool up);

  // crashctl_kube_leader: 1 while this replica holds the leader election
  // Lease (kubernetes.leader_election), else 0.
  void SetLeader(bool leader);

  static const std::vector<std::string>& KnownWatchRestartReasons();

 private:
  prometheus::Family<prometheus::Counter>* pod_crashes_;
  prometheus::Family<prometheus::Gauge>* pods_crashlooping_;
  prometheus::Family<prometheus::Gauge>* watch_up_;
  prometheus::Family<prometheus::Counter>* watch_restarts_;
  prometheus::Gauge* last_event_;
  prometheus::Family<prometheus::Counter>* kube_events_;
  prometheus::Counter* kube_events_dropped_;
  prometheus::Gauge* terminations_waiting_;
  prometheus::Family<prometheus::Gauge>* events_watch_up_;
  prometheus::Gauge* leader_;
};

}  // namespace kube
}  // namespace crashctl

#endif  // CRASHCTL_KUBE_METRICS_H_
