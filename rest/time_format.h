// RFC 3339 timestamps for the REST API. Pure functions; thread-safe.
#ifndef CRASHCTL_REST_TIME_FORMAT_H_
#define CRASHCTL_REST_TIME_FORMAT_H_

#include <string>

namespace crashctl {

// Formats epoch seconds as RFC 3339 UTC with milliseconds:
// "2026-11-22T10:00:00.123Z". Milliseconds are truncated towards the past
// (so 1.9999 gives ".999"). Values outside years 0001..9999 are clamped.
std::string FormatRfc3339Millis(double epoch_seconds);

// Parses "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)" ('t'/' ' accepted for
// 'T', 'z' for 'Z') into epoch seconds. Returns false on anything else,
// including out-of-range fields.
bool ParseRfc3339(const std::string& text, double* epoch_seconds);

}  // namespace crashctl

#endif  // CRASHCTL_REST_TIME_FORMAT_H_
