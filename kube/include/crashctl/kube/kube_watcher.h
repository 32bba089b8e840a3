// KubeWatcher: lists and watches pods and records every crash they show
// (OOM kills, crash loops, failed init containers, evictions, restarts over
// kubernetes.restart_threshold) in the store, with the crashed container's
// last log lines, linked to the error groups the same pod reported; a crash
// report in those logs becomes a fatal error event of the crash (see
// crash_recorder.h).
//
// One list+watch loop of pods per entry of kubernetes.namespaces (one over
// all namespaces when the list is empty), and one of core/v1 Events with the
// same semantics: a termination waits up to kubernetes.event_wait for an
// Event explaining it (a liveness/startup probe kill: liveness_failed), and
// evictions and OOM kills get the node's pressure events on their message. Each
// loop lists with limit/continue, then watches from the list's resourceVersion
// with allowWatchBookmarks; a clean end re-watches, 410 Gone / an Expired ERROR
// event relists, other failures retry with exponential backoff and jitter.
// Nothing here ever stops the server: while the API server is down the loops
// keep retrying.
//
// Crash events go through the ingest pipeline when SetPipeline() gave one
// (ingest metrics, the alert pusher's new-group and regression alerts),
// else straight to the store.
//
// Thread-safety: AddListener() and SetPipeline() before Start(). Start()/Stop()
// from one owner thread. Synced() and OnEventStored() from any thread.
// Listeners are called from the watch threads (or the log thread, for log
// updates) and must be thread-safe.
#ifndef CRASHCTL_KUBE_KUBE_WATCHER_H_
#define CRASHCTL_KUBE_KUBE_WATCHER_H_

#include <functional>
#include <memory>
#include <string>

#include "crashctl/core/config.h"
#include "crashctl/store/store.h"

namespace crashctl {
namespace ingest {
class IngestPipeline;
}  // namespace ingest
namespace kube {

class Metrics;

class KubeWatcher {
 public:
  // Tuning knobs; the defaults suit production, tests shrink them.
  struct Options {
    double backoff_initial_seconds = 0.5;
    double backoff_max_seconds = 30;
    int watch_timeout_seconds = 300;  // timeoutSeconds of each watch
    double stream_idle_seconds = 90;  // no byte for this long: reconnect
    int list_page_size = 500;         // limit= of list pages
    size_t log_queue_size = 1000;
    int log_tail_lines = 0;    // tailLines; 0 = kubernetes.log_lines
    bool watch_events = true;  // the core/v1 Events watch
    // How long after a crash's link window (its run, and 60 s after) closes
    // the groups of its pod's events are looked up once more: events that
    // another replica stored, which this one's ingest never saw. Covers
    // their ingest lag (queue, batching, SDK retries).
    double relink_delay_seconds = 30;
  };

  // `store` must outlive the watcher; `metrics` may be null.
  KubeWatcher(const core::Config& config, store::Store* store,
              Metrics* metrics);
  KubeWatcher(const KubeWatcher&) = delete;
  KubeWatcher& operator=(const KubeWatcher&) = delete;
  KubeWatcher(const core::Config& config, store::Store* store, Metrics* metrics,
              const Options& options);
  ~KubeWatcher();  // Stop()s

  // Called for every crash inserted (inserted=true) or updated.
  using CrashListener = std::function<void(const model::Crash&, bool inserted)>;
  void AddListener(CrashListener listener);
  // Crash events are written through `pipeline` (must outlive the watcher's
  // Stop(); may be null: the store directly).
  void SetPipeline(ingest::IngestPipeline* pipeline);

  // Resolves the API server configuration and starts the loops. Fails only
  // on bad configuration (not on an unreachable API server), or when
  // already started.
  bool Start(std::string* error);
  // Ends the loops (returns within ~0.1 s plus an ingest commit in
  // progress); the watch-up gauges go to 0 and Synced() to false. Start()
  // may follow again (leader election: each leadership term starts it, with
  // a fresh list). Idempotent.
  void Stop();
  // True once the initial list of every namespace has completed.
  bool Synced() const;
  // Readiness: false until Synced(), with the reason. Any thread.
  bool Ready(std::string* reason) const;

  // For the ingest pipeline's listener: links a newly stored event to
  // crashes of the pod it came from (server_name or tag `pod`).
  void OnEventStored(const model::WriteItem& item,
                     const model::WriteOutcome& outcome);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kube
}  // namespace crashctl

#endif  // CRASHCTL_KUBE_KUBE_WATCHER_H_
