// Backend-neutral parts of storing a cron monitor's transition (docs/
// monitors.md), shared by the SQLite store (sqlite_store_monitors.cc) and
// the PostgreSQL one (postgres/pg_store_monitors.cc): the row a transition
// changes, its incident bookkeeping and counters, and the check-in rows'
// values. Private to store/.
//
// Thread-safety: plain values and pure functions.
#ifndef CRASHCTL_STORE_MONITOR_ROWS_H_
#define CRASHCTL_STORE_MONITOR_ROWS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "crashctl/model/records.h"
#include "crashctl/releases/check_in.h"
#include "crashctl/store/store.h"

namespace crashctl {
namespace store {

// Check-in rows kept per monitor; older ones are trimmed (when a write
// crosses a multiple of kTrimCheckInsEveryRows rows) besides the age-based
// retention. A trim deletes at most kTrimCheckInsBatch rows.
inline constexpr int64_t kMaxCheckInRowsPerMonitor = 10000;
inline constexpr int64_t kTrimCheckInsEveryRows = 100;
inline constexpr int64_t kTrimCheckInsBatch = 2 * kTrimCheckInsEveryRows + 64;

// A monitor row with the incident its alerts refer to.
struct MonitorRow {
  model::Monitor monitor;
  std::string incident_reason;
  int64_t incident_started = 0;
};

// The stored state of `monitor`; a state that does not read back (a bug or
// a hand-edited row) starts afresh, logged, rather than wedging the monitor.
releases::MonitorState LoadMonitorState(const model::Monitor& monitor);

// The `kind` column of a check-in record.
const char* CheckInKindName(releases::CheckInRecord::Kind kind);

// Whether a record counts as a received check-in (it carries the check-in's
// release and trace id).
bool IsReceivedCheckIn(const releases::CheckInRecord& record);

// Applies update->transition (made at `now`) to *row: the incidents of its
// alerts (update->alert_incidents, update->open_incident), the new state,
// deadline (never at or before `now`), timestamps and counters. *row is
// what the caller then stores (inserts when row->monitor.id is 0, else
// updates) with the transition's records. Returns whether the check-in
// rows of the monitor should be trimmed after the records are inserted.
bool ApplyMonitorTransition(int64_t now, MonitorRow* row,
                            MonitorUpdate* update);

}  // namespace store
}  // namespace crashctl

#endif  // CRASHCTL_STORE_MONITOR_ROWS_H_
