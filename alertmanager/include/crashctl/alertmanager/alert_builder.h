// Builds the Alertmanager alerts crashctl pushes for its own events: a new
// error group, a regression, a pod crash. Labels identify the thing (so
// Alertmanager deduplicates, groups and inhibits on them); annotations carry
// what a human needs: title, top frame, last log lines, a link to the REST
// resource.
//
// Thread-safety: pure functions; safe from any thread.
#ifndef CRASHCTL_ALERTMANAGER_ALERT_BUILDER_H_
#define CRASHCTL_ALERTMANAGER_ALERT_BUILDER_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "crashctl/alertmanager/alert.h"
#include "crashctl/model/event.h"
#include "crashctl/model/items.h"
#include "crashctl/store/store.h"

namespace crashctl {
namespace alertmanager {

// Alert names, as used by alertmanager.example.yml and docs/alerting.md.
inline constexpr char kNewGroupAlertName[] = "CrashctlNewErrorGroup";
inline constexpr char kRegressionAlertName[] = "CrashctlRegression";
inline constexpr char kPodCrashAlertName[] = "CrashctlPodCrash";
inline constexpr char kMonitorFailedAlertName[] = "CrashctlMonitorFailed";

struct AlertBuildOptions {
  // crashctl's public URL without a trailing '/'; links are
  // base_url + "/api/v1/groups/ID" and base_url + "/api/v1/crashes/ID".
  std::string base_url = "http://localhost:9190";
  double duration = 3600;              // endsAt = now + duration (seconds)
  int max_log_lines = 20;              // `logs` annotation: the last lines ...
  size_t max_log_bytes = 2048;         // ... and at most this many bytes
  size_t max_annotation_bytes = 1024;  // other free-text annotations
};

// labels: alertname=CrashctlNewErrorGroup, severity (critical for a fatal
// event, else warning), project, service, group_id, level, and namespace /
// pod from the event's `namespace` / `pod` tags when present.
// annotations: summary (title), description, culprit, top_frame, release,
// environment, url. cooldown_key "group:<id>:new".
Alert NewGroupAlert(const model::Group& group, const model::WriteItem& item,
                    const AlertBuildOptions& options, double now);

// As NewGroupAlert with alertname=CrashctlRegression, severity warning,
// cooldown_key "group:<id>:regression".
Alert RegressionAlert(const model::Group& group, const model::WriteItem& item,
                      const AlertBuildOptions& options, double now);

// labels: alertname=CrashctlPodCrash, severity (critical for crash_loop,
// warning otherwise), namespace, pod, container, workload, crash_type and
// group_id (the newest linked group, if any).
// annotations: summary, description (reason, exit code, signal, restarts,
// memory limit), message, logs (last lines), url. cooldown_key
// "pod:<namespace>/<pod>:<crash_type>", identity "crash:<id>" (so updates of
// the same crash record pass the cooldown).
Alert PodCrashAlert(const model::Crash& crash, const AlertBuildOptions& options,
                    double now);

// A cron monitor's incident (docs/monitors.md). labels:
// alertname=CrashctlMonitorFailed, severity=warning, project (id), monitor
// (slug), environment, reason (error|missed|timeout: the failure that opened
// the incident, from `incident_reason`). annotations: summary, description
// (`detail`, e.g. "missed 3 runs"), url (base_url + "/api/v1/monitors/ID").
// `resolved` false: startsAt = incident_started, endsAt = now +
// `hold_seconds` (re-sent on later failures while it lasts); true: endsAt =
// now. cooldown_key "monitor:<id>", identity
// "monitor:<id>:<incident_started>" (so the resolve and refreshes of the
// same incident pass the cooldown).
Alert MonitorAlert(const model::Monitor& monitor,
                   const std::string& incident_reason, int64_t incident_started,
                   const std::string& detail, bool resolved,
                   const AlertBuildOptions& options, double now,
                   double hold_seconds);

// The last `max_lines` lines of `logs`, then cut to the last `max_bytes`
// bytes (on a UTF-8 boundary); "…" marks a cut at the start.
std::string LastLogLines(const std::string& logs, int max_lines,
                         size_t max_bytes);

}  // namespace alertmanager
}  // namespace crashctl

#endif  // CRASHCTL_ALERTMANAGER_ALERT_BUILDER_H_
