// WalCheckpointer: copies the write-ahead log back into the database file on
// a thread and connection of its own, so a commit never waits for a
// checkpoint (with SQLite's automatic checkpoint, every ~1000 pages one
// commit pays for copying them all, with an fsync of the database file).
//
// The writer connection installs Hook() as its WAL hook (which replaces
// SQLite's automatic checkpoint). After each commit the hook wakes this
// thread once `threshold_pages` frames have been appended since the last
// checkpoint copied the WAL (or since the WAL restarted); if the WAL still
// reaches `inline_pages` (the thread fell behind, or could not open the
// database), the committing connection checkpoints itself, so the WAL stays
// bounded and restarts from its beginning at the next transaction. That
// checkpoint (a few ms, with an fsync of the database file) does not run in
// the hook, where it would delay the acknowledgement of the transaction that
// just committed: the hook marks it due and the committer runs it with
// CheckpointIfDue() between transactions (the ingest writer: after it has
// acknowledged the batch, before it takes the next one).
//
// The count is of frames not yet copied, not of the WAL's length: a WAL
// restarts only when a write transaction begins after a complete
// checkpoint, which a busy writer rarely lets the thread finish first, so
// its length stays above any threshold, and waking on length alone meant a
// checkpoint (with an fsync of the database file) after every commit.
//
// Thread-safety: Hook() runs on whichever thread commits on the connection
// it is installed on, one commit at a time (install it on one connection);
// CheckpointIfDue() likewise from whoever uses that connection, between its
// transactions and never concurrently with a commit on it (SqliteStore calls
// both under its write mutex); Start() and Stop() from the owner only.
#ifndef CRASHCTL_STORE_WAL_CHECKPOINTER_H_
#define CRASHCTL_STORE_WAL_CHECKPOINTER_H_

#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "sqlite_db.h"

namespace crashctl {
namespace store {

class WalCheckpointer {
 public:
  struct Options {
    int threshold_pages = 1024;  // wake the thread at this many new pages
    int inline_pages = 16384;    // the committer checkpoints itself here
  };

  WalCheckpointer(std::string path, SqliteDb::Options db_options,
                  Options options);
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;
  ~WalCheckpointer();  // Stop()

  void Start();
  // Finishes a running checkpoint and joins the thread. Idempotent.
  void Stop();

  // Installs the WAL hook on `db` (a connection to the same database).
  void InstallOn(sqlite3* db);

  // Runs the checkpoint the hook found due (the WAL reached inline_pages) on
  // `db`, the connection the hook is installed on, outside any transaction;
  // the WAL then restarts when that connection's next transaction begins.
  // Does nothing when none is due, or when the thread has copied the whole
  // WAL since (it then restarts by itself).
  void CheckpointIfDue(sqlite3* db);

  // Checkpoints run so far by the thread and inline.
  int64_t background_checkpoints() const { return background_.load(); }
  int64_t inline_checkpoints() const { return inline_.load(); }

 private:
  static int Hook(void* self, sqlite3* db, const char* schema, int frames);
  void Loop();

  const std::string path_;
  const SqliteDb::Options db_options_;
  const Options options_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool wanted_ = false;    // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  std::thread thread_;
  std::atomic<int64_t> background_{0};
  std::atomic<int64_t> inline_{0};
  // WAL frames copied to the database file by the last checkpoint, counted
  // from the WAL's start, as SQLite does; reset when the WAL restarts.
  std::atomic<int> copied_{0};
  int last_frames_ = 0;  // the WAL's length at the last commit (Hook())
  // Set by Hook() when the WAL reached inline_pages, cleared by
  // CheckpointIfDue(); the two never run concurrently.
  bool inline_due_ = false;
};

}  // namespace store
}  // namespace crashctl

#endif  // CRASHCTL_STORE_WAL_CHECKPOINTER_H_
