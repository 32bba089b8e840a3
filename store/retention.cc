#include "crashctl/store/retention.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "crashctl/util/time.h"

namespace crashctl {
namespace store {

Retention::Retention(Store* store, const Options& options, DeletedFn on_deleted)
    : store_(store), options_(options), on_deleted_(std::move(on_deleted)) {}

Retention::~Retention() { Stop(); }

void Retention::Start() {
  if (task_) return;
  task_ = std::make_unique<util::PeriodicTask>(
      "retention", std::chrono::duration<double>(options_.interval_seconds),
      [this] {
        int64_t deleted = 0;
        const Status status = RunOnce(&deleted);
        if (!status.ok()) {
          spdlog::error("retention: cleanup failed: {}", status.message());
        }
      });
}

void Retention::Stop() {
  if (task_) task_->Stop();
}

Status Retention::RunOnce(int64_t* deleted) {
  *deleted = 0;
  const double cutoff = util::NowSeconds() - options_.max_age_seconds;
  const Status status = store_->DeleteOlderThan(cutoff, deleted);
  if (!status.ok()) return status.Annotate("retention");
  if (*deleted > 0) {
    spdlog::info("retention: deleted {} events", *deleted);
    if (on_deleted_) on_deleted_(*deleted);
  }
  return Status::Ok();
}

}  // namespace store
}  // namespace crashctl
