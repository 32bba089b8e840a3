// Online backup and restore of the SQLite database (crashctl/store/backup.h).
#include "crashctl/store/backup.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <thread>

#include "migrations.h"

namespace crashctl {
namespace store {
namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

std::string Errno(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

// Closes a raw connection (and every statement on it) at scope exit.
struct Connection {
  sqlite3* db = nullptr;
  ~Connection() {
    if (db != nullptr) sqlite3_close_v2(db);
  }
  Status Error(const std::string& context) const {
    return Status::Internal(context + ": " + sqlite3_errmsg(db));
  }
};

// Runs `sql`, calling `row` with each row's first column as text.
template <typename RowFn>
int Query(sqlite3* db, const char* sql, RowFn row) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr);
  if (rc != SQLITE_OK) return rc;
  // Bounded by the statement's rows (integrity_check: by its limit).
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    const unsigned char* text = sqlite3_column_text(stmt, 0);
    row(text != nullptr ? reinterpret_cast<const char*>(text) : "");
  }
  sqlite3_finalize(stmt);
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

// Interrupts a long statement (integrity_check) at the deadline.
int PastDeadline(void* deadline) {
  return Clock::now() > *static_cast<Clock::time_point*>(deadline) ? 1 : 0;
}

std::string Seconds(std::chrono::milliseconds ms) {
  if (ms.count() < 1000) return std::to_string(ms.count()) + "ms";
  return std::to_string(ms.count() / 1000) + "s";
}

Status FsyncPath(const std::string& path, bool directory) {
  const int fd =
      open(path.c_str(), (directory ? O_DIRECTORY : 0) | O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::Internal(Errno("open " + path));
  const int rc = fsync(fd);
  const int saved = errno;
  close(fd);
  errno = saved;
  if (rc != 0) return Status::Internal(Errno("fsync " + path));
  return Status::Ok();
}

std::string DirectoryOf(const std::string& path) {
  const fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? "." : parent.string();
}

// True when `a` and `b` name the same file (or would: same absolute path).
bool SamePath(const std::string& a, const std::string& b) {
  std::error_code ec;
  if (fs::exists(a, ec) && fs::exists(b, ec)) {
    const bool same = fs::equivalent(a, b, ec);
    if (!ec) return same;
  }
  const fs::path ca = fs::weakly_canonical(a, ec);
  if (ec) return false;
  const fs::path cb = fs::weakly_canonical(b, ec);
  if (ec) return false;
  return ca == cb;
}

void RemoveQuietly(const std::string& path) {
  std::error_code ec;
  fs::remove(path, ec);
}

// Checks the crashctl schema of an open copy; sets `*version`.
Status CheckSchema(sqlite3* db, int* version) {
  int tables = 0;
  int rc = Query(db,
                 "SELECT name FROM sqlite_master WHERE type = 'table' AND "
                 "name IN ('schema_migrations', 'projects', 'groups', "
                 "'events')",
                 [&](const char*) { ++tables; });
  if (rc != SQLITE_OK) {
    return Status::Invalid(std::string("not a crashctl database: ") +
                           sqlite3_errmsg(db));
  }
  if (tables != 4) {
    return Status::Invalid(
        "not a crashctl database (no schema_migrations, projects, groups and "
        "events tables)");
  }
  *version = 0;
  rc = Query(db, "SELECT coalesce(max(version), 0) FROM schema_migrations",
             [&](const char* v) { *version = std::atoi(v); });
  if (rc != SQLITE_OK) {
    return Status::Invalid(std::string("read schema version: ") +
                           sqlite3_errmsg(db));
  }
  if (*version < 1) {
    return Status::Invalid("not a crashctl database (no schema version)");
  }
  if (*version > LatestSchemaVersion()) {
    return Status::Invalid("schema version " + std::to_string(*version) +
                           " is newer than this crashctl knows (" +
                           std::to_string(LatestSchemaVersion()) +
                           "); use a newer crashctl");
  }
  return Status::Ok();
}

// Copies the database at `src_path` into a new file `dest_path` (removed
// first if it exists), checks and fsyncs it. On failure `dest_path` is
// removed.
Status CopyAndCheck(const std::string& src_path, const std::string& dest_path,
                    const BackupOptions& options, Clock::time_point deadline,
                    BackupInfo* info) {
  RemoveQuietly(dest_path);
  RemoveQuietly(dest_path + "-journal");
  Status status = [&]() -> Status {
    Connection src;
    // Read-only: the backup never writes to the live database (a WAL
    // database is still readable: the -shm of a running server is shared).
    if (sqlite3_open_v2(src_path.c_str(), &src.db, SQLITE_OPEN_READONLY,
                        nullptr) != SQLITE_OK) {
      return src.Error("open " + src_path);
    }
    sqlite3_extended_result_codes(src.db, 1);
    sqlite3_busy_timeout(src.db, options.busy_timeout_ms);
    // One read transaction for the whole copy: its snapshot is what is
    // copied, and commits by the server meanwhile do not restart the backup
    // (they go to the WAL, which this snapshot does not see).
    if (sqlite3_exec(src.db, "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK ||
        Query(src.db, "SELECT count(*) FROM sqlite_master",
              [](const char*) {}) != SQLITE_OK) {
      const int rc = sqlite3_extended_errcode(src.db);
      Status st = src.Error("read " + src_path);
      if (rc == SQLITE_NOTADB) {
        return Status::Invalid("not a crashctl database (not an SQLite file)");
      }
      return st;
    }

    Connection dest;
    if (sqlite3_open_v2(dest_path.c_str(), &dest.db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                        nullptr) != SQLITE_OK) {
      return dest.Error("create " + dest_path);
    }
    sqlite3_extended_result_codes(dest.db, 1);
    sqlite3_backup* backup =
        sqlite3_backup_init(dest.db, "main", src.db, "main");
    if (backup == nullptr) return dest.Error("backup " + src_path);
    const int pages = options.pages_per_step > 0 ? options.pages_per_step : 1;
    int rc = SQLITE_OK;
    // Bounded by the deadline: every step copies up to `pages` pages or
    // waits for a lock, and the deadline is checked after each.
    while (true) {
      rc = sqlite3_backup_step(backup, pages);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED) break;
      if (Clock::now() > deadline) break;
      std::this_thread::sleep_for(options.pause);
    }
    info->pages = sqlite3_backup_pagecount(backup);
    const int remaining = sqlite3_backup_remaining(backup);
    const int finish_rc = sqlite3_backup_finish(backup);
    sqlite3_exec(src.db, "COMMIT", nullptr, nullptr, nullptr);
    if (rc != SQLITE_DONE) {
      if (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
        return Status::Unavailable(
            "backup did not finish within " + Seconds(options.timeout) + " (" +
            std::to_string(remaining) + " of " + std::to_string(info->pages) +
            " pages left); raise --timeout");
      }
      if ((rc & 0xff) == SQLITE_NOTADB) {
        return Status::Invalid("not a crashctl database (not an SQLite file)");
      }
      return Status::Internal("backup " + src_path + ": " + sqlite3_errstr(rc));
    }
    if (finish_rc != SQLITE_OK) return dest.Error("backup " + src_path);

    // A self-contained file: no -wal beside it until it is opened by a
    // server again (which switches it back to WAL).
    if (sqlite3_exec(dest.db, "PRAGMA journal_mode=DELETE", nullptr, nullptr,
                     nullptr) != SQLITE_OK) {
      return dest.Error("journal_mode " + dest_path);
    }
    Clock::time_point check_deadline = deadline;
    sqlite3_progress_handler(dest.db, 10000, PastDeadline, &check_deadline);
    std::string problems;
    rc = Query(dest.db, "PRAGMA integrity_check(20)", [&](const char* line) {
      if (std::strcmp(line, "ok") == 0) return;
      if (!problems.empty()) problems += "; ";
      problems += line;
    });
    if (rc == SQLITE_INTERRUPT) {
      return Status::Unavailable(
          "integrity check of the copy did not finish "
          "within " +
          Seconds(options.timeout) + "; raise --timeout");
    }
    if (rc != SQLITE_OK) return dest.Error("integrity check of the copy");
    if (!problems.empty()) {
      return Status::Invalid("the copy fails its integrity check: " + problems);
    }
    sqlite3_progress_handler(dest.db, 0, nullptr, nullptr);
    Status st = CheckSchema(dest.db, &info->schema_version);
    if (!st.ok()) return st;
    if (sqlite3_close(dest.db) != SQLITE_OK) {
      return dest.Error("close " + dest_path);
    }
    dest.db = nullptr;
    return FsyncPath(dest_path, /*directory=*/false);
  }();
  if (!status.ok()) {
    RemoveQuietly(dest_path);
    RemoveQuietly(dest_path + "-journal");
    return status;
  }
  std::error_code ec;
  info->bytes = static_cast<int64_t>(fs::file_size(dest_path, ec));
  return status;
}

// Holds an exclusive flock on a database's ingest lock file while it lives.
class IngestLock {
 public:
  IngestLock() = default;
  ~IngestLock() {
    if (fd_ >= 0) close(fd_);
  }
  IngestLock(const IngestLock&) = delete;
  IngestLock& operator=(const IngestLock&) = delete;

  // kConflict when another process holds it.
  Status Take(const std::string& db_path, bool create) {
    const std::string path = IngestLockPath(db_path);
    fd_ = open(path.c_str(), O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0644);
    if (fd_ < 0) {
      if (errno == ENOENT && !create) return Status::Ok();  // no server ran
      return Status::Internal(Errno("open " + path));
    }
    if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK) {
        return Status::Conflict("a crashctl server is using " + db_path +
                                " (it holds " + path + "); stop it first");
      }
      return Status::Internal(Errno("lock " + path));
    }
    return Status::Ok();
  }

 private:
  int fd_ = -1;
};

// Renames the checked copy `tmp` over `to` (same directory, so atomic) and
// makes the rename durable; `tmp` is removed when the rename fails.
Status Publish(const std::string& tmp, const std::string& to,
               const std::string& dir) {
  if (rename(tmp.c_str(), to.c_str()) != 0) {
    Status status = Status::Internal(Errno("rename " + tmp + " to " + to));
    RemoveQuietly(tmp);
    return status;
  }
  return FsyncPath(dir, /*directory=*/true);
}

}  // namespace

std::string IngestLockPath(const std::string& db_path) {
  return db_path + ".ingest-lock";
}

Status CheckNoServer(const std::string& db_path) {
  IngestLock lock;
  return lock.Take(db_path, /*create=*/false);
}

Status BackupDatabase(const std::string& db_path, const std::string& to,
                      const BackupOptions& options, BackupInfo* info) {
  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline = start + options.timeout;
  *info = BackupInfo();
  struct stat st;
  if (stat(db_path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return Status::NotFound("no database at " + db_path);
  }
  if (to.empty()) return Status::Invalid("no backup file given");
  for (const std::string& live :
       {db_path, db_path + "-wal", db_path + "-shm", IngestLockPath(db_path)}) {
    if (SamePath(to, live)) {
      return Status::Invalid("the backup file " + to +
                             " is the live database's " + live +
                             "; choose another path");
    }
  }
  const std::string dir = DirectoryOf(to);
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Status::Invalid("directory " + dir + " of " + to +
                           " does not exist");
  }
  // Same directory: the rename below is atomic.
  const std::string tmp = to + ".tmp-" + std::to_string(getpid());
  Status status = CopyAndCheck(db_path, tmp, options, deadline, info);
  if (!status.ok()) return status;
  status = Publish(tmp, to, dir);
  if (!status.ok()) return status;
  info->seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return Status::Ok();
}

Status RestoreDatabase(const std::string& from, const std::string& db_path,
                       const BackupOptions& options, BackupInfo* info) {
  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline = start + options.timeout;
  *info = BackupInfo();
  struct stat st;
  if (stat(from.c_str(), &st) != 0) {
    return Status::NotFound(Errno(from));
  }
  if (!S_ISREG(st.st_mode)) {
    return Status::Invalid(from + " is not a file");
  }
  if (SamePath(from, db_path)) {
    return Status::Invalid(from + " is the database itself");
  }
  const std::string dir = DirectoryOf(db_path);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return Status::Internal("create directory " + dir + ": " + ec.message());
  }
  // Held until the database is replaced: a server that starts meanwhile
  // fails to take it and exits.
  IngestLock lock;
  Status status = lock.Take(db_path, /*create=*/true);
  if (!status.ok()) return status.Annotate("refused");

  const std::string tmp = db_path + ".restore-tmp";
  status = CopyAndCheck(from, tmp, options, deadline, info);
  if (!status.ok()) return status.Annotate(from);

  // A -wal left by the replaced database would be replayed into the
  // restored one: remove it (and the -shm index of it) first. Should this
  // process die right here, the old database is still whole as of its last
  // checkpoint and the restore can be run again.
  for (const std::string& stale :
       {db_path + "-wal", db_path + "-shm", db_path + "-journal"}) {
    if (unlink(stale.c_str()) != 0 && errno != ENOENT) {
      status = Status::Internal(Errno("remove " + stale));
      RemoveQuietly(tmp);
      return status;
    }
  }
  status = Publish(tmp, db_path, dir);
  if (!status.ok()) return status;
  info->seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return Status::Ok();
}

}  // namespace store
}  // namespace crashctl
