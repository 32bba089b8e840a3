#include "read_pool.h"

#include <utility>

namespace crashctl {
namespace store {

ReadPool::Lease::~Lease() { Return(); }

ReadPool::Lease::Lease(Lease&& other) noexcept
    : pool_(other.pool_), db_(std::move(other.db_)), discard_(other.discard_) {
  other.pool_ = nullptr;
}

ReadPool::Lease& ReadPool::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    Return();
    pool_ = other.pool_;
    db_ = std::move(other.db_);
    discard_ = other.discard_;
    other.pool_ = nullptr;
  }
  return *this;
}

void ReadPool::Lease::Return() {
  if (pool_ != nullptr && db_ != nullptr) {
    pool_->Release(std::move(db_), discard_);
  }
  pool_ = nullptr;
  db_.reset();
  discard_ = false;
}

ReadPool::ReadPool(std::string path, SqliteDb::Options options, size_t max,
                   std::chrono::milliseconds wait)
    : path_(std::move(path)),
      options_(options),
      max_(max == 0 ? 1 : max),
      wait_(wait) {}

ReadPool::~ReadPool() {
  std::lock_guard<std::mutex> lock(mu_);
  idle_.clear();
}

Status ReadPool::Acquire(Lease* lease) {
  std::unique_lock<std::mutex> lock(mu_);
  bool ready = cv_.wait_for(lock, wait_,
                            [this] { return !idle_.empty() || open_ < max_; });
  if (!ready) {
    return Status::Unavailable("no read connection free after " +
                               std::to_string(wait_.count()) + " ms");
  }
  *lease = Lease();
  if (!idle_.empty()) {
    lease->db_ = std::move(idle_.back());
    idle_.pop_back();
    lease->pool_ = this;
    return Status::Ok();
  }
  ++open_;  // reserve the slot, open outside the lock
  lock.unlock();
  Status status;
  std::unique_ptr<SqliteDb> db = SqliteDb::Open(path_, options_, &status);
  if (db == nullptr) {
    lock.lock();
    --open_;
    cv_.notify_one();
    return status;
  }
  lease->db_ = std::move(db);
  lease->pool_ = this;
  return Status::Ok();
}

void ReadPool::Release(std::unique_ptr<SqliteDb> db, bool discard) {
  std::unique_ptr<SqliteDb> to_close;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (discard) {
      to_close = std::move(db);
      --open_;
    } else {
      idle_.push_back(std::move(db));
    }
  }
  cv_.notify_one();
}

size_t ReadPool::open_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_;
}

}  // namespace store
}  // namespace crashctl
