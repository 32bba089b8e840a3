// Schema migrations: the ordered list of schema versions and the code that
// brings a database up to the newest one.
//
// Every step runs in its own IMMEDIATE transaction together with its row in
// `schema_migrations(version, applied_at)` and `PRAGMA user_version`, so a
// step is applied exactly once even when two processes open the database at
// the same time. Steps are append-only: never edit a released step, add a new
// one.
//
// Thread-safety: ApplyMigrations() needs exclusive use of `db`.
#ifndef CRASHCTL_STORE_MIGRATIONS_H_
#define CRASHCTL_STORE_MIGRATIONS_H_

#include <vector>

#include "crashctl/store/store.h"
#include "sqlite_db.h"

namespace crashctl {
namespace store {

struct Migration {
  int version;       // 1, 2, 3, ... in order, no gaps
  const char* name;  // short description for logs
  const char* sql;   // one or more statements
};

// All migrations, oldest first.
const std::vector<Migration>& SchemaMigrations();

// The newest schema version this build knows.
int LatestSchemaVersion();

// Applies every migration newer than the database's version. Fails with
// kInternal when the database has a newer version than this build knows.
Status ApplyMigrations(SqliteDb* db);

// The version recorded in the database (0 for a new database).
Status CurrentSchemaVersion(SqliteDb* db, int* version);

}  // namespace store
}  // namespace crashctl

#endif  // CRASHCTL_STORE_MIGRATIONS_H_
