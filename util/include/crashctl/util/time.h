// Time: the wall clock in epoch seconds, and RFC 3339 timestamps (formatting
// for the REST API, strict parsing for query parameters, lenient parsing for
// what SDKs and the Kubernetes API send).
//
// Thread-safety: pure functions; safe from any thread.
#ifndef CRASHCTL_UTIL_TIME_H_
#define CRASHCTL_UTIL_TIME_H_

#include <string>
#include <string_view>

namespace crashctl {
namespace util {

// Seconds since the Unix epoch (UTC), with sub-second precision
// (CLOCK_REALTIME).
double NowSeconds();

// Formats epoch seconds as RFC 3339 UTC with milliseconds:
// "2026-11-22T10:00:00.123Z". Milliseconds are truncated towards the past
// (so 1.9999 gives ".999"). Values outside years 0001..9999 are clamped.
std::string FormatRfc3339Millis(double epoch_seconds);

// Parses "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)" ('t'/' ' accepted for
// 'T', 'z' for 'Z') into epoch seconds. Returns false on anything else,
// including out-of-range fields.
bool ParseRfc3339(std::string_view text, double* epoch_seconds);

// Like ParseRfc3339, and also accepts what SDKs send in the wild: no zone
// (read as UTC, as older Python SDKs do), "+HHMM" and "+HH" offsets, and ','
// before the fraction.
bool ParseRfc3339Lenient(std::string_view text, double* epoch_seconds);

}  // namespace util
}  // namespace crashctl

#endif  // CRASHCTL_UTIL_TIME_H_
