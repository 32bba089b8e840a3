// SqliteDb and SqliteStmt: RAII wrappers over one raw SQLite connection and
// its cached prepared statements, plus the mapping of SQLite result codes to
// Status.
//
// Thread-safety: a SqliteDb (and every SqliteStmt borrowed from it) must be
// used by one thread at a time; the owner serialises access (SqliteStore
// guards the write connection with a mutex and hands read connections out
// from a ReadPool).
#ifndef CRASHCTL_STORE_SQLITE_DB_H_
#define CRASHCTL_STORE_SQLITE_DB_H_

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "crashctl/model/vocabulary.h"
#include "crashctl/store/store.h"

namespace crashctl {
namespace store {

// Maps an SQLite result code (primary or extended) to a Status whose
// message is "<context>: <detail>". FULL, READONLY, IOERR, CANTOPEN, BUSY and
// LOCKED become kUnavailable; CONSTRAINT becomes kInvalid; the rest
// kInternal.
Status SqliteStatus(int rc, const std::string& context,
                    const std::string& detail);

// True for SQLITE_BUSY / SQLITE_LOCKED (any extended variant).
bool IsBusyCode(int rc);
// True for the codes after which the connection is reopened: IOERR, CANTOPEN.
bool NeedsReopen(int rc);

class SqliteDb;

// A prepared statement borrowed from a SqliteDb. On destruction it is reset
// and its bindings cleared (so it never pins a read snapshot), or finalized
// when it was not cached. Parameters are 1-based, columns 0-based. Text is
// bound with SQLITE_TRANSIENT (copied), so temporaries are safe to bind.
class SqliteStmt {
 public:
  SqliteStmt() = default;
  SqliteStmt(SqliteDb* db, sqlite3_stmt* stmt, bool cached);
  ~SqliteStmt();
  SqliteStmt(SqliteStmt&& other) noexcept;
  SqliteStmt& operator=(SqliteStmt&& other) noexcept;
  SqliteStmt(const SqliteStmt&) = delete;
  SqliteStmt& operator=(const SqliteStmt&) = delete;

  SqliteStmt& Bind(int index, int64_t value);
  SqliteStmt& Bind(int index, int value) {
    return Bind(index, static_cast<int64_t>(value));
  }
  SqliteStmt& Bind(int index, double value);
  SqliteStmt& Bind(int index, const std::string& value);
  // The closed vocabularies bind as their spelling (model/vocabulary.h).
  SqliteStmt& Bind(int index, model::Level value) {
    return Bind(index, std::string(model::ToString(value)));
  }
  SqliteStmt& Bind(int index, model::GroupStatus value) {
    return Bind(index, std::string(model::ToString(value)));
  }
  SqliteStmt& Bind(int index, model::CrashType value) {
    return Bind(index, std::string(model::ToString(value)));
  }
  SqliteStmt& BindBlob(int index, const std::string& value);
  SqliteStmt& BindNull(int index);

  // Runs one step. Returns SQLITE_ROW, SQLITE_DONE or an error code (which
  // is also recorded in the owning SqliteDb, see SqliteDb::last_rc()).
  int Step();
  // Steps until SQLITE_DONE; for statements that return no rows.
  // Returns SQLITE_DONE or an error code.
  int Run();

  int64_t Int(int column) const;
  double Double(int column) const;
  std::string Text(int column) const;  // also the bytes of a BLOB
  bool IsBlob(int column) const;
  bool IsNull(int column) const;

 private:
  void Release();

  SqliteDb* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  bool cached_ = false;
  int bind_rc_ = SQLITE_OK;  // first failed bind, reported by Step()
};

class SqliteDb {
 public:
  struct Options {
    int busy_timeout_ms = 5000;
    // Read connections set PRAGMA query_only so they can never write.
    bool query_only = false;
  };

  // Opens (creating if needed) the database file at `path`, with extended
  // result codes, WAL journal, synchronous=FULL, foreign_keys=ON and the
  // busy timeout. Returns null and sets `*status` on failure.
  static std::unique_ptr<SqliteDb> Open(const std::string& path,
                                        const Options& options, Status* status);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  sqlite3* handle() const { return db_; }

  // Returns the cached prepared statement for `sql` (prepared on first use
  // and kept for the connection's lifetime). If that statement is already
  // borrowed, or the cache is full, a one-off statement is prepared. On a
  // prepare error returns false and sets `*status`.
  bool Prepare(const std::string& sql, SqliteStmt* stmt, Status* status);

  // Runs `sql` (one or more statements, no rows expected).
  Status Exec(const std::string& sql, const std::string& context);

  // True while a transaction is open on this connection.
  bool InTransaction() const;
  // Rolls back an open transaction, if any. Returns false if the rollback
  // itself failed (the connection should then be discarded).
  bool RollbackIfOpen();

  int64_t LastInsertRowid() const;
  int Changes() const;

  // The last error code met by a statement or Exec on this connection since
  // ClearError(), and its message.
  int last_rc() const { return last_rc_; }
  const std::string& last_message() const { return last_message_; }
  void ClearError() {
    last_rc_ = SQLITE_OK;
    last_message_.clear();
  }
  // Records an error (used by SqliteStmt). Keeps the first error since
  // ClearError() so the root cause is not overwritten by follow-ups.
  void RecordError(int rc);

  // Status for the last recorded error, with `context`.
  Status LastStatus(const std::string& context) const;

 private:
  friend class SqliteStmt;
  struct CachedStmt {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;
  };
  explicit SqliteDb(sqlite3* db) : db_(db) {}
  void ReturnStmt(sqlite3_stmt* stmt);

  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, CachedStmt> cache_;
  std::unordered_map<sqlite3_stmt*, CachedStmt*> by_handle_;
  int last_rc_ = SQLITE_OK;
  std::string last_message_;
};

}  // namespace store
}  // namespace crashctl

#endif  // CRASHCTL_STORE_SQLITE_DB_H_
