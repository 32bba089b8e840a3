// IngestPipeline: the bounded queue between HTTP handlers and the single
// writer thread that groups events and commits them to the store in batches,
// and Sentry transactions with them (Store::WriteTransactions).
//
// A handler calls Submit() and waits on the returned Completion; its results
// are set only after the events' batch is committed (or failed), so a 200
// answer means the event is durable. When the queue is full Submit() fails at
// once, so the handler can answer 429 instead of queueing without bound.
//
// Thread-safety: Submit() may be called from any number of threads. Start()
// and Stop() from one owner thread.
#ifndef CRASHCTL_INGEST_PIPELINE_H_
#define CRASHCTL_INGEST_PIPELINE_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "crashctl/ingest/completion.h"
#include "crashctl/model/event.h"
#include "crashctl/store/store.h"

namespace crashctl {
namespace ingest {

class Metrics;

class IngestPipeline {
 public:
  struct Options {
    size_t queue_size = 10000;  // events waiting; beyond this Submit fails
    size_t batch_size = 512;    // events per transaction at most
    // After this long without events the writer has the store write what
    // it defers (Store::Maintain(kIdle)).
    std::chrono::milliseconds idle_flush{2000};
  };
  // Called on the writer thread after each committed event (new groups,
  // regressions: the alert pusher and the crash linker listen here). The
  // item is as Submit() left it: no exception chain, JSON parts or grouping
  // components (read item.grouping's title, culprit and top_frame instead).
  using Listener =
      std::function<void(const model::WriteItem&, const model::WriteOutcome&)>;

  IngestPipeline(store::Store* store, Metrics* metrics, Options options);
  IngestPipeline(const IngestPipeline&) = delete;
  IngestPipeline& operator=(const IngestPipeline&) = delete;
  ~IngestPipeline();  // Stop()s

  void AddListener(Listener listener);
  void Start();
  // Drains what is queued (committing it), then joins the writer thread.
  void Stop();

  // Queues `items` (normalised and grouped by the caller, so that CPU work
  // runs on the many handler threads, not the one writer). Returns nullptr
  // at once, without queueing any, when they do not all fit (or the
  // pipeline is stopping). Otherwise returns the Completion whose results
  // (one per item, in order) the writer sets once their batch committed or
  // failed.
  // Before queueing, each item is cut down, on the calling thread, to what
  // the store's batch writer and the listeners read: the event's exception
  // chain, its JSON parts (user, contexts, breadcrumbs, request), its raw
  // JSON once Store::PrepareWrite has encoded it, and grouping.components
  // are released. A typical queued event then holds about 1 KB (its
  // compressed JSON and a few fields), not about 20 KB, and the one writer
  // thread does not free hundreds of strings per event
  // (docs/performance.md).
  //
  // `transactions` (Sentry transactions, docs/tracing.md) travel the same
  // queue (each counts as one item against queue_size) and are committed
  // by the same writer thread with Store::WriteTransactions; their results
  // follow the items' in the Completion, with `outcome.duplicate` true for
  // one the store had already (WriteTransactions' stored[i] == false).
  std::shared_ptr<Completion> Submit(
      std::vector<model::WriteItem> items,
      std::vector<model::StoredTransaction> transactions = {});

  size_t depth() const;
  size_t capacity() const { return options_.queue_size; }

  // False after a batch failed to commit (disk full, read-only database,
  // I/O error) until a later batch commits or a probe write succeeds, with
  // the reason in `*reason`. While down, a call probes the store with a
  // cheap write (Store::HealthProbe) at most once a second, so readiness and
  // crashctl_storage_up recover without a restart even when no events
  // arrive. Thread-safe.
  bool StorageUp(std::string* reason);
  // Readiness of the write path: false (with the reason) while the queue
  // is full or StorageUp() is false. Thread-safe.
  bool Ready(std::string* reason);
  // Before a scrape: probes storage while it is down (StorageUp) and
  // creates each project's counter series at 0 (Metrics::ProjectKnown).
  // Thread-safe.
  void RefreshMetrics();

 private:
  struct Pending {
    model::WriteItem item;
    std::shared_ptr<Completion> completion;
    size_t index;  // of the item in its Completion
    bool is_transaction = false;
    model::StoredTransaction transaction;  // when is_transaction
  };
  // The queue gauge; called with mu_ held, so that updates are ordered.
  void SetQueueGauge(size_t depth);
  void WriterLoop();
  void CommitBatch(std::vector<Pending>* batch);
  // The events of `batch` (WriteEvents) and its transactions
  // (WriteTransactions); each sets its pendings' results.
  void CommitEvents(std::vector<Pending*>* events);
  void CommitTransactions(std::vector<Pending*>* transactions);
  // Records a write's status for StorageUp() and crashctl_storage_up.
  void NoteWrite(const Status& status);

  store::Store* store_;
  Metrics* metrics_;
  Options options_;
  std::vector<Listener> listeners_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  std::thread writer_;

  std::atomic<bool> storage_up_{true};
  std::mutex probe_mu_;  // guards the two fields below
  std::chrono::steady_clock::time_point last_probe_{};
  std::string storage_error_;
};

}  // namespace ingest
}  // namespace crashctl

#endif  // CRASHCTL_INGEST_PIPELINE_H_
