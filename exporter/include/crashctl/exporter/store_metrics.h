// StoreMetrics: the families that mirror what the store holds, refreshed
// before each scrape: groups by project and status, the storage's size,
// deferred updates and lock retries, retention deletions (by age and by
// size), and
// crashctl_group_events_total for the groups with the most events in the
// last hour (ranked in memory from the events the pipeline stores, so the
// store is not scanned on every scrape).
//
// Thread-safety: all methods may be called concurrently.
#ifndef CRASHCTL_EXPORTER_STORE_METRICS_H_
#define CRASHCTL_EXPORTER_STORE_METRICS_H_

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/metric_family.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "crashctl/exporter/exporter.h"
#include "crashctl/model/write.h"
#include "crashctl/store/store.h"

namespace crashctl {
namespace exporter {

class ActiveGroups;

// One of the most active groups, for crashctl_group_events_total.
struct TopGroup {
  int64_t project = 0;
  int64_t group_id = 0;
  std::string service;
  double events_total = 0;  // the group's lifetime event count
};

class StoreMetrics : public prometheus::Collectable {
 public:
  // Registers the families on `exporter`'s registry, and Refresh() as one of
  // its refresh hooks and this object as a collectable. `store` == null
  // registers the families only (tests). `top_groups`: how many groups
  // crashctl_group_events_total exports. Both must outlive this object.
  StoreMetrics(Exporter* exporter, store::Store* store, int top_groups);
  ~StoreMetrics() override;
  StoreMetrics(const StoreMetrics&) = delete;
  StoreMetrics& operator=(const StoreMetrics&) = delete;

  // A pipeline listener: counts the event for the ranking of active groups.
  void OnEventStored(const model::WriteItem& item,
                     const model::WriteOutcome& outcome);
  // After the store merged the groups `from` into `into` (REST
  // RestOptions::on_groups_merged): their activity counts as `into`'s, and
  // their crashctl_group_events_total series go at once (`into`'s total
  // follows at the next Refresh()).
  void GroupsMerged(int64_t into, const std::vector<int64_t>& from);
  // After the store deleted the groups (RestOptions::on_groups_deleted):
  // forgotten, their series gone, so a new group that gets one of their ids
  // starts from nothing.
  void GroupsDeleted(const std::vector<int64_t>& ids);
  // Events retention deleted for their age (retention.max_age) and for the
  // size limit (retention.max_size).
  void RetentionDeleted(int64_t rows);
  void RetentionDeletedForSize(int64_t rows);

  // Reads the store's counts and stats into the gauges and re-ranks the top
  // groups; run before every scrape.
  void Refresh();
  // Replaces the top groups snapshot (at most 1000 kept). Refresh() calls
  // it; exposed for tests.
  void SetTopGroups(const std::vector<TopGroup>& groups);
  // The top groups snapshot as it is now (what Collect() exports).
  std::vector<TopGroup> TopGroups() const;
  // Mirrors a total the store counts (Store::Stats::write_retries) into the
  // counter; a lower total than before (the store was reopened) restarts
  // the baseline, the counter never goes down. Refresh() calls it.
  void SetWriteRetries(double total);

  // prometheus::Collectable: crashctl_group_events_total, a counter-typed
  // family built from the snapshot (the counts are the store's; a
  // prometheus-cpp counter can only be incremented).
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  store::Store* const store_;
  metrics::LabelLimiter* const services_;
  const int top_groups_;
  std::unique_ptr<ActiveGroups> active_;
  prometheus::Family<prometheus::Gauge>* groups_active_;
  prometheus::Gauge* size_;
  prometheus::Gauge* deferred_;
  prometheus::Counter* write_retries_;
  prometheus::Counter* retention_deleted_;
  prometheus::Counter* retention_size_deleted_;
  // Drops the ids from top_.
  void DropTopGroups(const std::vector<int64_t>& ids);

  mutable std::mutex mu_;
  double write_retries_seen_ = 0;  // guarded by mu_
  std::vector<TopGroup> top_;      // guarded by mu_
};

}  // namespace exporter
}  // namespace crashctl

#endif  // CRASHCTL_EXPORTER_STORE_METRICS_H_
