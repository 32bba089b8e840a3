#include "crashctl/ingest/completion.h"

#include <utility>

namespace crashctl {
namespace ingest {

Completion::Completion(size_t count) : unset_(count), results_(count) {}

void Completion::Set(size_t index, IngestResult result) {
  bool last = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    results_[index] = std::move(result);
    last = --unset_ == 0;
  }
  // Notified outside the lock, so the woken handler does not block on mu_;
  // the caller's shared_ptr keeps *this alive until notify_one() returns.
  if (last) done_.notify_one();
}

bool Completion::WaitUntil(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  return done_.wait_until(lock, deadline, [this] { return unset_ == 0; });
}

}  // namespace ingest
}  // namespace crashctl
