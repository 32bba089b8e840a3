#include "crashctl/exporter/store_metrics.h"

#include <algorithm>
#include <utility>

#include "active_groups.h"
#include "crashctl/model/records.h"
#include "crashctl/model/vocabulary.h"
#include "crashctl/util/time.h"

namespace crashctl {
namespace exporter {

StoreMetrics::StoreMetrics(Exporter* exporter, store::Store* store,
                           int top_groups)
    : store_(store),
      services_(exporter->services()),
      top_groups_(std::max(0, top_groups)),
      active_(std::make_unique<ActiveGroups>()) {
  using prometheus::BuildCounter;
  using prometheus::BuildGauge;
  auto& r = *exporter->registry();
  groups_active_ = &BuildGauge()
                        .Name("crashctl_groups_active")
                        .Help("Error groups by project id and status.")
                        .Register(r);
  size_ = &BuildGauge()
               .Name("crashctl_storage_size_bytes")
               .Help("Size of the SQLite database files on disk.")
               .Register(r)
               .Add({});
  deferred_ = &BuildGauge()
                   .Name("crashctl_group_counters_pending")
                   .Help(
                       "Groups whose counters wait in memory to be written (at "
                       "most a second, or until a read of groups).")
                   .Register(r)
                   .Add({});
  write_retries_ = &BuildCounter()
                        .Name("crashctl_storage_busy_retries_total")
                        .Help("SQLite SQLITE_BUSY retries.")
                        .Register(r)
                        .Add({});
  retention_deleted_ = &BuildCounter()
                            .Name("crashctl_retention_deleted_events_total")
                            .Help("Events deleted by retention.")
                            .Register(r)
                            .Add({});
  retention_size_deleted_ =
      &BuildCounter()
           .Name("crashctl_retention_size_deleted_events_total")
           .Help("Events deleted by size-based retention (retention.max_size).")
           .Register(r)
           .Add({});
  if (store_ != nullptr) exporter->AddRefreshHook([this] { Refresh(); });
  exporter->AddCollectable(this);
}

StoreMetrics::~StoreMetrics() = default;

void StoreMetrics::OnEventStored(const model::WriteItem& item,
                                 const model::WriteOutcome& outcome) {
  active_->Record(outcome.group_id, item.event.received);
}

void StoreMetrics::GroupsMerged(int64_t into,
                                const std::vector<int64_t>& from) {
  for (int64_t id : from) active_->Merge(into, id);
  DropTopGroups(from);
}

void StoreMetrics::GroupsDeleted(const std::vector<int64_t>& ids) {
  active_->Forget(ids);
  DropTopGroups(ids);
}

void StoreMetrics::DropTopGroups(const std::vector<int64_t>& ids) {
  std::lock_guard<std::mutex> lock(mu_);
  top_.erase(std::remove_if(top_.begin(), top_.end(),
                            [&](const TopGroup& g) {
                              return std::find(ids.begin(), ids.end(),
                                               g.group_id) != ids.end();
                            }),
             top_.end());
}

std::vector<TopGroup> StoreMetrics::TopGroups() const {
  std::lock_guard<std::mutex> lock(mu_);
  return top_;
}

void StoreMetrics::RetentionDeleted(int64_t rows) {
  if (rows > 0) retention_deleted_->Increment(static_cast<double>(rows));
}

void StoreMetrics::RetentionDeletedForSize(int64_t rows) {
  if (rows > 0) {
    retention_size_deleted_->Increment(static_cast<double>(rows));
  }
}

void StoreMetrics::Refresh() {
  std::vector<model::Project> projects;
  std::vector<model::GroupCount> counts;
  if (store_->ListProjects(&projects).ok() &&
      store_->CountGroups(&counts).ok()) {
    for (const model::Project& project : projects) {
      for (model::GroupStatus status : model::AllGroupStatuses()) {
        double value = 0;
        for (const model::GroupCount& count : counts) {
          if (count.project_id == project.id && count.status == status) {
            value = static_cast<double>(count.count);
          }
        }
        groups_active_
            ->Add({{"project", std::to_string(project.id)},
                   {"status", model::ToString(status)}})
            .Set(value);
      }
    }
  }
  const store::Store::Stats stats = store_->GetStats();
  size_->Set(static_cast<double>(stats.size_bytes));
  deferred_->Set(static_cast<double>(stats.deferred_updates));
  SetWriteRetries(static_cast<double>(stats.write_retries));

  std::vector<TopGroup> top;
  for (int64_t id :
       active_->Top(static_cast<size_t>(top_groups_), util::NowSeconds())) {
    model::Group group;
    if (!store_->GetGroup(id, &group).ok()) continue;
    top.push_back(TopGroup{group.project_id, group.id, group.service,
                           static_cast<double>(group.count)});
  }
  SetTopGroups(top);
}

void StoreMetrics::SetWriteRetries(double total) {
  std::lock_guard<std::mutex> lock(mu_);
  if (total > write_retries_seen_) {
    write_retries_->Increment(total - write_retries_seen_);
  }
  write_retries_seen_ = total;
}

void StoreMetrics::SetTopGroups(const std::vector<TopGroup>& groups) {
  // Bounded even if a caller passes a huge snapshot.
  constexpr size_t kMaxTopGroups = 1000;
  std::vector<TopGroup> copy(
      groups.begin(), groups.begin() + std::min(groups.size(), kMaxTopGroups));
  std::lock_guard<std::mutex> lock(mu_);
  top_ = std::move(copy);
}

std::vector<prometheus::MetricFamily> StoreMetrics::Collect() const {
  std::vector<TopGroup> top;
  {
    std::lock_guard<std::mutex> lock(mu_);
    top = top_;
  }
  if (top.empty()) return {};
  prometheus::MetricFamily family;
  family.name = "crashctl_group_events_total";
  family.help =
      "Lifetime events of the most active groups (top N of the last hour).";
  family.type = prometheus::MetricType::Counter;
  for (const TopGroup& g : top) {
    prometheus::ClientMetric m;
    m.label = {{"group_id", std::to_string(g.group_id)},
               {"project", std::to_string(g.project)},
               {"service", services_->Fold(g.service)}};
    m.counter.value = g.events_total;
    family.metric.push_back(std::move(m));
  }
  return {std::move(family)};
}

}  // namespace exporter
}  // namespace crashctl
