// WalCheckpointer: copies the write-ahead log back into the database file on
// a thread and connection of its own, so a commit never waits for a
// checkpoint (with SQLite's automatic checkpoint, every ~1000 pages one
// commit pays for copying them all, with an fsync of the database file).
//
// The writer connection installs Hook() as its WAL hook (which replaces
// SQLite's automatic checkpoint). After each commit the hook wakes this
// thread once the WAL holds `threshold_pages`; if the WAL still reaches
// `inline_pages` (the thread fell behind, or could not open the database),
// the committing connection checkpoints itself, so the WAL stays bounded.
//
// Thread-safety: Hook() may be called from any thread; Start() and Stop()
// from the owner only.
#ifndef CRASHCTL_STORE_WAL_CHECKPOINTER_H_
#define CRASHCTL_STORE_WAL_CHECKPOINTER_H_

#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "store/sqlite_db.h"

namespace crashctl {

class WalCheckpointer {
 public:
  struct Options {
    int threshold_pages = 4096;  // wake the thread at this WAL size
    int inline_pages = 16384;    // the committer checkpoints itself here
  };

  WalCheckpointer(std::string path, SqliteDb::Options db_options,
                  Options options);
  ~WalCheckpointer();  // Stop()

  void Start();
  // Finishes a running checkpoint and joins the thread. Idempotent.
  void Stop();

  // Installs the WAL hook on `db` (a connection to the same database).
  void InstallOn(sqlite3* db);

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
};

}  // namespace crashctl

#endif  // CRASHCTL_STORE_WAL_CHECKPOINTER_H_
