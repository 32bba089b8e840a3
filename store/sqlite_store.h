// SqliteStore: the Store on one SQLite database file (see docs/storage.md).
//
// Writes go through one connection guarded by a mutex, each call in one
// IMMEDIATE transaction; SQLITE_BUSY (another process holding the write lock
// longer than the busy timeout) is retried a bounded number of times and
// counted. Reads use a bounded pool of query_only connections, each call in
// one read transaction (a consistent snapshot). After an I/O, disk-full or
// read-only error the transaction is rolled back (and the connection reopened
// after I/O errors), so the next call works once the condition clears.
//
// Thread-safety: every public method is safe to call from any thread.
#ifndef CRASHCTL_STORE_SQLITE_STORE_H_
#define CRASHCTL_STORE_SQLITE_STORE_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/group_folds.h"
#include "store/read_pool.h"
#include "store/sqlite_db.h"
#include "store/store.h"
#include "store/wal_checkpointer.h"

namespace crashctl {

class SqliteStore : public Store {
 public:
  struct Options {
    int busy_timeout_ms = 5000;   // SQLite's own wait for a lock
    int max_busy_retries = 3;     // then the write fails with kUnavailable
    size_t read_connections = 4;  // read pool size
    std::chrono::milliseconds read_wait{10000};  // wait for a free reader
    int delete_batch = 5000;              // rows per retention transaction
    WalCheckpointer::Options checkpoint;  // WAL size that triggers one
    // How long group counters may wait in memory (GroupFolds); zero writes
    // them with every batch. Only the one process that ingests may defer
    // them: Open() then locks `<path>.ingest-lock` (a second such Open
    // fails) and recovers the counters a crash left unwritten.
    std::chrono::milliseconds group_fold_interval{0};
  };

  // Opens the database at `path` (creating its parent directory), applies
  // migrations. Returns null and sets `*error` on failure.
  static std::unique_ptr<SqliteStore> Open(const std::string& path,
                                           const Options& options,
                                           std::string* error);
  ~SqliteStore() override;

  StoreStatus CreateProject(const std::string& name, Project* out) override;
  StoreStatus ListProjects(std::vector<Project>* out) override;
  StoreStatus GetProject(int64_t id, Project* out) override;

  StoreStatus WriteEvents(const std::vector<WriteItem>& items,
                          std::vector<WriteOutcome>* outcomes) override;
  void PrepareWrite(WriteItem* item) const override;
  StoreStatus ListGroups(const GroupQuery& query, Page<Group>* out) override;
  StoreStatus GetGroup(int64_t id, Group* out) override;
  StoreStatus SetGroupStatus(int64_t id, const std::string& status,
                             Group* out) override;
  StoreStatus ListGroupEvents(int64_t group_id, int limit,
                              const std::string& cursor,
                              Page<StoredEvent>* out) override;
  StoreStatus GetEvent(const std::string& event_id, StoredEvent* out) override;
  StoreStatus CountGroups(std::vector<GroupCount>* out) override;
  StoreStatus FindGroupsForPod(const std::string& pod, double from, double to,
                               std::vector<int64_t>* group_ids) override;

  StoreStatus UpsertCrash(const Crash& crash, int64_t* id,
                          bool* inserted) override;
  StoreStatus GetCrashByKey(const std::string& dedup_key, Crash* out) override;
  StoreStatus GetCrash(int64_t id, Crash* out) override;
  StoreStatus ListCrashes(const CrashQuery& query, Page<Crash>* out) override;
  StoreStatus LinkCrashGroup(int64_t crash_id, int64_t group_id) override;

  StoreStatus DeleteOlderThan(double cutoff, int64_t* deleted) override;
  int64_t SizeBytes() override;
  StoreStatus IntegrityCheck() override;
  int64_t BusyRetries() override;
  StoreStatus ProbeWrite() override;
  StoreStatus FlushGroupCounters() override;
  void CheckpointIfDue() override;
  size_t PendingGroupCounters() override { return folds_size_.load(); }

  // Runs `sql` on the write connection (outside any transaction). For tests
  // and maintenance: e.g. "PRAGMA max_page_count=N" to simulate a full disk,
  // "PRAGMA query_only=ON" to simulate a read-only database.
  StoreStatus ExecOnWriter(const std::string& sql);

  const std::string& path() const { return path_; }

 private:
  using Body = std::function<StoreStatus(SqliteDb*)>;

  SqliteStore(std::string path, const Options& options);

  // Runs `body` in BEGIN IMMEDIATE ... COMMIT on the write connection,
  // retrying on SQLITE_BUSY; rolls back on any failure. `committed`, if
  // set, runs under the write mutex once the transaction has committed.
  StoreStatus Write(const std::string& what, const Body& body,
                    const std::function<void()>& committed = nullptr);
  // Takes an exclusive lock on `<path>.ingest-lock` for the store's
  // lifetime: one process may defer (and recover) group counters.
  bool LockForIngest(std::string* error);
  // After a transaction that wrote folds_ committed. Needs write_mu_.
  void CommitFolds();
  // Folds what a crash left out of the group counters. Needs write_mu_.
  StoreStatus RecoverGroupCounters();
  // Writes the group counters GroupFolds holds, if any, before a read of
  // groups; a failure is logged and the read goes on (slightly stale).
  void FoldBeforeRead();
  // Runs `body` in a read transaction on a pooled read connection.
  StoreStatus Read(const std::string& what, const Body& body);
  // Opens the write connection if it is closed. Needs write_mu_.
  StoreStatus EnsureWriter();

  const std::string path_;
  const Options options_;
  std::mutex write_mu_;
  std::unique_ptr<SqliteDb> writer_;  // guarded by write_mu_
  ReadPool readers_;
  WalCheckpointer checkpointer_;
  GroupFolds folds_;                   // guarded by write_mu_
  std::atomic<size_t> folds_size_{0};  // folds_.size(), read unlocked
  int ingest_lock_fd_ = -1;
  std::atomic<int64_t> busy_retries_{0};
};

}  // namespace crashctl

#endif  // CRASHCTL_STORE_SQLITE_STORE_H_
