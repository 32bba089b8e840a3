#include "crashctl/store/retention.h"

#include <spdlog/spdlog.h>

#include <algorithm>
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

Status Retention::RunOnce(int64_t* deleted, int64_t* deleted_for_size) {
  *deleted = 0;
  if (deleted_for_size != nullptr) *deleted_for_size = 0;
  int64_t for_age = 0;
  const double cutoff = util::NowSeconds() - options_.max_age_seconds;
  Status status = store_->DeleteOlderThan(cutoff, &for_age);
  *deleted = for_age;
  if (for_age > 0) {
    spdlog::info("retention: deleted {} events older than {:.0f}h", for_age,
                 options_.max_age_seconds / 3600);
    if (on_deleted_) on_deleted_(Reason::kMaxAge, for_age);
  }
  if (!status.ok()) return status.Annotate("retention");
  if (options_.transactions_max_age > 0) {
    int64_t transactions = 0;
    status = store_->DeleteTransactionsOlderThan(
        util::NowSeconds() - options_.transactions_max_age, &transactions);
    if (transactions > 0) {
      spdlog::info("retention: deleted {} transactions older than {:.0f}h",
                   transactions, options_.transactions_max_age / 3600);
    }
    if (!status.ok()) {
      return status.Annotate("retention (transactions_max_age)");
    }
  }
  if (options_.max_size_bytes <= 0) return Status::Ok();

  int64_t for_size = 0;
  status = EnforceMaxSize(&for_size);
  *deleted += for_size;
  if (deleted_for_size != nullptr) *deleted_for_size = for_size;
  if (for_size > 0 && on_deleted_) on_deleted_(Reason::kMaxSize, for_size);
  if (!status.ok()) return status.Annotate("retention (max_size)");
  return Status::Ok();
}

Status Retention::EnforceMaxSize(int64_t* deleted) {
  *deleted = 0;
  const int64_t limit = options_.max_size_bytes;
  int64_t used = 0;
  Status status = store_->UsedBytes(&used);
  if (!status.ok()) return status;
  if (used <= limit) return Status::Ok();
  const int64_t before = used;
  const int64_t max_batch = std::max<int64_t>(1, options_.max_size_batch);
  // Rounds grow from 10 events (events can be large): each deletes what the
  // bytes freed per event so far say is still over the limit (plus
  // kMargin: a round that falls a little short is followed by a small one,
  // while every event over is data lost for nothing), but never more than all
  // rounds before it together, so one small, unrepresentative sample cannot
  // delete far too much; the estimate sharpens as more is deleted. (Deleting
  // frees whole pages only: the first events may free nothing measurable.) A
  // pass thus deletes little more than it must.
  constexpr double kMargin = 1.02;
  int64_t batch = std::min<int64_t>(10, max_batch);
  int rounds = 0;
  bool unmet = false;
  for (; rounds < options_.max_size_rounds && used > limit; ++rounds) {
    int64_t n = 0;
    status = store_->DeleteOldestEvents(batch, &n);
    *deleted += n;
    if (!status.ok()) break;
    if (n == 0) {
      unmet = true;  // only the newest event is left
      break;
    }
    const int64_t previous = used;
    status = store_->UsedBytes(&used);
    if (!status.ok()) break;
    const int64_t freed = before - used;
    // At most as many as all rounds so far (the total at most doubles per
    // round): a small sample can make the estimate far too large.
    const int64_t cap = std::min(max_batch, std::max<int64_t>(10, *deleted));
    if (used >= previous || freed <= 0) {
      batch = cap;
    } else {
      const double per_event = static_cast<double>(freed) / *deleted;
      const double want =
          kMargin * static_cast<double>(used - limit) / per_event;
      batch = std::max<int64_t>(
          1, std::min<double>(static_cast<double>(cap), want + 1));
    }
  }
  if (*deleted > 0) {
    spdlog::info(
        "retention: deleted the {} oldest events: stored data {} -> {} bytes "
        "(retention.max_size {} bytes)",
        *deleted, before, used, limit);
  }
  if (status.ok() && used > limit) {
    spdlog::warn(
        "retention: stored data is {} bytes, above retention.max_size ({} "
        "bytes){}",
        used, limit,
        unmet ? ": only the newest event is left"
              : "; the next pass deletes more");
  }
  return status;
}

}  // namespace store
}  // namespace crashctl
