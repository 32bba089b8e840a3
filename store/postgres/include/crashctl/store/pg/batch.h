// Batched writes: many rows in few statements.
//
// InsertRows() writes rows with multi-row INSERTs:
//   INSERT INTO <table> (<columns>) VALUES ($1, $2), ($3, $4), ... <suffix>
// at most `max_rows_per_statement` rows and 65535 parameters per statement,
// so a suffix such as "ON CONFLICT (event_id) DO NOTHING RETURNING id" works
// (COPY can do neither). For bulk loads without conflicts (e.g. `crashctl
// migrate`), Connection::CopyIn() streams rows with COPY FROM STDIN.
//
// Neither opens a transaction: run them inside one (Connection::Begin or
// RunTransaction) so that a batch is all or nothing; outside one, each
// statement commits by itself.
//
// Thread-safety: as for the Connection passed in (one thread at a time).
#ifndef CRASHCTL_STORE_PG_BATCH_H_
#define CRASHCTL_STORE_PG_BATCH_H_

#include <string>
#include <string_view>
#include <vector>

#include "crashctl/store/pg/connection.h"
#include "crashctl/util/status.h"

namespace crashctl {
namespace store {
namespace pg {

// True for a plain SQL identifier, optionally schema-qualified:
// [a-z_][a-z0-9_]* ("." [a-z_][a-z0-9_]*)?; only those are accepted as
// table and column names below (they are pasted into the SQL).
bool IsPlainIdentifier(std::string_view name);

// Inserts `rows` (each with one value per column, in column order) into
// `table`. `results` (may be null) gets one Result per statement, in order.
// Within a statement PostgreSQL returns a VALUES insert's RETURNING rows in
// VALUES order today but does not promise it: return a key and match the
// rows by it (as WriteEvents does). kInvalid for a bad name
// or a row of the wrong width; otherwise the first failing statement's
// Status (the statements before it are not undone outside a transaction).
Status InsertRows(Connection* conn, std::string_view table,
                  const std::vector<std::string>& columns,
                  const std::vector<Params>& rows, std::string_view suffix,
                  std::vector<Result>* results,
                  int max_rows_per_statement = 500);

}  // namespace pg
}  // namespace store
}  // namespace crashctl

#endif  // CRASHCTL_STORE_PG_BATCH_H_
