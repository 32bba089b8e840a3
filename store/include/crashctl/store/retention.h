// Retention: deletes what is older than the configured age, on a schedule
// (`crashctl serve`) or once (`crashctl cleanup`). See docs/storage.md.
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
  };
  // Called after each pass that deleted something, with the events deleted.
  using DeletedFn = std::function<void(int64_t events)>;

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
  // in bounded batches (Store::DeleteOlderThan); `*deleted` = events
  // deleted. Logs what it deleted.
  Status RunOnce(int64_t* deleted);

 private:
  Store* const store_;
  const Options options_;
  const DeletedFn on_deleted_;
  std::unique_ptr<util::PeriodicTask> task_;
};

}  // namespace store
}  // namespace crashctl

#endif  // CRASHCTL_STORE_RETENTION_H_
