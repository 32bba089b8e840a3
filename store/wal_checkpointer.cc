#include "wal_checkpointer.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>
#include <utility>

namespace crashctl {
namespace store {

WalCheckpointer::WalCheckpointer(std::string path, SqliteDb::Options db_options,
                                 Options options)
    : path_(std::move(path)), db_options_(db_options), options_(options) {}

WalCheckpointer::~WalCheckpointer() { Stop(); }

void WalCheckpointer::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void WalCheckpointer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void WalCheckpointer::InstallOn(sqlite3* db) {
  sqlite3_wal_hook(db, &WalCheckpointer::Hook, this);
}

int WalCheckpointer::Hook(void* arg, sqlite3* /*db*/, const char* /*schema*/,
                          int frames) {
  auto* self = static_cast<WalCheckpointer*>(arg);
  int copied = self->copied_.load(std::memory_order_relaxed);
  if (frames < self->last_frames_ || copied > frames) {
    copied = 0;  // the WAL restarted from its beginning
    self->copied_.store(0, std::memory_order_relaxed);
  }
  self->last_frames_ = frames;
  if (frames >= self->options_.inline_pages) {
    // Bounded WAL even when the thread cannot keep up: the committer
    // checkpoints at CheckpointIfDue(), once this commit is acknowledged.
    self->inline_due_ = true;
  } else if (frames - copied >= self->options_.threshold_pages) {
    {
      std::lock_guard<std::mutex> lock(self->mu_);
      self->wanted_ = true;
    }
    self->cv_.notify_one();
  }
  return SQLITE_OK;
}

void WalCheckpointer::CheckpointIfDue(sqlite3* db) {
  if (!inline_due_) return;
  inline_due_ = false;
  if (copied_.load(std::memory_order_relaxed) >= last_frames_) return;
  // PASSIVE: never waits for readers. A failure leaves the WAL long; the
  // next commit's hook finds it due again.
  int log_frames = 0;
  int copied = 0;
  if (sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                &log_frames, &copied) == SQLITE_OK) {
    copied_.store(copied, std::memory_order_relaxed);
  }
  inline_.fetch_add(1, std::memory_order_relaxed);
}

void WalCheckpointer::Loop() {
  pthread_setname_np(pthread_self(), "wal-checkpoint");
  std::unique_ptr<SqliteDb> db;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || wanted_; });
      if (stopping_) return;
      wanted_ = false;
    }
    if (db == nullptr) {
      Status status;
      db = SqliteDb::Open(path_, db_options_, &status);
      if (db == nullptr) {
        // The committer's inline checkpoint bounds the WAL meanwhile; the
        // next wake-up tries again.
        spdlog::warn("store: checkpoint connection: {}", status.message());
        continue;
      }
    }
    const auto start = std::chrono::steady_clock::now();
    int log_frames = 0;
    int copied = 0;
    const int rc = sqlite3_wal_checkpoint_v2(
        db->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_frames, &copied);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
      spdlog::warn("store: checkpoint of {}: {}", path_,
                   sqlite3_errmsg(db->handle()));
      db.reset();  // reopen next time
      continue;
    }
    if (rc == SQLITE_OK) copied_.store(copied, std::memory_order_relaxed);
    background_.fetch_add(1, std::memory_order_relaxed);
    spdlog::debug("store: checkpoint copied {} of {} WAL pages in {:.1f} ms",
                  copied, log_frames,
                  std::chrono::duration<double, std::milli>(
                      std::chrono::steady_clock::now() - start)
                      .count());
  }
}

}  // namespace store
}  // namespace crashctl
