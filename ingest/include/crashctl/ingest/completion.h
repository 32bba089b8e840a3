// Completion: the results of the events one IngestPipeline::Submit() call
// queued. The writer thread sets them; the submitting handler waits for all
// of them at once.
//
// It replaces one std::promise/std::future pair per event. With libstdc++ 12
// every such pair cost the writer two futex system calls (one from the
// std::call_once inside set_value, one shared-futex wake), the waiting
// handler two (a wait and a second one that fails with EAGAIN), and three
// heap blocks. A Completion costs the writer at most one private futex wake
// per Submit() call, when the handler already waits, and the handler one
// wait (docs/performance.md).
//
// Thread-safety: Set() may be called from any thread (the writer);
// WaitUntil() and results() from the thread that submitted. Held through
// std::shared_ptr by both sides, so a handler that stopped waiting at its
// deadline leaves the writer nothing dangling.
#ifndef CRASHCTL_INGEST_COMPLETION_H_
#define CRASHCTL_INGEST_COMPLETION_H_

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <vector>

#include "crashctl/store/store.h"

namespace crashctl {
namespace ingest {

struct IngestResult {
  Status status;
  model::WriteOutcome outcome;
};

class Completion {
 public:
  // For `count` results, none set yet.
  explicit Completion(size_t count);
  Completion(const Completion&) = delete;
  Completion& operator=(const Completion&) = delete;

  // Records the result of item `index` (< count, each set once) and wakes
  // the waiter once every result is set.
  void Set(size_t index, IngestResult result);

  // Blocks until every result is set (true) or `deadline` passes (false).
  bool WaitUntil(std::chrono::steady_clock::time_point deadline);

  // The results in Submit() order. Only after WaitUntil() returned true.
  const std::vector<IngestResult>& results() const { return results_; }

 private:
  std::mutex mu_;
  std::condition_variable done_;
  size_t unset_;                       // results not set yet; guarded by mu_
  std::vector<IngestResult> results_;  // written under mu_
};

}  // namespace ingest
}  // namespace crashctl

#endif  // CRASHCTL_INGEST_COMPLETION_H_
