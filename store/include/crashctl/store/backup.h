// Backup and restore of the SQLite database (docs/storage.md, "Backup and
// restore").
//
// BackupDatabase() takes a consistent copy of a database that a server may
// be writing to: it opens the database read-only, holds one read transaction
// (a WAL snapshot: the copy is the database as of the moment the backup
// began, and concurrent commits neither restart the copy nor wait for it),
// and copies it with SQLite's online backup API, `pages_per_step` pages at a
// time with a pause between steps so the copy does not monopolise the disk.
// The copy goes to a temporary file next to the destination, is switched to
// a self-contained rollback-journal file (no -wal beside it), checked
// (`PRAGMA integrity_check` and the crashctl schema version), fsynced, and
// only then renamed over the destination. All of it is bounded by
// `timeout`.
//
// RestoreDatabase() checks a backup the same way (into a temporary file in
// the data directory), refuses while a server holds the database's ingest
// lock (which it takes itself for the duration, so no server starts
// meanwhile), removes the database's stale -wal and -shm files and renames
// the checked copy over the database.
//
// Thread-safety: the functions are reentrant; they share no state.
#ifndef CRASHCTL_STORE_BACKUP_H_
#define CRASHCTL_STORE_BACKUP_H_

#include <chrono>
#include <cstdint>
#include <string>

#include "crashctl/util/status.h"

namespace crashctl {
namespace store {

struct BackupOptions {
  int pages_per_step = 1024;           // pages per sqlite3_backup_step (4 MiB)
  std::chrono::milliseconds pause{2};  // between two steps
  // The whole operation (copy, check, sync); kUnavailable beyond it.
  std::chrono::milliseconds timeout{std::chrono::minutes(30)};
  int busy_timeout_ms = 5000;  // SQLite's wait for a lock on the source
};

// What a backup or restore copied.
struct BackupInfo {
  int64_t pages = 0;
  int64_t bytes = 0;       // size of the copy
  int schema_version = 0;  // of the copy
  double seconds = 0;      // time taken
};

// The file `crashctl serve` holds an exclusive flock(2) on for as long as it
// uses the database at `db_path` (SqliteStore's ingest lock):
// `<db_path>.ingest-lock`.
std::string IngestLockPath(const std::string& db_path);

// kConflict when a process (a server) holds the ingest lock of the database
// at `db_path`; OK when none does.
Status CheckNoServer(const std::string& db_path);

// Writes a consistent copy of the database at `db_path` to `to` (replacing
// `to` atomically if it exists). kNotFound when there is no database,
// kInvalid when `to` is the database itself (or one of its -wal, -shm or
// lock files) or its directory does not exist, kUnavailable on timeout,
// kInternal when the copy fails its check. On failure `to` is untouched
// and the temporary file removed.
Status BackupDatabase(const std::string& db_path, const std::string& to,
                      const BackupOptions& options, BackupInfo* info);

// Replaces the database at `db_path` with the backup `from`. kNotFound when
// `from` does not exist; kInvalid when it is not a crashctl database, fails
// its integrity check, or has a newer schema than this build knows;
// kConflict while a server uses the database; kUnavailable on timeout. On
// failure the database is untouched.
Status RestoreDatabase(const std::string& from, const std::string& db_path,
                       const BackupOptions& options, BackupInfo* info);

}  // namespace store
}  // namespace crashctl

#endif  // CRASHCTL_STORE_BACKUP_H_
