// LeaderElector: leader election on a coordination.k8s.io/v1 Lease, with
// client-go's semantics (k8s.io/client-go/tools/leaderelection), so that
// several `crashctl serve` replicas on one database run one pod watcher.
//
// A candidate reads the Lease (GET). It takes it (PUT with the
// metadata.resourceVersion it read; POST when there is none) when it already
// holds it, when holderIdentity is empty (released), or when
// leaseDurationSeconds have passed since it last OBSERVED the record change
// (by its own steady clock, as client-go does: clocks of replicas need not
// agree). A 409 Conflict / AlreadyExists means another replica wrote first:
// the candidate retries after retry_period (jittered x1..x2.2, as client-go's
// JitterUntil with factor 1.2). A new holder increments leaseTransitions and
// sets acquireTime.
//
// The leader renews every retry_period. When it has not renewed within
// renew_deadline of its last successful renewal (each HTTP call's timeout is
// clipped to that deadline), it stops leading at once: on_stopped_leading
// runs before the Lease could expire for the others (lease_duration >
// renew_deadline), then it becomes a candidate again.
//
// Stop() ends leadership (on_stopped_leading) and releases the Lease
// (client-go's ReleaseOnCancel: holderIdentity "", leaseDurationSeconds 1),
// so that another replica takes over at its next retry.
//
// Thread-safety: Start()/Stop()/Abandon() from one owner thread. IsLeader()
// from any thread. The callbacks run on the elector's thread, one at a time,
// on_started_leading and on_stopped_leading alternating (never two
// on_started_leading in a row); they may block (on_stopped_leading should
// return quickly: the elector does not renew meanwhile). When
// on_started_leading returns false (this replica cannot do the leader's
// work, e.g. its watcher does not start), the elector releases the Lease
// at once, without on_stopped_leading, and stays out of the election for
// one lease duration, so that another replica takes over.
#ifndef CRASHCTL_KUBE_LEADER_ELECTOR_H_
#define CRASHCTL_KUBE_LEADER_ELECTOR_H_

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "crashctl/core/config.h"
#include "crashctl/util/status.h"

namespace crashctl {
namespace kube {

class Metrics;

class LeaderElector {
 public:
  struct Options {
    std::string ns;          // namespace of the Lease
    std::string lease_name;  // metadata.name of the Lease
    std::string identity;    // holderIdentity: unique per replica (pod name)
    double lease_duration_seconds = 15;
    double renew_deadline_seconds = 10;
    double retry_period_seconds = 2;
    std::function<bool()> on_started_leading;
    std::function<void()> on_stopped_leading;
  };

  // kubernetes.leader_election.* of `config`, with the defaults resolved:
  // namespace "" = the service account's namespace file
  // (/var/run/secrets/kubernetes.io/serviceaccount/namespace) when present,
  // else "crashctl"; identity "" = $POD_NAME from `env`, else the hostname.
  // No callbacks.
  static Options OptionsFromConfig(
      const core::Config& config,
      const std::map<std::string, std::string>& env);

  // The API server and credentials come from `config` (kubernetes.*), as
  // for the watcher. `metrics` (crashctl_kube_leader) may be null.
  LeaderElector(const core::Config& config, Options options, Metrics* metrics);
  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;
  ~LeaderElector();  // Stop()s

  // Validates the options (lease_duration > renew_deadline >
  // retry_period * 1.2, names non-empty), resolves the API server
  // configuration and starts the election thread. Fails only on bad
  // configuration, not on an unreachable API server.
  Status Start();
  // Stops the election: on_stopped_leading if leading, then releases the
  // Lease (one PUT, bounded by min(renew_deadline, 5 s)). Idempotent.
  void Stop();
  // For tests (a killed process): stops the thread without running
  // on_stopped_leading and without releasing the Lease.
  void Abandon();

  // True while this replica holds the Lease (between on_started_leading
  // and on_stopped_leading). Any thread.
  bool IsLeader() const;
  const Options& options() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kube
}  // namespace crashctl

#endif  // CRASHCTL_KUBE_LEADER_ELECTOR_H_
