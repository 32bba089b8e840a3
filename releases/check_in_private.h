// Private to crashctl_releases: what check_in.cc (parsing) and
// monitor_state.cc (the state machine, state JSON) share.
#ifndef CRASHCTL_RELEASES_CHECK_IN_PRIVATE_H_
#define CRASHCTL_RELEASES_CHECK_IN_PRIVATE_H_

#include <rapidjson/document.h>

#include <cstdint>
#include <string>

#include "crashctl/releases/check_in.h"
#include "crashctl/util/status.h"
#include "crashctl/monitors/schedule.h"

namespace crashctl::releases::internal {

// The Schedule of `config`. Interval schedules count from `anchor` (a
// scheduled time itself); crontabs ignore it. False with *error when the
// config is not one crashctl::monitors accepts.
bool BuildSchedule(const MonitorConfig& config, int64_t anchor,
                   monitors::Schedule* out, std::string* error);

// Reads and validates a monitor_config object (`path` names it in errors).
Status ParseMonitorConfig(const rapidjson::Value& v, std::string_view path,
                          MonitorConfig* out);

}  // namespace crashctl::releases::internal

#endif  // CRASHCTL_RELEASES_CHECK_IN_PRIVATE_H_
