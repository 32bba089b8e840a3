#include "crashctl/alertmanager/alert_builder.h"

#include <string>

namespace crashctl {
namespace alertmanager {
namespace {

// Cuts `text` to at most `max_bytes`, never inside a UTF-8 sequence, and
// marks the cut with "…".
std::string Truncate(const std::string& text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t end = max_bytes > 3 ? max_bytes - 3 : 0;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
    --end;
  }
  return text.substr(0, end) + "\xE2\x80\xA6";
}

Alert GroupAlert(const char* alertname, const std::string& severity,
                 const std::string& what, const model::Group& group,
                 const model::WriteItem& item, const AlertBuildOptions& options,
                 double now) {
  const model::Event& event = item.event;
  Alert alert;
  const std::string service =
      !event.service.empty() ? event.service : group.service;
  const std::string id = std::to_string(group.id);
  const std::string url = options.base_url + "/api/v1/groups/" + id;
  alert.labels = {
      {"alertname", alertname},
      {"severity", severity},
      {"project", std::to_string(group.project_id)},
      {"service", service},
      {"group_id", id},
      {"level", model::ToString(event.level)},
      {"namespace", event.Tag("namespace")},
      {"pod", event.Tag("pod")},
  };
  const std::string title =
      !group.title.empty() ? group.title : item.grouping.title;
  const std::string culprit =
      !group.culprit.empty() ? group.culprit : item.grouping.culprit;
  std::string description =
      what + " in project " + std::to_string(group.project_id);
  if (!service.empty()) description += ", service " + service;
  if (!event.release.empty()) description += ", release " + event.release;
  description += ": " + title;
  alert.annotations = {
      {"summary", Truncate(title, options.max_annotation_bytes)},
      {"description", Truncate(description, options.max_annotation_bytes)},
      {"culprit", Truncate(culprit, options.max_annotation_bytes)},
      {"top_frame",
       Truncate(item.grouping.top_frame, options.max_annotation_bytes)},
      {"release", event.release},
      {"environment", event.environment},
      {"event_id", event.event_id},
      {"url", url},
  };
  alert.starts_at = now;
  alert.ends_at = now + options.duration;
  alert.generator_url = url;
  return alert;
}

}  // namespace

std::string LastLogLines(const std::string& logs, int max_lines,
                         size_t max_bytes) {
  size_t end = logs.size();
  while (end > 0 && (logs[end - 1] == '\n' || logs[end - 1] == '\r')) --end;
  // Walk back over at most `max_lines` line breaks.
  size_t start = end;
  int lines = 0;
  while (start > 0 && lines < max_lines) {
    const size_t nl = logs.rfind('\n', start - 1);
    if (nl == std::string::npos) {
      start = 0;
      break;
    }
    ++lines;
    start = lines < max_lines ? nl : nl + 1;
  }
  if (start < end && logs[start] == '\n') ++start;
  bool cut = start > 0;
  std::string tail = logs.substr(start, end - start);
  if (tail.size() > max_bytes) {
    size_t from = tail.size() - (max_bytes > 3 ? max_bytes - 3 : 0);
    while (from < tail.size() &&
           (static_cast<unsigned char>(tail[from]) & 0xC0) == 0x80) {
      ++from;
    }
    tail = tail.substr(from);
    cut = true;
  }
  return cut ? "\xE2\x80\xA6" + tail : tail;
}

Alert NewGroupAlert(const model::Group& group, const model::WriteItem& item,
                    const AlertBuildOptions& options, double now) {
  const model::Level level = item.event.level;
  Alert alert =
      GroupAlert(kNewGroupAlertName,
                 level == model::Level::kFatal ? "critical" : "warning",
                 "New error group", group, item, options, now);
  alert.cooldown_key = "group:" + std::to_string(group.id) + ":new";
  return alert;
}

Alert RegressionAlert(const model::Group& group, const model::WriteItem& item,
                      const AlertBuildOptions& options, double now) {
  Alert alert = GroupAlert(kRegressionAlertName, "warning",
                           "Resolved error group reopened (regression)", group,
                           item, options, now);
  alert.cooldown_key = "group:" + std::to_string(group.id) + ":regression";
  return alert;
}

Alert PodCrashAlert(const model::Crash& crash, const AlertBuildOptions& options,
                    double now) {
  Alert alert;
  const std::string url =
      options.base_url + "/api/v1/crashes/" + std::to_string(crash.id);
  alert.labels = {
      {"alertname", kPodCrashAlertName},
      {"severity", crash.crash_type == model::CrashType::kCrashLoop
                       ? "critical"
                       : "warning"},
      {"namespace", crash.namespace_},
      {"pod", crash.pod},
      {"container", crash.container},
      {"workload", crash.workload},
      {"crash_type", model::ToString(crash.crash_type)},
      {"group_id", crash.linked_groups.empty()
                       ? ""
                       : std::to_string(crash.linked_groups.front())},
  };
  const std::string what = !crash.reason.empty()
                               ? crash.reason
                               : std::string(model::ToString(crash.crash_type));
  std::string summary = what + ": " + crash.namespace_ + "/" + crash.pod;
  if (!crash.container.empty())
    summary += " (container " + crash.container + ")";
  std::string description = "Pod " + crash.namespace_ + "/" + crash.pod;
  if (!crash.workload.empty()) {
    description += " of " +
                   (crash.workload_kind.empty() ? std::string("workload")
                                                : crash.workload_kind) +
                   " " + crash.workload;
  }
  if (!crash.node.empty()) description += " on node " + crash.node;
  description += std::string(": ") + model::ToString(crash.crash_type);
  if (!crash.reason.empty()) description += ", reason " + crash.reason;
  if (crash.exit_code != 0) {
    description += ", exit code " + std::to_string(crash.exit_code);
  }
  if (!crash.signal.empty()) description += " (" + crash.signal + ")";
  description += ", restarts " + std::to_string(crash.restart_count);
  if (!crash.memory_limit.empty()) {
    description += ", memory limit " + crash.memory_limit;
  }
  alert.annotations = {
      {"summary", Truncate(summary, options.max_annotation_bytes)},
      {"description", Truncate(description, options.max_annotation_bytes)},
      {"message", Truncate(crash.message, options.max_annotation_bytes)},
      {"image", crash.image},
      {"logs",
       LastLogLines(crash.logs, options.max_log_lines, options.max_log_bytes)},
      {"url", url},
  };
  alert.starts_at = crash.finished_at > 0 && crash.finished_at <= now
                        ? crash.finished_at
                        : now;
  alert.ends_at = now + options.duration;
  alert.generator_url = url;
  alert.cooldown_key = "pod:" + crash.namespace_ + "/" + crash.pod + ":" +
                       model::ToString(crash.crash_type);
  alert.identity = "crash:" + std::to_string(crash.id);
  return alert;
}

Alert MonitorAlert(const model::Monitor& monitor,
                   const std::string& incident_reason, int64_t incident_started,
                   const std::string& detail, bool resolved,
                   const AlertBuildOptions& options, double now,
                   double hold_seconds) {
  Alert alert;
  const std::string id = std::to_string(monitor.id);
  const std::string url = options.base_url + "/api/v1/monitors/" + id;
  alert.labels = {
      {"alertname", kMonitorFailedAlertName},
      {"severity", "warning"},
      {"project", std::to_string(monitor.project_id)},
      {"monitor", monitor.slug},
      {"environment", monitor.environment},
      {"reason", incident_reason},
  };
  std::string what = incident_reason == "missed"    ? "missed a run"
                     : incident_reason == "timeout" ? "timed out"
                                                    : "failed";
  std::string summary =
      "Cron monitor " + monitor.slug + " (" + monitor.environment + ") " + what;
  if (resolved) summary += " (recovered)";
  std::string description = "Monitor " + monitor.slug + " of project " +
                            std::to_string(monitor.project_id) + ", " +
                            "environment " + monitor.environment;
  if (!detail.empty()) description += ": " + detail;
  alert.annotations = {
      {"summary", Truncate(summary, options.max_annotation_bytes)},
      {"description", Truncate(description, options.max_annotation_bytes)},
      {"url", url},
  };
  alert.starts_at = incident_started > 0 && incident_started <= now
                        ? static_cast<double>(incident_started)
                        : now;
  alert.ends_at = resolved ? now : now + hold_seconds;
  alert.generator_url = url;
  alert.cooldown_key = "monitor:" + id;
  alert.identity = "monitor:" + id + ":" + std::to_string(incident_started);
  return alert;
}

}  // namespace alertmanager
}  // namespace crashctl
