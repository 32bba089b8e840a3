// Retention: deletes what is older than the configured age and, when a size
// limit is set, the oldest events until the stored data is under it; on a
// schedule (`crashctl serve`) or once (`crashctl cleanup`). See
// docs/storage.md ("Retention").
//
// Thread-safety: RunOnce() may be called from any thread; Start() and Stop()
// from the owner's.
#ifndef CRASHCTL_STORE_RETENTION_H_
#define CRASHCTL_STORE_RETENTION_H_

#include <cstdint>
#include <functional>
#include <memory>

#include "crashctl/store/store.h"
#include "crashctl/util/periodic_task.h"
#include "crashctl/util/status.h"

namespace crashctl {
namespace store {

class Retention {
 public:
  struct Options {
    double max_age_seconds = 30 * 86400.0;  // retention.max_age
    double interval_seconds = 3600;         // retention.cleanup_interval
    // retention.transactions_max_age, seconds: transactions whose end is
    // older are deleted (Store::DeleteTransactionsOlderThan); 0 = keep
    // them (and never call it: a store that keeps no transactions).
    double transactions_max_age = 7 * 86400.0;
    // retention.max_size: the limit on Store::UsedBytes(); 0 = none.
    int64_t max_size_bytes = 0;
    // Size retention deletes at most this many events per
    // Store::DeleteOldestEvents call, and makes at most max_size_rounds
    // calls per pass (then the next pass goes on).
    int64_t max_size_batch = 50000;
    int max_size_rounds = 1000;
  };
  // Why events were deleted.
  enum class Reason { kMaxAge, kMaxSize };
  // Called after each pass that deleted something, once per reason that
  // deleted events, with the events deleted for it.
  using DeletedFn = std::function<void(Reason reason, int64_t events)>;

  // `store` must outlive this object.
  Retention(Store* store, const Options& options, DeletedFn on_deleted);
  ~Retention();  // Stop()s
  Retention(const Retention&) = delete;
  Retention& operator=(const Retention&) = delete;

  // Runs a pass every interval_seconds on a thread of its own.
  void Start();
  // Returns once a pass under way has finished.
  void Stop();

  // One pass now: deletes events (and crashes) older than max_age_seconds,
  // in bounded batches (Store::DeleteOlderThan); then transactions older
  // than transactions_max_age (when > 0; they are not counted in
  // `*deleted`, which counts events); then, with a size limit,
  // the oldest events while Store::UsedBytes() is above it
  // (Store::DeleteOldestEvents), in rounds sized from what the previous
  // round freed. `*deleted` = events deleted for both reasons;
  // `*deleted_for_size`, if set, = those for the size limit. Logs what it
  // deleted. A size limit that cannot be met (only the newest event is
  // left) is logged, not an error.
  Status RunOnce(int64_t* deleted, int64_t* deleted_for_size = nullptr);

 private:
  // The size part of RunOnce.
  Status EnforceMaxSize(int64_t* deleted);

  Store* const store_;
  const Options options_;
  const DeletedFn on_deleted_;
  std::unique_ptr<util::PeriodicTask> task_;
};

}  // namespace store
}  // namespace crashctl

#endif  // CRASHCTL_STORE_RETENTION_H_
