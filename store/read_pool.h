// ReadPool: a bounded pool of read-only (query_only) SQLite connections,
// opened lazily. Acquire() hands out a free connection, opens a new one while
// fewer than `max` exist, and otherwise waits (at most `wait`) for one to be
// returned.
//
// Thread-safety: Acquire() and Lease destruction are safe from any thread; a
// Lease (and its connection) belongs to one thread at a time.
#ifndef CRASHCTL_STORE_READ_POOL_H_
#define CRASHCTL_STORE_READ_POOL_H_

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "crashctl/store/store.h"
#include "sqlite_db.h"

namespace crashctl {
namespace store {

class ReadPool {
 public:
  // A borrowed connection, returned to the pool on destruction (or closed,
  // after Discard()).
  class Lease {
   public:
    Lease() = default;
    ~Lease();
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

    SqliteDb* db() const { return db_.get(); }
    // Closes the connection instead of returning it (after I/O errors).
    void Discard() { discard_ = true; }

   private:
    friend class ReadPool;
    void Return();
    ReadPool* pool_ = nullptr;
    std::unique_ptr<SqliteDb> db_;
    bool discard_ = false;
  };

  ReadPool(std::string path, SqliteDb::Options options, size_t max,
           std::chrono::milliseconds wait);
  ReadPool(const ReadPool&) = delete;
  ReadPool& operator=(const ReadPool&) = delete;
  ~ReadPool();

  Status Acquire(Lease* lease);

  // Connections currently open (idle + leased); for tests.
  size_t open_count() const;

 private:
  void Release(std::unique_ptr<SqliteDb> db, bool discard);

  const std::string path_;
  const SqliteDb::Options options_;
  const size_t max_;
  const std::chrono::milliseconds wait_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<SqliteDb>> idle_;
  size_t open_ = 0;  // idle + leased + being opened
};

}  // namespace store
}  // namespace crashctl

#endif  // CRASHCTL_STORE_READ_POOL_H_
