// The PostgreSQL schema migration runner, safe for replicas that start
// together.
//
// Contract
// - `migrations` is an ordered list with strictly increasing positive
//   versions (ValidateMigrations). Each one runs in its own transaction,
//   together with its row in `schema_migrations(version, name, checksum,
//   applied_at)`, so it is applied completely or not at all.
// - Serialised across processes: each migration's transaction first takes
//   pg_advisory_xact_lock(lock_key) (released by COMMIT/ROLLBACK, also when
//   the connection dies), then re-reads schema_migrations, so among
//   replicas starting at once each migration is applied exactly once and
//   the others wait, then skip it. The wait is bounded by lock_timeout_ms
//   (then kUnavailable). When every version is recorded already, no lock
//   is taken.
// - Expand, then contract: replicas of two releases run side by side
//   during a rolling deploy, so a migration may only ADD (tables, columns
//   that are nullable or have a default, indexes, backfills). Dropping,
//   renaming, retyping or making a column NOT NULL waits for a later
//   release, once no running replica uses the old form; such a migration is
//   marked `contract = true`. ValidateMigrations() refuses the words that
//   only contract migrations may use (DROP, RENAME, TRUNCATE, DELETE FROM,
//   ALTER COLUMN ... TYPE, SET NOT NULL) in the others. A database whose
//   schema is newer than this binary knows is therefore accepted (the
//   older replica keeps working on the expanded schema); the report says
//   so.
// - A migration's SQL must not contain its own transaction control (BEGIN,
//   COMMIT, ROLLBACK, ...), nor statements that cannot run inside a
//   transaction (CREATE INDEX CONCURRENTLY, VACUUM): refused.
// - A recorded migration whose checksum (of its SQL) differs from the
//   binary's is reported in `warnings` (released migrations must never be
//   edited), not applied again.
//
// Thread-safety: ApplyMigrations uses `conn` only (one thread at a time);
// any number of processes or threads may run it at once on different
// connections to the same database.
#ifndef CRASHCTL_STORE_PG_MIGRATIONS_H_
#define CRASHCTL_STORE_PG_MIGRATIONS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "crashctl/store/pg/connection.h"
#include "crashctl/util/status.h"

namespace crashctl {
namespace store {
namespace pg {

struct Migration {
  int64_t version = 0;
  std::string name;
  std::string sql;        // one or more statements
  bool contract = false;  // drops/renames: see the contract above
};

struct MigrateOptions {
  // The advisory lock's key: one per application sharing a database.
  int64_t lock_key = 0x6372617368637431;  // "crashct1"
  int lock_timeout_ms = 60000;            // waiting for another replica
  int statement_timeout_ms = 600000;      // one migration's SQL
};

struct MigrateReport {
  std::vector<int64_t> applied;  // by this call, in order
  int64_t database_version = 0;  // highest recorded version afterwards
  bool database_newer = false;   // it holds versions this binary lacks
  std::vector<std::string> warnings;
};

// "" when `sql` only expands the schema, else what a contract migration
// would be needed for (e.g. "DROP"). Comments, string literals, quoted
// identifiers and dollar-quoted bodies are skipped.
std::string ContractViolation(std::string_view sql);

// Checks the list: versions > 0 and strictly increasing, names non-empty,
// no transaction control, and ContractViolation() empty unless `contract`.
Status ValidateMigrations(const std::vector<Migration>& migrations);

// Applies the migrations the database lacks (see the contract above).
// `report` may be null.
Status ApplyMigrations(Connection* conn,
                       const std::vector<Migration>& migrations,
                       const MigrateOptions& options, MigrateReport* report);

}  // namespace pg
}  // namespace store
}  // namespace crashctl

#endif  // CRASHCTL_STORE_PG_MIGRATIONS_H_
