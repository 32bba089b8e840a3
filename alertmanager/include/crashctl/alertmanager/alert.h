// Alert: one alert in the shape of the Alertmanager v2 API (POST
// /api/v2/alerts), and its JSON encoding.
//
// Thread-safety: plain values and pure functions; safe from any thread.
#ifndef CRASHCTL_ALERTMANAGER_ALERT_H_
#define CRASHCTL_ALERTMANAGER_ALERT_H_

#include <map>
#include <string>
#include <vector>

namespace crashctl {
namespace alertmanager {

struct Alert {
  // Label and annotation values are UTF-8; empty values are left out of the
  // JSON (Alertmanager treats an empty label as absent anyway).
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  double starts_at = 0;  // seconds since the Unix epoch
  double ends_at = 0;    // 0 = let Alertmanager apply resolve_timeout
  std::string generator_url;
  // Alerts with the same non-empty key are sent at most once per cooldown,
  // except updates: an alert whose non-empty `identity` equals that of the
  // alert that started the cooldown (the same crash record, updated with its
  // logs or a new restart count) is sent again, refreshing the annotations
  // of the alert Alertmanager already holds.
  std::string cooldown_key;
  std::string identity;
};

// The JSON array Alertmanager's POST /api/v2/alerts expects:
// [{"labels":{...},"annotations":{...},"startsAt":"...","endsAt":"...",
//   "generatorURL":"..."}, ...].
std::string EncodeAlerts(const std::vector<Alert>& alerts);

// RFC 3339 UTC with milliseconds: "2024-05-01T12:00:00.250Z".
std::string FormatRfc3339(double epoch_seconds);

}  // namespace alertmanager
}  // namespace crashctl

#endif  // CRASHCTL_ALERTMANAGER_ALERT_H_
