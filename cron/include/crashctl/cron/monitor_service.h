// MonitorService: cron monitors (issue 18, docs/monitors.md). Applies
// check-ins (Store::ApplyCheckIn: the monitor's state machine, in one
// transaction with its records), and runs the scheduler that works out
// missed runs and timeouts (Store::TickMonitors) once each, also across a
// restart: the state and its next deadline are in the database.
//
// Metrics: crashctl_monitor_checkins_total{project,monitor,status},
// crashctl_monitor_missed_total{project,monitor},
// crashctl_monitor_last_checkin_timestamp_seconds{project,monitor}.
// Failures that reach the monitor's failure threshold are pushed to
// Alertmanager as CrashctlMonitorFailed, and resolved on recovery.
//
// Thread-safety: CheckIn() may be called from any number of threads;
// Start() and Stop() from one owner thread.
#ifndef CRASHCTL_CRON_MONITOR_SERVICE_H_
#define CRASHCTL_CRON_MONITOR_SERVICE_H_

#include <cstdint>
#include <functional>
#include <memory>

#include "crashctl/releases/check_in.h"
#include "crashctl/store/store.h"
#include "crashctl/util/status.h"

namespace prometheus {
class Registry;
}

namespace crashctl {
namespace alertmanager {
class AlertPusher;
}
namespace cron {

class MonitorService {
 public:
  struct Options {
    size_t max_monitors_per_project = 100;  // monitors.max_per_project
    // The scheduler wakes at the earliest deadline, and at least this
    // often (a deadline written by another replica).
    double max_sleep_seconds = 30;
    // Clock (epoch seconds); tests inject one. Default: the system clock.
    std::function<int64_t()> now;
  };

  // `store` and `registry` must outlive the service; `registry` and
  // `pusher` may be null.
  MonitorService(store::Store* store, prometheus::Registry* registry,
                 alertmanager::AlertPusher* pusher, Options options);
  MonitorService(const MonitorService&) = delete;
  MonitorService& operator=(const MonitorService&) = delete;
  ~MonitorService();  // Stop()s

  // Applies one check-in of project `project_id` received now. OK once
  // committed (also when the state machine ignored it); kTooLarge when the
  // project has max_monitors_per_project monitors and this is a new one;
  // kUnavailable when the store failed.
  Status CheckIn(int64_t project_id, const releases::CheckIn& check_in);

  // Starts the scheduler thread; Stop() joins it.
  void Start();
  void Stop();

  // One scheduler pass at `now` (the thread calls it; tests call it
  // directly).
  Status TickOnce(int64_t now);

  // Re-reads every monitor (bounded) into crashctl_monitors,
  // crashctl_monitor_incident_open and
  // crashctl_monitor_last_checkin_timestamp_seconds, so that a replica shows
  // what another one changed in the shared database. Start() does it, and
  // the scheduler thread again at least every max_sleep_seconds. Failures
  // are logged. Thread-safe.
  void RefreshMetrics();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cron
}  // namespace crashctl

#endif  // CRASHCTL_CRON_MONITOR_SERVICE_H_
