// PostgreSQL errors as crashctl::Status: the mapping of SQLSTATE codes to
// Status codes, and the two markers a caller must be able to tell apart.
//
// Every Status this layer makes for a server error carries
// "(SQLSTATE xxxxx)" in its message. On top of the code:
//
// - Retryable ("[retryable]" in the message, code kUnavailable): the
//   transaction was rolled back because of concurrency (serialization
//   failure 40001, deadlock 40P01); running the whole transaction again,
//   from its BEGIN, is expected to succeed. RunTransaction() does that.
// - Outcome unknown ("[outcome unknown]" in the message, code kUnavailable):
//   a COMMIT (or a statement outside an explicit transaction, which commits
//   by itself) was sent and no answer came back (the connection was lost,
//   the server died, the client-side deadline passed). The transaction may
//   or may not have committed. The caller must not acknowledge the write
//   as done, and may only retry it when doing it twice is harmless
//   (idempotent writes, e.g. INSERT ... ON CONFLICT DO NOTHING).
//
// Mapping (class = first two characters):
//   08xxx connection exception, 53xxx insufficient resources (53100 disk
//   full, 53200 out of memory, 53300 too many connections), 57xxx operator
//   intervention (57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot
//   connect now, 57014 statement timeout / cancel), 58xxx system (I/O)
//   error, 25006 read-only transaction (e.g. a standby after failover),
//   55P03 lock timeout, 55006 object in use, 40000/40xxx          ->
//   kUnavailable 40001 serialization failure, 40P01 deadlock   -> kUnavailable
//   + retryable 40003 statement completion unknown      -> kUnavailable +
//   outcome unknown 23505 unique violation, 23P01 exclusion violation ->
//   kConflict other 23xxx (foreign key, not null, check), 22xxx data exception
//   (bad UTF-8, out of range, bad input syntax), 40002                ->
//   kInvalid 54xxx program limit exceeded (e.g. an index row too large)    ->
//   kTooLarge 42xxx syntax error or undefined object, 0Axxx, 25xxx (other),
//   28xxx authorization, 3D000 no such database, XXxxx internal, anything else
//                                                                  -> kInternal
// A failure without a SQLSTATE (libpq lost the connection, a client-side
// deadline) is kUnavailable; the caller decides about "outcome unknown".
//
// Thread-safety: pure functions, safe from any thread.
#ifndef CRASHCTL_STORE_PG_ERRORS_H_
#define CRASHCTL_STORE_PG_ERRORS_H_

#include <string>
#include <string_view>

#include "crashctl/util/status.h"

namespace crashctl {
namespace store {
namespace pg {

inline constexpr std::string_view kRetryableMarker = "[retryable]";
inline constexpr std::string_view kUnknownOutcomeMarker = "[outcome unknown]";

// The Status for a server error: "<context>: <detail> (SQLSTATE <state>)",
// plus a marker as above. `sqlstate` may be empty (then kUnavailable).
Status StatusFromSqlState(std::string_view sqlstate, std::string_view detail,
                          std::string_view context);

// The Status::Code alone for `sqlstate` (see the table above).
Status::Code CodeForSqlState(std::string_view sqlstate);

// True for a Status this layer marked retryable (serialization failure,
// deadlock): roll back and run the whole transaction again.
bool IsRetryable(const Status& status);
// True for a Status this layer marked "outcome unknown": never acknowledge.
bool IsUnknownOutcome(const Status& status);
// `status` with the unknown-outcome marker added (and code kUnavailable);
// OK stays OK.
Status MarkUnknownOutcome(const Status& status);
// The SQLSTATE named in a Status made by this layer, "" when none.
std::string SqlStateOf(const Status& status);

}  // namespace pg
}  // namespace store
}  // namespace crashctl

#endif  // CRASHCTL_STORE_PG_ERRORS_H_
