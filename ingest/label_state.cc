#include "crashctl/ingest/label_state.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <string>

namespace crashctl {
namespace ingest {

LabelStateSync::LabelStateSync(store::Store* store,
                               tracing::LabelBudget* budget,
                               std::chrono::milliseconds interval)
    : store_(store), budget_(budget), interval_(interval) {}

LabelStateSync::~LabelStateSync() { Stop(); }

Status LabelStateSync::Load() {
  std::string json;
  Status status = store_->LoadTracingLabels(&json);
  if (!status.ok()) {
    return Status::Internal("loading the tracing label state: " +
                            status.message());
  }
  if (json.empty()) return Status::Ok();
  status = budget_->Import(json, tracing::LabelBudget::ImportMode::kMerge);
  if (!status.ok()) {
    return Status::Invalid("stored tracing label state ignored: " +
                           status.message());
  }
  return Status::Ok();
}

Status LabelStateSync::Sync() {
  std::string stored;
  Status status = store_->LoadTracingLabels(&stored);
  if (!status.ok()) {
    return Status::Internal("reading the tracing label state: " +
                            status.message());
  }
  tracing::LabelBudget merged(budget_->limits());
  if (!stored.empty() &&
      !merged.Import(stored, tracing::LabelBudget::ImportMode::kReplace).ok()) {
    spdlog::warn("tracing: the stored label state is unreadable; replacing it");
  }
  status = merged.Import(budget_->Export(),
                         tracing::LabelBudget::ImportMode::kMerge);
  if (!status.ok()) return status;
  const std::string json = merged.Export();
  if (json != stored) {
    status = store_->SaveTracingLabels(json);
    if (!status.ok()) {
      return Status::Internal("saving the tracing label state: " +
                              status.message());
    }
  }
  return budget_->Import(json, tracing::LabelBudget::ImportMode::kMerge);
}

void LabelStateSync::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void LabelStateSync::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
  const Status status = Sync();
  if (!status.ok()) spdlog::warn("tracing: {}", status.message());
}

void LabelStateSync::Loop() {
  pthread_setname_np(pthread_self(), "label-state");
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, interval_, [this] { return stopping_; })) {
    lock.unlock();
    const Status status = Sync();
    if (!status.ok()) spdlog::warn("tracing: {}", status.message());
    lock.lock();
  }
}

}  // namespace ingest
}  // namespace crashctl
