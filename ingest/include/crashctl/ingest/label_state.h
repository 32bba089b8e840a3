// LabelStateSync: keeps the process-wide tracing::LabelBudget's admitted
// label values in the database (docs/tracing.md#label-state), so that a
// restart, or another replica on the same database, puts the same
// transaction names, ops and services under the same labels.
//
// Load() (at start-up): the stored state is merged into the budget
// (Import kMerge). Sync() (every `interval`, and at Stop()): the stored
// state is read again, this replica's admissions are merged into it (stored
// values first, this budget's limits), the result is saved
// (Store::SaveTracingLabels) and merged back into the budget. A failed
// read or write is logged and retried at the next interval; a stored
// document the budget cannot read is replaced.
//
// Thread-safety: Load() and Start()/Stop() from one owner thread; Sync()
// runs on the owned thread (or the caller's); the budget is thread-safe.
#ifndef CRASHCTL_INGEST_LABEL_STATE_H_
#define CRASHCTL_INGEST_LABEL_STATE_H_

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "crashctl/store/store.h"
#include "crashctl/tracing/labels.h"
#include "crashctl/util/status.h"

namespace crashctl {
namespace ingest {

class LabelStateSync {
 public:
  // Both must outlive this object.
  LabelStateSync(store::Store* store, tracing::LabelBudget* budget,
                 std::chrono::milliseconds interval = std::chrono::seconds(60));
  LabelStateSync(const LabelStateSync&) = delete;
  LabelStateSync& operator=(const LabelStateSync&) = delete;
  ~LabelStateSync();  // Stop()s (a final Sync() when started)

  Status Load();
  Status Sync();
  void Start();
  // Stops the thread, then Sync()s once more.
  void Stop();

 private:
  void Loop();

  store::Store* store_;
  tracing::LabelBudget* budget_;
  const std::chrono::milliseconds interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace ingest
}  // namespace crashctl

#endif  // CRASHCTL_INGEST_LABEL_STATE_H_
