// Moving a crashctl SQLite database into PostgreSQL (`crashctl migrate`,
// docs/scaling.md "Moving over").
//
// Contract
// - The source is the database `crashctl serve` wrote (any released schema
//   version: it is brought to the current one first, as `serve` would).
//   It is opened as the ingesting process opens it, so the copy is refused
//   while a `serve` uses it, and group counters a crash left unwritten are
//   recovered first. Everything is read from one snapshot.
// - The target gets the PostgreSQL schema (the store's advisory-locked
//   migrations) and then, in id order and with the same ids: projects, DSN
//   keys (so every SDK's DSN keeps working unchanged), groups with their
//   counts, statuses and regressions, events (payloads byte for byte),
//   the distinct users of each group, pod crashes and their links to
//   groups, transactions, cron monitors and their check-ins, user feedback,
//   and attachments (their bytes read and written a chunk at a time, so a
//   large one is never held whole). Rows that point at a row the source
//   no longer has (SQLite does not enforce foreign keys) are left out and
//   counted in `orphans`.
// - Resumable: every batch is its own transaction. Run again after an
//   interruption, it continues after the last event (transaction, check-in,
//   feedback) the target holds, skips the attachments it holds, and
//   rewrites the small tables (projects, keys, groups, crashes, monitors)
//   with their current values; nothing is copied twice. The identity sequences
//   are moved past the copied ids, so new rows get new ids.
// - Refused (kConflict) when the target holds data that no `crashctl
//   migrate` wrote (its table `sqlite_imports` records each run), or
//   events with ids beyond the source's (a server has written there since).
// - Verified: afterwards the row counts of every copied table, the sum of
//   the group counts, the attachments' bytes and every DSN key are
//   compared with the source; a difference is kInternal with what differs.
// - What the postgres driver does not store yet (sessions, releases,
//   merged-group aliases) is not copied; Report::skipped names each with
//   its row count.
//
// Thread-safety: MigrateSqliteToPostgres may be called from any thread; it
// uses only its own connections. `progress` is called on the calling thread.
#ifndef CRASHCTL_MIGRATE_MIGRATE_H_
#define CRASHCTL_MIGRATE_MIGRATE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "crashctl/util/status.h"

namespace crashctl {
namespace migrate {

struct Options {
  std::string sqlite_path;  // <storage.path>/crashctl.db
  std::string conninfo;     // libpq connection string or URI
  int batch_rows = 2000;    // rows per transaction, 1..50000
  int connect_timeout_ms = 5000;
  int statement_timeout_ms = 300000;
  // Called after every committed batch: table, rows copied so far, rows
  // the source has. May be empty.
  std::function<void(const std::string& table, int64_t done, int64_t total)>
      progress;
};

struct TableReport {
  std::string table;
  int64_t source_rows = 0;  // in the snapshot, without orphans
  int64_t copied = 0;       // written by this run
  int64_t target_rows = 0;  // afterwards
  int64_t orphans = 0;      // pointing at rows the source lacks: left out
};

struct SkippedTable {
  std::string table;
  int64_t rows = 0;
};

struct Report {
  std::vector<TableReport> tables;    // in copy order
  std::vector<SkippedTable> skipped;  // only those with rows
  bool resumed = false;               // an earlier run had started
  int64_t group_count_sum = 0;        // sum(groups.count), equal on both
  int64_t source_schema_version = 0;
  double seconds = 0;
};

// Copies `options.sqlite_path` into the database at `options.conninfo` as
// the contract says. kInvalid for bad options or a missing source;
// kConflict when refused; kUnavailable when either database cannot be
// reached (run again); kInternal for a failed verification or an
// unexpected error. `*report` is filled as far as the run got.
Status MigrateSqliteToPostgres(const Options& options, Report* report);

}  // namespace migrate
}  // namespace crashctl

#endif  // CRASHCTL_MIGRATE_MIGRATE_H_
