#include "sqlite_db.h"

#include <spdlog/spdlog.h>

#include <utility>

#include "wal_write_buffer.h"

namespace crashctl {
namespace store {
namespace {

// Prepared statements kept per connection; the SQL texts crashctl uses are a
// bounded set (well below this), the cap only guards against a bug.
constexpr size_t kMaxCachedStatements = 256;

}  // namespace

Status SqliteStatus(int rc, const std::string& context,
                    const std::string& detail) {
  if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW) {
    return Status::Ok();
  }
  Status::Code code = Status::Code::kInternal;
  switch (rc & 0xff) {
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      code = Status::Code::kUnavailable;
      break;
    case SQLITE_CONSTRAINT:
      code = Status::Code::kInvalid;
      break;
    default:
      code = Status::Code::kInternal;
      break;
  }
  return Status(code, context + ": " +
                          (detail.empty() ? sqlite3_errstr(rc) : detail) +
                          " (sqlite code " + std::to_string(rc) + ")");
}

bool IsBusyCode(int rc) {
  return (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
}

bool NeedsReopen(int rc) {
  return (rc & 0xff) == SQLITE_IOERR || (rc & 0xff) == SQLITE_CANTOPEN;
}

// --- SqliteStmt -------------------------------------------------------------

SqliteStmt::SqliteStmt(SqliteDb* db, sqlite3_stmt* stmt, bool cached)
    : db_(db), stmt_(stmt), cached_(cached) {}

SqliteStmt::~SqliteStmt() { Release(); }

SqliteStmt::SqliteStmt(SqliteStmt&& other) noexcept
    : db_(other.db_),
      stmt_(other.stmt_),
      cached_(other.cached_),
      bind_rc_(other.bind_rc_) {
  other.db_ = nullptr;
  other.stmt_ = nullptr;
}

SqliteStmt& SqliteStmt::operator=(SqliteStmt&& other) noexcept {
  if (this != &other) {
    Release();
    db_ = other.db_;
    stmt_ = other.stmt_;
    cached_ = other.cached_;
    bind_rc_ = other.bind_rc_;
    other.db_ = nullptr;
    other.stmt_ = nullptr;
  }
  return *this;
}

void SqliteStmt::Release() {
  if (stmt_ == nullptr) return;
  if (cached_) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    db_->ReturnStmt(stmt_);
  } else {
    sqlite3_finalize(stmt_);
  }
  stmt_ = nullptr;
  db_ = nullptr;
  bind_rc_ = SQLITE_OK;
}

SqliteStmt& SqliteStmt::Bind(int index, int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

SqliteStmt& SqliteStmt::Bind(int index, double value) {
  int rc = sqlite3_bind_double(stmt_, index, value);
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

SqliteStmt& SqliteStmt::Bind(int index, const std::string& value) {
  int rc = sqlite3_bind_text64(stmt_, index, value.data(), value.size(),
                               SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

SqliteStmt& SqliteStmt::BindBlob(int index, const std::string& value) {
  int rc = sqlite3_bind_blob64(stmt_, index, value.data(), value.size(),
                               SQLITE_TRANSIENT);
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

SqliteStmt& SqliteStmt::BindNull(int index) {
  int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  return *this;
}

int SqliteStmt::Step() {
  if (bind_rc_ != SQLITE_OK) {
    db_->RecordError(bind_rc_);
    return bind_rc_;
  }
  int rc = sqlite3_step(stmt_);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) db_->RecordError(rc);
  return rc;
}

int SqliteStmt::Run() {
  // A statement without a result set finishes in one step; a few more
  // steps only drain rows a caller chose to ignore. Bounded either way by
  // the statement itself.
  int rc;
  do {
    rc = Step();
  } while (rc == SQLITE_ROW);
  return rc;
}

int64_t SqliteStmt::Int(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

double SqliteStmt::Double(int column) const {
  return sqlite3_column_double(stmt_, column);
}

std::string SqliteStmt::Text(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return std::string();
  int size = sqlite3_column_bytes(stmt_, column);
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<size_t>(size));
}

bool SqliteStmt::IsBlob(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_BLOB;
}

bool SqliteStmt::IsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

// --- SqliteDb ---------------------------------------------------------------

std::unique_ptr<SqliteDb> SqliteDb::Open(const std::string& path,
                                         const Options& options,
                                         Status* status) {
  sqlite3* raw = nullptr;
  // NOMUTEX: the owner serialises use of each connection.
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
              SQLITE_OPEN_EXRESCODE;
  // WAL frames are written with one pwrite per commit (wal_write_buffer.h).
  int rc =
      sqlite3_open_v2(path.c_str(), &raw, flags, WalWriteBuffer::VfsName());
  if (rc != SQLITE_OK) {
    std::string detail = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    sqlite3_close_v2(raw);
    *status = SqliteStatus(rc, "open " + path, detail);
    return nullptr;
  }
  std::unique_ptr<SqliteDb> db(new SqliteDb(raw));
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, options.busy_timeout_ms);

  // A new database gets incremental auto-vacuum so retention can give space
  // back to the file system. It only takes effect before the first page is
  // written (so before switching to WAL); on an existing file it is a no-op.
  if (!options.query_only) {
    *status = db->Exec("PRAGMA auto_vacuum=INCREMENTAL",
                       "open " + path + ": auto_vacuum");
    if (!status->ok()) return nullptr;
  }

  // journal_mode answers the mode it ended in; anything but "wal" (e.g. a
  // file system without shared memory) is an error: readers beside the
  // writer depend on it.
  {
    SqliteStmt stmt;
    if (!db->Prepare("PRAGMA journal_mode=WAL", &stmt, status)) return nullptr;
    int step = stmt.Step();
    if (step != SQLITE_ROW) {
      *status = db->LastStatus("open " + path + ": set journal_mode=WAL");
      return nullptr;
    }
    std::string mode = stmt.Text(0);
    if (mode != "wal") {
      *status = Status::Internal("open " + path + ": journal_mode is '" + mode +
                                 "', want 'wal'");
      return nullptr;
    }
  }
  std::string pragmas =
      "PRAGMA synchronous=FULL;"
      "PRAGMA foreign_keys=ON;"
      "PRAGMA temp_store=MEMORY;"
      "PRAGMA journal_size_limit=67108864;";
  if (options.query_only) pragmas += "PRAGMA query_only=ON;";
  *status = db->Exec(pragmas, "open " + path + ": pragmas");
  if (!status->ok()) return nullptr;
  return db;
}

SqliteDb::~SqliteDb() {
  for (auto& entry : cache_) sqlite3_finalize(entry.second.stmt);
  cache_.clear();
  by_handle_.clear();
  int rc = sqlite3_close_v2(db_);
  if (rc != SQLITE_OK) {
    spdlog::warn("store: closing sqlite connection: {}", sqlite3_errstr(rc));
  }
}

bool SqliteDb::Prepare(const std::string& sql, SqliteStmt* stmt,
                       Status* status) {
  auto it = cache_.find(sql);
  if (it != cache_.end() && !it->second.in_use) {
    it->second.in_use = true;
    *stmt = SqliteStmt(this, it->second.stmt, /*cached=*/true);
    return true;
  }
  bool cache = it == cache_.end() && cache_.size() < kMaxCachedStatements;
  sqlite3_stmt* raw = nullptr;
  int rc =
      sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                         cache ? SQLITE_PREPARE_PERSISTENT : 0, &raw, nullptr);
  if (rc != SQLITE_OK) {
    RecordError(rc);
    *status = SqliteStatus(rc, "prepare \"" + sql.substr(0, 80) + "\"",
                           sqlite3_errmsg(db_));
    sqlite3_finalize(raw);
    return false;
  }
  if (cache) {
    CachedStmt& entry = cache_[sql];
    entry.stmt = raw;
    entry.in_use = true;
    by_handle_[raw] = &entry;
  }
  *stmt = SqliteStmt(this, raw, cache);
  return true;
}

void SqliteDb::ReturnStmt(sqlite3_stmt* stmt) {
  auto it = by_handle_.find(stmt);
  if (it != by_handle_.end()) it->second->in_use = false;
}

Status SqliteDb::Exec(const std::string& sql, const std::string& context) {
  char* error = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string detail = error ? error : sqlite3_errmsg(db_);
  sqlite3_free(error);
  RecordError(rc);
  return SqliteStatus(rc, context, detail);
}

bool SqliteDb::InTransaction() const {
  return sqlite3_get_autocommit(db_) == 0;
}

bool SqliteDb::RollbackIfOpen() {
  if (!InTransaction()) return true;
  int rc = sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    spdlog::warn("store: ROLLBACK failed: {}", sqlite3_errmsg(db_));
    return false;
  }
  return true;
}

int64_t SqliteDb::LastInsertRowid() const {
  return sqlite3_last_insert_rowid(db_);
}

int SqliteDb::Changes() const { return sqlite3_changes(db_); }

void SqliteDb::RecordError(int rc) {
  if (last_rc_ != SQLITE_OK) return;
  last_rc_ = rc;
  last_message_ = sqlite3_errmsg(db_);
}

Status SqliteDb::LastStatus(const std::string& context) const {
  if (last_rc_ == SQLITE_OK) {
    return Status::Internal(context + ": unknown error");
  }
  return SqliteStatus(last_rc_, context, last_message_);
}

}  // namespace store
}  // namespace crashctl
