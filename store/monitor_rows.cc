#include "monitor_rows.h"

#include <spdlog/spdlog.h>

namespace crashctl {
namespace store {

releases::MonitorState LoadMonitorState(const model::Monitor& monitor) {
  releases::MonitorState state;
  if (monitor.state_json.empty()) return state;
  Status st = releases::MonitorStateFromJson(monitor.state_json, &state);
  if (!st.ok()) {
    spdlog::error(
        "store: monitor {} ({}): stored state unreadable ({}); "
        "starting afresh",
        monitor.id, monitor.slug, st.message());
    state = releases::MonitorState();
  }
  return state;
}

const char* CheckInKindName(releases::CheckInRecord::Kind kind) {
  switch (kind) {
    case releases::CheckInRecord::Kind::kCheckIn:
      return "check_in";
    case releases::CheckInRecord::Kind::kRunFinished:
      return "run_finished";
    case releases::CheckInRecord::Kind::kMissed:
      return "missed";
    case releases::CheckInRecord::Kind::kTimeout:
      return "timeout";
  }
  return "check_in";
}

bool IsReceivedCheckIn(const releases::CheckInRecord& record) {
  return record.kind == releases::CheckInRecord::Kind::kCheckIn ||
         record.kind == releases::CheckInRecord::Kind::kRunFinished;
}

bool ApplyMonitorTransition(int64_t now, MonitorRow* row,
                            MonitorUpdate* update) {
  const releases::MonitorTransition& t = update->transition;
  model::Monitor* monitor = &row->monitor;
  // The incident each alert refers to: a raise opens one (its reason and
  // start are kept), a resolve closes the one kept.
  update->alert_incidents.clear();
  for (const releases::MonitorAlert& alert : t.alerts) {
    if (alert.kind == releases::MonitorAlert::Kind::kRaise) {
      row->incident_reason = alert.reason;
      row->incident_started =
          t.state.incident_open && t.state.incident_started > 0
              ? t.state.incident_started
              : alert.at;
    }
    update->alert_incidents.push_back(
        {row->incident_reason, row->incident_started});
  }
  update->open_incident = MonitorUpdate::Incident();
  if (t.state.incident_open) {
    update->open_incident = {row->incident_reason, row->incident_started};
  }
  std::optional<int64_t> deadline = releases::NextMonitorDeadline(t.state);
  // Never ask for a tick at or before now: the scheduler would spin.
  if (deadline && *deadline <= now) deadline = now + 1;

  int64_t checkins = 0, timeouts = 0;
  for (const releases::CheckInRecord& r : t.records) {
    if (IsReceivedCheckIn(r)) {
      ++checkins;
    } else if (r.kind == releases::CheckInRecord::Kind::kTimeout) {
      ++timeouts;
    }
  }
  const int64_t rows_before =
      monitor->checkins_total + monitor->missed_total + monitor->timeouts_total;
  monitor->state_json = releases::MonitorStateToJson(t.state);
  monitor->next_deadline = deadline;
  monitor->updated_at = static_cast<double>(now);
  if (monitor->id == 0) monitor->created_at = static_cast<double>(now);
  if (t.last_checkin_timestamp) {
    monitor->last_checkin = static_cast<double>(*t.last_checkin_timestamp);
  }
  if (!t.records.empty()) monitor->last_status = t.records.back().status;
  monitor->checkins_total += checkins;
  monitor->missed_total += t.missed_total;
  monitor->timeouts_total += timeouts;
  const int64_t rows_after =
      monitor->checkins_total + monitor->missed_total + monitor->timeouts_total;
  return rows_after / kTrimCheckInsEveryRows !=
             rows_before / kTrimCheckInsEveryRows &&
         rows_after > kMaxCheckInRowsPerMonitor;
}

}  // namespace store
}  // namespace crashctl
