// Metrics: every Prometheus metric crashctl exports, on one prometheus-cpp
// registry, with bounded label sets.
//
// Thread-safety: all methods are safe to call concurrently (prometheus-cpp
// metrics are atomic; label folding is guarded by a mutex).
#ifndef CRASHCTL_EXPORTER_METRICS_H_
#define CRASHCTL_EXPORTER_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "crashctl/exporter/series_cache.h"

namespace crashctl {
namespace exporter {

// Folds user-supplied label values into a bounded set: the first `max`
// distinct values are kept, later ones become "other"; "" becomes
// "unknown". Values are made safe first (SafeLabelValue).
//
// Thread-safety: Fold may be called concurrently (guarded by a mutex).
class LabelLimiter {
 public:
  explicit LabelLimiter(size_t max) : max_(max) {}
  std::string Fold(const std::string& value);

 private:
  std::mutex mu_;
  size_t max_;
  std::set<std::string> seen_;
};

// A user-supplied label value as exported: control characters (NUL, tab,
// newline, ...) become '_', invalid UTF-8 becomes U+FFFD, and at most 128
// bytes are kept.
std::string SafeLabelValue(const std::string& value);

// One of the most active groups, for crashctl_group_events_total.
struct TopGroup {
  int64_t project = 0;
  int64_t group_id = 0;
  std::string service;
  double events_total = 0;  // the group's lifetime event count
};

class Metrics {
 public:
  struct Options {
    std::string version = "dev";
    size_t max_services = 100;
  };
  explicit Metrics(const Options& options);

  prometheus::Registry& registry() { return *registry_; }
  std::shared_ptr<prometheus::Registry> shared_registry() { return registry_; }

  // Text exposition (format 0.0.4) of everything in the registry plus the
  // top-groups snapshot. Calls the refresh hooks first so gauges that mirror
  // the store are current.
  std::string Serialize();
  // Registers a hook run at the start of every Serialize().
  void AddRefreshHook(std::function<void()> hook);

  // --- events, groups -----------------------------------------------------
  void EventStored(int64_t project, const std::string& level,
                   const std::string& service);
  // Creates the per-project counter series at 0, so that rate() and
  // increase() see a project's first new group or regression.
  void ProjectKnown(int64_t project);
  void GroupCreated(int64_t project);
  void GroupRegressed(int64_t project);
  void SetGroupsActive(int64_t project, const std::string& status,
                       double value);
  // --- ingestion ----------------------------------------------------------
  void ObserveIngestion(double seconds);  // request received -> committed
  // reason: malformed_json, bad_envelope, auth, unknown_project,
  // too_large, decompression, queue_full, storage, unsupported_encoding ...
  void IngestRejected(const std::string& reason);
  // An accepted event whose payload was changed before it was stored:
  // depth_limit, scrubbed, future_timestamp, past_timestamp.
  void IngestAdjusted(const std::string& reason);
  // Envelope items that are not events: type session, client_report, ...
  void EnvelopeItem(const std::string& item_type);
  void SetQueue(double depth, double capacity);
  void ObserveWriteBatch(double events, double seconds);
  // --- storage ------------------------------------------------------------
  void SetStorageSize(double bytes);
  // Groups whose counters the store holds in memory
  // (Store::Stats::deferred_updates).
  void SetGroupCountersPending(double groups);
  void SetStorageBusyRetries(double total);
  void SetStorageUp(bool up);  // false while writes fail (disk full, ...)
  void RetentionDeleted(double rows);
  // --- HTTP ---------------------------------------------------------------
  // A request refused by the HTTP server before (or instead of) its
  // handler: framing, timeout, too_slow, incomplete, too_large,
  // headers_too_large, header_timeout, malformed, bad_version,
  // connection_limit.
  void HttpRefused(const std::string& reason);
  // `method` as received: methods other than GET, HEAD, POST, PUT, PATCH,
  // DELETE and OPTIONS are counted as "other".
  void HttpRequest(const std::string& route, const std::string& method,
                   int code, double seconds);
  // --- kubernetes ---------------------------------------------------------
  void PodCrash(const std::string& ns, const std::string& crash_type);
  void SetPodsCrashLooping(const std::string& ns, double value);
  void SetKubeWatchUp(const std::string& ns, bool up);
  void KubeWatchRestart(const std::string& ns, const std::string& reason);
  void SetKubeLastEvent(double timestamp);
  // --- alerting -----------------------------------------------------------
  void AlertPush(const std::string& outcome);  // sent, failed, dropped, ...
  void SetAlertQueue(double depth, double capacity);
  // --- top groups (issue 4) -------------------------------------------------
  // Replaces the snapshot exported as the counter family
  // crashctl_group_events_total{project,group_id,service}: one series per
  // group, value = the group's lifetime event count. Groups that drop out
  // of the snapshot disappear from /metrics; at most 1000 are kept; the
  // service is folded like ServiceLabel(). Typically called from a refresh
  // hook with the N most active groups of the last hour.
  void SetTopGroups(const std::vector<TopGroup>& groups);

  // The bounded label sets. Values outside a set are exported as "other".
  static const std::vector<std::string>& KnownRejectReasons();
  static const std::vector<std::string>& KnownHttpRefusedReasons();
  static const std::vector<std::string>& KnownEnvelopeItemTypes();
  static const std::vector<std::string>& KnownCrashTypes();
  static const std::vector<std::string>& KnownLevels();
  static const std::vector<std::string>& KnownGroupStatuses();
  static const std::vector<std::string>& KnownAlertOutcomes();
  static const std::vector<std::string>& KnownWatchRestartReasons();

  // Folds a service name through the service LabelLimiter.
  std::string ServiceLabel(const std::string& service) {
    return services_.Fold(service);
  }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  LabelLimiter services_;
  std::mutex hooks_mu_;
  std::vector<std::function<void()>> hooks_;

  prometheus::Family<prometheus::Counter>* events_total_;
  // The series of the families counted on every request or stored event
  // (see series_cache.h).
  SeriesCache<prometheus::Counter> events_by_key_;
  SeriesCache<prometheus::Counter> envelope_items_by_type_;
  SeriesCache<prometheus::Counter> http_requests_by_key_;
  SeriesCache<prometheus::Histogram> http_duration_by_route_;
  prometheus::Family<prometheus::Gauge>* groups_active_;
  prometheus::Family<prometheus::Counter>* groups_created_;
  prometheus::Family<prometheus::Counter>* group_regressions_;
  prometheus::Histogram* ingestion_duration_;
  prometheus::Family<prometheus::Counter>* ingest_rejected_;
  prometheus::Family<prometheus::Counter>* envelope_items_;
  prometheus::Family<prometheus::Counter>* ingest_adjusted_;
  prometheus::Gauge* queue_depth_;
  prometheus::Gauge* queue_capacity_;
  prometheus::Histogram* write_batch_size_;
  prometheus::Histogram* write_batch_duration_;
  prometheus::Gauge* storage_size_;
  prometheus::Gauge* group_counters_pending_;
  prometheus::Counter* storage_busy_retries_;
  std::mutex busy_mu_;
  double busy_retries_seen_ = 0;  // last total given to SetStorageBusyRetries
  prometheus::Gauge* storage_up_;
  prometheus::Counter* retention_deleted_;
  prometheus::Family<prometheus::Counter>* http_requests_;
  prometheus::Family<prometheus::Counter>* http_refused_;
  prometheus::Family<prometheus::Histogram>* http_duration_;
  prometheus::Family<prometheus::Counter>* pod_crashes_;
  prometheus::Family<prometheus::Gauge>* pods_crashlooping_;
  prometheus::Family<prometheus::Gauge>* kube_watch_up_;
  prometheus::Family<prometheus::Counter>* kube_watch_restarts_;
  prometheus::Gauge* kube_last_event_;
  prometheus::Family<prometheus::Counter>* alert_pushes_;
  prometheus::Gauge* alert_queue_depth_;
  prometheus::Gauge* alert_queue_capacity_;
  prometheus::Family<prometheus::Gauge>* build_info_;
  std::mutex top_mu_;
  std::vector<TopGroup> top_groups_;
};

}  // namespace exporter
}  // namespace crashctl

#endif  // CRASHCTL_EXPORTER_METRICS_H_
