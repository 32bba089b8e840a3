#include "crashctl/ingest/pipeline.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "crashctl/ingest/metrics.h"

namespace crashctl {
namespace ingest {
namespace {

// Releases what neither the batch writer nor a listener reads (see
// Submit() in the header).
void ReleaseUnread(model::WriteItem* item) {
  model::Event& event = item->event;
  std::vector<model::ExceptionValue>().swap(event.exceptions);
  std::string().swap(event.user_json);
  std::string().swap(event.contexts_json);
  std::string().swap(event.breadcrumbs_json);
  std::string().swap(event.request_json);
  if (!item->stored_payload.empty()) std::string().swap(event.raw_json);
  std::vector<std::string>().swap(item->grouping.components);
}

}  // namespace

IngestPipeline::IngestPipeline(store::Store* store, Metrics* metrics,
                               Options options)
    : store_(store), metrics_(metrics), options_(options) {
  if (options_.queue_size == 0) options_.queue_size = 1;
  if (options_.batch_size == 0) options_.batch_size = 1;
  if (metrics_) metrics_->SetQueue(0, static_cast<double>(options_.queue_size));
}

IngestPipeline::~IngestPipeline() { Stop(); }

void IngestPipeline::AddListener(Listener listener) {
  listeners_.push_back(std::move(listener));
}

void IngestPipeline::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (writer_.joinable()) return;
  stopping_ = false;
  writer_ = std::thread([this] { WriterLoop(); });
}

void IngestPipeline::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
}

size_t IngestPipeline::depth() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

std::shared_ptr<Completion> IngestPipeline::Submit(
    std::vector<model::WriteItem> items,
    std::vector<model::StoredTransaction> transactions) {
  for (model::WriteItem& item : items) ReleaseUnread(&item);
  const size_t count = items.size() + transactions.size();
  auto completion = std::make_shared<Completion>(count);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || queue_.size() + count > options_.queue_size) {
      return nullptr;
    }
    for (size_t i = 0; i < items.size(); ++i) {
      queue_.push_back(Pending{std::move(items[i]), completion, i, false, {}});
    }
    for (size_t i = 0; i < transactions.size(); ++i) {
      queue_.push_back(Pending{model::WriteItem{}, completion, items.size() + i,
                               true, std::move(transactions[i])});
    }
    // Set under the lock: set after it, a value could land after the
    // writer's newer one and stay (the gauge showed 1 with an empty queue).
    SetQueueGauge(queue_.size());
  }
  cv_.notify_one();
  return completion;
}

void IngestPipeline::SetQueueGauge(size_t depth) {
  if (metrics_) {
    metrics_->SetQueue(static_cast<double>(depth),
                       static_cast<double>(options_.queue_size));
  }
}

bool IngestPipeline::StorageUp(std::string* reason) {
  if (storage_up_.load(std::memory_order_acquire)) return true;
  std::lock_guard<std::mutex> lock(probe_mu_);
  const auto now = std::chrono::steady_clock::now();
  if (!storage_up_.load() && now - last_probe_ >= std::chrono::seconds(1)) {
    last_probe_ = now;
    const Status status = store_->HealthProbe();
    if (status.ok()) {
      storage_up_.store(true, std::memory_order_release);
      if (metrics_) metrics_->SetStorageUp(true);
      spdlog::info("ingest: storage writable again (probe write succeeded)");
    } else {
      storage_error_ = status.message();
    }
  }
  if (storage_up_.load()) return true;
  *reason = "storage unavailable: " + storage_error_;
  return false;
}

bool IngestPipeline::Ready(std::string* reason) {
  if (depth() >= capacity()) {
    *reason = "ingest queue is full";
    return false;
  }
  return StorageUp(reason);
}

void IngestPipeline::RefreshMetrics() {
  std::string reason;
  StorageUp(&reason);
  if (metrics_ == nullptr) return;
  std::vector<model::Project> projects;
  if (!store_->ListProjects(&projects).ok()) return;
  for (const model::Project& project : projects) {
    metrics_->ProjectKnown(project.id);
  }
}

void IngestPipeline::WriterLoop() {
  pthread_setname_np(pthread_self(), "ingest-writer");
  std::vector<Pending> batch;
  batch.reserve(options_.batch_size);
  bool wrote = false;  // since the store last flushed its group counters
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      const auto ready = [this] { return stopping_ || !queue_.empty(); };
      if (wrote && !cv_.wait_for(lock, options_.idle_flush, ready)) {
        // Nothing arrived for a while: let the store write what it defers.
        lock.unlock();
        const Status status =
            store_->Maintain(store::Store::Maintenance::kIdle);
        if (!status.ok()) spdlog::warn("ingest: {}", status.message());
        wrote = false;
        continue;
      }
      cv_.wait(lock, ready);
      if (queue_.empty()) return;  // stopping and drained
      while (!queue_.empty() && batch.size() < options_.batch_size) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      SetQueueGauge(queue_.size());
    }
    CommitBatch(&batch);
    batch.clear();
    wrote = true;
  }
}

void IngestPipeline::NoteWrite(const Status& status) {
  if (metrics_) metrics_->SetStorageUp(status.ok());
  if (status.ok() != storage_up_.load()) {
    std::lock_guard<std::mutex> lock(probe_mu_);
    storage_error_ = status.message();
    storage_up_.store(status.ok(), std::memory_order_release);
  }
}

void IngestPipeline::CommitBatch(std::vector<Pending>* batch) {
  std::vector<Pending*> events;
  std::vector<Pending*> transactions;
  for (Pending& pending : *batch) {
    (pending.is_transaction ? transactions : events).push_back(&pending);
  }
  if (!transactions.empty()) CommitTransactions(&transactions);
  if (!events.empty()) {
    CommitEvents(&events);
  } else {
    const Status maintained =
        store_->Maintain(store::Store::Maintenance::kAfterBatch);
    if (!maintained.ok()) spdlog::warn("ingest: {}", maintained.message());
  }
}

void IngestPipeline::CommitTransactions(std::vector<Pending*>* batch) {
  std::vector<model::StoredTransaction> transactions;
  transactions.reserve(batch->size());
  for (Pending* pending : *batch) {
    transactions.push_back(std::move(pending->transaction));
  }
  std::vector<bool> stored;
  Status status = store_->WriteTransactions(transactions, &stored);
  if (status.ok() && stored.size() != transactions.size()) {
    status = {Status::Code::kInternal,
              "store returned a wrong stored count for transactions"};
  }
  NoteWrite(status);
  if (!status.ok()) {
    spdlog::error("ingest: write batch of {} transactions failed: {}",
                  transactions.size(), status.message());
  }
  for (size_t i = 0; i < batch->size(); ++i) {
    model::WriteOutcome outcome;
    outcome.duplicate = status.ok() && !stored[i];
    Pending* pending = (*batch)[i];
    pending->completion->Set(pending->index, IngestResult{status, outcome});
  }
}

void IngestPipeline::CommitEvents(std::vector<Pending*>* batch) {
  std::vector<model::WriteItem> items;
  items.reserve(batch->size());
  for (Pending* pending : *batch) items.push_back(std::move(pending->item));

  const auto start = std::chrono::steady_clock::now();
  std::vector<model::WriteOutcome> outcomes;
  Status status = store_->WriteEvents(items, &outcomes);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  if (status.ok() && outcomes.size() != items.size()) {
    status = {Status::Code::kInternal, "store returned a wrong outcome count"};
  }
  if (metrics_) {
    metrics_->ObserveWriteBatch(static_cast<double>(items.size()), seconds);
  }
  NoteWrite(status);
  if (!status.ok()) {
    spdlog::error("ingest: write batch of {} events failed: {}", items.size(),
                  status.message());
    for (Pending* pending : *batch) {
      pending->completion->Set(pending->index,
                               IngestResult{status, model::WriteOutcome{}});
    }
    return;
  }
  for (size_t i = 0; i < items.size(); ++i) {
    const model::WriteOutcome& outcome = outcomes[i];
    const model::Event& event = items[i].event;
    if (metrics_ && !outcome.duplicate) {
      metrics_->EventStored(event.project_id, event.level, event.service);
      if (outcome.new_group) metrics_->GroupCreated(event.project_id);
      if (outcome.regression) metrics_->GroupRegressed(event.project_id);
    }
    Pending* pending = (*batch)[i];
    pending->completion->Set(pending->index, IngestResult{status, outcome});
  }
  // The store's housekeeping (SQLite: a WAL checkpoint the commit left due),
  // then the listeners: they run after the handlers are released, so
  // neither delays an acknowledgement.
  const Status maintained =
      store_->Maintain(store::Store::Maintenance::kAfterBatch);
  if (!maintained.ok()) spdlog::warn("ingest: {}", maintained.message());
  for (size_t i = 0; i < items.size(); ++i) {
    if (outcomes[i].duplicate) continue;
    for (const Listener& listener : listeners_) {
      try {
        listener(items[i], outcomes[i]);
      } catch (const std::exception& e) {
        spdlog::error("ingest: listener failed for event {}: {}",
                      items[i].event.event_id, e.what());
      }
    }
  }
}

}  // namespace ingest
}  // namespace crashctl
